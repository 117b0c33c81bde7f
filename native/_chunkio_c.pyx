# cython: language_level=3
"""Compiled twin of native._chunkio_py: the same API on direct system calls (Linux).

Each call takes its buffers through the buffer protocol (no copy), drops the GIL around the system
call, retries EINTR after running signal handlers (PEP 475, as the os module does) and raises
OSError subclasses from errno. Where fallocate(2) is not Linux's this module does not compile and
the twin is used.
"""
from cpython.bytearray cimport PyByteArray_FromStringAndSize
from cpython.buffer cimport PyBUF_SIMPLE, PyBUF_WRITABLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.exc cimport PyErr_CheckSignals
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from libc.errno cimport EINTR, ENOSYS, EOPNOTSUPP, errno
from libc.string cimport memset
from posix.types cimport off_t

import mmap
import os

cdef extern from "<sys/uio.h>" nogil:
    struct iovec:
        void *iov_base
        size_t iov_len
    ssize_t c_pwritev "pwritev"(int fd, const iovec *iov, int iovcnt, off_t offset)

cdef extern from "<unistd.h>" nogil:
    ssize_t pread(int fd, void *buf, size_t count, off_t offset)
    ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset)
    int c_fdatasync "fdatasync"(int fd)

cdef extern from "<fcntl.h>" nogil:
    int c_fallocate "fallocate"(int fd, int mode, off_t offset, off_t length)
    int posix_fadvise(int fd, off_t offset, off_t length, int advice)

cdef extern from "<sys/sendfile.h>" nogil:
    ssize_t c_sendfile "sendfile"(int out_fd, int in_fd, off_t *offset, size_t count)

PAGE_SIZE = mmap.PAGESIZE
IOV_MAX = os.sysconf("SC_IOV_MAX")
ZERO_FILL_STEP = 1 << 20
FALLOC_FL_KEEP_SIZE = 0x01
FALLOC_FL_PUNCH_HOLE = 0x02
FADVISE = {name: getattr(os, f"POSIX_FADV_{name.upper()}", None)
           for name in ("normal", "sequential", "random", "noreuse", "willneed", "dontneed")}
cdef int _IOV_MAX = IOV_MAX


cdef int _raise_errno(int err) except -1:
    raise OSError(err, os.strerror(err))  # OSError picks the subclass (BlockingIOError, ...) from err


cdef int _check_range(long long offset, long long length) except -1:
    if offset < 0 or length < 0:
        raise OSError(22, "offset and length must not be negative")
    return 0


cdef class BufferPool:
    """`count` reusable buffers of `size` bytes, each starting on a page boundary (fit for O_DIRECT).

    acquire() hands out a writable memoryview; release() takes it back. When all are out, acquire()
    maps one more rather than block (a storage request must not wait on another's buffer); release()
    keeps at most `count`. `with pool.buffer() as buf:` pairs the two.
    """
    cdef readonly Py_ssize_t size, count, misses
    cdef Py_ssize_t _stride
    cdef object _region, _base
    cdef list _free
    cdef dict _out

    def __init__(self, Py_ssize_t size, Py_ssize_t count):
        if size <= 0 or count <= 0:
            raise ValueError("BufferPool needs size > 0 and count > 0")
        self.size, self.count, self.misses = size, count, 0
        self._stride = (size + PAGE_SIZE - 1) // PAGE_SIZE * PAGE_SIZE
        self._region = mmap.mmap(-1, self._stride * count)
        self._base = memoryview(self._region)
        self._free = [self._base[i * self._stride:i * self._stride + size] for i in range(count)]
        self._out = {}

    def acquire(self):
        # Compiled code holds the GIL from here to the return (nothing in between runs Python
        # bytecode), so executor threads can share a pool without a lock.
        if self._free:
            view, extra = self._free.pop(), None
        else:
            self.misses += 1
            extra = mmap.mmap(-1, self._stride)
            view = memoryview(extra)[:self.size]
        self._out[id(view)] = (view, extra)
        return view

    def release(self, view):
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

    def buffer(self):
        return _Lease(self)

    @property
    def available(self):
        return len(self._free)

    def close(self):
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


cdef class _Lease:
    cdef BufferPool _pool
    cdef object _view

    def __cinit__(self, BufferPool pool):
        self._pool = pool

    def __enter__(self):
        self._view = self._pool.acquire()
        return self._view

    def __exit__(self, *exc):
        self._pool.release(self._view)


def pread_into(int fd, buf, long long offset):
    """Fill `buf` from the file at `offset`; returns the bytes read, short only at end of file."""
    cdef Py_buffer view
    cdef Py_ssize_t done = 0
    cdef ssize_t n
    cdef int err
    _check_range(offset, 0)
    PyObject_GetBuffer(buf, &view, PyBUF_SIMPLE | PyBUF_WRITABLE)
    try:
        while done < view.len:
            with nogil:
                n = pread(fd, <char *>view.buf + done, view.len - done, offset + done)
                err = errno
            if n < 0:
                if err == EINTR:
                    PyErr_CheckSignals()
                    continue
                _raise_errno(err)
            if n == 0:
                break
            done += n
    finally:
        PyBuffer_Release(&view)
    return done


