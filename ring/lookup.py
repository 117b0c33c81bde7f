"""Ring: the immutable lookup object services use (primaries and handoffs of a partition).

Built from a ring file (Ring.load) or a builder (Ring.from_builder). The hot calls (get_part,
get_nodes, get_part_nodes) are bound straight to native.ringlookup's table, so a lookup is one C
call when the extension is built. Lookups do no I/O; RingWatcher swaps in a new Ring on change.
"""
from __future__ import annotations

from typing import Iterator

import xxhash

from native import ringlookup
from ring.device import Device
from ring.errors import RingError
from ring.ringfile import RingData, load_ring_data


class Ring:
    def __init__(self, data: RingData, hash_prefix: str = "", hash_suffix: str = ""):
        table = ringlookup.RingTable(data.part_power, data.replica2part2dev, data.devices,
                                     hash_prefix, hash_suffix)
        fields = self.__dict__
        fields["part_power"] = data.part_power
        fields["replica_count"] = data.replicas
        fields["partition_count"] = 1 << data.part_power
        fields["_devs"] = tuple(data.devices)
        fields["_data"] = data
        fields["_handoff_pool"] = tuple(d for d in data.devices if d is not None and d.weight > 0)
        # instance attributes shadow the methods below: callers reach the C table directly
        fields["get_part"] = table.get_part
        fields["get_nodes"] = table.get_nodes
        fields["get_part_nodes"] = table.get_part_nodes
        fields["get_dev_ids"] = table.get_dev_ids

    def __setattr__(self, name, value):
        raise AttributeError("a Ring is immutable; load a new one")

    __delattr__ = __setattr__

    @classmethod
    def load(cls, path: str, hash_prefix: str = "", hash_suffix: str = "") -> "Ring":
        return cls(load_ring_data(path), hash_prefix, hash_suffix)

    @classmethod
    def from_builder(cls, builder, hash_prefix: str = "", hash_suffix: str = "") -> "Ring":
        if not builder.is_assigned():
            raise RingError("the builder has unassigned partitions: rebalance first")
        data = RingData(builder.part_power, builder.replicas, tuple(builder.devices),
                        tuple(builder.replica2part2dev()))
        return cls(data, hash_prefix, hash_suffix)

    @property
    def devices(self) -> list[Device | None]:
        """Devices by id; None where an id was removed."""
        return list(self._devs)

    @property
    def replica2part2dev(self) -> tuple:
        return self._data.replica2part2dev

    # Documented here, replaced per instance by the native table's bound methods.
    def get_part(self, account, container=None, obj=None) -> int:  # pragma: no cover
        """The partition of /account[/container[/object]]."""
        raise NotImplementedError

    def get_nodes(self, account, container=None, obj=None) -> tuple[int, list[Device]]:
        """(partition, primaries in replica order) for /account[/container[/object]]."""
        raise NotImplementedError  # pragma: no cover

    def get_part_nodes(self, part: int) -> list[Device]:
        """The primaries of a partition, in replica order."""
        raise NotImplementedError  # pragma: no cover

    def get_dev_ids(self, account, container=None, obj=None) -> tuple[int, tuple]:
        """(partition, primary device ids): the lookup without building Device lists."""
        raise NotImplementedError  # pragma: no cover

    def get_more_nodes(self, part: int) -> Iterator[Device]:
        """Handoff devices for a partition, never a primary, in a stable order that leaves the
        primaries' failure domains last: first devices in regions no replica uses (one per new
        region), then new zones, then new nodes (ip:port), then every remaining device.

        Within each step the order is a per-partition shuffle (xxh3 of partition and device id),
        so the handoffs of a failed device's partitions spread over the cluster.
        """
        primaries = self.get_part_nodes(part)
        return self._handoffs(part, primaries)

    def _handoffs(self, part: int, primaries: list[Device]) -> Iterator[Device]:
        primary_ids = {d.id for d in primaries}
        pool = [d for d in self._handoff_pool if d.id not in primary_ids]
        pool.sort(key=lambda d: (xxhash.xxh3_64_intdigest(b"%d/%d" % (part, d.id)), d.id))
        used = [{(d.region,) for d in primaries},
                {(d.region, d.zone) for d in primaries},
                {(d.region, d.zone, d.ip, d.port) for d in primaries}]
        given: set[int] = set()
        for level in range(3):
            for d in pool:
                if d.id in given:
                    continue
                keys = ((d.region,), (d.region, d.zone), (d.region, d.zone, d.ip, d.port))
                if keys[level] not in used[level]:
                    given.add(d.id)
                    for i in range(3):
                        used[i].add(keys[i])
                    yield d
        for d in pool:
            if d.id not in given:
                yield d

    def __repr__(self) -> str:
        live = sum(1 for d in self._devs if d is not None)
        return (f"<Ring part_power={self.part_power} replicas={self.replica_count} "
                f"devices={live} impl={ringlookup.IMPLEMENTATION}>")
