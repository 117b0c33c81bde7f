"""Ring lookups on the fast path: `RingTable(part_power, replica2part2dev, devices, prefix,
suffix)` hashes a Swift path, takes its partition and returns its primaries in one call.

The compiled twin (_ringlookup_c) is used when built, else the reference (_ringlookup_py);
STRATO_NO_EXTENSIONS=1 forces the reference. ring.lookup.Ring is the public face of this.
"""
from native import load

_impl = load("ringlookup")

RingTable = _impl.RingTable
IMPLEMENTATION: str = _impl.IMPLEMENTATION  # "c" or "py"
C_XXH3: bool = _impl.C_XXH3  # the compiled module hashes with libxxhash's inline xxh3

__all__ = ["RingTable", "IMPLEMENTATION", "C_XXH3"]
