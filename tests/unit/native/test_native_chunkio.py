"""native.chunkio on both twins, against real files in a temporary directory (no sockets: sendfile
writes to files and pipes, which Linux allows)."""
import ctypes
import errno
import fcntl
import os
import tempfile
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

NATIVE_MODULE = "chunkio"


def address(view) -> int:
    return ctypes.addressof(ctypes.c_char.from_buffer(view))


@pytest.fixture
def fd(tmp_path):
    fd = os.open(tmp_path / "data", os.O_RDWR | os.O_CREAT, 0o600)
    yield fd
    os.close(fd)


# --- BufferPool -------------------------------------------------------------------------------

def test_pool_buffers_are_aligned_sized_and_writable(native_impl):
    with native_impl.BufferPool(10_000, 3) as pool:
        bufs = [pool.acquire() for _ in range(3)]
        assert [len(b) for b in bufs] == [10_000] * 3
        assert all(address(b) % native_impl.PAGE_SIZE == 0 for b in bufs)
        assert len({address(b) for b in bufs}) == 3
        bufs[0][:] = b"x" * 10_000
        assert bytes(bufs[1][:1]) == b"\0"
        assert pool.available == 0
        for b in bufs:
            pool.release(b)
        assert pool.available == 3


def test_pool_reuses_memory(native_impl):
    with native_impl.BufferPool(4096, 1) as pool:
        first = pool.acquire()
        where = address(first)
        pool.release(first)
        with pool.buffer() as again:
            assert address(again) == where
        assert pool.available == 1


def test_pool_grows_instead_of_blocking(native_impl):
    with native_impl.BufferPool(4096, 1) as pool:
        held = pool.acquire()
        extra = pool.acquire()
        assert pool.misses == 1 and len(extra) == 4096 and address(extra) % native_impl.PAGE_SIZE == 0
        pool.release(extra)
        pool.release(held)
        assert pool.available == 1  # the extra one was unmapped, not cached


def test_pool_rejects_foreign_and_double_release(native_impl):
    with native_impl.BufferPool(4096, 2) as pool:
        buf = pool.acquire()
        pool.release(buf)
        with pytest.raises(ValueError):
            pool.release(buf)
        with pytest.raises(ValueError):
            pool.release(memoryview(bytearray(4096)))
    with pytest.raises(ValueError):
        native_impl.BufferPool(0, 1)
    with pytest.raises(ValueError):
        native_impl.BufferPool(4096, 0)


