"""native.checksum throughput: compiled vs pure twin vs the obvious library, at 4 KiB, 64 KiB, 1 MiB.

Run: .venv/bin/python -m pytest benchmarks/native/test_bench_checksum.py --benchmark-enable \
         --benchmark-only --benchmark-json=/tmp/bench_checksum.json
     .venv/bin/python benchmarks/native/report.py /tmp/bench_checksum.json
Each case records its GB/s in extra_info; report.py turns the JSON into the RESULTS.md table.
"""
import hashlib
import os
import zlib

import crc32c as crc32c_package
import pytest
import xxhash

import native

IMPLS = native.load_both("checksum")
PY, C = IMPLS["py"], IMPLS["c"]
SIZES = {"4KiB": 4096, "64KiB": 65536, "1MiB": 1 << 20}
DATA = {name: os.urandom(size) for name, size in SIZES.items()}


def run(benchmark, func, data, group):
    benchmark.group = group
    benchmark.extra_info["bytes"] = len(data)
    benchmark(func, data)
    if benchmark.stats is not None:  # None under --benchmark-disable (a plain test run)
        benchmark.extra_info["GB/s"] = round(len(data) / benchmark.stats.stats.min / 1e9, 3)


def needs_c():
    if C is None:
        pytest.skip("native._checksum_c is not built")


def md5_xxh3_c(data):
    h = C.Md5Xxh3()
    h.update(data)
    return h.md5_hexdigest(), h.xxh3_hexdigest()


def md5_xxh3_py(data):
    h = PY.Md5Xxh3()
    h.update(data)
    return h.md5_hexdigest(), h.xxh3_hexdigest()


def md5_xxh3_libraries(data):
    return hashlib.md5(data).hexdigest(), xxhash.xxh3_64(data).hexdigest()


def md5_alone(data):
    return hashlib.md5(data).hexdigest()


MD5_CASES = {"c Md5Xxh3": md5_xxh3_c, "py Md5Xxh3": md5_xxh3_py,
             "hashlib md5 + xxhash xxh3": md5_xxh3_libraries, "hashlib md5 alone": md5_alone}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("case", MD5_CASES)
def test_md5_xxh3(benchmark, case, size):
    if case.startswith("c "):
        needs_c()
    run(benchmark, MD5_CASES[case], DATA[size], f"md5+xxh3 {size}")


CRC_CASES = {"crc32c c": C and C.crc32c, "crc32c py twin": PY.crc32c,
             "crc32c package": crc32c_package.crc32c, "crc32c c tables": "tables",
             "crc32c py table": PY.crc32c_table,
             "crc32 c": C and C.crc32, "crc32 c 128-bit": "sse", "crc32 zlib": zlib.crc32,
             "crc64nvme c": C and C.crc64nvme, "crc64nvme c 128-bit": "sse",
             "crc64nvme c tables": "tables",
             "crc64nvme py": PY.crc64nvme}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("case", CRC_CASES)
def test_crc(benchmark, case, size):
    impl = case.split()[1]
    if impl == "c":
        needs_c()
    if impl == "py" and "twin" not in case and size != "4KiB":
        pytest.skip("the byte-at-a-time reference is only timed at 4 KiB")
    func = CRC_CASES[case]
    kind = case.split()[0]
    if func in ("tables", "sse"):  # the same compiled function on a lower tier
        C.set_hardware(C.HW_TABLES if func == "tables" else C.HW_SSE)
        func = getattr(C, kind)
    try:
        run(benchmark, func, DATA[size], f"{kind} {size}")
    finally:
        if C is not None:
            C.set_hardware(C.HW_BEST)
