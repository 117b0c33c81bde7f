"""Pure-Python reference for native.chunkio: aligned reusable buffers and the file calls storage paths share.

Built on the os module (preadv, pwritev, posix_fadvise, sendfile, fdatasync) and, for the two
fallocate(2) modes os does not expose (plain reserve without glibc's write-zeros emulation, and
punch hole), libc through ctypes. These are blocking calls: callers run them in the per-device
executors (strato/executors.py), never on the event loop.
"""
import ctypes
import ctypes.util
import errno
import fcntl
import mmap
import os
import stat

PAGE_SIZE = mmap.PAGESIZE
IOV_MAX = os.sysconf("SC_IOV_MAX") if hasattr(os, "sysconf") else 1024
ZERO_FILL_STEP = 1 << 20  # punch_hole's fallback writes zeros this much at a time

FALLOC_FL_KEEP_SIZE = 0x01
FALLOC_FL_PUNCH_HOLE = 0x02
_UNSUPPORTED = {errno.EOPNOTSUPP, errno.ENOSYS}

FADVISE = {name: getattr(os, f"POSIX_FADV_{name.upper()}", None)
           for name in ("normal", "sequential", "random", "noreuse", "willneed", "dontneed")}


def _libc_fallocate():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        func = libc.fallocate
    except (OSError, AttributeError):  # not glibc/Linux: no fallocate(2)
        return None
    func.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
    func.restype = ctypes.c_int
    return func


_fallocate = _libc_fallocate()


def _round_up(n: int, to: int) -> int:
    return (n + to - 1) // to * to


class BufferPool:
    """`count` reusable buffers of `size` bytes, each starting on a page boundary (fit for O_DIRECT).

    acquire() hands out a writable memoryview; release() takes it back. When all are out, acquire()
    maps one more rather than block (a storage request must not wait on another's buffer); release()
    keeps at most `count`. `with pool.buffer() as buf:` pairs the two.
    """

    def __init__(self, size: int, count: int):
        if size <= 0 or count <= 0:
            raise ValueError("BufferPool needs size > 0 and count > 0")
        self.size, self.count = size, count
        self._stride = _round_up(size, PAGE_SIZE)
        self._region = mmap.mmap(-1, self._stride * count)
        self._base = memoryview(self._region)
        self._free = [self._base[i * self._stride:i * self._stride + size] for i in range(count)]
        self._out = {}  # id(view) -> (view, extra mmap or None)
        self.misses = 0

    def acquire(self) -> memoryview:
        # list.pop and dict updates are single atomic steps, so executor threads can share a pool
        # without a lock; a check-then-pop would race.
        try:
            view, extra = self._free.pop(), None
        except IndexError:
            self.misses += 1
            extra = mmap.mmap(-1, self._stride)
            view = memoryview(extra)[:self.size]
        self._out[id(view)] = (view, extra)
        return view

    def release(self, view: memoryview) -> None:
        entry = self._out.pop(id(view), None)
        if entry is None or entry[0] is not view:
            if entry is not None:
                self._out[id(view)] = entry
            raise ValueError("buffer was not acquired from this pool, or was released twice")
        if entry[1] is None:
            self._free.append(view)
        else:
            view.release()
            entry[1].close()

    def buffer(self) -> "_Lease":
        return _Lease(self)

    @property
    def available(self) -> int:
        return len(self._free)

    def close(self) -> None:
        """Unmap everything; buffers still out become invalid (their views are released)."""
        for view, extra in self._out.values():
            view.release()
            if extra is not None:
                extra.close()
        for view in self._free:
            view.release()
        self._out.clear()
        self._free.clear()
        self._base.release()
        self._region.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _Lease:
    __slots__ = ("_pool", "_view")

    def __init__(self, pool):
        self._pool = pool

    def __enter__(self) -> memoryview:
        self._view = self._pool.acquire()
        return self._view

    def __exit__(self, *exc):
        self._pool.release(self._view)


def _check_range(offset: int, length: int) -> None:
    if offset < 0 or length < 0:
        raise OSError(errno.EINVAL, "offset and length must not be negative")