@pytest.mark.timeout(60)
def test_pool_shared_by_threads(native_impl):
    # Executor threads share one pool per device: no buffer may be handed to two holders at once.
    with native_impl.BufferPool(4096, 4) as pool:
        holders, clashes = {}, []

        def work(tag):
            for _ in range(2000):
                buf = pool.acquire()
                where = address(buf)
                if holders.setdefault(where, tag) != tag:
                    clashes.append(where)
                buf[0] = tag
                if buf[0] != tag:
                    clashes.append(where)
                del holders[where]
                pool.release(buf)

        threads = [threading.Thread(target=work, args=(tag,)) for tag in range(1, 7)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert clashes == []
        assert pool.available == 4


# --- recv_buffer ------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [0, 1, 48, 131072 + 4])
def test_recv_buffer_is_a_writable_bytearray_of_the_size(native_impl, size):
    buf = native_impl.recv_buffer(size)
    assert type(buf) is bytearray and len(buf) == size
    memoryview(buf)[:] = b"\xa5" * size          # writable through the buffer protocol
    assert buf == b"\xa5" * size
    buf += b"x"                                   # an ordinary, resizable bytearray
    assert len(buf) == size + 1


def test_recv_buffer_rejects_negative_sizes(native_impl):
    with pytest.raises(ValueError):
        native_impl.recv_buffer(-1)


# --- pread_into / pwritev ---------------------------------------------------------------------

def test_pwritev_then_pread_into(native_impl, fd):
    parts = [b"alpha", bytearray(b""), memoryview(b"--beta--")[2:6], b"gamma" * 1000]
    assert native_impl.pwritev(fd, parts, 100) == 5 + 4 + 5000
    buf = bytearray(5009)
    assert native_impl.pread_into(fd, buf, 100) == 5009
    assert bytes(buf) == b"alphabeta" + b"gamma" * 1000
    head = bytearray(150)
    assert native_impl.pread_into(fd, head, 0) == 150
    assert head[:100] == bytes(100) and head[100:109] == b"alphabeta"


def test_pread_into_is_short_only_at_end_of_file(native_impl, fd):
    os.pwrite(fd, b"0123456789", 0)
    buf = bytearray(64)
    assert native_impl.pread_into(fd, buf, 4) == 6
    assert buf[:6] == b"456789"
    assert native_impl.pread_into(fd, buf, 10) == 0
    assert native_impl.pread_into(fd, memoryview(buf)[:0], 0) == 0


def test_pread_into_pool_buffer_with_o_direct(native_impl, tmp_path):
    path = tmp_path / "direct"
    path.write_bytes(bytes(range(256)) * 64)  # 16 KiB
    try:
        dfd = os.open(path, os.O_RDONLY | os.O_DIRECT)
    except OSError as exc:  # tmpfs and friends refuse O_DIRECT: nothing to prove there
        pytest.skip(f"O_DIRECT not supported here: {exc}")
    try:
        with native_impl.BufferPool(8192, 1) as pool, pool.buffer() as buf:
            try:
                n = native_impl.pread_into(dfd, buf, 4096)
            except OSError as exc:
                if exc.errno != errno.EINVAL:
                    raise
                pytest.skip("file system rejected O_DIRECT reads")
            assert n == 8192 and bytes(buf) == (bytes(range(256)) * 64)[4096:4096 + 8192]
    finally:
        os.close(dfd)


def test_pwritev_more_buffers_than_iov_max(native_impl, fd):
    parts = [bytes([i % 251]) * 3 for i in range(2500)]
    assert native_impl.pwritev(fd, parts, 0) == 7500
    assert os.pread(fd, 8000, 0) == b"".join(parts)


def test_read_only_buffer_is_rejected(native_impl, fd):
    with pytest.raises(BufferError):
        native_impl.pread_into(fd, b"immutable", 0)
    with pytest.raises(TypeError):
        native_impl.pwritev(fd, ["text"], 0)


def test_negative_offsets_are_rejected(native_impl, fd):
    # preadv2/pwritev2 read -1 as "the current file position": a negative offset must never get there.
    calls = [lambda: native_impl.pread_into(fd, bytearray(4), -1),
             lambda: native_impl.pwritev(fd, [b"x"], -1),
             lambda: native_impl.sendfile(fd, fd, -1, 4),
             lambda: native_impl.fallocate(fd, -1, 4096),
             lambda: native_impl.punch_hole(fd, -1, 4096),
             lambda: native_impl.punch_hole(fd, 0, -1)]
    for call in calls:
        with pytest.raises(OSError) as info:
            call()
        assert info.value.errno == errno.EINVAL
    assert os.fstat(fd).st_size == 0


def test_bad_descriptors_raise_oserror(native_impl, tmp_path):
    bad = os.open(tmp_path / "closed", os.O_RDWR | os.O_CREAT)
    os.close(bad)
    calls = [lambda: native_impl.pread_into(bad, bytearray(8), 0),
             lambda: native_impl.pwritev(bad, [b"x"], 0),
             lambda: native_impl.fallocate(bad, 0, 4096),
             lambda: native_impl.punch_hole(bad, 0, 4096),
             lambda: native_impl.fadvise(bad, 0, 0, "dontneed"),
             lambda: native_impl.fdatasync(bad)]
    for call in calls:
        with pytest.raises(OSError) as info:
            call()
        assert info.value.errno == errno.EBADF


# --- space management -------------------------------------------------------------------------

def test_fallocate_reserves_space(native_impl, fd):
    assert native_impl.fallocate(fd, 0, 0) is True
    done = native_impl.fallocate(fd, 4096, 1 << 20)
    st = os.fstat(fd)
    if done:
        assert st.st_size == 4096 + (1 << 20) and st.st_blocks * 512 >= 1 << 20
    else:
        assert st.st_size == 0  # the file system cannot: nothing happened
    with pytest.raises(OSError):
        native_impl.fallocate(fd, -1, 10)


def test_punch_hole_zeros_and_keeps_size(native_impl, fd):
    os.pwrite(fd, b"\xaa" * (1 << 20), 0)
    os.fsync(fd)
    before = os.fstat(fd).st_blocks
    punched = native_impl.punch_hole(fd, 65536, 262144)
    st = os.fstat(fd)
    assert st.st_size == 1 << 20
    assert os.pread(fd, 262144, 65536) == bytes(262144)
    assert os.pread(fd, 65536, 0) == b"\xaa" * 65536
    assert os.pread(fd, 16, 65536 + 262144) == b"\xaa" * 16
    if punched:
        assert st.st_blocks < before
    native_impl.punch_hole(fd, (1 << 20) - 10, 1 << 20)  # past the end: size still kept
    assert os.fstat(fd).st_size == 1 << 20


def test_fadvise_names_and_values(native_impl, fd):
    os.pwrite(fd, b"x" * 8192, 0)
    for name in native_impl.FADVISE:
        native_impl.fadvise(fd, 0, 0, name)
    native_impl.fadvise(fd, 0, 8192, os.POSIX_FADV_DONTNEED)
    with pytest.raises(ValueError):
        native_impl.fadvise(fd, 0, 0, "forget")


def test_fdatasync(native_impl, fd):
    os.pwrite(fd, b"durable", 0)
    native_impl.fdatasync(fd)


# --- sendfile ---------------------------------------------------------------------------------

def test_sendfile_to_a_file(native_impl, fd, tmp_path):
    os.pwrite(fd, bytes(range(256)) * 100, 0)
    out = os.open(tmp_path / "copy", os.O_WRONLY | os.O_CREAT)
    try:
        assert native_impl.sendfile(out, fd, 1000, 5000) == 5000
        assert native_impl.sendfile(out, fd, 25_000, 5000) == 600  # short at end of file
        assert native_impl.sendfile(out, fd, 25_600, 5000) == 0
        assert native_impl.sendfile(out, fd, 0, 0) == 0
    finally:
        os.close(out)
    data = (tmp_path / "copy").read_bytes()
    assert data == (bytes(range(256)) * 100)[1000:6000] + (bytes(range(256)) * 100)[25_000:]


def test_sendfile_full_nonblocking_pipe_raises_blocking(native_impl, fd):
    os.pwrite(fd, b"z" * (1 << 20), 0)
    r, w = os.pipe()
    try:
        fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
        sent = native_impl.sendfile(w, fd, 0, 1 << 20)
        assert 0 < sent < 1 << 20  # the pipe took what fits
        with pytest.raises(BlockingIOError):
            native_impl.sendfile(w, fd, sent, 1 << 20)
        assert os.read(r, 10) == b"z" * 10
    finally:
        os.close(r)
        os.close(w)


# --- durable steps: create_synced, write_sync_close, listdir, rename_synced -----------------

def _fd_is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False


def test_create_synced_makes_a_private_file_with_every_buffer(native_impl, tmp_path):
    path = tmp_path / "new.tmp"
    assert native_impl.create_synced(str(path), [b"head", memoryview(b"-body-"), bytearray(b"x"), b""]) == 11
    assert path.read_bytes() == b"head-body-x"
    assert path.stat().st_mode & 0o777 == 0o600


def test_create_synced_never_overwrites(native_impl, tmp_path):
    path = tmp_path / "taken"
    path.write_bytes(b"old")
    with pytest.raises(FileExistsError) as info:
        native_impl.create_synced(str(path), [b"new"])
    assert info.value.filename == str(path)
    assert path.read_bytes() == b"old"
    with pytest.raises(FileNotFoundError):
        native_impl.create_synced(str(tmp_path / "no-such-dir" / "f"), [b"x"])


def test_create_synced_rejects_non_buffers_before_creating(native_impl, tmp_path):
    path = tmp_path / "never"
    with pytest.raises(TypeError):
        native_impl.create_synced(str(path), [b"ok", "text is not a buffer"])
    # the compiled twin checks the buffers first; the pure one may have created the file (empty)
    assert not path.exists() or path.read_bytes() == b""


def test_write_sync_close_writes_at_offset_and_closes(native_impl, tmp_path):
    fd = os.open(tmp_path / "f", os.O_RDWR | os.O_CREAT, 0o600)
    os.pwrite(fd, b"0123456789", 0)
    assert native_impl.write_sync_close(fd, [b"ab", b"cd"], 8) == 4
    assert not _fd_is_open(fd)
    assert (tmp_path / "f").read_bytes() == b"01234567abcd"


def test_write_sync_close_closes_even_when_the_write_fails(native_impl, tmp_path):
    (tmp_path / "ro").write_bytes(b"x")
    fd = os.open(tmp_path / "ro", os.O_RDONLY)
    with pytest.raises(OSError) as info:
        native_impl.write_sync_close(fd, [b"no"], 0)
    assert info.value.errno == errno.EBADF
    assert not _fd_is_open(fd)
    assert (tmp_path / "ro").read_bytes() == b"x"
    fd = os.open(tmp_path / "ro", os.O_RDWR)
    with pytest.raises(TypeError):
        native_impl.write_sync_close(fd, [b"ok", "text is not a buffer"], 0)
    assert not _fd_is_open(fd)  # closed when the buffers are refused, too


def test_listdir_lists_again_from_the_start(native_impl, tmp_path):
    names = {"a.data", "b.meta", "1000000001.00000.ts", "caf\u00e9", "x" * 255}
    for name in names:
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "sub").mkdir()
    raw = os.fsencode(str(tmp_path)) + b"/\xff\xfe-undecodable"
    open(raw, "wb").close()
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        first = native_impl.listdir(fd)
        second = native_impl.listdir(fd)  # a second listing through the same descriptor
        assert sorted(first) == sorted(second) == sorted(os.listdir(tmp_path))
        assert set(first) == names | {"sub", os.fsdecode(b"\xff\xfe-undecodable")}
        assert _fd_is_open(fd)
    finally:
        os.close(fd)
    with pytest.raises(OSError) as info:
        native_impl.listdir(fd)  # closed now
    assert info.value.errno == errno.EBADF


