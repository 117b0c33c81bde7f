"""native.checksum on both twins: known answers, buffer types, streaming, and twin agreement."""
import base64
import hashlib
import mmap
import random
import threading
import time
import zlib

import pytest
import xxhash
from hypothesis import given, settings
from hypothesis import strategies as st

import native
import native._checksum_py as reference

NATIVE_MODULE = "checksum"

# RFC 3720 appendix B.4 (the CRC bytes there are in wire order, i.e. little-endian).
ISCSI_READ_PDU = bytes.fromhex(
    "01c00000000000000000000000000000"
    "14000000000004000000001400000018"
    "28000000000000000200000000000000")
RFC3720_VECTORS = [
    (bytes(32), 0x8A9136AA),
    (b"\xff" * 32, 0x62A8AB43),
    (bytes(range(32)), 0x46DD794E),
    (bytes(range(31, -1, -1)), 0x113FDB5C),
    (ISCSI_READ_PDU, 0xD9963A56),
]
CHECK = b"123456789"  # the catalogue's "check" input


@pytest.mark.parametrize("data,expected", RFC3720_VECTORS)
def test_crc32c_rfc3720_vectors(native_impl, data, expected):
    assert native_impl.crc32c(data) == expected


def test_check_values(native_impl):
    assert native_impl.crc32c(CHECK) == 0xE3069283
    assert native_impl.crc32(CHECK) == 0xCBF43926
    assert native_impl.crc64nvme(CHECK) == 0xAE8B14860A799888


def test_empty_input_returns_the_value(native_impl):
    for func in (native_impl.crc32c, native_impl.crc32, native_impl.crc64nvme):
        assert func(b"") == 0
        assert func(b"", 0x1234) == 0x1234


# Lengths around every tier boundary: tables below 64, PCLMUL's 64/16-byte steps, CRC32C's three
# 256-byte and three 8 KiB streams, the 4 KiB GIL threshold and MD5/xxh3's 16 KiB blocks.
LENGTHS = [1, 7, 8, 15, 16, 17, 63, 64, 65, 79, 80, 767, 768, 769, 4095, 4096, 16384, 16385,
           24575, 24576, 24583, 100_003]


@pytest.mark.parametrize("length", LENGTHS)
def test_lengths_against_libraries(native_impl, length):
    data = bytes((i * 131 + length) & 0xFF for i in range(length))
    assert native_impl.crc32(data) == zlib.crc32(data)
    assert native_impl.crc32c(data) == reference.crc32c_table(data)
    assert native_impl.crc64nvme(data) == reference.crc64nvme(data)
    both = native_impl.Md5Xxh3(data)
    assert both.md5_hexdigest() == hashlib.md5(data).hexdigest()
    assert both.xxh3_hexdigest() == xxhash.xxh3_64(data).hexdigest()


def test_chaining_matches_one_shot(native_impl):
    data = bytes(range(256)) * 40
    for func in (native_impl.crc32c, native_impl.crc32, native_impl.crc64nvme):
        assert func(data[1000:], func(data[:1000])) == func(data)


def test_values_outside_the_width_are_masked(native_impl):
    assert native_impl.crc32(b"abc", -1) == zlib.crc32(b"abc", 0xFFFFFFFF)
    assert native_impl.crc32c(b"abc", 1 << 32) == native_impl.crc32c(b"abc")


def test_buffer_types_are_accepted(native_impl):
    data = bytes(range(200)) * 30
    expected = native_impl.crc32c(data)
    with mmap.mmap(-1, len(data)) as region:
        region[:] = data
        views = [bytearray(data), memoryview(data), memoryview(b"xx" + data)[2:], region]
        for view in views:
            assert native_impl.crc32c(view) == expected
            assert native_impl.crc64nvme(view) == native_impl.crc64nvme(data)
            assert native_impl.Md5Xxh3(view).md5_hexdigest() == hashlib.md5(data).hexdigest()
        del views, view  # the mmap cannot close while a view of it is exported


def test_non_buffers_are_rejected(native_impl):
    for func in (native_impl.crc32c, native_impl.crc32, native_impl.crc64nvme,
                 native_impl.Md5Xxh3().update, native_impl.Crc("crc32c").update):
        with pytest.raises(TypeError):
            func("text is not bytes")
        with pytest.raises(TypeError):
            func(None)


