"""RingBuilder: the offline, validated, seeded ring builder (devices, weights, rebalance).

The state is Swift's shape: one uint16 array per replica mapping partition -> device id, plus the
time each partition last moved. rebalance() first frees what must move (replicas on removed
devices, replicas crowding a failure domain, replicas on devices above their weight's share),
then places every free replica by walking the tier tree (placement.py). Moving only what is over
target keeps movement near the minimum; min_part_hours (when > 0) moves at most one replica of a
partition per rebalance and none again until that many hours have passed, except off a removed
device (like Swift's, it is per partition: the other replicas keep serving while one moves). A
first placement is not a move (no data sits anywhere yet). Same state + same seed => same ring,
byte for byte.
"""
from __future__ import annotations

import array
import base64
import collections
import dataclasses
import json
import os
import random
import sys
import time
import zlib
from typing import Callable

from ring import placement
from ring.device import MAX_DEVICE_ID, Device, check_weight, validated
from ring.errors import RingError

MAX_PART_POWER = 22
MAX_REPLICAS = 8
NONE = 0xFFFF  # an unassigned slot
BUILDER_FORMAT = "strato-ring-builder"
BUILDER_VERSION = 1
_MAX_PASSES = 4  # extra gather/place passes when dispersion forced a device over its target


@dataclasses.dataclass(frozen=True)
class RebalanceReport:
    """What one rebalance did. moved counts partition-replicas that changed device."""

    moved: int
    assigned: int          # placed for the first time (no data moved)
    held_back: int         # wanted to move but min_part_hours kept them
    balance: float         # worst % deviation of a weighted device from its ideal share
    dispersion: int        # partitions still crowding a failure domain beyond its quota
    partition_replicas: int
    devices: int           # devices with weight > 0

    @property
    def moved_fraction(self) -> float:
        return self.moved / self.partition_replicas if self.partition_replicas else 0.0


