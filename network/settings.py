"""The [network] section: the thin Neutron subset."""
from strato.config import Field, Section

SECTION = Section("network", "Network (thin Neutron subset).", {
    "bind_ip": Field("str", "127.0.0.1", "Address network listens on."),
    "port": Field("int", 9696, "Port of network.", min=1, max=65535, port=True),
})
