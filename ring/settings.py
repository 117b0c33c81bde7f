"""The [ring] section: how `strato aio` builds its rings and how services watch them."""
from ring.policies import check_specs
from strato.config import Field, Section

SECTION = Section("ring", "Ring building (all-in-one) and reloading.", {
    "part_power": Field("int", 10, "Partition power of the rings the all-in-one builds.", min=1, max=22),
    "replicas": Field("int", 3, "Replica count of the rings the all-in-one builds.", min=1, max=8),
    "min_part_hours": Field("int", 1, "Hours before a partition-replica may move again.", min=0),
    "seed": Field("int", 0, "Seed for reproducible rebalances.", min=0),
    "policies": Field("list", ["0:gold,Policy-0:default", "1:silver:2"],
                      "Storage policies, each '<index>:<name>[,<alias>...][:<replicas>][:default]'. "
                      "Policy 0 uses object.ring and <device>/objects/, policy N object-N.ring and "
                      "<device>/objects-N/. A policy's replicas default to (and are capped by) "
                      "`replicas`; names match case-insensitively; one policy is the default.",
                      check=check_specs),
    "reload_interval": Field("float", 15.0, "Seconds between checks of a ring file for changes.",
                             min=0.1),
})