def _int_arg(name: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RingError(f"{name} must be an integer between {low} and {high}, got {value!r}")
    return value


class RingBuilder:
    def __init__(self, part_power: int, replicas: int, min_part_hours: int = 1, seed: int = 0,
                 *, clock: Callable[[], float] = time.time):
        self.part_power = _int_arg("part_power", part_power, 1, MAX_PART_POWER)
        self.replicas = _int_arg("replicas", replicas, 1, MAX_REPLICAS)
        self.min_part_hours = _int_arg("min_part_hours", min_part_hours, 0, 24 * 365)
        self.seed = _int_arg("seed", seed, 0, 2**63 - 1)
        self.clock = clock
        self.generation = 0  # rebalances done: feeds the seeded RNG, so each one differs
        self._devs: list[Device | None] = []
        self._pending_removal: set[int] = set()
        count = self.partition_count
        self._table = [array.array("H", [NONE]) * count for _ in range(self.replicas)]
        self._last_moved = array.array("I", [0]) * count  # epoch seconds; 0 = never moved

    # -- devices -------------------------------------------------------------------------------
    @property
    def partition_count(self) -> int:
        return 1 << self.part_power

    @property
    def devices(self) -> list[Device | None]:
        """Devices by id (None for a removed id), as a copy."""
        return list(self._devs)

    def add_device(self, region: int, zone: int, ip: str, port: int, device: str, weight: float,
                   meta: str = "", id: int | None = None) -> int:
        if id is None:
            id = next((i for i, d in enumerate(self._devs)
                       if d is None and i not in self._pending_removal), len(self._devs))
        elif isinstance(id, int) and not isinstance(id, bool):
            if id < len(self._devs) and self._devs[id] is not None:
                raise RingError(f"device id {id} is already in use")
            if id in self._pending_removal:
                raise RingError(f"device id {id} was removed; rebalance before reusing it")
        dev = validated(id=id, region=region, zone=zone, ip=ip, port=port, device=device,
                        weight=weight, meta=meta)
        for other in self._devs:
            if other is not None and (other.ip, other.port, other.device) == \
                    (dev.ip, dev.port, dev.device):
                raise RingError(f"duplicate device {dev.ip}:{dev.port}/{dev.device} "
                                f"(already device {other.id})")
        if dev.id >= len(self._devs):
            self._devs.extend([None] * (dev.id + 1 - len(self._devs)))
        self._devs[dev.id] = dev
        return dev.id

    def _get(self, dev_id) -> Device:
        if isinstance(dev_id, int) and not isinstance(dev_id, bool) and \
                0 <= dev_id < len(self._devs) and self._devs[dev_id] is not None:
            return self._devs[dev_id]
        raise RingError(f"no device with id {dev_id!r}")

    def remove_device(self, dev_id: int) -> None:
        """Forget the device; its replicas move at the next rebalance (min_part_hours aside)."""
        self._get(dev_id)
        self._devs[dev_id] = None
        self._pending_removal.add(dev_id)

    def set_weight(self, dev_id: int, weight: float) -> None:
        dev = self._get(dev_id)
        self._devs[dev_id] = dataclasses.replace(dev, weight=check_weight(weight))

    def set_meta(self, dev_id: int, meta: str) -> None:
        if not isinstance(meta, str):
            raise RingError(f"meta must be a string, got {meta!r}")
        self._devs[dev_id] = dataclasses.replace(self._get(dev_id), meta=meta)

    # -- state ---------------------------------------------------------------------------------
    def replica2part2dev(self) -> list[array.array]:
        """Copies of the per-replica partition -> device id arrays (NONE = unassigned)."""
        return [array.array("H", row) for row in self._table]

    def is_assigned(self) -> bool:
        return all(NONE not in row for row in self._table)

    def _counts(self) -> collections.Counter:
        counts: collections.Counter = collections.Counter()
        for row in self._table:
            counts.update(row)  # counted in C
        return counts

    def parts_per_device(self) -> dict[int, int]:
        """Partition-replicas per existing device id."""
        counts = self._counts()
        return {d.id: counts[d.id] for d in self._devs if d is not None}

    def balance(self) -> float:
        """Worst % deviation of a weighted device from its ideal share of partition-replicas."""
        live = [d for d in self._devs if d is not None and d.weight > 0]
        if not live:
            return 0.0
        ideal = placement.ideal_shares(live, self.partition_count * self.replicas,
                                       self.partition_count)
        have = self.parts_per_device()
        return max(abs(have[i] - v) / v * 100.0 for i, v in ideal.items())

    def dispersion(self) -> int:
        """Partitions whose replicas crowd a failure domain beyond what the weights require."""
        tree = self._tree({}, random.Random(0))
        if tree is None:
            return 0
        kind = bytearray(NONE + 1)
        for d in self._devs:
            if d is not None:
                kind[d.id] = 1 if d.weight > 0 else 2
        return sum(1 for _ in tree.crowded_slots(self._table, kind))

    def _tree(self, wanted: dict[int, int], rng: random.Random, target=None):
        live = [d for d in self._devs if d is not None and d.weight > 0]
        if len(live) < self.replicas:
            return None
        wanted = {d.id: wanted.get(d.id, 0) for d in live}
        target = {d.id: (target or {}).get(d.id, 0) for d in live}
        return placement.TierTree(live, self.replicas, wanted, rng, MAX_DEVICE_ID + 2, target,
                                  self.partition_count)

    # -- rebalance -----------------------------------------------------------------------------
    def rebalance(self) -> RebalanceReport:
        live = [d for d in self._devs if d is not None and d.weight > 0]
        if len(live) < self.replicas:
            raise RingError(f"{len(live)} device(s) with weight > 0 cannot hold {self.replicas} "
                            f"replicas of a partition: add devices (or lower the replicas)")
        parts, reps = self.partition_count, self.replicas
        rng = random.Random(f"{self.seed}/{self.generation}")
        have = self._counts()
        # who gets the odd partition-replica left by rounding: whoever already holds more (no
        # move), then a per-device seeded draw that does not change between rebalances
        tiebreak = {d.id: (-have[d.id], random.Random(f"{self.seed}/{d.id}").random())
                    for d in live}
        target = placement.targets(live, parts * reps, parts, tiebreak)
        now = int(self.clock())
        window = self.min_part_hours * 3600
        table, last_moved = self._table, self._last_moved
        kind = bytearray(NONE + 1)  # 0 gone or unassigned, 1 weighted, 2 weight 0 (draining)
        wanted = dict(target)
        for d in self._devs:
            if d is not None:
                kind[d.id] = 1 if d.weight > 0 else 2
                wanted[d.id] = target.get(d.id, 0) - have[d.id]
        free: list[tuple[int, int, int]] = []  # (partition, replica, previous device or NONE)
        moving = bytearray(parts)  # partitions with a replica moving in this rebalance
        held_back = 0

        def movable(p: int) -> bool:
            # min_part_hours 0 lets any replica move at any time; otherwise one replica of a
            # partition per rebalance and per window, so the others keep serving it meanwhile
            return window == 0 or (not moving[p] and (not last_moved[p]
                                                      or now - last_moved[p] >= window))

        # 1. replicas never placed, or on removed devices, must be placed now
        for r, row in enumerate(table):
            for p in [p for p, d in enumerate(row) if not kind[d]]:
                free.append((p, r, row[p]))
                if row[p] != NONE:
                    moving[p] = 1
                    row[p] = NONE
        # 2. replicas crowding a failure domain beyond its quota (once something was placed)
        probe = self._tree(wanted, rng)
        if len(free) < parts * reps:
            for p, r in probe.crowded_slots(table, kind):
                if not movable(p):
                    held_back += 1
                    continue
                while r is not None:
                    d = table[r][p]
                    moving[p] = 1
                    wanted[d] += 1
                    table[r][p] = NONE
                    free.append((p, r, d))
                    # three replicas in a one-replica zone need two moves, when allowed
                    rest = [x for x in range(reps) if table[x][p] != NONE]
                    worst = probe.crowded([table[x][p] for x in rest], floors=False) \
                        if movable(p) else None
                    r = None if worst is None else rest[worst]
        moved = assigned = 0
        fresh: set[int] = set()  # slots placed for the first time: re-placing them moves nothing

        def place(slots: list[tuple[int, int, int]]) -> None:
            nonlocal moved, assigned
            tree = self._tree(wanted, rng, target)
            choose, occupancy = tree.choose, tree.occupancy
            slots.sort()
            i, n = 0, len(slots)
            while i < n:
                p = slots[i][0]
                occ = occupancy([row[p] for row in table if kind[row[p]] == 1])
                while i < n and slots[i][0] == p:
                    _, r, old = slots[i]
                    i += 1
                    new = choose(occ)
                    table[r][p] = new
                    wanted[new] -= 1
                    if old == NONE:
                        fresh.add(p * reps + r)
                        assigned += 1
                    elif new != old and p * reps + r not in fresh:
                        moved += 1
                        last_moved[p] = now or 1
        for attempt in range(_MAX_PASSES):
            first_pass = attempt == 0
            # 3. devices above their target give up replicas of partitions that may move
            over = bytearray(NONE + 1)
            for d, w in wanted.items():
                if w < 0:
                    over[d] = 1
            if any(over):
                slots_of: dict[int, list[int]] = {d: [] for d, w in wanted.items() if w < 0}
                for r, row in enumerate(table):
                    for p in [p for p, d in enumerate(row) if over[d]]:
                        slots_of[row[p]].append(p * reps + r)
                for d, slots in sorted(slots_of.items()):
                    excess = -wanted[d]
                    chosen = self._pick(slots, excess, reps, movable, rng)
                    if first_pass:  # later passes would count the same replicas again
                        held_back += excess - len(chosen)
                    for s in chosen:
                        p, r = divmod(s, reps)
                        moving[p] = 1
                        table[r][p] = NONE
                        free.append((p, r, d))
                        wanted[d] += 1
            if not free:
                break
            # 4. place every free replica, partition by partition
            place(free)
            free = []
            if all(v >= 0 for v in wanted.values()):
                break
        # 5. a partition that lost a replica to a removed device kept its other replicas even
        # if they crowd; placing one replica cannot always repair that, so look once more
        late = []
        for p, r in probe.crowded_slots(table, kind):
            if movable(p):
                late.append((p, r, table[r][p]))
                moving[p] = 1
                wanted[table[r][p]] += 1
                table[r][p] = NONE
        if late:
            place(late)
        moved += self._repair(wanted, kind, probe, movable, moving, now, fresh)
        self._pending_removal.clear()
        self.generation += 1
        crowded = sum(1 for _ in probe.crowded_slots(table, kind))
        return RebalanceReport(moved=moved, assigned=assigned, held_back=held_back,
                               balance=round(self.balance(), 4), dispersion=crowded,
                               partition_replicas=parts * reps, devices=len(live))

    def _repair(self, wanted, kind, probe, movable, moving, now, fresh) -> int:
        """Moves from devices still above target to devices still below it.

        The greedy placement can end with a device short only because every free replica
        belonged to a partition it already held, or that a move would crowd. For each such
        pair: a direct move of a partition the under device lacks, else a two-hop move through
        a third device (o -> x in one partition, x -> u in another). Rare, and bounded by the
        residual imbalance.
        """
        table, reps = self._table, self.replicas
        moved = [0]

        def find(src: int, dst: int, exclude: int = -1):
            for r, row in enumerate(table):
                for p in [p for p, d in enumerate(row) if d == src]:
                    if p == exclude or not movable(p):
                        continue
                    devs = [x[p] for x in table]
                    if dst in devs:
                        continue
                    devs[r] = dst
                    if probe.crowded(devs) is None:
                        return p, r
            return None

        def apply(p: int, r: int, dst: int) -> None:
            src = table[r][p]
            table[r][p] = dst
            wanted[dst] -= 1
            wanted[src] += 1
            if p * reps + r not in fresh:
                moving[p] = 1
                self._last_moved[p] = now or 1
                moved[0] += 1

        live = sorted(d for d in wanted if kind[d] == 1)
        for u in sorted(d for d, w in wanted.items() if w > 0 and kind[d] == 1):
            for o in sorted(d for d, w in wanted.items() if w < 0):
                while wanted[u] > 0 and wanted[o] < 0:
                    hit = find(o, u)
                    if hit is not None:
                        apply(*hit, u)
                        continue
                    for x in live[:32]:
                        if x in (u, o):
                            continue
                        first = find(o, x)
                        second = first and find(x, u, exclude=first[0])
                        if second:
                            apply(*first, x)
                            apply(*second, u)
                            break
                    else:
                        break
        return moved[0]

    @staticmethod
    def _pick(candidates: list[int], count: int, reps: int, movable, rng) -> list[int]:
        """Up to count of a device's slots (partition * reps + replica) whose partitions may
        move, at most one per partition, in seeded random order. Samples first: shuffling every
        slot of every device would dominate a small rebalance of a large ring."""
        if len(candidates) > 4 * count + 64:
            chosen = _first_movable(rng.sample(candidates, 4 * count + 64), count, reps, movable)
            if len(chosen) == count:
                return chosen
        order = list(candidates)
        rng.shuffle(order)
        return _first_movable(order, count, reps, movable)

    # -- persistence ---------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"format": BUILDER_FORMAT, "version": BUILDER_VERSION,
                "part_power": self.part_power, "replicas": self.replicas,
                "min_part_hours": self.min_part_hours, "seed": self.seed,
                "generation": self.generation,
                "devices": [d.to_dict() if d else None for d in self._devs],
                "pending_removal": sorted(self._pending_removal),
                "replica2part2dev": [_pack(row) for row in self._table],
                "last_moved": _pack(self._last_moved)}

    @classmethod
    def from_dict(cls, data: dict, *, clock: Callable[[], float] = time.time) -> "RingBuilder":
        if not isinstance(data, dict) or data.get("format") != BUILDER_FORMAT:
            raise RingError("not a strato ring builder file")
        if data.get("version") != BUILDER_VERSION:
            raise RingError(f"unsupported builder version {data.get('version')!r}")
        try:
            builder = cls(data["part_power"], data["replicas"], data["min_part_hours"],
                          data["seed"], clock=clock)
            builder.generation = _int_arg("generation", data["generation"], 0, 2**63 - 1)
            for entry in data["devices"]:
                builder._devs.append(None if entry is None else Device.from_dict(entry))
            for i, d in enumerate(builder._devs):
                if d is not None and d.id != i:
                    raise RingError(f"device at index {i} has id {d.id}")
            builder._pending_removal = {_int_arg("pending id", i, 0, MAX_DEVICE_ID)
                                        for i in data["pending_removal"]}
            rows = data["replica2part2dev"]
            if not isinstance(rows, list) or len(rows) != builder.replicas:
                raise RingError("replica2part2dev must have one array per replica")
            builder._table = [_unpack(row, "H", builder.partition_count) for row in rows]
            builder._last_moved = _unpack(data["last_moved"], "I", builder.partition_count)
        except (KeyError, TypeError) as exc:
            raise RingError(f"builder file is missing or mistypes {exc}") from None
        known = set(builder._pending_removal) | {d.id for d in builder._devs if d is not None}
        for row in builder._table:
            bad = set(row) - known - {NONE}
            if bad:
                raise RingError(f"builder assigns partitions to unknown devices {sorted(bad)[:5]}")
        return builder

    def save(self, path: str) -> None:
        """Write the builder as JSON (atomically: temp file, fsync, rename)."""
        data = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()
        _atomic_write(path, data)

    @classmethod
    def load(cls, path: str, *, clock: Callable[[], float] = time.time) -> "RingBuilder":
        try:
            with open(path, "rb") as f:
                data = json.loads(f.read())
        except OSError as exc:
            raise RingError(f"cannot read builder {path}: {exc.strerror or exc}") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise RingError(f"builder {path} is not valid JSON: {exc}") from None
        return cls.from_dict(data, clock=clock)

    def write_ring(self, path: str) -> None:
        from ring.ringfile import write_ring
        write_ring(self, path)


