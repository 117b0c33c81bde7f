"""Per-partition suffix digests, remembered between replication passes.

Hashing a partition lists every hash directory in it; doing that for every partition on every
pass (and for every peer's REPLICATE) costs more than the replication itself. So the node keeps
each partition's digests and recomputes only the suffixes that something touched since (writes,
deletes, POSTs, quarantines, hand-offs all call invalidate()), plus a full recompute once an entry
is older than MAX_AGE (which also reclaims old tombstones on the way). A batch of partitions is
rehashed in one executor call (get_many), not one call per suffix. What changed behind the
server's back (a file lost or damaged outside it) is not in any dirty set: the replicator asks
for a full recompute of a rotating share of its partitions every pass (get_many's relist; see
replicator.RELIST_EVERY), so every partition is listed afresh every few passes.
"""
from __future__ import annotations

import asyncio
import time

from . import diskfile, layout

MAX_AGE = 3600.0


class SuffixHashes:
    def __init__(self, node):
        self.node = node
        # keyed by (device, partition, storage policy index)
        self._cache: dict[tuple[str, int, int], tuple[float, dict[str, str]]] = {}
        self._dirty: dict[tuple[str, int, int], set[str]] = {}
        # one rehash at a time per device: results then apply in the order their dirty sets were
        # taken (two overlapping rehashes finishing out of order would cache the older digest)
        self._locks: dict[str, asyncio.Lock] = {}

    def invalidate(self, device: str, part: int, name_hash: str, policy: int = 0) -> None:
        self._dirty.setdefault((device, part, policy), set()).add(layout.suffix_of(name_hash))

    def forget(self, device: str, part: int, policy: int = 0) -> None:
        self._cache.pop((device, part, policy), None)
        self._dirty.pop((device, part, policy), None)

    async def get(self, device: str, part: int, policy: int = 0) -> dict[str, str]:
        """{suffix: digest} of the partition (of one storage policy) as it is on disk now."""
        return (await self.get_many(device, [part], policy))[part]

    async def get_many(self, device: str, parts, policy: int = 0,
                       relist=()) -> dict[int, dict[str, str]]:
        """{partition: {suffix: digest}} of several partitions of one device and policy, with
        everything that needs hashing done in ONE executor call. Partitions in relist are
        recomputed in full (every suffix listed again), whatever the cache holds."""
        lock = self._locks.get(device)
        if lock is None:
            lock = self._locks[device] = asyncio.Lock()
        async with lock:
            now = time.monotonic()
            work: dict[int, list[str] | None] = {}
            taken: dict[int, set[str]] = {}
            for part in parts:
                key = (device, part, policy)
                entry = self._cache.get(key)
                # take the dirty set BEFORE hashing: a write that lands meanwhile marks it again
                dirty = self._dirty.pop(key, None)
                if dirty:
                    taken[part] = dirty
                if entry is None or now - entry[0] > MAX_AGE or part in relist:
                    work[part] = None
                elif dirty:
                    work[part] = sorted(dirty)
            if work:
                reclaim_before = time.time() - self.node.storage.reclaim_age
                try:
                    found = await self.node.io(device, diskfile.hash_partitions,
                                               self.node.device_path(device), work,
                                               reclaim_before, policy)
                except BaseException:
                    for part, dirty in taken.items():  # hashed nothing: all of it stays dirty
                        self._dirty.setdefault((device, part, policy), set()).update(dirty)
                    raise
                self._apply(device, work, found, now, policy)
            return {part: dict(self._cache.get((device, part, policy), (0.0, {}))[1])
                    for part in parts}

    def _apply(self, device: str, work, found, now: float, policy: int) -> None:
        for part, suffixes in work.items():
            key = (device, part, policy)
            if suffixes is None:
                self._cache[key] = (now, {s: d for s, d in found[part].items() if d is not None})
                continue
            entry = self._cache.get(key)
            if entry is None:  # forgotten while hashing (a handoff handed back): next get rehashes
                continue
            hashes = entry[1]
            for suffix, digest in found[part].items():
                if digest is None:
                    hashes.pop(suffix, None)
                else:
                    hashes[suffix] = digest
