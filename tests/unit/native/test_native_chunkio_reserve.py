"""chunkio's durable steps with a space reservation (reserve=N: fallocate before the writes), on
both twins: what is written is exactly as without it, the reservation really happens, and a file
system that is full raises instead of writing (a small tmpfs is the full disk: real ENOSPC)."""
import errno
import os

import pytest
from tinyfs import mounted_tmpfs  # tests/tinyfs.py

NATIVE_MODULE = "chunkio"
HUGE = 1 << 62  # past any file system's largest file: refused (EFBIG) before anything is allocated


def _fd_is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False


def _can_reserve(native_impl, directory) -> bool:
    """Whether this file system takes fallocate (where it cannot, nothing is reserved)."""
    fd = os.open(directory / "probe", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        return native_impl.fallocate(fd, 0, 4096)
    finally:
        os.close(fd)
        os.unlink(directory / "probe")


@pytest.fixture
def tiny_fs(tmp_path):
    """A mounted 1 MiB tmpfs (skipped where this process may not mount)."""
    where = tmp_path / "tiny"
    where.mkdir()
    with mounted_tmpfs(where, "1m"):
        yield where


@pytest.mark.parametrize("size", [1, 4096, 300_000, (1 << 20) + 17])
def test_create_synced_reserving_exactly_what_it_writes(native_impl, tmp_path, size):
    body = os.urandom(size)
    parts = [body[:size // 3], memoryview(body)[size // 3:], b"trailer"]
    path = tmp_path / "new.tmp"
    assert native_impl.create_synced(str(path), parts, size + 7) == size + 7
    assert path.read_bytes() == body + b"trailer"
    st = path.stat()
    assert st.st_size == size + 7 and st.st_mode & 0o777 == 0o600
    assert st.st_blocks * 512 >= size + 7


def test_create_synced_reservation_is_real(native_impl, tmp_path):
    """Mode 0 grows the file to the reservation: a reservation past what is written shows (the
    callers reserve exactly what they write, so their files never do)."""
    if not _can_reserve(native_impl, tmp_path):
        pytest.skip("this file system cannot reserve space (fallocate)")
    path = tmp_path / "r.tmp"
    assert native_impl.create_synced(str(path), [b"abc"], 1 << 20) == 3
    st = path.stat()
    assert st.st_size == 1 << 20 and st.st_blocks * 512 >= 1 << 20
    with open(path, "rb") as f:
        assert f.read(4) == b"abc\0"


def test_write_sync_close_reserves_from_the_offset(native_impl, tmp_path):
    fd = os.open(tmp_path / "f", os.O_RDWR | os.O_CREAT, 0o600)
    os.pwrite(fd, b"0123456789", 0)
    assert native_impl.write_sync_close(fd, [b"ab", b"cd"], 8, 4) == 4
    assert not _fd_is_open(fd)
    assert (tmp_path / "f").read_bytes() == b"01234567abcd"
    fd = os.open(tmp_path / "g", os.O_RDWR | os.O_CREAT, 0o600)
    assert native_impl.write_sync_close(fd, [b"x"], 4096, 8192) == 1
    reserved = _can_reserve(native_impl, tmp_path)
    assert (tmp_path / "g").stat().st_size == (4096 + 8192 if reserved else 4097)


def test_reserve_zero_is_no_reservation(native_impl, tmp_path):
    path = tmp_path / "z"
    assert native_impl.create_synced(str(path), [b"abc"], 0) == 3
    assert path.stat().st_size == 3
    fd = os.open(tmp_path / "w", os.O_RDWR | os.O_CREAT, 0o600)
    assert native_impl.write_sync_close(fd, [b"abc"], 0, reserve=0) == 3
    assert (tmp_path / "w").stat().st_size == 3


def test_a_refused_reservation_raises_and_writes_nothing(native_impl, tmp_path):
    path = tmp_path / "big"
    with pytest.raises(OSError) as info:
        native_impl.create_synced(str(path), [b"data"], HUGE)
    assert info.value.errno == errno.EFBIG
    assert path.read_bytes() == b""  # created, nothing written: the caller removes it
    fd = os.open(tmp_path / "w", os.O_RDWR | os.O_CREAT, 0o600)
    with pytest.raises(OSError) as info:
        native_impl.write_sync_close(fd, [b"data"], 0, HUGE)
    assert info.value.errno == errno.EFBIG
    assert not _fd_is_open(fd)
    assert (tmp_path / "w").read_bytes() == b""


def test_negative_reservations_are_rejected(native_impl, tmp_path):
    with pytest.raises(OSError) as info:
        native_impl.create_synced(str(tmp_path / "n"), [b"x"], -1)
    assert info.value.errno == errno.EINVAL
    assert not (tmp_path / "n").exists()
    fd = os.open(tmp_path / "w", os.O_RDWR | os.O_CREAT, 0o600)
    with pytest.raises(OSError) as info:
        native_impl.write_sync_close(fd, [b"x"], 0, -5)
    assert info.value.errno == errno.EINVAL
    assert not _fd_is_open(fd)


def test_a_full_file_system_raises_enospc_before_writing(native_impl, tiny_fs):
    path = tiny_fs / "f.tmp"
    with pytest.raises(OSError) as info:
        native_impl.create_synced(str(path), [b"x" * 4096], 2 << 20)
    assert info.value.errno == errno.ENOSPC
    assert path.stat().st_size == 0
    os.unlink(path)
    fd = os.open(tiny_fs / "g", os.O_RDWR | os.O_CREAT, 0o600)
    with pytest.raises(OSError) as info:
        native_impl.write_sync_close(fd, [b"x"], 0, 2 << 20)
    assert info.value.errno == errno.ENOSPC and not _fd_is_open(fd)
    # what fits is reserved and written as usual
    assert native_impl.create_synced(str(path), [b"y" * 300_000], 300_000) == 300_000
    assert path.read_bytes() == b"y" * 300_000
