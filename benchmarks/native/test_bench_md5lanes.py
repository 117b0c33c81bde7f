"""native.md5lanes throughput: N concurrent streams of 1 MiB (in 256 KiB pieces), the compiled
pool's AVX-512 lanes and its scalar chain vs the pure twin (hashlib, one stream at a time); and
the same streams with their SHA-256 too (an S3 PUT's signed payload), the compiled pool's
interleaved SHA-NI against hashlib's MD5 + SHA-256 one stream at a time.

Run: .venv/bin/python -m pytest benchmarks/native/test_bench_md5lanes.py --benchmark-enable \
         --benchmark-only --benchmark-json=/tmp/bench_md5lanes.json
Each case records its GB/s (all streams' bytes over the time) in extra_info.
"""
import os

import pytest

import native

IMPLS = native.load_both("md5lanes")
PY, C = IMPLS["py"], IMPLS["c"]
BODY = os.urandom(1 << 20)
PIECES = [BODY[off:off + (256 << 10)] for off in range(0, len(BODY), 256 << 10)]


def hash_streams(impl, count, sha256=False):
    pool = impl.Md5Lanes()
    streams = [pool.stream(sha256=sha256) for _ in range(count)]
    for piece in PIECES:  # interleaved, as a proxy receives concurrent PUTs
        for stream in streams:
            stream.update(piece)
    if sha256:
        return [(stream.md5_hexdigest(), stream.sha256_hexdigest()) for stream in streams]
    return [stream.md5_hexdigest() for stream in streams]


@pytest.mark.parametrize("count", [1, 2, 4, 8, 16])
@pytest.mark.parametrize("kind", ["c lanes", "c scalar", "py (hashlib)"])
def test_md5_of_concurrent_streams(benchmark, kind, count):
    impl = PY if kind.startswith("py") else C
    if impl is None:
        pytest.skip("native._md5lanes_c is not built")
    if impl is C and C.set_wide(kind == "c lanes") != (kind == "c lanes"):
        C.set_wide(True)
        pytest.skip("this CPU has no AVX-512F")
    benchmark.group = f"md5 of {count} x 1 MiB"
    try:
        digests = benchmark(hash_streams, impl, count)
    finally:
        if impl is C:
            C.set_wide(True)
    assert len(set(digests)) == 1
    if benchmark.stats is not None:
        benchmark.extra_info["GB/s"] = round(count * len(BODY) / benchmark.stats.stats.min / 1e9, 3)


@pytest.mark.parametrize("count", [1, 2, 3, 4, 8])
@pytest.mark.parametrize("kind", ["c lanes", "py (hashlib)"])
def test_md5_and_sha256_of_concurrent_streams(benchmark, kind, count):
    impl = PY if kind.startswith("py") else C
    if impl is None:
        pytest.skip("native._md5lanes_c is not built")
    benchmark.group = f"md5 + sha256 of {count} x 1 MiB"
    digests = benchmark(hash_streams, impl, count, True)
    assert len(set(digests)) == 1
    if benchmark.stats is not None:
        benchmark.extra_info["GB/s"] = round(count * len(BODY) / benchmark.stats.stats.min / 1e9, 3)