def test_non_contiguous_views_are_rejected(native_impl):
    strided = memoryview(bytes(range(64)))[::2]
    for func in (native_impl.crc32c, native_impl.crc32, native_impl.crc64nvme, native_impl.Md5Xxh3,
                 reference.crc32c_table):
        with pytest.raises(BufferError):
            func(strided)


def test_md5xxh3_empty_and_digest_forms(native_impl):
    both = native_impl.Md5Xxh3()
    assert both.md5_hexdigest() == "d41d8cd98f00b204e9800998ecf8427e"
    assert both.xxh3_hexdigest() == "2d06800538d394c2"
    assert both.md5_digest() == bytes.fromhex("d41d8cd98f00b204e9800998ecf8427e")
    assert both.xxh3_digest() == bytes.fromhex("2d06800538d394c2")
    assert both.xxh3_intdigest() == 0x2D06800538D394C2


def test_md5xxh3_digest_does_not_end_the_stream(native_impl):
    both = native_impl.Md5Xxh3(b"hello ")
    assert both.md5_hexdigest() == hashlib.md5(b"hello ").hexdigest()
    snapshot = both.copy()
    both.update(b"world")
    assert both.md5_hexdigest() == hashlib.md5(b"hello world").hexdigest()
    assert both.xxh3_hexdigest() == xxhash.xxh3_64(b"hello world").hexdigest()
    assert snapshot.md5_hexdigest() == hashlib.md5(b"hello ").hexdigest()
    assert snapshot.xxh3_intdigest() == xxhash.xxh3_64(b"hello ").intdigest()


def test_crc_streaming_object(native_impl):
    for kind, size, func in (("crc32", 4, zlib.crc32), ("crc32c", 4, native_impl.crc32c),
                             ("crc64nvme", 8, native_impl.crc64nvme)):
        crc = native_impl.Crc(kind)
        assert crc.kind == kind
        crc.update(b"1234")
        twin = crc.copy()
        crc.update(b"56789")
        assert crc.intdigest() == func(CHECK)
        assert crc.digest() == func(CHECK).to_bytes(size, "big")
        assert crc.hexdigest() == crc.digest().hex()
        assert base64.b64decode(crc.b64digest()) == crc.digest()
        assert twin.intdigest() == func(b"1234")


def test_crc_s3_header_forms(native_impl):
    # The values S3 puts in x-amz-checksum-* for an empty body and for "123456789".
    assert native_impl.Crc("crc32").b64digest() == "AAAAAA=="
    assert native_impl.Crc("crc64nvme").b64digest() == "AAAAAAAAAAA="
    crc = native_impl.Crc("crc32c")
    crc.update(CHECK)
    assert crc.b64digest() == base64.b64encode(bytes.fromhex("e3069283")).decode()


def test_crc_unknown_kind(native_impl):
    for kind in ("md5", "CRC32", "", None, 3):
        with pytest.raises(ValueError):
            native_impl.Crc(kind)
    assert set(native_impl.CRC_KINDS) == {"crc32", "crc32c", "crc64nvme"}


@pytest.mark.timeout(60)
def test_threads_share_no_state(native_impl):
    # Long buffers run without the GIL: concurrent objects and calls must not disturb each other.
    blobs = [bytes([i]) * 300_000 for i in range(4)]
    results = {}

    def work(i):
        both = native_impl.Md5Xxh3()
        for _ in range(3):
            both.update(blobs[i])
        results[i] = (both.md5_hexdigest(), native_impl.crc32c(blobs[i]))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, blob in enumerate(blobs):
        assert results[i] == (hashlib.md5(blob * 3).hexdigest(), reference.crc32c_table(blob))


# --- the twins agree --------------------------------------------------------------------------

# Hypothesis draws small buffers byte by byte; long ones (past CRC32C's 3 x 8 KiB streams) come from
# a drawn seed, since generating 30 KB through Hypothesis costs seconds per example.
chunks = st.binary(max_size=1000) | st.builds(lambda seed, n: random.Random(seed).randbytes(n),
                                             st.integers(0, 2**32), st.integers(1000, 30_000))


@settings(max_examples=100, deadline=None)
@given(data=chunks, value=st.integers(0, 2**64 - 1))
def test_twins_agree_one_shot(both_impls, data, value):
    py, c = both_impls["py"], both_impls["c"]
    assert c.crc32c(data, value & 0xFFFFFFFF) == py.crc32c(data, value & 0xFFFFFFFF)
    if len(data) < 2000:
        assert c.crc32c(data, value & 0xFFFFFFFF) == py.crc32c_table(data, value & 0xFFFFFFFF)
    assert c.crc32(data, value & 0xFFFFFFFF) == py.crc32(data, value & 0xFFFFFFFF)
    assert c.crc64nvme(data, value) == py.crc64nvme(data, value)


