"""Reference ring lookup: hash a Swift path, take its partition, read its primaries.

The compiled twin (_ringlookup_c.pyx) must agree with this byte for byte; tests/unit/ring checks
both against golden vectors and against each other (Hypothesis).
"""
from __future__ import annotations

import xxhash

IMPLEMENTATION = "py"
C_XXH3 = False  # whether hashing runs in C inside this module (never, here)
MAX_PART_POWER = 22


def _ring_error(message: str) -> Exception:
    """ring.errors.RingError(message), imported on first use: importing the ring package here
    at module load would be circular (ring.lookup imports native.ringlookup, which loads us)."""
    from ring.errors import RingError as error
    return error(message)


def _text(value) -> bytes:
    if isinstance(value, str):
        try:
            return value.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            raise _ring_error(f"path component {value!r} cannot be encoded as UTF-8") from None
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    raise _ring_error(f"path components must be str or bytes, got {type(value).__name__}")


def _check(part_power, replica2part2dev, devices) -> None:
    if isinstance(part_power, bool) or not isinstance(part_power, int) or \
            not 1 <= part_power <= MAX_PART_POWER:
        raise _ring_error(f"part_power must be an integer between 1 and {MAX_PART_POWER}")
    if not replica2part2dev:
        raise _ring_error("a ring needs at least one replica")
    for row in replica2part2dev:
        if len(row) != 1 << part_power:
            raise _ring_error(f"a replica row has {len(row)} partitions, expected "
                            f"{1 << part_power}")
        for dev_id in set(row):
            if not 0 <= dev_id < len(devices) or devices[dev_id] is None:
                raise _ring_error(f"partitions are assigned to missing device {dev_id}")


class RingTable:
    """partition -> primaries, plus the hashing: get_nodes() is the whole lookup in one call."""

    __slots__ = ("part_power", "replica_count", "_shift", "_rows", "_devs", "_prefix",
                 "_suffix", "_parts")

    def __init__(self, part_power: int, replica2part2dev, devices, hash_prefix="",
                 hash_suffix=""):
        devices = tuple(devices)
        _check(part_power, replica2part2dev, devices)
        self.part_power = part_power
        self.replica_count = len(replica2part2dev)
        self._shift = 64 - part_power
        self._parts = 1 << part_power
        self._rows = tuple(list(row) for row in replica2part2dev)  # list indexing is fastest
        self._devs = devices
        self._prefix = _text(hash_prefix)
        self._suffix = _text(hash_suffix)

    def _key(self, account, container, obj) -> bytes:
        if obj is not None and container is None:
            raise _ring_error("a container is required when an object is given")
        key = self._prefix + b"/" + _text(account)
        if container is not None:
            key += b"/" + _text(container)
            if obj is not None:
                key += b"/" + _text(obj)
        return key + self._suffix

    def get_part(self, account, container=None, obj=None) -> int:
        return xxhash.xxh3_64_intdigest(self._key(account, container, obj)) >> self._shift

    def get_nodes(self, account, container=None, obj=None) -> tuple[int, list]:
        part = xxhash.xxh3_64_intdigest(self._key(account, container, obj)) >> self._shift
        devs = self._devs
        return part, [devs[row[part]] for row in self._rows]

    def get_dev_ids(self, account, container=None, obj=None) -> tuple[int, tuple]:
        part = xxhash.xxh3_64_intdigest(self._key(account, container, obj)) >> self._shift
        return part, tuple(row[part] for row in self._rows)

    def get_part_nodes(self, part: int) -> list:
        if isinstance(part, bool) or not isinstance(part, int) or not 0 <= part < self._parts:
            raise _ring_error(f"partition {part!r} is out of range 0..{self._parts - 1}")
        devs = self._devs
        return [devs[row[part]] for row in self._rows]
