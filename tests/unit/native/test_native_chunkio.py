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
