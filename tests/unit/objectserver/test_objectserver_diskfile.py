"""Object files on a temporary device: durable commit, newest-wins, cleanup, hashes, hand-off."""
import os

import pytest

from objectserver import diskfile, layout
from strato.timestamps import Timestamp

H = "0123456789abcdef0123456789abcdef"


def put(device, ts, body=b"data", name_hash=H):
    writer = diskfile.Writer(device, 1, name_hash)
    try:
        writer.write(body)
        return writer.commit({"name": "/a/c/o", "X-Timestamp": ts}, Timestamp(ts), layout.DATA)
    finally:
        writer.abort()


def test_commit_open_and_newest_wins(device):
    put(device, "1000000001.00000", b"one")
    opened, found = diskfile.open_object(device, 1, H)
    assert opened.read(0, 100) == b"one" and opened.data_length == 3
    opened.close()
    with pytest.raises(diskfile.ConflictError) as err:
        put(device, "1000000001.00000", b"same time")
    assert err.value.existing == Timestamp("1000000001.00000")
    assert os.listdir(layout.tmp_dir(device)) == []  # the loser's temp file is gone
    put(device, "1000000002.00000", b"two")
    assert os.listdir(layout.hash_dir(device, 1, H)) == ["1000000002.00000.data"]
    diskfile.write_empty(device, 1, H, {"X-Timestamp": "1000000003.00000"},
                         Timestamp("1000000003.00000"), layout.TOMBSTONE)
    opened, found = diskfile.open_object(device, 1, H)
    assert opened is None and found.tombstone == "1000000003.00000.ts"


def test_meta_needs_data(device):
    with pytest.raises(diskfile.NoObjectError):
        diskfile.write_empty(device, 1, H, {"X-Object-Meta-A": "1"},
                             Timestamp("1000000001.00000"), layout.META)
    put(device, "1000000001.00000")
    diskfile.write_empty(device, 1, H, {"X-Object-Meta-A": "1"}, Timestamp("1000000002.00000"),
                         layout.META)
    opened, _ = diskfile.open_object(device, 1, H)
    assert opened.metadata["X-Object-Meta-A"] == "1" and opened.timestamp.normal == "1000000002.00000"


def test_bad_trailer_is_quarantined_on_open(device):
    path = put(device, "1000000001.00000")
    with open(path, "r+b") as f:
        f.seek(-1, os.SEEK_END)
        f.write(b"?")
    opened, _ = diskfile.open_object(device, 1, H)
    assert opened is None
    assert len(os.listdir(layout.quarantine_dir(device))) == 1


def test_hashes_reclaim_old_tombstones(device):
    diskfile.write_empty(device, 1, H, {}, Timestamp("1000000001.00000"), layout.TOMBSTONE)
    assert set(diskfile.partition_hashes(device, 1)) == {H[-3:]}
    assert diskfile.partition_hashes(device, 1, reclaim_before=2000000000.0) == {}
    assert not os.path.exists(layout.hash_dir(device, 1, H))


def test_handoff_removal_keeps_a_newer_write(device):
    put(device, "1000000001.00000")
    snapshot = ["1000000001.00000.data"]
    put(device, "1000000002.00000")  # lands while the replicator was pushing the old one
    assert not diskfile.remove_if_current(device, 1, H, snapshot)
    assert os.listdir(layout.hash_dir(device, 1, H)) == ["1000000002.00000.data"]
    assert diskfile.remove_if_current(device, 1, H, ["1000000002.00000.data"])
    diskfile.prune_partition(device, 1)
    assert not os.path.exists(layout.partition_dir(device, 1))


def test_sweep_tmp(device):
    writer = diskfile.Writer(device, 1, H)
    writer.write(b"half")
    assert diskfile.sweep_tmp(device) == 1
    assert os.listdir(layout.tmp_dir(device)) == []
    writer.abort()  # already gone: abort copes


def test_commit_survives_the_replicator_pruning_a_parent_between_mkdirs(device, monkeypatch):
    """Fault injection (the race is a few microseconds wide): right after commit creates the
    partition directory, an rmdir like the replicator's pruning of empty partitions removes it,
    so the next mkdir (the suffix) meets FileNotFoundError. Before the fix the PUT failed (500)."""
    real_mkdir = os.mkdir
    part_dir = os.path.dirname(os.path.dirname(layout.hash_dir(device, 1, H)))
    pruned = []

    def mkdir_then_prune(path, *args, **kwargs):
        real_mkdir(path, *args, **kwargs)
        if path == part_dir and not pruned:
            pruned.append(path)
            os.rmdir(path)  # still empty: exactly what the replicator may remove
    monkeypatch.setattr(diskfile.os, "mkdir", mkdir_then_prune)
    final = put(device, "1000000001.00000", b"kept")
    assert pruned == [part_dir]
    monkeypatch.setattr(diskfile.os, "mkdir", real_mkdir)
    opened, _ = diskfile.open_object(device, 1, H)
    assert opened.read(0, 100) == b"kept" and final.endswith(".data")
    opened.close()


def test_commit_survives_the_replicator_pruning_new_dirs_before_their_fsync(device, monkeypatch):
    """Fault injection: the directories commit just made (still empty) are pruned before their
    parents are fsynced; the fsync of a vanished parent is skipped, the rename loop makes them
    again and fsyncs those, and the PUT succeeds."""
    real = diskfile.makedirs_deferred
    hash_dir = layout.hash_dir(device, 1, H)
    pruned = []

    def make_then_prune(path):
        parents = real(path)
        if not pruned:
            for gone in (hash_dir, os.path.dirname(hash_dir),
                         os.path.dirname(os.path.dirname(hash_dir))):
                os.rmdir(gone)  # hash, suffix, partition: empty, as the replicator removes them
                pruned.append(gone)
        return parents
    monkeypatch.setattr(diskfile, "makedirs_deferred", make_then_prune)
    final = put(device, "1000000001.00000", b"kept")
    assert len(pruned) == 3 and os.path.dirname(final) == hash_dir
    opened, _ = diskfile.open_object(device, 1, H)
    assert opened.read(0, 100) == b"kept"
    opened.close()


def test_commit_survives_the_hash_directory_pruned_after_commit_opened_it(device, monkeypatch):
    """Fault injection: the replicator removes the (still empty) hash directory right after
    commit opened it; the rename through the stale descriptor fails, commit makes the directory
    again, opens it afresh and the PUT succeeds."""
    real = diskfile._open_dir
    hash_dir = layout.hash_dir(device, 1, H)
    pruned = []

    def open_then_prune(path):
        fd = real(path)
        if fd >= 0 and path == hash_dir and not pruned:
            os.rmdir(hash_dir)  # empty: exactly what the replicator may remove
            pruned.append(path)
        return fd
    monkeypatch.setattr(diskfile, "_open_dir", open_then_prune)
    final = put(device, "1000000001.00000", b"kept")
    assert pruned == [hash_dir] and os.path.dirname(final) == hash_dir
    opened, _ = diskfile.open_object(device, 1, H)
    assert opened.read(0, 100) == b"kept"
    opened.close()
