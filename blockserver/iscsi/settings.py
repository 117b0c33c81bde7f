"""The [iscsi] section: the userspace iSCSI target."""
from strato.config import Field, Section

SECTION = Section("iscsi", "The userspace iSCSI target (RFC 7143).", {
    "bind_ip": Field("str", "127.0.0.1", "Address the target listens on."),
    "port": Field("int", 3260, "Port of the target portal.", min=1, max=65535, port=True),
    "iqn_prefix": Field("str", "iqn.2026-11.org.strato", "Prefix of every target IQN."),
    "disk_threads": Field("int", 8, "Threads of the target's bounded disk executor.", min=1,
                          max=256),
    "portal_group_tag": Field("int", 1, "TargetPortalGroupTag this portal reports (and SCSI "
                              "sees in every I_T nexus).", min=1, max=65535),
    "login_timeout": Field("float", 30.0, "Seconds a new connection may take to finish login "
                           "before it is closed.", min=1, max=3600),
})
