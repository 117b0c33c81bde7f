"""diskfile.Writer reserves a large file's space (fallocate) before writing it, and the committed
file is byte for byte what it was without the reservation: body, then trailer, nothing more."""
import os

import pytest

from native import chunkio
from objectserver import diskfile, layout, metafile
from strato.timestamps import Timestamp

H = "0123456789abcdef0123456789abcdef"
META = {"name": "/a/c/o", "X-Timestamp": "1000000001.00000", "Content-Type": "x/y"}
TS = Timestamp("1000000001.00000")


@pytest.fixture(autouse=True)
def _reservable(device):
    """These tests look at reservations: skipped where the file system takes none."""
    probe = os.path.join(device, "probe")
    fd = os.open(probe, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if not chunkio.fallocate(fd, 0, 4096):
            pytest.skip("this file system cannot reserve space (fallocate)")
    finally:
        os.close(fd)
        os.unlink(probe)


def _temp_size(writer) -> int:
    return os.fstat(writer._fd).st_size


def _read(path) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def test_a_body_of_several_writes_is_reserved_at_creation(device):
    body = os.urandom(3 << 20)
    writer = diskfile.Writer(device, 1, H, expected_size=len(body))
    writer.write(memoryview(body)[:1 << 20])
    assert _temp_size(writer) == len(body)  # the whole announced body, reserved up front
    writer.write([memoryview(body)[1 << 20:2 << 20]])
    writer.hold(memoryview(body)[2 << 20:])
    path = writer.commit(dict(META), TS, layout.DATA)
    assert _read(path) == body + metafile.encode(META)
    opened, _ = diskfile.open_object(device, 1, H)
    try:
        assert opened.data_length == len(body) and opened.metadata == META
    finally:
        opened.close()


def test_no_reservation_below_the_threshold_or_without_a_size(device):
    for expected in (diskfile.RESERVE_MIN - 1, None, 0):
        writer = diskfile.Writer(device, 1, H, expected_size=expected)
        writer.write(b"x" * 1000)
        assert _temp_size(writer) == 1000
        writer.abort()
    assert os.listdir(layout.tmp_dir(device)) == []


def test_a_body_shorter_than_announced_still_commits_exactly(device):
    """Callers refuse short bodies before the commit; if one did commit, the reservation past
    the body must not stay between the body and its trailer."""
    body = os.urandom((1 << 20) + 5)
    writer = diskfile.Writer(device, 1, H, expected_size=4 << 20)
    writer.write(body)
    assert _temp_size(writer) == 4 << 20
    path = writer.commit(dict(META), TS, layout.DATA)
    assert _read(path) == body + metafile.encode(META)


def test_abort_of_a_reserved_file_leaves_nothing(device):
    writer = diskfile.Writer(device, 1, H, expected_size=8 << 20)
    writer.write(b"y" * (1 << 20))
    writer.abort()
    assert os.listdir(layout.tmp_dir(device)) == []
    assert diskfile.current(device, 1, H).data is None


def test_a_whole_body_reserves_exactly_its_file(device, monkeypatch):
    """A body held whole goes to the file in one create_synced: its reservation is the file's
    exact size (body and trailer) from RESERVE_MIN up, none below."""
    seen = []
    real = chunkio.create_synced

    def recording(path, buffers, reserve=0):  # the real call, with its reservation noted
        seen.append(reserve)
        return real(path, buffers, reserve)

    monkeypatch.setattr(chunkio, "create_synced", recording)
    for i, size in enumerate((diskfile.RESERVE_MIN, 1 << 20, 4096)):
        body = os.urandom(size)
        # a new object each time: an overwrite would reuse the old file (diskfile.SparePool)
        writer = diskfile.Writer(device, 1, f"{i:032x}", expected_size=size)
        writer.hold([body[:100], memoryview(body)[100:]])
        ts = Timestamp(f"{1000000002 + i}.00000")
        path = writer.commit(dict(META), ts, layout.DATA)
        raw = _read(path)
        assert raw == body + metafile.encode(META)
        assert seen[-1] == (len(raw) if size >= diskfile.RESERVE_MIN else 0)
