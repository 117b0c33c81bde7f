"""FileBacking: the sparse-file byte store, exercised on a real temp file."""
import os

import pytest

from blockserver.backing import FileBacking


@pytest.fixture
def big(tmp_path, executor):
    path = tmp_path / "b.img"
    with open(path, "wb") as f:
        f.truncate(4 << 20)
    b = FileBacking(str(path), executor)
    yield b, str(path)
    b.close()


async def test_read_write_and_fua(big):
    b, path = big
    await b.write(4096, b"x" * 8192, fua=True)
    assert await b.read(4096, 8192) == b"x" * 8192
    with open(path, "rb") as f:
        f.seek(4096)
        assert f.read(8192) == b"x" * 8192


async def test_read_past_end_is_zero_filled(big):
    b, _ = big
    assert await b.read(b.size - 10, 20) == bytes(20)


async def test_unmap_punches_holes_and_reads_zero(big):
    b, path = big
    await b.write(0, os.urandom(1 << 20))
    before = os.stat(path).st_blocks
    await b.unmap(0, 1 << 20)
    assert os.stat(path).st_blocks < before
    assert await b.read(0, 1 << 20) == bytes(1 << 20)
    assert os.path.getsize(path) == 4 << 20  # KEEP_SIZE


async def test_unmap_of_partial_block_zeroes_it(big):
    b, _ = big
    await b.write(0, b"\xff" * 4096)
    await b.unmap(512, 512)
    data = await b.read(0, 4096)
    assert data[:512] == b"\xff" * 512 and data[512:1024] == bytes(512)
    assert data[1024:] == b"\xff" * 3072


async def test_mapped_extents_follow_holes(big):
    b, _ = big
    await b.write(1 << 20, b"a" * 65536)
    ext = await b.mapped_extents(0, b.size)
    assert sum(n for _, n, _ in ext) == b.size
    mapped = [(o, n) for o, n, m in ext if m]
    assert mapped and mapped[0][0] <= 1 << 20 < mapped[0][0] + mapped[0][1]
    assert ext[0] == (0, 1 << 20, False)


async def test_write_zeroes_and_flush(big):
    b, _ = big
    await b.write(0, b"z" * 8192)
    await b.write_zeroes(0, 8192)
    await b.flush()
    assert await b.read(0, 8192) == bytes(8192)


async def test_refresh_sees_extend(big):
    b, path = big
    os.truncate(path, 8 << 20)
    assert b.size == 4 << 20
    assert await b.refresh() == 8 << 20


async def test_nowait_read_path_and_executor_fallback(big):
    """Cached data is served by preadv(RWF_NOWAIT) on the loop; data evicted from the page
    cache makes that return EAGAIN and the read goes to the executor - same bytes either way."""
    b, path = big
    data = os.urandom(256 * 1024)
    await b.write(8192, data)
    assert await b.read(8192, len(data)) == data          # cached: the no-wait path
    await b.flush()
    os.posix_fadvise(b._fd, 0, 0, os.POSIX_FADV_DONTNEED)  # evict: no-wait cannot serve it
    assert await b.read(8192, len(data)) == data
    assert await b.read(8192 - 100, 200) == bytes(100) + data[:100]
    b._nowait = False
    assert await b.read(8192, 4096) == data[:4096]         # executor-only mode


async def test_aclose_waits_for_thread_operations_and_refuses_new_ones(tmp_path):
    """A write whose awaiting coroutine was cancelled still holds the fd in its thread: aclose()
    must not close (and let the number be reused) until that thread is done."""
    import asyncio
    import concurrent.futures
    import threading

    path = tmp_path / "c.img"
    path.write_bytes(bytes(8192))
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    gate = threading.Event()
    b = FileBacking(str(path), pool)
    try:
        # an operation a disk thread is in the middle of (stalled until the gate opens)
        pending = asyncio.ensure_future(b._run(gate.wait))
        await asyncio.sleep(0.02)
        pending.cancel()                       # the caller gives up; the thread does not
        closing = asyncio.ensure_future(b.aclose())
        await asyncio.sleep(0.05)
        assert not closing.done() and b._fd >= 0
        with pytest.raises(OSError):
            await b.read(0, 10)                # closing: no new I/O
        gate.set()
        await asyncio.wait_for(closing, 5)
        assert b._fd == -1
    finally:
        gate.set()
        pool.shutdown(wait=True)