def test_listdir_of_a_large_directory(native_impl, tmp_path):
    names = {f"{i:06d}.data" for i in range(3000)}
    for name in names:
        (tmp_path / name).write_bytes(b"")
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        assert set(native_impl.listdir(fd)) == names
    finally:
        os.close(fd)


def test_rename_synced_renames_and_unlinks_the_superseded(native_impl, tmp_path):
    target = tmp_path / "hash"
    target.mkdir()
    (target / "1.data").write_bytes(b"old")
    (target / "2.meta").write_bytes(b"meta")
    (tmp_path / "new.tmp").write_bytes(b"new")
    fd = os.open(target, os.O_RDONLY | os.O_DIRECTORY)
    try:
        native_impl.rename_synced(str(tmp_path / "new.tmp"), fd, "3.data",
                                  ["1.data", "2.meta", "already-gone"])
        assert _fd_is_open(fd)
    finally:
        os.close(fd)
    assert os.listdir(target) == ["3.data"] and (target / "3.data").read_bytes() == b"new"
    assert not (tmp_path / "new.tmp").exists()


def test_rename_synced_into_a_removed_directory_changes_nothing(native_impl, tmp_path):
    target = tmp_path / "hash"
    target.mkdir()
    (tmp_path / "new.tmp").write_bytes(b"new")
    fd = os.open(target, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.rmdir(target)  # what the replicator's pruning of an empty directory does
        with pytest.raises(FileNotFoundError):
            native_impl.rename_synced(str(tmp_path / "new.tmp"), fd, "1.data", ["x"])
    finally:
        os.close(fd)
    assert (tmp_path / "new.tmp").read_bytes() == b"new"  # still there for the caller's retry


def _hash_dir(tmp_path, files: dict):
    target = tmp_path / "hash"
    target.mkdir()
    for name, data in files.items():
        (target / name).write_bytes(data)
    return target


def _rename_into(native_impl, tmp_path, obsolete, recycle) -> int:
    """rename_synced of a new tmp_path/new.tmp to hash/3.data; what it returns."""
    (tmp_path / "new.tmp").write_bytes(b"new")
    fd = os.open(tmp_path / "hash", os.O_RDONLY | os.O_DIRECTORY)
    try:
        return native_impl.rename_synced(str(tmp_path / "new.tmp"), fd, "3.data", obsolete,
                                         recycle)
    finally:
        os.close(fd)


def test_rename_synced_keeps_the_superseded_file_as_a_locked_spare(native_impl, tmp_path):
    spare = tmp_path / "x.spare"
    _hash_dir(tmp_path, {"1.data": b"old body", "2.meta": b"m"})
    inode = (tmp_path / "hash" / "1.data").stat().st_ino
    kept = _rename_into(native_impl, tmp_path, ["1.data", "2.meta"], ("1.data", str(spare), 100))
    try:
        assert os.listdir(tmp_path / "hash") == ["3.data"]  # the .meta unlinked as before
        assert os.fstat(kept).st_ino == spare.stat().st_ino == inode
        assert spare.read_bytes() == b"old body"
        assert os.pwrite(kept, b"NEW", 0) == 3  # open for writing
        probe = os.open(spare, os.O_RDONLY)
        try:  # and locked: readers' shared locks are refused
            with pytest.raises(BlockingIOError):
                fcntl.flock(probe, fcntl.LOCK_SH | fcntl.LOCK_NB)
        finally:
            os.close(probe)
        with pytest.raises(FileNotFoundError):
            native_impl.open_tail(str(spare), 64)
    finally:
        os.close(kept)
    assert native_impl.open_tail(str(spare), 64) == (-1, 8, b"NEW body")  # unlocked once closed


@pytest.mark.parametrize("why", ["being read", "linked twice", "too large", "absent"])
def test_rename_synced_unlinks_what_it_may_not_recycle(native_impl, tmp_path, why):
    old = b"o" * 200
    spare = tmp_path / "x.spare"
    target = _hash_dir(tmp_path, {} if why == "absent" else {"1.data": old})
    reader = -1
    if why == "being read":  # a reader's descriptor, holding its shared lock
        reader, _, _ = native_impl.open_tail(str(target / "1.data"), 10)
    if why == "linked twice":
        os.link(target / "1.data", tmp_path / "elsewhere")
    try:
        kept = _rename_into(native_impl, tmp_path, ["1.data"],
                            ("1.data", str(spare), 199 if why == "too large" else 1000))
        assert kept == -1
        assert not spare.exists()
        assert os.listdir(target) == ["3.data"]
        if reader >= 0:  # the reader still reads what it opened
            assert os.pread(reader, 300, 0) == old
        if why == "linked twice":
            assert (tmp_path / "elsewhere").read_bytes() == old
    finally:
        if reader >= 0:
            os.close(reader)


def test_open_tail_refuses_a_file_recycled_between_its_open_and_its_lock(both_impls, tmp_path,
                                                                         monkeypatch):
    """The window between open(2) and flock(2): the file the reader opened is recycled (moved
    away, written over) and another takes its name. The reader must not read it as the file at
    its path. Only the pure twin's steps can be interleaved from a test (the compiled one runs
    them in one call); both check the same way."""
    pure = both_impls["py"]
    path, other = tmp_path / "1.data", tmp_path / "2.data"
    path.write_bytes(b"first" * 100)
    other.write_bytes(b"second" * 100)

    class RecycleBeforeTheLock:
        def __getattr__(self, name):
            return getattr(fcntl, name)

        @staticmethod
        def flock(fd, operation):
            os.rename(path, tmp_path / "x.spare")  # recycled
            spare = os.open(tmp_path / "x.spare", os.O_WRONLY)
            os.pwrite(spare, b"REUSED", 0)
            os.close(spare)
            os.rename(other, path)  # a newer file now has the name
            fcntl.flock(fd, operation)

    monkeypatch.setattr(pure, "fcntl", RecycleBeforeTheLock())
    with pytest.raises(FileNotFoundError):
        pure.open_tail(str(path), 16)


def test_write_sync_close_can_cut_a_longer_file(native_impl, tmp_path):
    fd = os.open(tmp_path / "f", os.O_RDWR | os.O_CREAT, 0o600)
    os.pwrite(fd, b"x" * 100, 0)
    assert native_impl.write_sync_close(fd, [b"ab", b"cd"], 3, truncate=True) == 4
    assert not _fd_is_open(fd)
    assert (tmp_path / "f").read_bytes() == b"xxxabcd"


def test_listdir_by_path(native_impl, tmp_path):
    for name in ("a", "b.data", "c\u00e9"):
        (tmp_path / name).write_bytes(b"")
    assert sorted(native_impl.listdir(str(tmp_path))) == sorted(os.listdir(tmp_path))
    with pytest.raises(FileNotFoundError) as info:
        native_impl.listdir(str(tmp_path / "missing"))
    assert info.value.filename == str(tmp_path / "missing")
    with pytest.raises(NotADirectoryError):
        native_impl.listdir(str(tmp_path / "a"))


def test_open_tail_small_file_comes_back_whole_and_closed(native_impl, tmp_path):
    (tmp_path / "small").write_bytes(b"0123456789")
    fd, size, tail = native_impl.open_tail(str(tmp_path / "small"), 64)
    assert (fd, size, tail) == (-1, 10, b"0123456789")
    (tmp_path / "empty").write_bytes(b"")
    assert native_impl.open_tail(str(tmp_path / "empty"), 64) == (-1, 0, b"")


def test_open_tail_large_file_keeps_its_descriptor(native_impl, tmp_path):
    data = bytes(range(256)) * 40  # 10240 bytes
    (tmp_path / "big").write_bytes(data)
    fd, size, tail = native_impl.open_tail(str(tmp_path / "big"), 1000)
    try:
        assert size == len(data) and tail == data[-1000:]
        assert os.pread(fd, 5, 0) == data[:5]  # still open, for the body's reads
    finally:
        os.close(fd)
    fd, size, tail = native_impl.open_tail(str(tmp_path / "big"), len(data))
    assert (fd, size, tail) == (-1, len(data), data)  # exactly the whole file: closed


def test_open_tail_errors_name_the_path(native_impl, tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        native_impl.open_tail(str(tmp_path / "gone"), 64)
    assert info.value.filename == str(tmp_path / "gone")
    with pytest.raises(ValueError):
        native_impl.open_tail(str(tmp_path), -1)


# --- the twins agree --------------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(parts=st.lists(st.binary(max_size=3000), max_size=8), offset=st.integers(0, 10_000),
       read_at=st.integers(0, 40_000), read_len=st.integers(0, 40_000))
def test_twins_agree_on_files(both_impls, parts, offset, read_at, read_len):
    results = []
    for impl in (both_impls["py"], both_impls["c"]):
        with tempfile.TemporaryFile() as f:
            written = impl.pwritev(f.fileno(), parts, offset)
            buf = bytearray(read_len)
            n = impl.pread_into(f.fileno(), buf, read_at)
            results.append((written, n, bytes(buf[:n]), os.fstat(f.fileno()).st_size))
    assert results[0] == results[1]
    expected = (bytes(offset) + b"".join(parts)) if any(parts) else b""
    assert results[0][2] == expected[read_at:read_at + read_len]
