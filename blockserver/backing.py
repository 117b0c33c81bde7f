"""The byte store behind one exported volume: a (sparse) file driven through a bounded executor.

The SCSI logical unit and the iSCSI target call these coroutines; every blocking system call runs
on the executor the owner hands in, never on the event loop. A write with fua=True is on stable
storage (fdatasync) before the coroutine returns. UNMAP punches holes that keep the file size, so
unmapped blocks read back as zeroes (the LU reports LBPRZ=1 on that promise).
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import errno
import os
import threading
from typing import Callable

from native import chunkio as _chunkio  # compiled helpers, or their pure twin

# Zero-filling falls back to plain writes of this many bytes at a time.
_ZERO_CHUNK = 1 << 20
# Reads up to this size first try preadv(RWF_NOWAIT) on the event loop: the kernel serves it
# from the page cache or answers EAGAIN at once, so the loop never waits on the disk, and a
# cached 4 KiB read skips the thread hop that otherwise dominates its cost.
NOWAIT_READ_MAX = 1 << 20
# Write-back batches of one volume on disk threads at a time. Writes that arrive while they are
# being written wait and form the next batch, so under load one thread hop carries many writes
# (128 KiB writes at depth 32, in-process: 37 us of CPU per write with 1 or 2 batches in flight
# against 52-58 us with one batch per event-loop iteration). Two rather than one: in the same
# runs one batch in flight wrote 7.5-11.1k writes/s, two 11.0-12.2k (the next batch starts while
# one is written). More would not help: buffered writes to one file take its inode lock in turn.
WRITE_BATCHES_IN_FLIGHT = 2
_RWF_NOWAIT = getattr(os, "RWF_NOWAIT", 0)


# fallocate(PUNCH_HOLE | KEEP_SIZE); where the file system cannot punch, chunkio writes zeros
_punch_hole = _chunkio.punch_hole
_fdatasync = _chunkio.fdatasync


def _pwrite_all(fd: int, data, offset: int) -> None:
    view = memoryview(data).cast("B")
    while view:
        done = os.pwrite(fd, view, offset)
        view = view[done:]
        offset += done


# how many writes one pwritev may carry (chunkio.pwritev splits at IOV_MAX itself)
_RUN_MAX = 1024


def _write_batch(fd: int, items: list) -> list:
    """pwrite each (offset, data) in order; the error of each (None when it was written).

    Writes that continue one another (a sequential stream: each starts where the previous one
    ends) go out as one pwritev: one system call and one pass through the file system's write
    path (inode lock, block mapping) for the run instead of one per write. If such a combined
    write fails, its writes are retried one by one so each gets its own outcome (rewriting the
    same bytes at the same offsets is harmless)."""
    errors: list = [None] * len(items)
    i, n = 0, len(items)
    while i < n:
        offset, data = items[i]
        end = offset + len(data)
        j = i + 1
        while j < n and items[j][0] == end and j - i < _RUN_MAX:
            end += len(items[j][1])
            j += 1
        try:
            if j - i == 1:
                _pwrite_all(fd, data, offset)
            else:
                _chunkio.pwritev(fd, [d for _, d in items[i:j]], offset)
        except OSError as exc:
            if j - i == 1:
                errors[i] = exc
            else:
                for k in range(i, j):
                    try:
                        _pwrite_all(fd, items[k][1], items[k][0])
                    except OSError as one:
                        errors[k] = one
        i = j
    return errors


def _settle(batch: list, outcome) -> None:
    """Hand each write of a finished batch its own outcome: outcome is _write_batch's list of
    errors, or the exception that stopped it (cancelled waiters are skipped)."""
    errors = outcome if isinstance(outcome, list) else [outcome] * len(batch)
    for (_, _, done), error in zip(batch, errors):
        if done.done():
            continue
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)


def _preadv_into(fd: int, view: memoryview, offset: int) -> None:
    """Fill view from offset; what lies past end of file stays as the zeroes view holds.

    The buffer is allocated by the caller on the event-loop thread: a fresh 128 KiB allocation
    in a disk thread's malloc arena costs ~30 page faults per read, the loop's arena reuses pages.
    """
    while view:
        got = os.preadv(fd, [view], offset)
        if got <= 0:
            break
        view = view[got:]
        offset += got


class FileBacking:
    """One volume file. size is cached and re-read by refresh() (after an extend)."""

    def __init__(self, path: str, executor: concurrent.futures.Executor, *, read_only: bool = False):
        self.path = path
        self._executor = executor
        self._fd = os.open(path, os.O_RDONLY if read_only else os.O_RDWR)
        self.size = os.fstat(self._fd).st_size
        self._nowait = bool(_RWF_NOWAIT) and hasattr(os, "preadv")
        # Operations handed to threads, counted until the thread is really done with the fd
        # (an awaiting coroutine may be cancelled long before): aclose() waits for zero, so a
        # closed descriptor number can never be reused under a straggling pread/pwrite.
        self._closed = False
        self._lock = threading.Lock()
        self._inflight = 0
        self._idle: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None
        # Write-back writes issued in one event-loop iteration, sent to a disk thread together
        self._batch: list[tuple[int, object, asyncio.Future]] = []
        self._writing = 0                    # write-back batches on disk threads
        self._loop: asyncio.AbstractEventLoop | None = None

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        # asyncio.get_running_loop() is a getpid() system call on Python 3.11; the loop that
        # drives this backing is looked up once (again if that loop was closed, as in tests)
        loop = self._loop
        if loop is None or loop.is_closed():
            loop = self._loop = asyncio.get_running_loop()
        return loop

    def _check_open(self) -> None:
        if self._closed:
            raise OSError(errno.EBADF, f"volume backing {self.path} is closed")

    def _check_range(self, offset: int, length: int) -> None:
        # Defence in depth: the LU range-checks every command, but a write past the end would
        # silently grow the volume file, so the backing refuses it too.
        if offset < 0 or length < 0 or offset + length > self.size:
            raise OSError(errno.EINVAL, f"range {offset}+{length} outside volume of {self.size}")

    def _run(self, fn: Callable, *args) -> asyncio.Future:
        self._check_open()
        with self._lock:
            self._inflight += 1
        work = self._executor.submit(fn, *args)
        work.add_done_callback(self._op_done)
        return asyncio.wrap_future(work, loop=self._running_loop())

    def _op_done(self, _work) -> None:
        with self._lock:
            self._inflight -= 1
            idle = self._idle if self._inflight == 0 else None
        if idle is not None:
            loop, event = idle
            loop.call_soon_threadsafe(event.set)

    async def aclose(self) -> None:
        """Refuse new I/O, wait for the operations threads are still running, close the fd."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        with self._lock:
            pending = self._inflight
            self._idle = (loop, event)
        if pending:
            await event.wait()
        fd, self._fd = self._fd, -1
        if fd >= 0:
            await loop.run_in_executor(self._executor, os.close, fd)

    def close(self) -> None:
        """Synchronous close for owners that know no I/O is running (tests, start-up errors)."""
        self._closed = True
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def nowait_fd(self) -> int:
        """The descriptor for page-cache-only reads on the event loop (preadv2 RWF_NOWAIT, as
        read() does first), or -1 when closed or the file system refused RWF_NOWAIT."""
        return self._fd if self._nowait and not self._closed else -1

    async def refresh(self) -> int:
        self.size = (await self._run(os.fstat, self._fd)).st_size
        return self.size

    async def read(self, offset: int, length: int) -> bytearray:
        """The bytes at [offset, offset+length) in a fresh bytearray (zeroes past end of file).

        A bytearray, not bytes: the transports accept any buffer, and converting would copy
        every read once more (~10 us for 128 KiB)."""
        if length <= 0:
            return bytearray()
        self._check_open()
        buf = bytearray(length)
        got = 0
        if self._nowait and length <= NOWAIT_READ_MAX:
            try:
                got = os.preadv(self._fd, [buf], offset, _RWF_NOWAIT)
            except BlockingIOError:
                got = 0
            except OSError as exc:
                if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                    raise
                self._nowait = False  # this file system cannot: always use the executor
                got = 0
            if got == length:
                return buf
        if got < length:  # the rest (or all) was not cached: read into the same buffer
            await self._run(_preadv_into, self._fd, memoryview(buf)[got:], offset + got)
        return buf

    def _write_sync(self, offset: int, data, fua: bool) -> None:
        _pwrite_all(self._fd, data, offset)
        if fua:
            _fdatasync(self._fd)

    async def write(self, offset: int, data, fua: bool = False) -> None:
        """Write data at offset; with fua=True it is on stable storage when this returns."""
        if len(data) == 0 and not fua:
            return
        await self.start_write(offset, data, fua)

    def start_write(self, offset: int, data, fua: bool = False) -> asyncio.Future:
        """write() as a future, for callers that want no coroutine per write (the transport's
        write path). Range and closed-file errors raise here; I/O errors land in the future.

        Write-back writes (fua=False) go to disk threads in batches, written in arrival order:
        the writes of one event-loop iteration, or, while WRITE_BATCHES_IN_FLIGHT batches are
        on threads, all that arrive until one of them is done. A thread hop costs more CPU than
        a 4 KiB page-cache write and about as much as a 128 KiB one, and every hop is GIL
        traffic. Each write still completes (or fails) on its own, once its batch is written;
        FUA writes are not batched (each is written and fdatasynced in its own trip)."""
        self._check_range(offset, len(data))
        if fua:
            return self._run(self._write_sync, offset, data, fua)
        self._check_open()
        loop = self._running_loop()
        done = loop.create_future()
        batch = self._batch
        batch.append((offset, data, done))
        if len(batch) == 1 and self._writing < WRITE_BATCHES_IN_FLIGHT:
            loop.call_soon(self._submit_batch)
        return done

    def _submit_batch(self) -> None:
        if self._writing >= WRITE_BATCHES_IN_FLIGHT or not self._batch:
            return               # it goes when a batch in flight is done (_batch_done)
        batch, self._batch = self._batch, []
        try:
            self._check_open()
        except OSError as exc:               # closed meanwhile
            _settle(batch, exc)
            return
        with self._lock:
            self._inflight += 1
        self._writing += 1
        # The job reports back with one call_soon_threadsafe: no concurrent.futures callbacks,
        # no wrapping asyncio future and the two extra loop iterations its chaining costs
        # (with the joined pwritev: 39-45 us of CPU per 128 KiB write in-process, from 62-65).
        try:
            self._executor.submit(self._write_job, self._running_loop(), batch,
                                  [(off, data) for off, data, _ in batch])
        except BaseException as exc:         # the executor was shut down
            self._op_done(None)
            self._writing -= 1
            _settle(batch, exc)

    def _write_job(self, loop: asyncio.AbstractEventLoop, batch: list, items: list) -> None:
        """On a disk thread: write a batch, then settle its futures on the loop."""
        try:
            outcome = _write_batch(self._fd, items)
        except BaseException as exc:         # a bug, not the medium: every write fails with it
            outcome = exc
        finally:
            self._op_done(None)
        try:
            loop.call_soon_threadsafe(self._batch_done, batch, outcome)
        except RuntimeError:                 # the loop is closed: nobody waits any more
            pass

    def _batch_done(self, batch: list, outcome) -> None:
        self._writing -= 1
        _settle(batch, outcome)
        self._submit_batch()                 # the writes that arrived meanwhile

    async def flush(self) -> None:
        await self._run(_fdatasync, self._fd)

    async def unmap(self, offset: int, length: int) -> None:
        if length > 0:
            self._check_range(offset, length)
            await self._run(_punch_hole, self._fd, offset, length)

    def _zero_sync(self, offset: int, length: int) -> None:
        # Punching is the cheapest way to zero a range of a sparse file; a file system without
        # hole support gets real zero writes instead.
        try:
            _punch_hole(self._fd, offset, length)
            return
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                raise
        zeros = bytes(min(length, _ZERO_CHUNK))
        end = offset + length
        while offset < end:
            n = min(len(zeros), end - offset)
            _pwrite_all(self._fd, zeros[:n], offset)
            offset += n

    async def write_zeroes(self, offset: int, length: int) -> None:
        if length > 0:
            self._check_range(offset, length)
            await self._run(self._zero_sync, offset, length)

    def _extents_sync(self, offset: int, length: int) -> list[tuple[int, int, bool]]:
        end = min(offset + length, self.size)
        out: list[tuple[int, int, bool]] = []
        pos = offset
        while pos < end:
            try:
                data = os.lseek(self._fd, pos, os.SEEK_DATA)
            except OSError as exc:
                if exc.errno != errno.ENXIO:
                    raise
                data = end  # no data after pos: the rest is a hole
            data = min(data, end)
            if data > pos:
                out.append((pos, data - pos, False))
                pos = data
                continue
            try:
                hole = os.lseek(self._fd, pos, os.SEEK_HOLE)
            except OSError as exc:
                if exc.errno != errno.ENXIO:
                    raise
                hole = end
            hole = min(max(hole, pos + 1), end)
            out.append((pos, hole - pos, True))
            pos = hole
        return out

    async def mapped_extents(self, offset: int, length: int) -> list[tuple[int, int, bool]]:
        """[(offset, length, mapped)] covering [offset, offset+length) clipped to the size."""
        return await self._run(self._extents_sync, offset, length)
