"""native.chunkio per-call cost: compiled vs pure twin vs the os module, on a page-cached file.

Run: .venv/bin/python -m pytest benchmarks/native/test_bench_chunkio.py --benchmark-enable \
         --benchmark-only --benchmark-json=/tmp/bench_chunkio.json
     .venv/bin/python benchmarks/native/report.py /tmp/bench_chunkio.json
The file is read once first, so this times the call path and the copy, not the disk.
"""
import os

import pytest

import native

IMPLS = native.load_both("chunkio")
SIZES = {"4KiB": 4096, "64KiB": 65536, "1MiB": 1 << 20}


@pytest.fixture(scope="module")
def data_fd(tmp_path_factory):
    path = tmp_path_factory.mktemp("chunkio") / "data"
    path.write_bytes(os.urandom(2 << 20))
    fd = os.open(path, os.O_RDWR)
    os.pread(fd, 2 << 20, 0)  # warm the page cache
    yield fd
    os.close(fd)


def impl_or_skip(name):
    if name == "os":
        return None
    impl = IMPLS[name]
    if impl is None:
        pytest.skip("native._chunkio_c is not built")
    return impl


def record(benchmark, nbytes):
    benchmark.extra_info["bytes"] = nbytes
    if benchmark.stats is not None and nbytes:
        benchmark.extra_info["GB/s"] = round(nbytes / benchmark.stats.stats.min / 1e9, 3)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("impl_name", ["c", "py", "os"])
def test_pread_into(benchmark, data_fd, impl_name, size):
    impl = impl_or_skip(impl_name)
    n = SIZES[size]
    pool = IMPLS["py"].BufferPool(n, 1)
    buf = pool.acquire()
    benchmark.group = f"pread_into {size}"
    if impl is None:
        benchmark(os.preadv, data_fd, [buf], 4096)
    else:
        benchmark(impl.pread_into, data_fd, buf, 4096)
    record(benchmark, n)
    pool.release(buf)
    pool.close()


@pytest.mark.parametrize("impl_name", ["c", "py", "os"])
def test_pwritev_16x4k(benchmark, data_fd, impl_name):
    impl = impl_or_skip(impl_name)
    parts = [os.urandom(4096) for _ in range(16)]
    benchmark.group = "pwritev 16 x 4 KiB"
    if impl is None:
        benchmark(os.pwritev, data_fd, parts, 0)
    else:
        benchmark(impl.pwritev, data_fd, parts, 0)
    record(benchmark, 65536)


@pytest.mark.parametrize("impl_name", ["c", "py"])
def test_pool_acquire_release(benchmark, impl_name):
    impl = impl_or_skip(impl_name)
    pool = impl.BufferPool(65536, 8)

    def cycle():
        pool.release(pool.acquire())

    benchmark.group = "BufferPool acquire+release"
    benchmark(cycle)
    record(benchmark, 0)
    pool.close()
