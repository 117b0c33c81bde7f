"""diskfile.SparePool: an overwrite keeps the superseded data file and the next write reuses it in
place, byte-identical to a new file, never while anyone reads it, never visible."""
import errno
import os
import threading
import time

import pytest

from objectserver import diskfile, layout, metafile
from strato.timestamps import Timestamp
from tinyfs import mounted_tmpfs  # tests/tinyfs.py

H = "0123456789abcdef0123456789abcdef"


def _meta(ts: Timestamp, size: int) -> dict:
    return {"name": "/a/c/o", "X-Timestamp": ts.internal, "Content-Length": str(size)}


def _put(device, body: bytes, n: int, name_hash: str = H, in_pieces: bool = False) -> str:
    ts = Timestamp(f"{1000000000 + n}.00000")
    writer = diskfile.Writer(device, 1, name_hash, expected_size=len(body))
    try:
        if in_pieces:  # the streamed path: the temp file is open before the commit
            half = len(body) // 2
            writer.write(memoryview(body)[:half])
            writer.write(memoryview(body)[half:])
        else:
            writer.hold(body)
        return writer.commit(_meta(ts, len(body)), ts, layout.DATA)
    finally:
        writer.abort()


def _spares_on_disk(device) -> list[str]:
    return [n for n in os.listdir(layout.tmp_dir(device)) if n.endswith(".spare")]


def _read(path) -> bytes:
    with open(path, "rb") as f:
        return f.read()


@pytest.mark.parametrize("in_pieces", [False, True])
def test_an_overwrite_reuses_the_superseded_file_and_cuts_it(device, in_pieces):
    first = _put(device, b"1" * 300_000, 1)  # longer than what will reuse it
    inode = os.stat(first).st_ino
    _put(device, b"2" * 5000, 2)  # supersedes the first: kept as a spare
    assert len(_spares_on_disk(device)) == 1
    body = b"3" * 4000
    third = _put(device, body, 3, in_pieces=in_pieces)
    assert os.stat(third).st_ino == inode  # the first file's inode, written over
    assert _read(third) == body + metafile.encode(_meta(Timestamp("1000000003.00000"), 4000))
    assert len(_spares_on_disk(device)) == 1  # the second version's file took its place
    opened, _ = diskfile.open_object(device, 1, H)
    assert opened.prefetched == body and opened.data_length == 4000


def test_a_delete_keeps_the_data_file_as_a_spare(device):
    inode = os.stat(_put(device, b"d" * 1000, 1)).st_ino
    diskfile.write_empty(device, 1, H, {"X-Timestamp": "1000000002.00000"},
                         Timestamp("1000000002.00000"), layout.TOMBSTONE)
    assert diskfile.current(device, 1, H).data is None
    assert os.stat(_put(device, b"n" * 10, 3, name_hash="f" * 32)).st_ino == inode


def test_a_file_being_read_is_not_recycled(device):
    body = os.urandom(200_000)  # larger than one tail read: the GET keeps its descriptor
    _put(device, body, 1)
    opened, _ = diskfile.open_object(device, 1, H)
    try:
        assert opened.fd >= 0
        for n in range(2, 6):
            _put(device, os.urandom(200_000), n)
        assert opened.read(0, len(body)) == body  # still the version it opened
    finally:
        opened.close()


def test_large_files_are_unlinked(device, monkeypatch):
    _put(device, b"x" * 100, 1)
    monkeypatch.setattr(diskfile, "SPARE_MAX", 99 + len(metafile.encode(_meta(Timestamp(1), 100))))
    _put(device, b"y" * 100, 2)
    assert _spares_on_disk(device) == []  # one byte over SPARE_MAX: unlinked
    monkeypatch.setattr(diskfile, "SPARE_MAX", 100 + len(metafile.encode(_meta(Timestamp(1), 100))))
    _put(device, b"z" * 100, 3)
    assert len(_spares_on_disk(device)) == 1


