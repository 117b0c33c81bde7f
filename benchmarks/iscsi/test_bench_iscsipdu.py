"""native.iscsipdu: BHS parse + build per second, compiled vs pure twin (goal: >= 2M/s compiled).

Run: .venv/bin/python -m pytest benchmarks/iscsi/test_bench_iscsipdu.py --benchmark-enable \
         --benchmark-only
Each round parses one 48-byte SCSI Command header and builds one Data-In header, the work the
target does per 4 KiB read; extra_info records header pairs per second from the best round.
"""
import pytest

import native

IMPLS = {k: v for k, v in native.load_both("iscsipdu").items() if v is not None}
N = 1000
HEADER = bytes([0x41, 0xC1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78,
                0, 0, 0x10, 0, 0, 0, 0, 9, 0xFF, 0xFF, 0xFF, 0xFF, 0x28, 0, 0, 0, 0, 0x10, 0,
                0, 8, 0, 0, 0, 0, 0, 0, 0])


@pytest.mark.parametrize("impl_name", sorted(IMPLS))
def test_parse_and_build(benchmark, impl_name):
    impl = IMPLS[impl_name]
    parse, build = impl.parse_bhs, impl.build_bhs

    def rounds():
        for _ in range(N):
            f = parse(HEADER)
            build(0x25, 0, 0x81, 0, 0, 0, 4096, f[7], f[8], 0xFFFFFFFF, 7, f[10], f[10] + 127,
                  0, 0, 0)

    benchmark.group = "iscsipdu parse+build (x1000)"
    benchmark(rounds)
    if benchmark.stats is not None:          # None under --benchmark-disable (a plain run)
        benchmark.extra_info["pairs/s"] = round(N / benchmark.stats.stats.min)


@pytest.mark.parametrize("impl_name", sorted(IMPLS))
def test_build_into(benchmark, impl_name):
    impl = IMPLS[impl_name]
    buf = bytearray(48)
    build_into = impl.build_bhs_into

    def rounds():
        for i in range(N):
            build_into(buf, 0, 0x25, 0, 0x81, 0, 0, 0, 4096, 0, i, 0xFFFFFFFF, 7, 8, 9, 0, 0, 0)

    benchmark.group = "iscsipdu build_into (x1000)"
    benchmark(rounds)
    if benchmark.stats is not None:
        benchmark.extra_info["headers/s"] = round(N / benchmark.stats.stats.min)
