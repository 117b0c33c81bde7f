"""Ring lookups on both implementations: golden placement, hashing, handoffs, errors, agreement."""
import os

import pytest
import xxhash
from hypothesis import given, settings
from hypothesis import strategies as st

import native
from ring import Device, Ring, RingBuilder, RingError, hash_path, partition_for
from ring.hashing import path_key

pytestmark = pytest.mark.timeout(60)
PREFIX, SUFFIX = "strato-pre", "strato-suf"

# (path, partition, primary device ids, hash_path) on the golden ring (conftest.golden_builder)
GOLDEN = [
    (("a",), 128, (2, 4, 3), "162528036079f4c2b772adfd0892344a"),
    (("a", "c"), 116, (3, 0, 2), "0e4785af533de296b60281b51fdfc868"),
    (("a", "c", "o"), 116, (3, 0, 2), "30a926129d9ef9864a0048200ffec427"),
    (("AUTH_test", "photos", "2024/cat.jpg"), 179, (2, 3, 1), "fa5b97edba8b064cfea68b9f8b2d6144"),
    (("ünï", "ç", "ø/ø"), 212, (5, 1, 3), "ff8a5e4a74642c9a39eb1a953a1a11b6"),
    (("a", "c", "x" * 2000), 197, (3, 1, 4), "ea9c399b14ec6eaac50c793f667ba223"),
]
GOLDEN_RING_SHA256 = "60566a72d7f8db0e2ba7b059787eeaa1e350eb3be89c2d54f5c396a7f6706297"


def test_compiled_ring_lookup_is_built():
    """Fails when the Cython module silently did not build (unless pure mode is forced)."""
    if os.environ.get("STRATO_NO_EXTENSIONS") == "1":
        pytest.skip("STRATO_NO_EXTENSIONS=1 forces the pure-Python twin")
    compiled = native.load_both("ringlookup")["c"]
    assert compiled is not None, "native._ringlookup_c did not build"
    assert compiled.IMPLEMENTATION == "c"
    assert compiled.C_XXH3, "built without libxxhash's xxhash.h: hashing is not in C"
    from native import ringlookup
    assert ringlookup.IMPLEMENTATION == "c"


def test_golden_placement(native_impl, golden_builder):
    ring = Ring.from_builder(golden_builder, PREFIX, SUFFIX)
    for path, part, ids, digest in GOLDEN:
        assert ring.get_part(*path) == part
        got_part, nodes = ring.get_nodes(*path)
        assert (got_part, tuple(d.id for d in nodes)) == (part, ids), path
        assert ring.get_dev_ids(*path) == (part, ids)
        assert [d.id for d in ring.get_part_nodes(part)] == list(ids)
        assert hash_path(*path, prefix=PREFIX, suffix=SUFFIX) == digest
        assert partition_for(*path, part_power=8, prefix=PREFIX, suffix=SUFFIX) == part


def test_golden_ring_file_bytes(golden_builder):
    import hashlib

    from ring.ringfile import serialize

    data = serialize(golden_builder.part_power, golden_builder.devices,
                     golden_builder.replica2part2dev())
    assert hashlib.sha256(data).hexdigest() == GOLDEN_RING_SHA256


def test_hash_definition():
    """Partition = top bits of xxh3-64 of prefix + /a/c/o + suffix; hash_path = its xxh3-128."""
    key = b"pre/acc/con/objsuf"
    assert path_key("acc", "con", "obj", prefix="pre", suffix="suf") == key
    assert partition_for("acc", "con", "obj", part_power=10, prefix="pre", suffix="suf") == \
        xxhash.xxh3_64_intdigest(key) >> 54
    assert hash_path("acc", "con", "obj", prefix="pre", suffix="suf") == \
        xxhash.xxh3_128_hexdigest(key)
    assert len(hash_path("a")) == 32
    assert path_key("a") == b"/a" and path_key("a", "c") == b"/a/c"
    assert hash_path(b"a", b"c") == hash_path("a", "c")


def test_lookup_errors(native_impl, golden_builder):
    ring = Ring.from_builder(golden_builder)
    with pytest.raises(RingError, match="container is required"):
        ring.get_nodes("a", None, "o")
    with pytest.raises(RingError, match="str or bytes"):
        ring.get_nodes(5)
    with pytest.raises(RingError, match="str or bytes"):
        ring.get_part("a", ["c"])
    with pytest.raises(RingError, match="out of range"):
        ring.get_part_nodes(256)
    with pytest.raises(RingError, match="out of range"):
        ring.get_part_nodes(-1)
    with pytest.raises(RingError, match="out of range"):
        ring.get_more_nodes("3")
    with pytest.raises(RingError, match="UTF-8"):
        ring.get_part("a\ud800")
    with pytest.raises(RingError, match="container is required"):
        hash_path("a", None, "o")


def test_ring_is_immutable_and_describes_itself(native_impl, golden_builder):
    ring = Ring.from_builder(golden_builder)
    with pytest.raises(AttributeError):
        ring.part_power = 3
    with pytest.raises(AttributeError):
        ring.get_nodes = None
    assert (ring.part_power, ring.replica_count, ring.partition_count) == (8, 3, 256)
    assert all(isinstance(d, Device) for d in ring.devices)
    ring.devices.append(None)  # a copy
    assert len(ring.devices) == 6
    assert native_impl.IMPLEMENTATION in repr(ring)


