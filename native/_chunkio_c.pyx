# cython: language_level=3
"""Compiled twin of native._chunkio_py: the same API on direct system calls (Linux).

Each call takes its buffers through the buffer protocol (no copy), drops the GIL around the system
call, retries EINTR after running signal handlers (PEP 475, as the os module does) and raises
OSError subclasses from errno. pwritev and the durable steps run all their system calls under one
release of the GIL and retry EINTR in place (files: there is no Python code to run between steps). Where fallocate(2) is not Linux's this module does not compile and
the twin is used.
"""
from cpython.bytearray cimport PyByteArray_FromStringAndSize
from cpython.buffer cimport PyBUF_SIMPLE, PyBUF_WRITABLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.exc cimport PyErr_CheckSignals
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from libc.errno cimport EAGAIN, EINTR, ENOENT, ENOMEM, ENOSYS, EOPNOTSUPP, errno
from libc.string cimport memcpy, memset, strcmp, strlen
from libc.stdlib cimport free, malloc, realloc
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
    int c_fsync "fsync"(int fd)
    int c_close "close"(int fd)
    int c_unlinkat "unlinkat"(int dirfd, const char *path, int flags)
    int c_ftruncate "ftruncate"(int fd, off_t length)

cdef extern from "<sys/file.h>" nogil:
    int c_flock "flock"(int fd, int operation)
    int LOCK_SH, LOCK_EX, LOCK_NB

cdef extern from "<stdio.h>" nogil:
    int c_renameat "renameat"(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)

cdef extern from "Python.h":
    object PyUnicode_DecodeFSDefault(const char *s)
    object PyBytes_FromStringAndSize(const char *v, Py_ssize_t len)

cdef extern from "<sys/stat.h>" nogil:
    struct struct_stat "stat":
        off_t st_size
        unsigned long st_ino
        unsigned long st_dev
        unsigned long st_nlink
        unsigned int st_mode
    int c_fstat "fstat"(int fd, struct_stat *buf)
    int c_stat "stat"(const char *path, struct_stat *buf)
    bint S_ISREG(unsigned int mode)

cdef extern from "<errno.h>" nogil:
    int *__errno_location()

cdef extern from "<dirent.h>" nogil:
    ctypedef struct DIR:
        pass
    struct dirent:
        char d_name[256]
    DIR *fdopendir(int fd)
    DIR *opendir(const char *name)
    dirent *readdir(DIR *dirp)
    int closedir(DIR *dirp)
    void rewinddir(DIR *dirp)

cdef extern from "<fcntl.h>" nogil:
    int c_open "open"(const char *path, int flags, int mode)
    int c_openat "openat"(int dirfd, const char *path, int flags, int mode)
    int c_fcntl "fcntl"(int fd, int cmd, int arg)
    int O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_CLOEXEC, O_NOFOLLOW, F_DUPFD_CLOEXEC, AT_FDCWD
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


cdef Py_ssize_t _advance(iovec *iov, Py_ssize_t first, Py_ssize_t count, ssize_t n) noexcept nogil:
    """Drop the n bytes a pwritev wrote from iov[first:]; a partly written buffer keeps its tail.
    Returns the new first buffer."""
    while n > 0 and first < count:
        if <size_t>n >= iov[first].iov_len:
            n -= iov[first].iov_len
            first += 1
        else:
            iov[first].iov_base = <char *>iov[first].iov_base + n
            iov[first].iov_len -= n
            n = 0
    return first


cdef class _Buffers:
    """The buffers of a list of objects (buffer protocol, no copy) as an iovec array; released
    when this object goes."""
    cdef Py_buffer *views
    cdef iovec *iov
    cdef Py_ssize_t count, held

    def __cinit__(self, buffers):
        cdef list items = list(buffers)
        cdef Py_ssize_t i
        self.count = len(items)
        self.views = <Py_buffer *>PyMem_Malloc(max(self.count, 1) * sizeof(Py_buffer))
        self.iov = <iovec *>PyMem_Malloc(max(self.count, 1) * sizeof(iovec))
        if self.views == NULL or self.iov == NULL:
            raise MemoryError()
        for i in range(self.count):
            PyObject_GetBuffer(items[i], &self.views[i], PyBUF_SIMPLE)
            self.held += 1
            self.iov[i].iov_base = self.views[i].buf
            self.iov[i].iov_len = <size_t>self.views[i].len

    def __dealloc__(self):
        cdef Py_ssize_t i
        for i in range(self.held):
            PyBuffer_Release(&self.views[i])
        PyMem_Free(self.views)
        PyMem_Free(self.iov)


