"""The ring file: reproducible bytes, round trip, and refusal of anything corrupt or foreign."""
import gzip
import json
import struct

import pytest

from ring import Ring, RingBuilder, RingError
from ring.ringfile import MAGIC, load_ring_data, parse, serialize

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def ring_bytes(golden_builder):
    b = golden_builder
    return serialize(b.part_power, b.devices, b.replica2part2dev())


def test_round_trip_and_reproducible(tmp_path, golden_builder):
    a, b = tmp_path / "a.ring", tmp_path / "b.ring"
    golden_builder.write_ring(str(a))
    golden_builder.write_ring(str(b))
    assert a.read_bytes() == b.read_bytes()
    # the same builder state rebuilt from scratch gives the same bytes too
    again = RingBuilder.from_dict(golden_builder.to_dict())
    c = tmp_path / "c.ring"
    again.write_ring(str(c))
    assert c.read_bytes() == a.read_bytes()
    data = load_ring_data(str(a))
    assert data.part_power == 8 and data.replicas == 3
    assert list(data.devices) == golden_builder.devices
    assert [list(r) for r in data.replica2part2dev] == \
        [list(r) for r in golden_builder.replica2part2dev()]
    ring = Ring.load(str(a), "p", "s")
    assert ring.get_nodes("a", "c", "o") == Ring.from_builder(golden_builder, "p", "s") \
        .get_nodes("a", "c", "o")


def test_compact_and_compressed(ring_bytes):
    raw = gzip.decompress(ring_bytes)
    assert raw.startswith(MAGIC)
    assert len(ring_bytes) < len(raw)  # compressed
    # one uint16 per partition per replica after the JSON header
    _, _, header_len = struct.unpack_from(">8sHI", raw)
    assert len(raw) - 14 - header_len == 3 * 256 * 2
    header = json.loads(raw[14:14 + header_len])
    assert header["part_power"] == 8 and header["replicas"] == 3
    assert b"pickle" not in raw and not raw[14 + header_len:].startswith(b"\x80")


def _rewrap(raw: bytes) -> bytes:
    return gzip.compress(raw, mtime=0)


@pytest.mark.parametrize("damage, match", [
    (lambda b: b[: len(b) // 2], "corrupt or truncated"),
    (lambda b: b[:-3], "corrupt or truncated"),
    (lambda b: b"", "truncated"),
    (lambda b: b"not a ring file at all", "corrupt"),
    (lambda b: b[:20] + bytes([b[20] ^ 0xFF]) + b[21:], "corrupt"),
    (lambda b: _rewrap(b"NOTARING" + gzip.decompress(b)[8:]), "not a strato ring"),
    (lambda b: _rewrap(gzip.decompress(b)[:8] + b"\x00\x09" + gzip.decompress(b)[10:]),
     "version 9"),
    (lambda b: _rewrap(gzip.decompress(b)[:-2]), "bytes of placement"),
    (lambda b: _rewrap(gzip.decompress(b) + b"\x00\x00"), "bytes of placement"),
    (lambda b: _rewrap(gzip.decompress(b)[:10] + b"\xff\xff\xff\x00"
                       + gzip.decompress(b)[14:]), "header"),
    (lambda b: _rewrap(gzip.decompress(b)[:14] + b"[" + gzip.decompress(b)[15:]), "header"),
    (lambda b: _rewrap(gzip.decompress(b)[:-1] + b"\x09"), "does not list"),
])
def test_corrupt_files_are_refused(tmp_path, ring_bytes, damage, match):
    bad = damage(ring_bytes)
    with pytest.raises(RingError, match=match):
        parse(bad)
    path = tmp_path / "bad.ring"
    path.write_bytes(bad)
    with pytest.raises(RingError, match=match):
        Ring.load(str(path))


def test_missing_file_and_unbalanced_builder(tmp_path):
    with pytest.raises(RingError, match="cannot read"):
        Ring.load(str(tmp_path / "nope.ring"))
    b = RingBuilder(4, 1)
    b.add_device(region=1, zone=1, ip="127.0.0.1", port=6200, device="d", weight=1)
    with pytest.raises(RingError, match="rebalance"):
        b.write_ring(str(tmp_path / "x.ring"))
    with pytest.raises(RingError, match="rebalance"):
        Ring.from_builder(b)


def test_removed_devices_are_none_in_the_ring(tmp_path, golden_builder):
    golden_builder.remove_device(2)
    golden_builder.rebalance()
    path = tmp_path / "r.ring"
    golden_builder.write_ring(str(path))
    ring = Ring.load(str(path))
    assert ring.devices[2] is None
    assert all(2 not in row for row in ring.replica2part2dev)