async def test_lu_close_waits_for_running_commands(lu):
    import asyncio
    from scsi_unit_support import BLOCK_SIZE, cdb10
    running = asyncio.ensure_future(lu.run(cdb10(0x2A, 0, 8), b"x" * (8 * BLOCK_SIZE)))
    await asyncio.sleep(0)
    await lu.lu.close()
    assert (await running).status == 0
    res = await lu.run(cdb10(0x28, 0, 1))
    assert res.status == 2 and res.sense[2] == 0x3      # medium error once closed


async def test_writes_outside_the_volume_are_refused(big):
    b, path = big
    for call in (b.write(b.size - 10, b"x" * 20), b.unmap(b.size, 4096),
                 b.write_zeroes(-4096, 4096)):
        with pytest.raises(OSError):
            await call
    assert os.path.getsize(path) == b.size


class CountingExecutor:
    """A real thread pool that counts the jobs handed to it."""

    def __init__(self, pool):
        self.pool = pool
        self.jobs = 0

    def submit(self, fn, *args):
        self.jobs += 1
        return self.pool.submit(fn, *args)


async def test_writes_of_one_loop_iteration_share_a_disk_thread_trip(tmp_path, executor):
    import asyncio
    path = tmp_path / "w.img"
    path.write_bytes(bytes(1 << 20))
    counting = CountingExecutor(executor)
    b = FileBacking(str(path), counting)
    try:
        # 16 writes issued together (as a queue of initiator WRITEs is): one job, all written,
        # and two writes to the same blocks land in the order they were issued
        writes = [b.write(i * 4096, bytes([i + 1]) * 4096) for i in range(16)]
        writes.append(b.write(0, b"\xee" * 512))
        await asyncio.gather(*writes)
        assert counting.jobs == 1
        data = path.read_bytes()
        assert data[:512] == b"\xee" * 512 and data[512:4096] == b"\x01" * 3584
        assert all(data[i * 4096:(i + 1) * 4096] == bytes([i + 1]) * 4096 for i in range(1, 16))
        # FUA writes are not batched: each is written and fdatasynced in its own trip
        await asyncio.gather(b.write(0, b"a" * 512, fua=True), b.write(512, b"b" * 512, fua=True))
        assert counting.jobs == 3
        # a write whose waiter was cancelled is still written; the others still complete
        first = asyncio.ensure_future(b.write(8192, b"c" * 512))
        second = asyncio.ensure_future(b.write(9216, b"d" * 512))
        await asyncio.sleep(0)
        first.cancel()
        await second
        await asyncio.sleep(0.05)
        assert path.read_bytes()[8192:8704] == b"c" * 512
    finally:
        b.close()


async def test_batched_write_after_close_fails_cleanly(tmp_path, executor):
    import asyncio
    import errno
    path = tmp_path / "c.img"
    path.write_bytes(bytes(65536))
    b = FileBacking(str(path), executor)
    pending = asyncio.ensure_future(b.write(0, b"x" * 512))
    await asyncio.sleep(0)                # queued in the batch, not yet handed to a thread
    b.close()
    with pytest.raises(OSError) as info:
        await pending
    assert info.value.errno == errno.EBADF
    assert path.read_bytes()[:512] == bytes(512)


@pytest.mark.parametrize("nowait", [True, False])
async def test_read_across_end_of_file_keeps_the_data_then_zeroes(tmp_path, executor, nowait):
    # the no-wait read returns the part before end of file and the rest is read on a disk
    # thread into the same buffer: it must continue where the first part stopped
    path = tmp_path / "d.img"
    data = bytes(range(256)) * 16
    path.write_bytes(data)
    b = FileBacking(str(path), executor)
    try:
        b._nowait = b._nowait and nowait
        got = await b.read(len(data) - 100, 300)
        assert isinstance(got, bytearray) and got == data[-100:] + bytes(200)
        assert await b.read(0, len(data)) == data
    finally:
        b.close()