def pwritev(int fd, buffers, long long offset):
    """Write every buffer, in order, from `offset`; returns the total (always all of it, or raises)."""
    cdef _Buffers bufs
    cdef long long total
    cdef int err = 0
    _check_range(offset, 0)
    bufs = _Buffers(buffers)
    with nogil:
        total = _write_all(fd, bufs.iov, bufs.count, offset, &err)
    if total < 0:
        _raise_errno(err)
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


# ---- Durable file steps: several system calls under one release of the GIL -------------------
# A storage node's disk threads share the GIL with its event loop: every system call made through
# the os module releases and re-takes it, and under load each re-take is a futex wait and a context
# switch. A small object's commit is ~14 such calls; these run their steps in C in one go. EINTR is
# retried in place (local files; there is no Python code to run between the steps).

cdef long long _write_all(int fd, iovec *iov, Py_ssize_t count, long long offset,
                          int *err) noexcept nogil:
    """pwritev until every buffer is written; -1 with err set on failure. Consumes iov."""
    cdef Py_ssize_t first = 0, batch
    cdef long long total = 0
    cdef ssize_t n
    while first < count:
        if iov[first].iov_len == 0:
            first += 1
            continue
        batch = count - first
        if batch > _IOV_MAX:
            batch = _IOV_MAX
        n = c_pwritev(fd, &iov[first], <int>batch, offset + total)
        if n < 0:
            if errno == EINTR:
                continue
            err[0] = errno
            return -1
        total += n
        first = _advance(iov, first, count, n)
    return total


cdef int _sync_retry(int fd, bint data_only) noexcept nogil:
    """0, or the errno of a failed fdatasync (data_only: files) or fsync (directories)."""
    while (c_fdatasync(fd) if data_only else c_fsync(fd)) != 0:
        if errno != EINTR:
            return errno
    return 0


cdef int _open_retry(const char *path, int flags, int mode) noexcept nogil:
    """open(2), EINTR retried: the descriptor, or -1 with errno set."""
    cdef int fd
    while True:
        fd = c_open(path, flags, mode)
        if fd >= 0 or errno != EINTR:
            return fd


cdef int _reserve(int fd, long long offset, long long length) noexcept nogil:
    """fallocate(fd, 0, offset, length) for _write_sync: 0 when reserved or where the file
    system cannot (nothing is emulated), else the errno (ENOSPC...)."""
    while length > 0 and c_fallocate(fd, 0, offset, length) != 0:
        if errno == EINTR:
            continue
        if errno == EOPNOTSUPP or errno == ENOSYS:
            return 0
        return errno
    return 0


