"""Placement arithmetic for the builder: weight targets, failure-domain quotas, and the tier tree.

Weight is the hard constraint (like Swift with overload 0): device d gets its weight's share of the
partition-replicas, rounded by largest remainder, so within one of ideal. Dispersion is as good as
those weights allow: a failure domain t (region, zone, node ip:port, device) with replica quota
q_t = replicas * weight_t / total_weight holds at most ceil(q_t) replicas of any partition (and at
most one per device; weights here are shares capped at one replica per partition per device), and
at least floor(q_t). With equal weights that is "distinct regions, then zones, then nodes, then
devices"; with a small zone it keeps the zone from being overfilled just to be on every partition.
"""
from __future__ import annotations

import heapq
import math
import random

from ring.device import Device

_EPS = 1e-9


def targets(devices: list[Device], total: int, cap: int,
            tiebreak: dict[int, tuple]) -> dict[int, int]:
    """Integer partition-replica targets summing to total: ideal_shares() rounded by largest
    remainder (ties by tiebreak), so each is within one of its exact share."""
    shares = ideal_shares(devices, total, cap)
    result = {i: int(math.floor(v + _EPS)) for i, v in shares.items()}
    extra = total - sum(result.values())
    order = sorted(shares, key=lambda i: (-(shares[i] - result[i]), tiebreak[i], i))
    for i in order[:extra]:
        result[i] += 1
    return result


def ideal_shares(devices: list[Device], total: int, cap: int) -> dict[int, float]:
    """Each device's exact (fractional) share of total by weight, none above cap (a device
    holds one replica of a partition at most; the excess is shared by the others)."""
    remaining = {d.id: d.weight for d in devices if d.weight > 0}
    shares: dict[int, float] = {}
    while remaining:
        weight = sum(remaining.values())
        ideal = {i: total * w / weight for i, w in remaining.items()}
        over = [i for i, v in ideal.items() if v > cap + _EPS]
        if not over:
            shares.update(ideal)
            break
        for i in over:
            shares[i] = cap
            total -= cap
            del remaining[i]
    return shares


def tier_keys(dev: Device) -> tuple:
    """The device's failure domains from widest to narrowest."""
    return ((dev.region,), (dev.region, dev.zone), (dev.region, dev.zone, dev.ip, dev.port),
            (dev.region, dev.zone, dev.ip, dev.port, dev.id))


