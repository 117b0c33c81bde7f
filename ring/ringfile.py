"""The ring file: what lookups load. Versioned, compact, compressed, reproducible, never pickled.

Layout (all of it gzip-compressed with mtime 0 and no name, so the same builder state gives the
same bytes):
    MAGIC (8 bytes) | version (uint16 BE) | header length (uint32 BE) | header (JSON, UTF-8)
    | replicas x partitions uint16 little-endian device ids (one array per replica)
The header holds part_power, replicas and the devices (None for a removed id). The reader checks
the gzip CRC and length, the magic, the version, every size, and that each id names a device.
"""
from __future__ import annotations

import array
import dataclasses
import gzip
import io
import json
import struct
import sys
import zlib

from ring.device import Device
from ring.errors import RingError

MAGIC = b"STRATORG"
VERSION = 1
_PREFIX = struct.Struct(">8sHI")
MAX_HEADER = 64 << 20
MAX_FILE = 256 << 20  # part power 22 x 8 replicas is 64 MiB of ids; refuse anything absurd


@dataclasses.dataclass(frozen=True)
class RingData:
    part_power: int
    replicas: int
    devices: tuple  # Device or None, index = id
    replica2part2dev: tuple  # array('H') per replica


def serialize(part_power: int, devices, replica2part2dev) -> bytes:
    from ring.builder import NONE

    rows = [array.array("H", row) for row in replica2part2dev]
    for r, row in enumerate(rows):
        if len(row) != 1 << part_power:
            raise RingError(f"replica {r} has {len(row)} partitions, expected {1 << part_power}")
        if NONE in row:
            raise RingError("the builder has unassigned partitions: rebalance before writing")
    header = json.dumps({"part_power": part_power, "replicas": len(rows),
                         "devices": [d.to_dict() if d else None for d in devices]},
                        sort_keys=True, separators=(",", ":")).encode()
    body = [_PREFIX.pack(MAGIC, VERSION, len(header)), header]
    for row in rows:
        if sys.byteorder != "little":
            row.byteswap()
        body.append(row.tobytes())
    return gzip.compress(b"".join(body), compresslevel=6, mtime=0)


def write_ring(builder, path: str) -> None:
    """Write builder's current placement to path (atomically)."""
    from ring.builder import _atomic_write

    _atomic_write(path, serialize(builder.part_power, builder.devices,
                                  builder.replica2part2dev()))


def parse(data: bytes, name: str = "ring file") -> RingData:
    """Decode ring file bytes; anything corrupt, truncated or unknown raises RingError."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
            raw = f.read(MAX_FILE + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise RingError(f"{name} is corrupt or truncated: {exc}") from None
    if len(raw) > MAX_FILE:
        raise RingError(f"{name} is larger than {MAX_FILE} bytes uncompressed")
    if len(raw) < _PREFIX.size:
        raise RingError(f"{name} is truncated (no header)")
    magic, version, header_len = _PREFIX.unpack_from(raw)
    if magic != MAGIC:
        raise RingError(f"{name} is not a strato ring file")
    if version != VERSION:
        raise RingError(f"{name} has ring format version {version}; this build reads {VERSION}")
    if header_len > MAX_HEADER or _PREFIX.size + header_len > len(raw):
        raise RingError(f"{name} is truncated (header)")
    try:
        header = json.loads(raw[_PREFIX.size:_PREFIX.size + header_len])
        part_power, replicas = header["part_power"], header["replicas"]
        devices = tuple(None if d is None else Device.from_dict(d) for d in header["devices"])
    except (ValueError, KeyError, TypeError) as exc:
        raise RingError(f"{name} has a bad header: {exc}") from None
    from ring.builder import MAX_PART_POWER, MAX_REPLICAS

    if not (isinstance(part_power, int) and 1 <= part_power <= MAX_PART_POWER and
            isinstance(replicas, int) and 1 <= replicas <= MAX_REPLICAS):
        raise RingError(f"{name} has a bad part_power or replicas")
    for i, d in enumerate(devices):
        if d is not None and d.id != i:
            raise RingError(f"{name} lists device {d.id} at index {i}")
    parts = 1 << part_power
    start = _PREFIX.size + header_len
    if len(raw) != start + replicas * parts * 2:
        raise RingError(f"{name} holds {len(raw) - start} bytes of placement, expected "
                        f"{replicas * parts * 2}")
    rows = []
    known = {d.id for d in devices if d is not None}
    for r in range(replicas):
        row = array.array("H")
        row.frombytes(raw[start + r * parts * 2:start + (r + 1) * parts * 2])
        if sys.byteorder != "little":
            row.byteswap()
        if max(row) >= len(devices) or not set(row) <= known:
            raise RingError(f"{name} assigns partitions to devices it does not list")
        rows.append(row)
    return RingData(part_power, replicas, devices, tuple(rows))


def load_ring_data(path: str) -> RingData:
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_FILE + 1)
    except OSError as exc:
        raise RingError(f"cannot read ring file {path}: {exc.strerror or exc}") from None
    return parse(data, f"ring file {path}")
