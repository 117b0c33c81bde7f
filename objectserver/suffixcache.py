"""Per-partition suffix digests, remembered between replication passes.

Hashing a partition lists every hash directory in it; doing that for every partition on every
pass (and for every peer's REPLICATE) costs more than the replication itself. So the node keeps
each partition's digests and recomputes only the suffixes that something touched since (writes,
deletes, POSTs, quarantines, hand-offs all call invalidate()), plus a full recompute once an entry
is older than MAX_AGE (which also reclaims old tombstones on the way).
"""
from __future__ import annotations

import time

from . import diskfile, layout

MAX_AGE = 3600.0


class SuffixHashes:
    def __init__(self, node):
        self.node = node
        # keyed by (device, partition, storage policy index)
        self._cache: dict[tuple[str, int, int], tuple[float, dict[str, str]]] = {}
        self._dirty: dict[tuple[str, int, int], set[str]] = {}

    def invalidate(self, device: str, part: int, name_hash: str, policy: int = 0) -> None:
        self._dirty.setdefault((device, part, policy), set()).add(layout.suffix_of(name_hash))

    def forget(self, device: str, part: int, policy: int = 0) -> None:
        self._cache.pop((device, part, policy), None)
        self._dirty.pop((device, part, policy), None)

    async def get(self, device: str, part: int, policy: int = 0) -> dict[str, str]:
        """{suffix: digest} of the partition (of one storage policy) as it is on disk now."""
        key = (device, part, policy)
        path = self.node.device_path(device)
        reclaim_before = time.time() - self.node.storage.reclaim_age
        entry = self._cache.get(key)
        # take the dirty set BEFORE hashing: a write that lands meanwhile marks it again
        dirty = self._dirty.pop(key, set())
        if entry is None or time.monotonic() - entry[0] > MAX_AGE:
            hashes = await self.node.io(device, diskfile.partition_hashes, path, part,
                                        reclaim_before, policy)
            self._cache[key] = (time.monotonic(), hashes)
            return dict(hashes)
        hashes = entry[1]
        for suffix in sorted(dirty):
            digest = await self.node.io(device, diskfile.hash_suffix, path, part, suffix,
                                        reclaim_before, policy)
            if digest is None:
                hashes.pop(suffix, None)
            else:
                hashes[suffix] = digest
        return dict(hashes)
