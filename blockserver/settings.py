"""The [blockserver] section: the volume API and its backend."""
from strato.config import Field, Section

SECTION = Section("blockserver", "Block storage: volume API (Cinder v3 subset) and backend.", {
    "bind_ip": Field("str", "127.0.0.1", "Address the volume API listens on."),
    "port": Field("int", 8776, "Port of the volume API.", min=1, max=65535, port=True),
    "backend": Field("str", "file", "Volume backend.", choices=("file", "lvm")),
    "volume_dir": Field("str", "", "Where the file backend keeps volumes (default <data_dir>/volumes)."),
    "lvm_volume_group": Field("str", "strato", "LVM volume group of the lvm backend."),
    "lvm_thin_pool": Field("str", "strato-pool", "LVM thin pool of the lvm backend."),
    "auth_strategy": Field("str", "keystone", "How API callers are identified: keystone checks "
                           "X-Auth-Token against Strato's identity (Fernet keys under data_dir); "
                           "noauth accepts any token (a 'user:project' token names the caller; "
                           "see blockserver/api/auth.py).", choices=("keystone", "noauth")),
    "host_name": Field("str", "strato", "Host name reported as os-vol-host-attr:host "
                       "(<host_name>@<backend>#<backend>) and by os-services."),
    "backend_threads": Field("int", 4, "Threads for backend work (creating, copying, deleting "
                             "volumes); bounds concurrent copies.", min=1, max=64),
    "iscsi_portal": Field("str", "", "host:port initiators are told to connect to (connection "
                          "info target_portal); default the [iscsi] bind_ip:port, a wildcard "
                          "bind read as 127.0.0.1."),
    "quota_volumes": Field("int", 100, "Default per-project volume count quota (-1: none).", min=-1),
    "quota_gigabytes": Field("int", 1000, "Default per-project gigabytes quota (-1: none).", min=-1),
    "quota_snapshots": Field("int", 100, "Default per-project snapshot count quota (-1: none).",
                             min=-1),
})
