"""The [compute] section: the thin Nova subset."""
from strato.config import Field, Section

# Nova's classic default flavors: "id:name:vcpus:ram MiB:disk GiB".
DEFAULT_FLAVORS = ["1:m1.tiny:1:512:1", "2:m1.small:1:2048:20", "3:m1.medium:2:4096:40",
                   "4:m1.large:4:8192:80", "5:m1.xlarge:8:16384:160"]

SECTION = Section("compute", "Compute (thin Nova subset).", {
    "bind_ip": Field("str", "127.0.0.1", "Address compute listens on."),
    "port": Field("int", 8774, "Port of compute.", min=1, max=65535, port=True),
    "flavors": Field("list", DEFAULT_FLAVORS,
                     "Built-in flavors, each \"id:name:vcpus:ram_mib:disk_gib\" (ids and names "
                     "unique). flavorRef in a server create is the id."),
    "driver": Field("str", "fake", "Virt driver: fake (no VM; servers go ACTIVE at once).",
                    choices=("fake",)),
    "host_name": Field("str", "strato-compute", "The compute host's name: the connector's host "
                       "given to the volume service and the server's OS-EXT-SRV-ATTR:host."),
    "initiator_iqn": Field("str", "iqn.2026-11.org.strato.compute:host",
                           "iSCSI initiator name sent in the volume connector."),
})