def pwritev(int fd, buffers, long long offset):
    """Write every buffer, in order, from `offset`; returns the total (always all of it, or raises)."""
    cdef list items = list(buffers)
    cdef Py_ssize_t count = len(items), held = 0, first = 0, i, batch
    cdef Py_buffer *views = <Py_buffer *>PyMem_Malloc(max(count, 1) * sizeof(Py_buffer))
    cdef iovec *iov = <iovec *>PyMem_Malloc(max(count, 1) * sizeof(iovec))
    cdef long long total = 0
    cdef ssize_t n
    cdef int err
    if offset < 0:
        PyMem_Free(views)
        PyMem_Free(iov)
        _check_range(offset, 0)
    if views == NULL or iov == NULL:
        PyMem_Free(views)
        PyMem_Free(iov)
        raise MemoryError()
    try:
        for i in range(count):
            PyObject_GetBuffer(items[i], &views[i], PyBUF_SIMPLE)
            held += 1
            iov[i].iov_base = views[i].buf
            iov[i].iov_len = <size_t>views[i].len
        while first < count:
            if iov[first].iov_len == 0:
                first += 1
                continue
            batch = min(count - first, _IOV_MAX)
            with nogil:
                n = c_pwritev(fd, &iov[first], <int>batch, offset + total)
                err = errno
            if n < 0:
                if err == EINTR:
                    PyErr_CheckSignals()
                    continue
                _raise_errno(err)
            total += n
            # Drop what was written; a partly written buffer keeps its tail.
            while n > 0 and first < count:
                if <size_t>n >= iov[first].iov_len:
                    n -= iov[first].iov_len
                    first += 1
                else:
                    iov[first].iov_base = <char *>iov[first].iov_base + n
                    iov[first].iov_len -= n
                    n = 0
    finally:
        for i in range(held):
            PyBuffer_Release(&views[i])
        PyMem_Free(views)
        PyMem_Free(iov)
    return total


cdef int _fallocate(int fd, int mode, long long offset, long long length) except -2:
    """0 done, 1 not supported by this file system; raises otherwise."""
    cdef int rc, err
    while True:
        with nogil:
            rc = c_fallocate(fd, mode, offset, length)
            err = errno
        if rc == 0:
            return 0
        if err == EINTR:
            PyErr_CheckSignals()
            continue
        if err == EOPNOTSUPP or err == ENOSYS:
            return 1
        _raise_errno(err)


def fallocate(int fd, long long offset, long long length):
    """Reserve [offset, offset+length) (the file grows if needed). Returns False, having done nothing,
    where the file system cannot (no emulation by writing zeros). ENOSPC and the like still raise."""
    _check_range(offset, length)
    if length == 0:
        return True
    return _fallocate(fd, 0, offset, length) == 0


def punch_hole(int fd, long long offset, long long length):
    """Deallocate [offset, offset+length), keeping the size; reads there return zeros afterwards.
    Returns True when punched, False when the file system could not and zeros were written instead."""
    cdef long long end, pos
    cdef size_t step
    cdef ssize_t n
    cdef int err
    cdef char *zeros
    _check_range(offset, length)
    if length == 0 or _fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length) == 0:
        return True
    end = min(offset + length, os.fstat(fd).st_size)  # KEEP_SIZE: never grow the file
    if end <= offset:
        return False
    step = <size_t>min(end - offset, ZERO_FILL_STEP)
    zeros = <char *>PyMem_Malloc(step)
    if zeros == NULL:
        raise MemoryError()
    memset(zeros, 0, step)
    pos = offset
    try:
        while pos < end:
            with nogil:
                n = pwrite(fd, zeros, <size_t>min(<long long>step, end - pos), pos)
                err = errno
            if n < 0:
                if err == EINTR:
                    PyErr_CheckSignals()
                    continue
                _raise_errno(err)
            pos += n
    finally:
        PyMem_Free(zeros)
    return False


def fadvise(int fd, long long offset, long long length, advice):
    """posix_fadvise with `advice` a POSIX_FADV_* value or its name ("dontneed", "sequential", ...)."""
    cdef int rc, code
    if isinstance(advice, str):
        try:
            advice = FADVISE[advice]
        except KeyError:
            raise ValueError(f"unknown fadvise advice {advice!r}")
        if advice is None:
            return
    code = advice
    with nogil:
        rc = posix_fadvise(fd, offset, length, code)
    if rc != 0:
        _raise_errno(rc)


def sendfile(int out_fd, int in_fd, long long offset, long long count):
    """One sendfile(2) of up to `count` bytes from in_fd at `offset`; returns bytes sent (0 at end of
    file). Partial sends are normal on sockets; a non-blocking socket that is full raises
    BlockingIOError, so the event loop can wait for it to drain and call again."""
    cdef off_t off = offset
    cdef ssize_t n
    cdef int err
    if count <= 0:
        return 0
    _check_range(offset, count)
    while True:
        with nogil:
            n = c_sendfile(out_fd, in_fd, &off, <size_t>count)
            err = errno
        if n >= 0:
            return n
        if err == EINTR:
            PyErr_CheckSignals()
            continue
        _raise_errno(err)


def fdatasync(int fd):
    """Flush the file's data (and the metadata needed to read it back) to stable storage."""
    cdef int rc, err
    while True:
        with nogil:
            rc = c_fdatasync(fd)
            err = errno
        if rc == 0:
            return
        if err == EINTR:
            PyErr_CheckSignals()
            continue
        _raise_errno(err)


def recv_buffer(Py_ssize_t size):
    """A bytearray of size bytes whose contents are unspecified (not zeroed): only for buffers
    that are filled completely before anything reads them, such as received data."""
    if size < 0:
        raise ValueError("negative size")
    return PyByteArray_FromStringAndSize(NULL, size)
