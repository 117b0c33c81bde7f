"""The [blockserver] section: the volume API and its backend."""
from strato.config import Field, Section

SECTION = Section("blockserver", "Block storage: volume API (Cinder v3 subset) and backend.", {
    "bind_ip": Field("str", "127.0.0.1", "Address the volume API listens on."),
    "port": Field("int", 8776, "Port of the volume API.", min=1, max=65535, port=True),
    "backend": Field("str", "file", "Volume backend.", choices=("file", "lvm")),
    "volume_dir": Field("str", "", "Where the file backend keeps volumes (default <data_dir>/volumes)."),
    "lvm_volume_group": Field("str", "strato", "LVM volume group of the lvm backend."),
    "lvm_thin_pool": Field("str", "strato-pool", "LVM thin pool of the lvm backend."),
    "quota_volumes": Field("int", 100, "Default per-project volume count quota (-1: none).", min=-1),
    "quota_gigabytes": Field("int", 1000, "Default per-project gigabytes quota (-1: none).", min=-1),
    "quota_snapshots": Field("int", 100, "Default per-project snapshot count quota (-1: none).",
                             min=-1),
})
