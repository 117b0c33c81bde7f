"""The [cluster] section: what every process of one cluster shares."""
from strato.config import Field, Section

SECTION = Section("cluster", "Cluster-wide settings shared by every process.", {
    "data_dir": Field("str", "var", "Where the all-in-one keeps rings, devices, databases and volumes."),
    "hash_path_prefix": Field("secret", "", "Secret salted before every hashed path (generated on "
                              "first start; never change it on a live cluster)."),
    "hash_path_suffix": Field("secret", "", "Secret salted after every hashed path (as above)."),
    "log_level": Field("str", "info", "Log level of every service.",
                       choices=("debug", "info", "warning", "error")),
    "use_uvloop": Field("bool", True, "Run event loops on uvloop when it is installed."),
    "tune_gc": Field("bool", True, "Services freeze the objects alive at start out of the garbage "
                     "collector's passes and raise its thresholds to (20000, 20, 100)."),
    "tune_malloc": Field("bool", True, "Services fix glibc malloc's mmap/trim thresholds (4 MiB / "
                         "128 MiB) so streamed buffers reuse pages instead of faulting new ones."),
    "disable": Field("list", [], "Services `strato aio` must not start (names as in `strato services`)."),
})
