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
    "driver": Field("str", "fake", "Virt driver: fake (no VM; servers go ACTIVE at once) or "
                    "qemu (boots each server from its iSCSI boot volume under qemu TCG and "
                    "hot-plugs attached volumes; see compute/drivers/qemu.py).",
                    choices=("fake", "qemu")),
    "qemu_binary": Field("str", "qemu-system-x86_64", "qemu binary of the qemu driver."),
    "qemu_guest_dir": Field("str", "", "Where the qemu driver keeps the guest kernel (Debian's "
                            "cloud kernel, fetched once with apt-get download) and its busybox "
                            "initramfs; default <data_dir>/compute/guest."),
    "qemu_max_ram_mib": Field("int", 512, "RAM cap of a qemu guest (the flavor's ram, at most "
                              "this): the guest only runs a busybox init.", min=64),
    "qemu_boot_timeout": Field("float", 180.0, "Seconds a qemu server may take to boot before "
                               "it goes to ERROR.", min=1.0),
    "host_name": Field("str", "strato-compute", "The compute host's name: the connector's host "
                       "given to the volume service and the server's OS-EXT-SRV-ATTR:host."),
    "initiator_iqn": Field("str", "iqn.2026-11.org.strato.compute:host",
                           "iSCSI initiator name sent in the volume connector."),
})
