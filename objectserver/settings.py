"""The [storage] section: storage nodes (object, container and account roles)."""
from strato.config import Field, Section

SECTION = Section("storage", "Storage nodes: one process per node, several devices each.", {
    "bind_ip": Field("str", "127.0.0.1", "Address the storage nodes listen on."),
    "base_port": Field("int", 6200, "Port of node 0; node i listens on base_port + i.",
                       min=1, max=65535, port=True),
    "nodes": Field("int", 3, "Storage node processes the all-in-one starts (each its own zone).",
                   min=1, max=64),
    "devices_per_node": Field("int", 2, "Device directories per node in the all-in-one.", min=1, max=64),
    "disk_threads": Field("int", 4, "Threads of each device's bounded I/O executor.", min=1, max=256),
    "fallocate_reserve_mb": Field("int", 64, "Free space below which a device answers 507.", min=0),
    "node_timeout": Field("float", 10.0, "Seconds a node waits on a peer (updates, replication).",
                          min=0.1),
    "replicator_interval": Field("float", 30.0, "Seconds between replication passes.", min=0.1),
    "auditor_bytes_per_second": Field("int", 10_000_000, "Auditor re-hash rate limit per device.",
                                      min=1),
    "auditor_files_per_second": Field("float", 20.0, "Auditor file rate limit per device (Swift's "
                                      "default): small objects cost per file, not per byte.",
                                      min=0.1),
    "auditor_interval": Field("float", 300.0, "Seconds between the end of one audit pass and the "
                              "start of the next.", min=0.1),
    "updater_interval": Field("float", 5.0, "Seconds between retries of failed container updates.",
                              min=0.1),
    "update_timeout": Field("float", 1.0, "Seconds an object write waits on its container updates "
                            "before keeping them in async_pending for the updater.", min=0.01),
    "client_timeout": Field("float", 60.0, "Seconds a request body may stall before the write is "
                            "abandoned (408).", min=0.1),
    "max_object_size": Field("int", 5 * 1024 ** 3, "Largest object body a PUT accepts (413 above).",
                             min=1),
    "reclaim_age": Field("float", 7 * 86400.0, "Seconds a tombstone is kept before the replicator "
                         "reclaims it.", min=1.0),
    "lmdb_map_size_mb": Field("int", 16384, "Upper bound of each device's LMDB environment "
                              "(address space, not disk: the file grows as used).", min=16),
})