@pytest.mark.parametrize("native_pwritev", [True, False])
def test_write_batch_joins_runs_and_keeps_order_and_outcomes(tmp_path, monkeypatch, native_pwritev):
    # contiguous writes go out as one pwritev, the rest one by one, in the order issued: a later
    # write to the same bytes wins; every write gets its own outcome
    import errno
    import types
    from blockserver import backing
    from native import _chunkio_py
    impl = backing._chunkio if native_pwritev else _chunkio_py
    runs = []                    # the writes each pwritev carried: proves the runs were joined

    def pwritev(fd, buffers, offset):
        runs.append(len(buffers))
        return impl.pwritev(fd, buffers, offset)
    monkeypatch.setattr(backing, "_chunkio", types.SimpleNamespace(pwritev=pwritev))
    path = tmp_path / "r.img"
    path.write_bytes(bytes(1 << 20))
    items = [(i * 4096, bytes([i + 1]) * 4096) for i in range(8)]           # one run
    items += [(65536, memoryview(bytearray(b"m" * 8192))[:4096]),           # a view, alone
              (100000, b"a" * 10), (100010, b"b" * 10),                     # a short run
              (4096, b"z" * 100)]                                           # overwrites run
    fd = os.open(path, os.O_RDWR)
    try:
        assert backing._write_batch(fd, items) == [None] * len(items)
    finally:
        os.close(fd)
    assert runs == [8, 2]        # the 8-write run and the short run; the rest went alone
    data = path.read_bytes()
    assert data[:4096] == b"\x01" * 4096
    assert data[4096:4196] == b"z" * 100 and data[4196:8192] == b"\x02" * 3996
    assert all(data[i * 4096:(i + 1) * 4096] == bytes([i + 1]) * 4096 for i in range(2, 8))
    assert data[65536:69632] == b"m" * 4096 and data[69632:69640] == bytes(8)
    assert data[100000:100020] == b"a" * 10 + b"b" * 10
    fd = os.open(path, os.O_RDONLY)                  # every write of a failed run fails alone
    try:
        errors = backing._write_batch(fd, items[:3] + items[9:10])
    finally:
        os.close(fd)
    assert [e.errno for e in errors] == [errno.EBADF] * 4


async def test_writes_arriving_while_batches_are_written_form_one_batch(tmp_path, executor):
    # at most WRITE_BATCHES_IN_FLIGHT batches per volume on threads; what arrives meanwhile, one
    # write per loop iteration as the network delivers them, waits and goes in one job
    import asyncio
    import threading
    from blockserver.backing import WRITE_BATCHES_IN_FLIGHT
    gate = threading.Event()

    class Gated(CountingExecutor):
        def submit(self, fn, *args):
            self.jobs += 1
            return self.pool.submit(lambda: gate.wait(10) and fn(*args))

    path = tmp_path / "g.img"
    path.write_bytes(bytes(1 << 20))
    gated = Gated(executor)
    b = FileBacking(str(path), gated)
    try:
        writes = []
        for i in range(10):
            writes.append(b.start_write(i * 4096, bytes([i + 1]) * 4096))
            await asyncio.sleep(0.01)
        assert gated.jobs == WRITE_BATCHES_IN_FLIGHT
        gate.set()
        await asyncio.gather(*writes)
        assert gated.jobs == WRITE_BATCHES_IN_FLIGHT + 1
        data = path.read_bytes()
        assert all(data[i * 4096:(i + 1) * 4096] == bytes([i + 1]) * 4096 for i in range(10))
    finally:
        gate.set()
        b.close()


def test_write_batch_retries_a_failed_run_write_by_write(tmp_path, monkeypatch):
    # the joined pwritev fails (as a transient EIO would): each write of the run is then written
    # on its own, so writes that can be written succeed and each reports its own outcome
    import errno
    import types
    from blockserver import backing

    def failing_pwritev(fd, buffers, offset):
        raise OSError(errno.EIO, "joined write failed")
    monkeypatch.setattr(backing, "_chunkio", types.SimpleNamespace(pwritev=failing_pwritev))
    path = tmp_path / "f.img"
    path.write_bytes(bytes(16384))
    items = [(i * 4096, bytes([i + 1]) * 4096) for i in range(3)]
    fd = os.open(path, os.O_RDWR)
    try:
        assert backing._write_batch(fd, items) == [None, None, None]
    finally:
        os.close(fd)
    assert path.read_bytes()[:12288] == b"".join(d for _, d in items)
