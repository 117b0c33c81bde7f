"""The [compute] section: the thin Nova subset."""
from strato.config import Field, Section

SECTION = Section("compute", "Compute (thin Nova subset).", {
    "bind_ip": Field("str", "127.0.0.1", "Address compute listens on."),
    "port": Field("int", 8774, "Port of compute.", min=1, max=65535, port=True),
})