cdef object _write_sync(int fd, object path, buffers, long long offset, long long reserve,
                        bint truncate):
    """Write buffers at offset into fd (or into a new file at path when fd < 0), cut the file at
    their end when `truncate`, fdatasync, close; `reserve` bytes from offset are fallocated first."""
    cdef _Buffers bufs
    cdef long long total = -1
    cdef int err = 0
    cdef bytes bpath = os.fsencode(path) if fd < 0 else b""
    cdef const char *cpath = bpath
    try:
        bufs = _Buffers(buffers)
    except BaseException:
        if fd >= 0:
            os.close(fd)  # closed whatever happens, as promised
        raise
    with nogil:
        if fd < 0:
            fd = _open_retry(cpath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd < 0:
                err = errno
        if fd >= 0:
            err = _reserve(fd, offset, reserve)
            if err == 0:
                total = _write_all(fd, bufs.iov, bufs.count, offset, &err)
                if total >= 0 and truncate and c_ftruncate(fd, offset + total) != 0:
                    err = errno
                if err == 0:
                    err = _sync_retry(fd, True)
            c_close(fd)
    if err:
        if path is not None:
            raise OSError(err, os.strerror(err), path)
        raise OSError(err, os.strerror(err))
    return total


def create_synced(path, buffers, long long reserve=0):
    """Create `path` (O_EXCL, mode 0600), reserve `reserve` bytes (fallocate), write the
    buffers, fdatasync and close it; returns the bytes written. FileExistsError when it exists.
    After any later failure the file stays, for the caller to remove."""
    _check_range(0, reserve)
    return _write_sync(-1, path, buffers, 0, reserve, False)


def write_sync_close(int fd, buffers, long long offset, long long reserve=0, bint truncate=False):
    """Reserve `reserve` bytes from offset (fallocate), write the buffers at offset, with
    `truncate` cut the file where they end (it may have been longer), fdatasync, and close fd --
    closed whatever happens; returns the bytes written."""
    try:
        _check_range(offset, reserve)
    except BaseException:
        os.close(fd)
        raise
    return _write_sync(fd, None, buffers, offset, reserve, truncate)


def listdir(target):
    """The names in a directory (without . and ..) as os.listdir gives them: `target` is a path,
    or the descriptor of an open directory (read from its start; it stays open and unchanged)."""
    cdef int dup_fd = -1, err = 0, by_fd = isinstance(target, int)
    cdef bytes bpath = b"" if by_fd else os.fsencode(target)
    cdef const char *cpath = bpath
    cdef DIR *d = NULL
    cdef dirent *entry
    cdef char *names = NULL
    cdef char *grown
    cdef size_t used = 0, cap = 0, length, pos = 0
    if by_fd:
        dup_fd = target
    with nogil:
        if by_fd:
            dup_fd = c_fcntl(dup_fd, F_DUPFD_CLOEXEC, 0)
            if dup_fd < 0:
                err = errno
            else:
                d = fdopendir(dup_fd)
                if d == NULL:
                    err = errno
                    c_close(dup_fd)
                else:
                    rewinddir(d)  # a duplicate shares the offset: an earlier listing moved it
        else:
            d = opendir(cpath)
            if d == NULL:
                err = errno
        if d != NULL:
            while True:
                __errno_location()[0] = 0  # readdir's end and its failure look alike
                entry = readdir(d)
                if entry == NULL:
                    err = errno
                    break
                if strcmp(entry.d_name, ".") == 0 or strcmp(entry.d_name, "..") == 0:
                    continue
                length = strlen(entry.d_name) + 1
                if used + length > cap:
                    cap = (cap + length) * 2
                    grown = <char *>realloc(names, cap)
                    if grown == NULL:
                        err = ENOMEM
                        break
                    names = grown
                memcpy(names + used, entry.d_name, length)
                used += length
            closedir(d)
    try:
        if err:
            if by_fd:
                raise OSError(err, os.strerror(err))
            raise OSError(err, os.strerror(err), target)
        out = []
        while pos < used:
            length = strlen(names + pos)
            out.append(PyUnicode_DecodeFSDefault(names + pos))
            pos += length + 1
        return out
    finally:
        free(names)


cdef int _keep_spare(int dir_fd, const char *name, const char *spare,
                     long long max_size) noexcept nogil:
    """rename_synced's recycling: the file `name` in dir_fd, opened read-write and locked
    exclusively, moved to `spare`; its descriptor, or -1 (nothing moved) when it is not a
    regular file with one link of at most max_size bytes, or a reader holds its lock."""
    cdef struct_stat st
    cdef int fd = c_openat(dir_fd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0)
    if fd < 0:
        return -1
    if (c_flock(fd, LOCK_EX | LOCK_NB) != 0 or c_fstat(fd, &st) != 0 or not S_ISREG(st.st_mode)
            or st.st_nlink != 1 or st.st_size > max_size
            or c_renameat(dir_fd, name, AT_FDCWD, spare) != 0):
        c_close(fd)
        return -1
    return fd


def rename_synced(src, int dir_fd, name, obsolete=(), recycle=None):
    """Rename the file at `src` to `name` in the directory dir_fd, fsync the directory, then unlink
    the `obsolete` names there (errors ignored: they are only superseded). The caller closes
    dir_fd. recycle=(old, spare_path, max_size), `old` one of `obsolete`: that file is moved to
    spare_path instead of unlinked when it can be reused safely (see _keep_spare); returns its
    descriptor (read-write, flock'ed exclusively until closed), or -1 when it was unlinked."""
    cdef bytes bsrc = os.fsencode(src), bname = os.fsencode(name)
    cdef bytes bold = os.fsencode(recycle[0]) if recycle else b""
    cdef bytes bspare = os.fsencode(recycle[1]) if recycle else b""
    cdef long long max_size = recycle[2] if recycle else -1
    cdef const char *csrc = bsrc
    cdef const char *cname = bname
    cdef const char *cold = bold
    cdef const char *cspare = bspare
    cdef list gone = [os.fsencode(n) for n in obsolete]
    cdef Py_ssize_t count = len(gone), i
    cdef const char **cgone = <const char **>PyMem_Malloc(max(count, 1) * sizeof(char *))
    cdef int rc, err = 0, kept = -1
    if cgone == NULL:
        raise MemoryError()
    for i in range(count):
        cgone[i] = <bytes>gone[i]
    try:
        with nogil:
            while True:
                rc = c_renameat(AT_FDCWD, csrc, dir_fd, cname)
                if rc == 0 or errno != EINTR:
                    break
            if rc != 0:
                err = errno
            else:
                err = _sync_retry(dir_fd, False)
                if err == 0:
                    if max_size >= 0:
                        kept = _keep_spare(dir_fd, cold, cspare, max_size)
                    for i in range(count):
                        if kept < 0 or strcmp(cgone[i], cold) != 0:
                            c_unlinkat(dir_fd, cgone[i], 0)
    finally:
        PyMem_Free(cgone)
    if err:
        raise OSError(err, os.strerror(err), src)
    return kept


def open_tail(path, Py_ssize_t max_tail):
    """Open a file and read its last min(size, max_tail) bytes: (fd, size, tail). When the tail is
    the whole file the descriptor is closed already and fd is -1; else the caller closes it.
    The descriptor holds a shared flock, so the file cannot be recycled while it is read;
    FileNotFoundError when it is being recycled or no longer at `path` (see rename_synced)."""
    cdef bytes bpath = os.fsencode(path)
    cdef const char *cpath = bpath
    cdef int fd, err = 0
    cdef struct_stat st, linked
    cdef long long size = 0, want = 0, got = 0
    cdef ssize_t n
    cdef char *buf = NULL
    if max_tail < 0:
        raise ValueError("negative max_tail")
    with nogil:
        fd = _open_retry(cpath, O_RDONLY | O_CLOEXEC, 0)
        if fd < 0:
            err = errno
        elif c_flock(fd, LOCK_SH | LOCK_NB) != 0:
            err = ENOENT if errno == EAGAIN else errno  # EWOULDBLOCK: being recycled
        elif c_fstat(fd, &st) != 0 or c_stat(cpath, &linked) != 0:
            err = errno
        elif st.st_ino != linked.st_ino or st.st_dev != linked.st_dev:
            err = ENOENT  # recycled after our open: it is another object's file now
        else:
            size = st.st_size
            want = size if size < max_tail else max_tail
            buf = <char *>malloc(want if want > 0 else 1)
            if buf == NULL:
                err = ENOMEM
            while err == 0 and got < want:
                n = pread(fd, buf + got, want - got, size - want + got)
                if n < 0:
                    if errno == EINTR:
                        continue
                    err = errno
                elif n == 0:
                    break  # truncated meanwhile: a short tail, the parser judges it
                else:
                    got += n
        if fd >= 0 and (err or got == size):
            c_close(fd)
    try:
        if err:
            raise OSError(err, os.strerror(err), path)
        tail = PyBytes_FromStringAndSize(buf, got)
    finally:
        free(buf)
    return (-1 if got == size else fd), size, tail