def test_the_pool_is_bounded(device, monkeypatch):
    """Sequential writes take a spare as they give one; concurrent ones can offer more."""
    monkeypatch.setattr(diskfile, "SPARES_PER_DEVICE", 2)
    offered = []
    for _ in range(3):
        path = diskfile.spares.vacancy(device)
        assert path is not None and os.path.dirname(path) == layout.tmp_dir(device)
        offered.append((os.open(path, os.O_RDWR | os.O_CREAT, 0o600), path))
    for fd, path in offered:  # three offered at once: the third is closed and removed
        diskfile.spares.put(device, fd, path)
    assert sorted(_spares_on_disk(device)) == sorted(os.path.basename(p) for _, p in offered[:2])
    assert diskfile.spares.vacancy(device) is None
    taken = diskfile.spares.take(device)
    assert taken == offered[1]
    os.close(taken[0])


def test_spares_are_swept_with_the_temp_files(device):
    _put(device, b"1" * 100, 1)
    _put(device, b"2" * 100, 2)
    assert len(_spares_on_disk(device)) == 1
    assert diskfile.sweep_tmp(device) == 0  # the pool gave its spares back first
    assert os.listdir(layout.tmp_dir(device)) == []
    assert diskfile.spares.take(device) is None
    _put(device, b"3" * 100, 3)  # and writes go on with new files


def _offer_spare(device, size: int) -> None:
    """One more spare of `size` bytes in the device's pool (concurrent overwrites make several;
    sequential ones take a spare as they give one)."""
    path = diskfile.spares.vacancy(device)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.write(fd, b"s" * size)
    diskfile.spares.put(device, fd, path)


def test_a_full_device_gives_its_spares_back(tmp_path):
    (tmp_path / "small").mkdir()
    with mounted_tmpfs(tmp_path / "small", "4m"):
        device = str(tmp_path / "small" / "d0")
        diskfile.ensure_device_dirs(device)
        try:
            _put(device, b"1" * (1 << 20), 1)
            _put(device, b"2" * (1 << 20), 2)  # the first version becomes a spare
            _offer_spare(device, 1 << 20)
            assert len(_spares_on_disk(device)) == 2  # 2 MiB held invisibly
            with pytest.raises(OSError) as info:  # takes one spare, cannot grow it to 3 MiB
                _put(device, b"3" * (3 << 20), 3, name_hash="e" * 32)
            assert info.value.errno == errno.ENOSPC
            assert _spares_on_disk(device) == []  # the other one was given back too
            assert diskfile.spares.take(device) is None
            assert diskfile.current(device, 1, H).data == "1000000002.00000.data"
            _put(device, b"4" * (2 << 20), 4, name_hash="e" * 32)  # room again
        finally:
            diskfile.spares.drop(device)


def test_readers_never_see_a_recycled_file(device):
    """Overwrites recycle files while readers open the object: every read is one whole version
    (its body matches its own trailer), whichever twin chunkio is."""
    stop = time.monotonic() + 1.5
    bad, reads = [], [0]

    def body_of(n: int) -> bytes:  # every version's body names its timestamp
        return f"{1000000000 + n}.00000|".encode() * (20 + (n % 7) * 2000)

    def writer():
        n = 1
        while time.monotonic() < stop:
            _put(device, body_of(n), n)
            n += 1

    def reader():
        while time.monotonic() < stop:
            opened, _ = diskfile.open_object(device, 1, H)
            if opened is None:
                continue
            try:
                data = opened.read(0, opened.data_length)
            finally:
                opened.close()
            n = int(opened.metadata["X-Timestamp"].split(".")[0]) - 1000000000
            reads[0] += 1
            if data != body_of(n) or opened.data_timestamp.internal != opened.metadata["X-Timestamp"]:
                bad.append(n)

    _put(device, body_of(0), 0)
    threads = [threading.Thread(target=writer)] + [threading.Thread(target=reader) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert reads[0] > 50 and bad == []
