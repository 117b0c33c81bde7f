"""native.md5lanes on both twins: RFC 1321's and FIPS 180-2's answers, many streams fed in any
order and any piece sizes against hashlib (MD5, and SHA-256 where a stream asks for it), both
kernels of the compiled twin (the AVX-512 lanes and the scalar chain) and its interleaved SHA-NI
SHA-256, the pool's hold limit, and twin agreement."""
import hashlib
import random

import pytest
import xxhash
from hypothesis import given, settings
from hypothesis import strategies as st

NATIVE_MODULE = "md5lanes"

# RFC 1321 appendix A.5
RFC1321 = [
    (b"", "d41d8cd98f00b204e9800998ecf8427e"),
    (b"a", "0cc175b9c0f1b6a831c399e269772661"),
    (b"abc", "900150983cd24fb0d6963f7d28e17f72"),
    (b"message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
    (b"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
    (b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
     "d174ab98d277d9f5a5611c2c9f419d9f"),
    (b"1234567890" * 8, "57edf4a22be3c955ac49da2e2107b67a"),
]


@pytest.fixture(params=["wide", "scalar"])
def lanes_impl(request, native_impl):
    """The twin, and for the compiled one each of its kernels (the scalar chain is what a CPU
    without AVX-512 runs; set_wide(True) reports False there and the case is skipped)."""
    wide = request.param == "wide"
    if native_impl.__name__.endswith("_py"):
        if not wide:
            pytest.skip("the pure twin has one path")
        yield native_impl
        return
    if native_impl.set_wide(wide) != wide:
        native_impl.set_wide(True)
        pytest.skip("this CPU has no AVX-512F")
    yield native_impl
    native_impl.set_wide(True)


@pytest.mark.parametrize("data,expected", RFC1321)
def test_rfc1321_vectors(lanes_impl, data, expected):
    pool = lanes_impl.Md5Lanes()
    assert pool.stream(data).md5_hexdigest() == expected
    # byte by byte: every piece is shorter than a block
    stream = pool.stream()
    for i in range(len(data)):
        stream.update(data[i:i + 1])
    assert stream.md5_hexdigest() == expected
    assert stream.md5_digest() == bytes.fromhex(expected)

# FIPS 180-2 appendix B (and the empty message)
FIPS180_SHA256 = [
    (b"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    (b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    (b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    (b"a" * 1_000_000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
]


@pytest.mark.parametrize("data,expected", FIPS180_SHA256)
def test_fips180_sha256_vectors(lanes_impl, data, expected):
    pool = lanes_impl.Md5Lanes()
    # alone, beside a second SHA-256 stream (interleaved where the CPU has SHA-NI), and beside
    # an MD5-only stream
    alone, other, md5_only = (pool.stream(data, sha256=True), pool.stream(data[::-1], sha256=True),
                              pool.stream(data))
    assert alone.sha256_hexdigest() == expected
    assert alone.sha256_digest() == bytes.fromhex(expected)
    assert other.sha256_hexdigest() == hashlib.sha256(data[::-1]).hexdigest()
    assert alone.md5_hexdigest() == md5_only.md5_hexdigest() == hashlib.md5(data).hexdigest()
    if len(data) < 1000:  # byte by byte: every piece shorter than a block
        stream = pool.stream(sha256=True)
        for i in range(len(data)):
            stream.update(data[i:i + 1])
        assert stream.sha256_hexdigest() == expected


def test_every_length_whole_and_split_at_every_point(lanes_impl):
    """Lengths across the padding boundaries (55/56 bytes mod 64) and the block edges, each whole
    and cut in two at every point: all in one pool, so the wide kernel runs them side by side
    (and the SHA-256s of every other one interleaved)."""
    pool = lanes_impl.Md5Lanes()
    calls, sha_calls = lanes_impl.wide_calls(), lanes_impl.sha256_interleaved_calls()
    data = bytes(range(256)) + b"xyz!"
    cases = []
    for length in range(261):
        body = data[:length]
        cases.append((pool.stream(body, sha256=bool(length % 2)), body))
        for cut in range(length + 1):
            stream = pool.stream(body[:cut], sha256=bool(cut % 2))
            stream.update(body[cut:])
            cases.append((stream, body))
    for stream, body in cases:
        assert stream.md5_hexdigest() == hashlib.md5(body).hexdigest(), len(body)
    for stream, body in cases:
        try:
            digest = stream.sha256_hexdigest()
        except ValueError:
            continue  # made without sha256
        assert digest == hashlib.sha256(body).hexdigest(), len(body)
    if lanes_impl.is_wide():
        assert lanes_impl.wide_calls() > calls  # the sixteen-lane kernel did this work
        if lanes_impl.sha256_interleaved():
            assert lanes_impl.sha256_interleaved_calls() > sha_calls
    else:  # every update hashed at once: one stream at a time
        assert lanes_impl.wide_calls() == calls
        assert lanes_impl.sha256_interleaved_calls() == sha_calls


def test_sha256_streams_of_a_batch_run_interleaved(lanes_impl):
    """Seven SHA-256 streams of unequal lengths (the four lanes refill as streams end) among
    MD5-only ones, in one batch: every digest right, and with SHA-NI the interleaved kernel
    did the work (the proxy's S3 PUTs rely on it: their payload hashes share batches)."""
    rnd = random.Random(180)
    pool = lanes_impl.Md5Lanes()
    calls = lanes_impl.sha256_interleaved_calls()
    bodies = [rnd.randbytes(rnd.randrange(200_000, 700_000)) for _ in range(10)]
    streams = [pool.stream(sha256=i % 3 != 1) for i in range(10)]
    for off in range(0, 700_000, 50_000):
        for stream, body in zip(streams, bodies):
            stream.update(body[off:off + 50_000])
    for i, (stream, body) in enumerate(zip(streams, bodies)):
        assert stream.md5_hexdigest() == hashlib.md5(body).hexdigest()
        if i % 3 != 1:
            assert stream.sha256_hexdigest() == hashlib.sha256(body).hexdigest()
    if lanes_impl.is_wide() and lanes_impl.sha256_interleaved():
        assert pool.batches == 1 and lanes_impl.sha256_interleaved_calls() > calls
    else:
        assert lanes_impl.sha256_interleaved_calls() == calls


def test_sha256_needs_asking_for_and_starts_over_on_discard(native_impl):
    pool = native_impl.Md5Lanes()
    with pytest.raises(ValueError):
        pool.stream(b"abc").sha256_hexdigest()
    stream = pool.stream(b"a failed body" * 10_000, sha256=True)
    stream.discard()
    stream.update(b"abc")
    assert stream.sha256_hexdigest() == FIPS180_SHA256[1][1]


def test_a_stream_alone_runs_openssls_md5(both_impls):
    """A stream alone (a PUT with no other large PUT in flight) takes OpenSSL's assembly, ~9 %
    faster than the portable C chain; the build links libcrypto, so its MD5_* interface is
    there unless a libcrypto without deprecated APIs was used."""
    assert both_impls["c"].RUN_API == "openssl"
    assert both_impls["py"].RUN_API == "hashlib"


def test_scalar_tier_hashes_every_update_at_once(both_impls):
    c = both_impls["c"]
    try:
        c.set_wide(False)  # what a CPU without AVX-512 runs: waiting would gain nothing
        pool = c.Md5Lanes()
        stream = pool.stream(b"a" * 100_000)
        assert pool.held == 0 and pool.batches == 1
        assert stream.md5_hexdigest() == hashlib.md5(b"a" * 100_000).hexdigest()
    finally:
        c.set_wide(True)


def test_tiny_pieces_cost_no_memory_per_piece(native_impl):
    """A client's body can arrive in pieces of a few bytes: they are joined, not kept one by one
    (64 streams of 2-byte pieces held ~22 MB for 0.8 MB of data when they were kept)."""
    import tracemalloc
    pool = native_impl.Md5Lanes()
    streams = [pool.stream() for _ in range(64)]
    tracemalloc.start()
    try:
        for _ in range(6250):
            for stream in streams:
                stream.update(b"ab")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3_000_000, peak
    assert streams[5].md5_hexdigest() == hashlib.md5(b"ab" * 6250).hexdigest()


def test_discard_drops_what_a_failed_stream_holds(native_impl):
    pool = native_impl.Md5Lanes()
    kept, failed = pool.stream(xxh3=True), pool.stream(xxh3=True)
    kept.update(b"k" * 300_000)
    failed.update(b"f" * 500_000)
    failed.discard()
    assert pool.held in (0, 300_000)  # (the pure twin holds nothing)
    assert kept.md5_hexdigest() == hashlib.md5(b"k" * 300_000).hexdigest()
    assert pool.batch_bytes in (0, 300_000)  # the discarded bytes were never hashed
    assert failed.length == 0
    failed.update(b"again")  # it starts over, empty
    assert failed.md5_hexdigest() == hashlib.md5(b"again").hexdigest()
    assert failed.xxh3_hexdigest() == xxhash.xxh3_64(b"again").hexdigest()


def test_a_pool_serves_the_thread_that_made_it_only(native_impl):
    """A second thread feeding a pool while it hashes without the GIL would lose pieces; it is
    refused instead."""
    import threading
    pool = native_impl.Md5Lanes()
    stream = pool.stream(b"mine")
    errors = []

    def other_thread():
        for call in (lambda: stream.update(b"x"), pool.flush, pool.stream):
            try:
                call()
            except RuntimeError as exc:
                errors.append(exc)
    worker = threading.Thread(target=other_thread)
    worker.start()
    worker.join()
    assert len(errors) == 3
    assert stream.md5_hexdigest() == hashlib.md5(b"mine").hexdigest()


def test_update_takes_what_hashlib_takes(native_impl):
    stream = native_impl.Md5Lanes().stream()
    for bad in (5, [1, 2, 3], "text"):
        with pytest.raises(TypeError):
            stream.update(bad)
    stream.update(memoryview(b"abcdef")[::2].tobytes())
    assert stream.md5_hexdigest() == hashlib.md5(b"ace").hexdigest()


def test_a_stream_needs_a_pool(both_impls):
    with pytest.raises(TypeError):
        both_impls["c"].Md5Stream(None, False)


def _feed_interleaved(pool, bodies, rnd, check_midway=False):
    """Feed every body to its own stream in random pieces, streams in random order."""
    streams = [pool.stream(xxh3=bool(i % 2), sha256=i % 3 == 0) for i in range(len(bodies))]
    offsets = [0] * len(bodies)
    while any(off < len(body) for off, body in zip(offsets, bodies)):
        i = rnd.randrange(len(bodies))
        size = rnd.choice([rnd.randrange(0, 130), rnd.randrange(0, 200_000), 64, 4096])
        piece = bodies[i][offsets[i]:offsets[i] + size]
        offsets[i] += len(piece)
        kind = rnd.randrange(3)  # bytes are kept; other buffers must be copied, not referenced
        streams[i].update(piece if kind == 0 else bytearray(piece) if kind == 1 else memoryview(piece))
        if check_midway and rnd.random() < 0.03:
            j = rnd.randrange(len(bodies))  # a digest midway: the stream stays open
            assert streams[j].md5_hexdigest() == hashlib.md5(bodies[j][:offsets[j]]).hexdigest()
    return streams


def test_many_streams_in_random_pieces(lanes_impl):
    rnd = random.Random(1321)
    # more streams than lanes, lengths from empty to several MiB, some a multiple of 64
    bodies = [rnd.randbytes(rnd.choice([0, 1, 63, 64, 65, 4096, rnd.randrange(3 << 20)]))
              for _ in range(37)]
    pool = lanes_impl.Md5Lanes(hold_limit=1 << 20, stream_limit=300_000)
    streams = _feed_interleaved(pool, bodies, rnd, check_midway=True)
    for stream, body in zip(reversed(streams), reversed(bodies)):
        assert stream.md5_hexdigest() == hashlib.md5(body).hexdigest()
        assert stream.length == len(body)
    for i, (stream, body) in enumerate(zip(streams, bodies)):
        if i % 2:
            assert stream.xxh3_hexdigest() == xxhash.xxh3_64(body).hexdigest()
            assert stream.xxh3_intdigest() == xxhash.xxh3_64(body).intdigest()
        if i % 3 == 0:
            assert stream.sha256_hexdigest() == hashlib.sha256(body).hexdigest()


def test_a_buffer_changed_after_update_does_not_change_the_digest(lanes_impl):
    pool = lanes_impl.Md5Lanes()
    buf = bytearray(b"x" * 5000)
    stream = pool.stream(buf)
    buf[:] = b"y" * 5000  # the pool holds a copy, not the caller's buffer
    assert stream.md5_hexdigest() == hashlib.md5(b"x" * 5000).hexdigest()


def test_xxh3_needs_asking_for(native_impl):
    stream = native_impl.Md5Lanes().stream(b"abc")
    with pytest.raises(ValueError):
        stream.xxh3_hexdigest()


def test_limits_bound_what_the_pool_keeps(native_impl):
    pool = native_impl.Md5Lanes(hold_limit=100_000, stream_limit=70_000)
    streams = [pool.stream() for _ in range(3)]
    bodies = [random.Random(i).randbytes(1_000_000) for i in range(3)]
    for off in range(0, 1_000_000, 30_000):
        streams[0].update(bodies[0][off:off + 30_000])
        assert pool.held <= 70_000  # one stream alone: its own limit
    for off in range(0, 1_000_000, 20_000):
        for stream, body in zip(streams[1:], bodies[1:]):
            stream.update(body[off:off + 20_000])
            assert pool.held <= 100_000  # two under their own limit: the pool's
    other = pool.stream(b"z" * 10)
    pool.flush()  # hashes every stream's pieces; the digests are unchanged by when that happens
    assert pool.held == 0
    for stream, body in zip(streams, bodies):
        assert stream.md5_hexdigest() == hashlib.md5(body).hexdigest()
    assert other.md5_hexdigest() == hashlib.md5(b"z" * 10).hexdigest()
    for bad in ({"hold_limit": -1}, {"stream_limit": -1}):
        with pytest.raises(ValueError):
            native_impl.Md5Lanes(**bad)


def test_the_compiled_pool_hashes_waiting_streams_together(both_impls):
    """What the proxy relies on: one digest hashes every stream that is waiting, in one batch."""
    c = both_impls["c"]
    pool = c.Md5Lanes()
    streams = [pool.stream(bytes([i]) * 300_000) for i in range(5)]
    assert pool.held == 5 * 300_000
    assert streams[0].md5_hexdigest() == hashlib.md5(bytes([0]) * 300_000).hexdigest()
    assert (pool.held, pool.batches, pool.batch_streams, pool.batch_bytes) == (0, 1, 5, 1_500_000)
    for i, stream in enumerate(streams):  # the others were finished by that batch
        assert stream.md5_hexdigest() == hashlib.md5(bytes([i]) * 300_000).hexdigest()
    assert pool.batches == 1


def test_pool_is_one_per_thread():
    import threading

    from native import md5lanes
    mine, theirs = md5lanes.pool(), []
    worker = threading.Thread(target=lambda: theirs.append(md5lanes.pool()))
    worker.start()
    worker.join()
    assert md5lanes.pool() is mine and theirs[0] is not mine


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.binary(max_size=300), max_size=8), min_size=1, max_size=20),
       st.randoms(use_true_random=False))
def test_twins_agree(both_impls, bodies_in_pieces, rnd):
    results = []
    for impl in (both_impls["py"], both_impls["c"]):
        pool = impl.Md5Lanes(hold_limit=rnd.choice([0, 500, 1 << 20]),
                             stream_limit=rnd.choice([0, 200, 1 << 20]))
        streams = [pool.stream(sha256=True) for _ in bodies_in_pieces]
        order = [(i, piece) for i, pieces in enumerate(bodies_in_pieces) for piece in pieces]
        rnd.shuffle(order)
        # pieces of one stream keep their order; streams interleave
        queues = [list(pieces) for pieces in bodies_in_pieces]
        for i, _ in order:
            streams[i].update(queues[i].pop(0))
        results.append([(s.md5_hexdigest(), s.sha256_hexdigest()) for s in streams])
    assert results[0] == results[1] == [
        (hashlib.md5(b"".join(p)).hexdigest(), hashlib.sha256(b"".join(p)).hexdigest())
        for p in bodies_in_pieces]