def _first_movable(order: list[int], count: int, reps: int, movable) -> list[int]:
    chosen: list[int] = []
    seen: set[int] = set()
    for s in order:
        p = s // reps
        if p not in seen and movable(p):
            seen.add(p)
            chosen.append(s)
            if len(chosen) == count:
                break
    return chosen


def _pack(arr: array.array) -> str:
    """Little-endian bytes of an array, zlib-compressed and base64'd for JSON."""
    if sys.byteorder != "little":
        arr = array.array(arr.typecode, arr)
        arr.byteswap()
    return base64.b64encode(zlib.compress(arr.tobytes(), 6)).decode("ascii")


def _unpack(text, typecode: str, count: int) -> array.array:
    if not isinstance(text, str):
        raise RingError("packed array must be a string")
    try:
        raw = zlib.decompress(base64.b64decode(text, validate=True))
    except (ValueError, zlib.error) as exc:
        raise RingError(f"packed array is corrupt: {exc}") from None
    arr = array.array(typecode)
    if len(raw) != count * arr.itemsize:
        raise RingError(f"packed array holds {len(raw)} bytes, expected {count * arr.itemsize}")
    arr.frombytes(raw)
    if sys.byteorder != "little":
        arr.byteswap()
    return arr


def _atomic_write(path: str, data: bytes) -> None:
    tmp = f"{path}.tmp.{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise RingError(f"cannot write {path}: {exc.strerror or exc}") from None
    dirfd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(dirfd)
    finally:
        os.close(dirfd)