def pread_into(fd: int, buf, offset: int) -> int:
    """Fill `buf` from the file at `offset`; returns the bytes read, short only at end of file."""
    _check_range(offset, 0)  # os.preadv would take -1 as "the file position" (preadv2's rule)
    view = memoryview(buf).cast("B")
    done = 0
    while done < len(view):
        n = os.preadv(fd, [view[done:]], offset + done)
        if n == 0:
            break
        done += n
    return done


def pwritev(fd: int, buffers, offset: int) -> int:
    """Write every buffer, in order, from `offset`; returns the total (always all of it, or raises)."""
    _check_range(offset, 0)
    views = [memoryview(b).cast("B") for b in buffers]
    views = [v for v in views if len(v)]
    total = 0
    while views:
        n = os.pwritev(fd, views[:IOV_MAX], offset + total)
        total += n
        while views and n >= len(views[0]):  # drop what was written, keep the rest of a partial one
            n -= len(views[0])
            views.pop(0)
        if n:
            views[0] = views[0][n:]
    return total


def fallocate(fd: int, offset: int, length: int) -> bool:
    """Reserve [offset, offset+length) (the file grows if needed). Returns False, having done nothing,
    where the file system cannot (no emulation by writing zeros). ENOSPC and the like still raise."""
    _check_range(offset, length)
    if length == 0 or _fallocate is None:
        return length == 0
    if _fallocate(fd, 0, offset, length) == 0:
        return True
    err = ctypes.get_errno()
    if err in _UNSUPPORTED:
        return False
    raise OSError(err, os.strerror(err))


def punch_hole(fd: int, offset: int, length: int) -> bool:
    """Deallocate [offset, offset+length), keeping the size; reads there return zeros afterwards.
    Returns True when punched, False when the file system could not and zeros were written instead."""
    _check_range(offset, length)
    if length == 0:
        return True
    if _fallocate is not None:
        if _fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length) == 0:
            return True
        err = ctypes.get_errno()
        if err not in _UNSUPPORTED:
            raise OSError(err, os.strerror(err))
    size = os.fstat(fd).st_size
    end = min(offset + length, size)  # KEEP_SIZE: never grow the file
    zeros = bytes(min(ZERO_FILL_STEP, max(end - offset, 0)))
    pos = offset
    while pos < end:
        pos += os.pwrite(fd, memoryview(zeros)[:end - pos], pos)
    return False


def fadvise(fd: int, offset: int, length: int, advice) -> None:
    """posix_fadvise with `advice` a POSIX_FADV_* value or its name ("dontneed", "sequential", ...);
    a no-op where the system has no fadvise."""
    if isinstance(advice, str):
        try:
            advice = FADVISE[advice]
        except KeyError:
            raise ValueError(f"unknown fadvise advice {advice!r}")
        if advice is None:
            return
    if not hasattr(os, "posix_fadvise"):
        return
    os.posix_fadvise(fd, offset, length, advice)


def sendfile(out_fd: int, in_fd: int, offset: int, count: int) -> int:
    """One sendfile(2) of up to `count` bytes from in_fd at `offset`; returns bytes sent (0 at end of
    file). Partial sends are normal on sockets; a non-blocking socket that is full raises
    BlockingIOError, so the event loop can wait for it to drain and call again."""
    if count <= 0:
        return 0
    return os.sendfile(out_fd, in_fd, offset, count)


def fdatasync(fd: int) -> None:
    """Flush the file's data (and the metadata needed to read it back) to stable storage."""
    if hasattr(os, "fdatasync"):
        os.fdatasync(fd)
    else:
        os.fsync(fd)


def recv_buffer(size: int) -> bytearray:
    """A bytearray of size bytes whose contents are unspecified (the compiled twin does not zero
    them): only for buffers that are filled completely before anything reads them."""
    if size < 0:
        raise ValueError("negative size")
    return bytearray(size)


# ---- Durable file steps (the compiled twin runs each in one release of the GIL) ---------------

