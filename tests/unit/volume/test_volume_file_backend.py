"""The file backend and its sparse copy: only allocated extents are read, written and stored."""
import os

import pytest

from blockserver.backends.base import GIB
from blockserver.backends.file import FileBackend
from blockserver.backends.sparse import copy_sparse, data_extents
from blockserver.errors import BackendError

MIB = 1 << 20


def write_at(path, offset, data):
    fd = os.open(path, os.O_WRONLY)
    try:
        os.pwrite(fd, data, offset)
        os.fsync(fd)
    finally:
        os.close(fd)


def read_at(path, offset, length):
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(length)


def allocated(path):
    return os.stat(path).st_blocks * 512


@pytest.fixture
def backend(tmp_path):
    # reflink off: ext4 has none, and the extent walk is what must be proven here.
    return FileBackend(str(tmp_path / "volumes"), reflink=False)


def test_create_is_sparse_and_sized(backend):
    backend.create("a", 2)
    path = backend.path_for("a")
    assert os.path.getsize(path) == 2 * GIB
    assert allocated(path) == 0
    assert backend.exists("a")


def test_extend_keeps_data_and_grows(backend):
    backend.create("a", 1)
    write_at(backend.path_for("a"), 4096, b"x" * 4096)
    backend.extend("a", 3)
    assert os.path.getsize(backend.path_for("a")) == 3 * GIB
    assert read_at(backend.path_for("a"), 4096, 4096) == b"x" * 4096
    with pytest.raises(BackendError):
        backend.extend("a", 2)


def test_snapshot_copies_only_allocated_extents(backend):
    backend.create("a", 4)
    path = backend.path_for("a")
    write_at(path, 0, b"A" * MIB)
    write_at(path, 3 * GIB, b"B" * MIB)  # far apart: two extents with a 3 GiB hole between
    backend.create_snapshot("s", "a")
    snap = backend.snapshot_path("s")
    assert os.path.getsize(snap) == 4 * GIB
    # About 2 MiB stored for a 4 GiB volume (the file system may round up a little).
    assert 2 * MIB <= allocated(snap) <= 3 * MIB
    assert read_at(snap, 0, MIB) == b"A" * MIB
    assert read_at(snap, 3 * GIB, MIB) == b"B" * MIB
    assert read_at(snap, 2 * GIB, 4096) == b"\0" * 4096
    # A point-in-time copy: later writes to the volume do not show in the snapshot.
    write_at(path, 0, b"C" * 4096)
    assert read_at(snap, 0, 4096) == b"A" * 4096


def test_clone_from_snapshot_and_volume_grow_to_the_requested_size(backend):
    backend.create("a", 1)
    write_at(backend.path_for("a"), 512 * MIB, b"D" * 65536)
    backend.create_snapshot("s", "a")
    backend.clone_from_snapshot("b", "s", 2)
    backend.clone_from_volume("c", "a", 3)
    for vid, size in (("b", 2), ("c", 3)):
        path = backend.path_for(vid)
        assert os.path.getsize(path) == size * GIB
        assert read_at(path, 512 * MIB, 65536) == b"D" * 65536
        assert allocated(path) <= MIB


def test_copy_reports_the_extent_bytes(tmp_path):
    src = tmp_path / "src"
    with open(src, "wb") as f:
        f.truncate(64 * MIB)
    write_at(str(src), 10 * MIB, b"z" * MIB)
    assert [length for _off, length in data_extents(os.open(src, os.O_RDONLY), 64 * MIB)] \
        == [MIB]
    result = copy_sparse(str(src), str(tmp_path / "dst"), reflink=False)
    assert result == {"method": "extents", "bytes": MIB}
    with pytest.raises(FileExistsError):
        copy_sparse(str(src), str(tmp_path / "dst"), reflink=False)


def test_delete_is_idempotent_and_no_temp_files_stay(backend):
    backend.create("a", 1)
    backend.delete("a")
    backend.delete("a")
    backend.delete_snapshot("never")
    assert not backend.exists("a")
    assert os.listdir(backend.volume_dir) == []


def test_create_refuses_to_overwrite_and_bad_ids(backend):
    backend.create("a", 1)
    with pytest.raises(BackendError):
        backend.create("a", 1)
    for bad in ("../x", ".hidden", ""):
        with pytest.raises(BackendError):
            backend.create(bad, 1)


def test_clone_of_a_missing_source_fails_cleanly(backend):
    with pytest.raises(BackendError):
        backend.clone_from_volume("b", "missing", 1)
    assert os.listdir(backend.volume_dir) == []


def test_start_up_removes_copies_a_crash_left_behind(backend):
    backend.create("a", 1)
    leftover = os.path.join(backend.volume_dir, ".tmp-0123")
    open(leftover, "wb").close()
    backend.check_setup()
    assert os.listdir(backend.volume_dir) == ["volume-a"]


def test_reflink_is_tried_first_and_falls_back_where_unsupported(tmp_path):
    src = tmp_path / "src"
    with open(src, "wb") as f:
        f.truncate(32 * MIB)
    write_at(str(src), 8 * MIB, b"r" * MIB)
    result = copy_sparse(str(src), str(tmp_path / "dst"))  # reflink=True, the default
    # ext4 (this machine) has no FICLONE; btrfs/XFS would share the blocks instead.
    assert result["method"] in ("reflink", "extents")
    assert read_at(str(tmp_path / "dst"), 8 * MIB, MIB) == b"r" * MIB
    assert os.path.getsize(tmp_path / "dst") == 32 * MIB
    assert allocated(str(tmp_path / "dst")) <= 2 * MIB