def test_table_validates_its_input(native_impl):
    from array import array

    devs = [Device(0, 1, 1, "127.0.0.1", 6200, "d", 1.0)]
    with pytest.raises(RingError, match="part_power"):
        native_impl.RingTable(23, [array("H", [0])], devs)
    with pytest.raises(RingError, match="partitions"):
        native_impl.RingTable(2, [array("H", [0, 0])], devs)
    with pytest.raises(RingError, match="missing device"):
        native_impl.RingTable(1, [array("H", [0, 1])], devs)
    with pytest.raises(RingError, match="missing device"):
        native_impl.RingTable(1, [array("H", [0, 0])], [None])


def handoff_ring():
    b = RingBuilder(6, 3, 0, seed=1)
    n = 0
    for region in range(3):
        for zone in range(3):
            for node in range(2):
                for dev in range(2):
                    b.add_device(region, zone, f"10.{region}.{zone}.{node}", 6200, f"d{dev}", 1)
                    n += 1
    b.add_device(0, 0, "10.0.0.9", 6200, "empty", 0)  # weight 0: never a handoff
    b.rebalance()
    return Ring.from_builder(b)


def test_handoffs_order_failure_domains(native_impl):
    ring = handoff_ring()
    for part in range(ring.partition_count):
        primaries = ring.get_part_nodes(part)
        more = list(ring.get_more_nodes(part))
        assert list(ring.get_more_nodes(part)) == more  # stable
        ids = [d.id for d in more]
        assert len(ids) == len(set(ids)) == 36 - 3  # every other weighted device, once
        assert not {d.id for d in primaries} & set(ids)
        assert all(d.weight > 0 for d in more)
        regions = {d.region for d in primaries}
        zones = {(d.region, d.zone) for d in primaries}
        nodes = {(d.region, d.zone, d.ip, d.port) for d in primaries}
        # walk the handoffs: each step first exhausts new regions, then new zones, then nodes
        stage = 0
        for d in more:
            new_region = d.region not in regions
            new_zone = (d.region, d.zone) not in zones
            new_node = (d.region, d.zone, d.ip, d.port) not in nodes
            level = 0 if new_region else 1 if new_zone else 2 if new_node else 3
            assert level >= stage, (part, d)
            stage = level
            regions.add(d.region)
            zones.add((d.region, d.zone))
            nodes.add((d.region, d.zone, d.ip, d.port))
    firsts = {next(iter(ring.get_more_nodes(p))).id for p in range(ring.partition_count)}
    assert len(firsts) > 10  # handoffs of different partitions spread over the cluster


def test_handoffs_in_three_regions_come_from_the_missing_failure_domains(native_impl):
    ring = handoff_ring()
    part = 5
    primaries = ring.get_part_nodes(part)
    first = next(iter(ring.get_more_nodes(part)))
    zones = {(d.region, d.zone) for d in primaries}
    assert (first.region, first.zone) not in zones


text_or_bytes = st.one_of(st.text(max_size=40), st.binary(max_size=40),
                          st.text(alphabet=st.characters(min_codepoint=0xDC80,
                                                         max_codepoint=0xDCFF), max_size=3))


@settings(max_examples=300, deadline=None)
@given(text_or_bytes, st.one_of(st.none(), text_or_bytes), st.one_of(st.none(), text_or_bytes),
       st.text(max_size=8), st.text(max_size=8), st.integers(0, 1))
def test_both_implementations_agree(account, container, obj, prefix, suffix, long_obj):
    both = native.load_both("ringlookup")
    if both["c"] is None:
        pytest.skip("compiled module not built")
    if long_obj and obj is not None:
        obj = obj * 200 if obj else "x" * 1500  # beyond the C stack buffer
    devs = [Device(i, 1, i, "127.0.0.1", 6200 + i, "d", 1.0) for i in range(4)]
    from array import array
    rows = [array("H", [(p + r) % 4 for p in range(1024)]) for r in range(3)]
    py = both["py"].RingTable(10, rows, devs, prefix, suffix)
    c = both["c"].RingTable(10, rows, devs, prefix, suffix)

    def outcome(table):
        try:
            return table.get_nodes(account, container, obj), table.get_dev_ids(account,
                                                                               container, obj)
        except RingError as exc:
            return type(exc)
    got = outcome(py)
    assert got == outcome(c)
    if got is not RingError:
        assert got[0][0] == partition_for(account, container, obj, part_power=10,
                                          prefix=prefix, suffix=suffix)


@pytest.mark.parametrize("first", ["native._ringlookup_c", "native._ringlookup_py",
                                   "native.ringlookup", "ring"])
@pytest.mark.parametrize("pure", ["0", "1"])
def test_any_import_order_works(first, pure):
    """The lookup modules and the ring package import each other; no order may hit a cycle
    (`strato version` imports the compiled modules before anything else)."""
    import subprocess
    import sys

    if first == "native._ringlookup_c" and native.load_both("ringlookup")["c"] is None:
        pytest.skip("compiled module not built")
    env = dict(os.environ, STRATO_NO_EXTENSIONS=pure)
    code = f"import {first}; from ring import Ring, RingError; import native.ringlookup as r; " \
           f"print(r.IMPLEMENTATION)"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ("py" if pure == "1" else "c")