class TierTree:
    """Regions > zones > nodes > devices, with per-domain quota and how many replicas it wants.

    Tier node 0 is the root. For each device, `anc[dev_id]` is the tuple of its tier node ids
    (region, zone, node, device). Each tier keeps a heap of its children ordered by most wanted,
    so choosing a device costs O(replicas * log fan-out) instead of a scan of every device.
    """

    def __init__(self, devices: list[Device], replicas: int, wanted: dict[int, int],
                 rng: random.Random, id_space: int, target: dict[int, int], partitions: int):
        active = [d for d in devices if d.weight > 0]
        # quotas follow each device's capped share (a device holds a partition once at most),
        # not its raw weight, so a device too heavy to fill its share does not leave its
        # domain a quota that the others' shares cannot fit in
        share = ideal_shares(active, replicas * partitions, partitions)
        total_weight = float(replicas * partitions)
        ids: dict[tuple, int] = {(): 0}
        self.children: list[list[int]] = [[]]
        self.weight: list[float] = [total_weight]
        self.leaves: list[int] = [len(active)]
        self.wanted: list[int] = [0]
        self.target: list[int] = [0]
        self.leaf_dev: dict[int, int] = {}
        self.anc: list[tuple] = [()] * id_space
        for dev in sorted(active, key=lambda d: d.id):
            chain = []
            parent = 0
            for key in tier_keys(dev):
                node = ids.get(key)
                if node is None:
                    node = ids[key] = len(self.children)
                    self.children.append([])
                    self.weight.append(0.0)
                    self.leaves.append(0)
                    self.wanted.append(0)
                    self.target.append(0)
                    self.children[parent].append(node)
                self.weight[node] += share[dev.id]
                if len(key) < 5:
                    self.leaves[node] += 1
                else:
                    self.leaves[node] = 1
                self.wanted[node] += wanted[dev.id]
                self.target[node] += target[dev.id]
                chain.append(node)
                parent = node
            self.wanted[0] += wanted[dev.id]
            self.leaf_dev[chain[-1]] = dev.id
            self.anc[dev.id] = tuple(chain)
        # ceil of the replica quota, never more than the domain has devices (a device holds one)
        self.ceil = [min(leaves, max(1, math.ceil(replicas * w / total_weight - _EPS)))
                     for w, leaves in zip(self.weight, self.leaves)]
        self.ceil[0] = replicas
        self._make_feasible()
        # A domain whose quota is q >= 1 should hold at least floor(q) replicas of every
        # partition: exact weights need it (a zone with q = 2.0 must be on 2 of every 3).
        self.floor = [min(c, int(math.floor(replicas * w / total_weight + _EPS)))
                      for w, c in zip(self.weight, self.ceil)]
        self.must = [[c for c in kids if self.floor[c] > 0] for kids in self.children]
        self.floored = [t for t in range(1, len(self.floor)) if self.floor[t] > 0]
        self.floored_devs = {self.leaf_dev[t] for t in self.floored if t in self.leaf_dev}
        # Children are ranked by the share of their full target still wanted, not the raw
        # count: a device that must be on 80% of partitions is then picked on 80% of them
        # from the start, instead of first on every one and at the end short of partitions
        # it is not already on. A fresh seeded draw in [0, 1) is added to the wanted count
        # at each update: it never puts a child one whole replica behind first, but it breaks
        # near-ties at random, so a device's partitions share their other replicas with many
        # devices, not a fixed few (a fixed order makes the greedy cycle through the same
        # combinations).
        self.rand = rand = rng.random
        self.scale = [1.0 / max(1, t) for t in self.target]
        self.heaps: list[list[tuple]] = []
        for node, kids in enumerate(self.children):
            heap = [(-(self.wanted[c] + rand()) * self.scale[c], 0.0, c) for c in kids]
            heapq.heapify(heap)
            self.heaps.append(heap)

    def _make_feasible(self) -> None:
        """Raise child quotas until they can hold their parent's: a domain with one heavy device
        cannot take ceil(q) replicas, so its siblings must take the rest (the topology limit)."""
        stack = [0]
        while stack:
            node = stack.pop()
            kids = sorted(self.children[node], key=lambda c: (-self.weight[c], c))
            if not kids:
                continue
            short = self.ceil[node] - sum(self.ceil[c] for c in kids)
            while short > 0:
                for c in kids:
                    if short > 0 and self.ceil[c] < self.leaves[c]:
                        self.ceil[c] += 1
                        short -= 1
            stack.extend(kids)

    def occupancy(self, dev_ids) -> dict[int, int]:
        """How many replicas of one partition each tier node already holds."""
        occ: dict[int, int] = {}
        anc = self.anc
        for d in dev_ids:
            for t in anc[d]:
                occ[t] = occ.get(t, 0) + 1
        return occ

    def choose(self, occ: dict[int, int]) -> int:
        """The device for one more replica of a partition whose current replicas give occ.

        At each level: the most-wanted child still under its quota; if every child is at quota
        (only when existing placement already crowds a domain), the least crowded one that
        still has a free device. Updates wanted counts and occ. Never picks a device in occ.
        """
        ceil, heaps, wanted, get, rand = self.ceil, self.heaps, self.wanted, occ.get, self.rand
        scale, must = self.scale, self.must
        node = 0
        wanted[0] -= 1
        for _ in range(4):
            heap = heaps[node]
            top = heap[0]
            child = top[2]
            if len(heap) == 1:  # one region, a node with one device...: nothing to choose
                wanted[child] -= 1
                occ[child] = get(child, 0) + 1
                node = child
                continue
            if must[node]:
                short = [c for c in must[node] if self._deficit(c, occ) > 0]
                if short and child not in short:
                    child = self._take(heap, short)
                    wanted[child] -= 1
                    occ[child] = get(child, 0) + 1
                    node = child
                    continue
            if get(child, 0) < ceil[child]:  # the common case: the most wanted child fits
                wanted[child] -= 1
                heapq.heapreplace(heap, (-(wanted[child] + rand()) * scale[child], 0.0, child))
            else:
                child = self._choose_slow(heap, occ)
                wanted[child] -= 1
            occ[child] = get(child, 0) + 1
            node = child
        return self.leaf_dev[node]

    def _deficit(self, node: int, occ: dict[int, int]) -> int:
        """Replicas the partition still owes this domain: its own floor, or more when domains
        inside it have floors of their own (a zone with q = 1 inside a region already used)."""
        inner = sum(self._deficit(c, occ) for c in self.must[node])
        return max(self.floor[node] - occ.get(node, 0), inner, 0)

    def _take(self, heap: list, among: list[int]) -> int:
        """The most wanted of `among` (children below their floor), updated in place."""
        best = min(range(len(heap)), key=lambda i: heap[i] if heap[i][2] in among else (1e300,))
        c = heap[best][2]
        heap[best] = (-(self.wanted[c] - 1 + self.rand()) * self.scale[c], 0.0, c)
        heapq.heapify(heap)
        return c

    def _choose_slow(self, heap: list, occ: dict[int, int]) -> int:
        ceil, leaves = self.ceil, self.leaves
        skipped = []
        chosen = None
        while heap:
            entry = heapq.heappop(heap)
            if occ.get(entry[2], 0) < ceil[entry[2]]:
                chosen = entry
                break
            skipped.append(entry)
        if chosen is None:
            free = [e for e in skipped if occ.get(e[2], 0) < leaves[e[2]]]
            chosen = min(free, key=lambda e: (occ.get(e[2], 0) - ceil[e[2]], e))
            skipped.remove(chosen)
        for entry in skipped:
            heapq.heappush(heap, entry)
        c = chosen[2]
        heapq.heappush(heap, (-(self.wanted[c] - 1 + self.rand()) * self.scale[c], 0.0, c))
        return chosen[2]

    def crowded(self, dev_ids, floors: bool = True) -> int | None:
        """Index (into dev_ids) of a replica to move, or None if the partition is well spread:
        a replica in a domain over its ceiling, else (when a domain is under its floor) the
        last replica that no floor needs where it is."""
        occ = self.occupancy(dev_ids)
        ceil, floor, anc = self.ceil, self.floor, self.anc
        worst = None
        for i, d in enumerate(dev_ids):
            for t in anc[d]:
                if occ[t] > ceil[t]:
                    worst = i  # the last such replica: earlier replicas stay where they are
                    break
        if worst is None and floors and any(occ.get(t, 0) < floor[t] for t in self.floored):
            for i in range(len(dev_ids) - 1, -1, -1):
                if all(occ[t] > floor[t] for t in anc[dev_ids[i]]):
                    return i
        return worst

    def crowded_slots(self, table, kind):
        """(partition, replica) of one crowding replica per crowded partition.

        Only partitions wholly on weighted devices are judged. Crowding above the device level
        depends only on which nodes hold the replicas, so the verdict is cached per node tuple
        (a few thousand at most) and the scan stays linear and cheap on large rings.
        """
        node_of = [a[2] if a else -1 for a in self.anc]
        cache: dict[tuple, int | None] = {}
        floored_devs = self.floored_devs
        reps = len(table)
        for p, devs in enumerate(zip(*table)):
            key = tuple(node_of[d] for d in devs)
            if -1 in key:
                continue
            if key in cache:
                verdict = cache[key]
            else:
                verdict = cache[key] = self.crowded(devs)
            if verdict is None and (len(set(key)) < reps and len(set(devs)) < reps
                                    or not floored_devs <= set(devs)):
                verdict = self.crowded(devs)  # two replicas on one device, or device floors
            if verdict is not None:
                yield p, verdict
