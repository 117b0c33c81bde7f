"""Chunk I/O for the storage paths (object server, iSCSI target, volume backends): the only module
they import for it.

    BufferPool(size, count)   page-aligned reusable buffers: acquire()/release() or `with pool.buffer()`
    pread_into(fd, buf, offset) -> n        fill buf (short only at end of file)
    pwritev(fd, buffers, offset) -> n       write all buffers in order
    fallocate(fd, offset, length) -> bool   reserve space; False where the file system cannot
    punch_hole(fd, offset, length) -> bool  deallocate (zeros written where it cannot; returns False)
    fadvise(fd, offset, length, advice)     advice: os.POSIX_FADV_* or "dontneed", "sequential", ...
    sendfile(out_fd, in_fd, offset, count) -> n   one sendfile(2); BlockingIOError when the socket is full
    fdatasync(fd)
    recv_buffer(size) -> bytearray         contents unspecified (not zeroed): for buffers filled
                                          completely before they are read (received data)
  Durable steps, each one release of the GIL in the compiled twin (a disk thread otherwise re-takes
  the GIL after every system call, and under load each re-take is a context switch). Files are
  flushed with fdatasync(2): their data and what reading it back needs (size, block map), not
  their timestamps -- enough for files that keep their metadata inside (objectserver/metafile):
    create_synced(path, buffers, reserve=0) -> n      create (O_EXCL, 0600), write, fdatasync, close
    write_sync_close(fd, buffers, offset, reserve=0, truncate=False) -> n   write, (truncate:
                                          cut the file where the buffers end), fdatasync, close (fd
                                          closed in every case)
      reserve: bytes to fallocate(2) from offset (mode 0: the file grows to offset+reserve, so
      reserve exactly what will be written) before the writes. On ext4 a reserved 1 MiB file
      costs less CPU than one allocated page by page (delayed allocation). Where the file
      system cannot reserve (EOPNOTSUPP, ENOSYS) nothing is reserved and the writes go on;
      ENOSPC and other errors raise (nothing written).
    listdir(path or dir_fd) -> names       os.listdir in one step (a dir_fd stays open)
    rename_synced(src, dir_fd, name, obsolete=(), recycle=None) -> spare fd or -1
                                          rename into dir_fd, fsync it, unlink obsolete;
      recycle=(old, spare_path, max_size): the superseded `old` is moved to spare_path and
      returned open (read-write, flock'ed exclusively) for reuse, instead of unlinked, when it
      is a regular file with one link, at most max_size bytes, and no reader holds its lock
    open_tail(path, max_tail) -> (fd, size, tail)   open, flock shared, check the file is still
                                          at path, fstat, read the last bytes (fd -1: the tail is
                                          the whole file, already closed); FileNotFoundError when
                                          the file is being (or was) recycled

All of them but recv_buffer block: call them from the per-device executors (strato/executors.py), not the event loop.
The compiled module (native/_chunkio_c.pyx) is used when built; STRATO_NO_EXTENSIONS=1 selects the twin.
"""
import native

_impl = native.load("chunkio")

BufferPool = _impl.BufferPool
pread_into = _impl.pread_into
pwritev = _impl.pwritev
fallocate = _impl.fallocate
punch_hole = _impl.punch_hole
fadvise = _impl.fadvise
sendfile = _impl.sendfile
fdatasync = _impl.fdatasync
recv_buffer = _impl.recv_buffer
create_synced = _impl.create_synced
write_sync_close = _impl.write_sync_close
listdir = _impl.listdir
rename_synced = _impl.rename_synced
open_tail = _impl.open_tail
PAGE_SIZE = _impl.PAGE_SIZE
FADVISE = _impl.FADVISE
IMPLEMENTATION = "c" if _impl.__name__.endswith("_c") else "py"

__all__ = ["BufferPool", "pread_into", "pwritev", "fallocate", "punch_hole", "fadvise", "sendfile",
           "fdatasync", "recv_buffer", "create_synced", "write_sync_close", "listdir",
           "rename_synced", "open_tail", "PAGE_SIZE", "FADVISE", "IMPLEMENTATION"]