def create_synced(path, buffers, reserve: int = 0) -> int:
    """Create `path` (O_EXCL, mode 0600), reserve `reserve` bytes (fallocate), write the
    buffers, fdatasync and close it; returns the bytes written. FileExistsError when it exists.
    After any later failure the file stays, for the caller to remove."""
    _check_range(0, reserve)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    return write_sync_close(fd, buffers, 0, reserve)


def write_sync_close(fd: int, buffers, offset: int, reserve: int = 0,
                     truncate: bool = False) -> int:
    """Reserve `reserve` bytes from offset (fallocate), write the buffers at offset, with
    `truncate` cut the file where they end (it may have been longer), fdatasync, and close fd --
    closed whatever happens; returns the bytes written."""
    try:
        _check_range(offset, reserve)
        fallocate(fd, offset, reserve)  # False (not reserved) where the file system cannot
        total = pwritev(fd, buffers, offset)
        if truncate:
            os.ftruncate(fd, offset + total)
        fdatasync(fd)
    finally:
        os.close(fd)
    return total


def listdir(target) -> list:
    """The names in a directory (without . and ..) as os.listdir gives them: `target` is a path,
    or the descriptor of an open directory (read from its start; it stays open and unchanged)."""
    return os.listdir(target)


def _keep_spare(dir_fd: int, name, spare, max_size: int) -> int:
    """rename_synced's recycling: the file `name` in dir_fd, opened read-write and locked
    exclusively, moved to `spare`; its descriptor, or -1 (nothing moved) when it is not a
    regular file with one link of at most max_size bytes, or a reader holds its lock."""
    try:
        fd = os.open(name, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW, dir_fd=dir_fd)
    except OSError:
        return -1
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        st = os.fstat(fd)
        if stat.S_ISREG(st.st_mode) and st.st_nlink == 1 and st.st_size <= max_size:
            os.rename(name, spare, src_dir_fd=dir_fd)
            return fd
    except OSError:
        pass
    os.close(fd)
    return -1


def rename_synced(src, dir_fd: int, name, obsolete=(), recycle=None) -> int:
    """Rename the file at `src` to `name` in the directory dir_fd, fsync the directory, then unlink
    the `obsolete` names there (errors ignored: they are only superseded). The caller closes
    dir_fd. recycle=(old, spare_path, max_size), `old` one of `obsolete`: that file is moved to
    spare_path instead of unlinked when it can be reused safely (see _keep_spare); returns its
    descriptor (read-write, flock'ed exclusively until closed), or -1 when it was unlinked."""
    os.rename(src, name, dst_dir_fd=dir_fd)
    os.fsync(dir_fd)
    kept = _keep_spare(dir_fd, recycle[0], recycle[1], recycle[2]) if recycle else -1
    for gone in obsolete:
        if kept >= 0 and gone == recycle[0]:
            continue
        try:
            os.unlink(gone, dir_fd=dir_fd)
        except OSError:
            pass
    return kept


def open_tail(path, max_tail: int):
    """Open a file and read its last min(size, max_tail) bytes: (fd, size, tail). When the tail is
    the whole file the descriptor is closed already and fd is -1; else the caller closes it.
    The descriptor holds a shared flock, so the file cannot be recycled while it is read;
    FileNotFoundError when it is being recycled or no longer at `path` (see rename_synced)."""
    if max_tail < 0:
        raise ValueError("negative max_tail")
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FileNotFoundError(errno.ENOENT, "being recycled", path) from None
        st = os.fstat(fd)
        linked = os.stat(path)
        if (st.st_ino, st.st_dev) != (linked.st_ino, linked.st_dev):
            # recycled after our open: it is another object's file now
            raise FileNotFoundError(errno.ENOENT, "recycled", path)
        size = st.st_size
        want = min(size, max_tail)
        tail = b""
        while len(tail) < want:
            piece = os.pread(fd, want - len(tail), size - want + len(tail))
            if not piece:
                break  # truncated meanwhile: a short tail, the parser judges it
            tail += piece
    except BaseException:
        os.close(fd)
        raise
    if len(tail) == size:
        os.close(fd)
        return -1, size, tail
    return fd, size, tail