@settings(max_examples=100, deadline=None)
@given(data=chunks, cuts=st.lists(st.integers(0, 30_000), max_size=6),
       kind=st.sampled_from(["crc32", "crc32c", "crc64nvme"]))
def test_twins_agree_streaming(both_impls, data, cuts, kind):
    py, c = both_impls["py"], both_impls["c"]
    edges = sorted({0, len(data), *(cut % (len(data) + 1) for cut in cuts)})
    pieces = [data[a:b] for a, b in zip(edges, edges[1:])]
    crc, both = c.Crc(kind), c.Md5Xxh3()
    for piece in pieces:
        crc.update(piece)
        both.update(memoryview(piece))
    whole_crc, whole_both = py.Crc(kind), py.Md5Xxh3(data)
    whole_crc.update(data)
    assert crc.digest() == whole_crc.digest()
    assert both.md5_digest() == whole_both.md5_digest()
    assert both.xxh3_intdigest() == whole_both.xxh3_intdigest()


@settings(max_examples=60, deadline=None)
@given(data=chunks, value=st.integers(0, 2**64 - 1))
def test_compiled_hardware_and_table_tiers_agree(both_impls, data, value):
    c = both_impls["c"]
    results = []
    try:
        for level in (c.HW_BEST, c.HW_SSE, c.HW_TABLES):  # AVX-512, 128-bit SIMD, tables
            c.set_hardware(level)
            results.append((c.crc32c(data, value & 0xFFFFFFFF), c.crc32(data, value & 0xFFFFFFFF),
                            c.crc64nvme(data, value)))
    finally:
        c.set_hardware(c.HW_BEST)
    assert results[0] == results[1] == results[2]


# Around the AVX-512 steps (256 bytes, then 64, then 16) and CRC32C's switch to it at 1 KiB.
TIER_LENGTHS = LENGTHS + [255, 256, 257, 319, 320, 511, 512, 1000, 1023, 1024, 1040, 65_536 + 77]


@pytest.mark.parametrize("length", TIER_LENGTHS)
def test_compiled_tiers_on_boundaries(both_impls, length):
    c = both_impls["c"]
    data = bytes((i * 7 + 3) & 0xFF for i in range(length))
    expected = (reference.crc32c_table(data, 5), zlib.crc32(data, 5), reference.crc64nvme(data, 5))
    try:
        for level in (c.HW_BEST, c.HW_SSE, c.HW_TABLES):
            c.set_hardware(level)
            assert (c.crc32c(data, 5), c.crc32(data, 5), c.crc64nvme(data, 5)) == expected, level
    finally:
        c.set_hardware(c.HW_BEST)


def test_public_module_uses_the_selected_implementation():
    import native.checksum as checksum
    expected = "py" if native.load("checksum").__name__.endswith("_py") else "c"
    assert checksum.IMPLEMENTATION == expected
    assert checksum.crc32c(CHECK) == 0xE3069283


def _main_thread_ran_during(call) -> bool:
    """Run call() in a thread; True if this thread executed Python code in the middle half of call(),
    which it cannot do unless call() released the GIL: a C call holding it is never preempted (the
    edges are left out, where a switch between bytecodes can still let this thread in)."""
    window, samples, done = [], [], threading.Event()

    def work():
        start = time.perf_counter()
        call()
        window.extend([start, time.perf_counter()])
        done.set()

    thread = threading.Thread(target=work)
    thread.start()
    while not done.is_set():
        samples.append(time.perf_counter())
        time.sleep(0.0005)
    thread.join()
    start, end = window
    quarter = (end - start) / 4
    return any(start + quarter < t < end - quarter for t in samples)


@pytest.mark.timeout(60)
def test_compiled_calls_release_the_gil_on_long_buffers(both_impls):
    c = both_impls["c"]
    big = bytes(64 << 20)
    c.set_hardware(c.HW_TABLES)  # the table tier makes the CRC call long enough to observe
    try:
        checks = {"crc32c": lambda: c.crc32c(big), "Md5Xxh3": lambda: c.Md5Xxh3(big)}
        for name, call in checks.items():
            # A loaded CI box may not schedule this thread inside one window; three tries.
            assert any(_main_thread_ran_during(call) for _ in range(3)), f"{name} held the GIL"
    finally:
        c.set_hardware(c.HW_BEST)
