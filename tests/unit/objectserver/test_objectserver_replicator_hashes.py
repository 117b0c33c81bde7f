"""SuffixHashes.get_many: a batch of partitions rehashed in one executor call, dirty sets taken
before hashing, one rehash at a time per device. A real storage Node (no server, no sockets) on a
temporary device; its io() is wrapped to count and interleave executor calls."""
import asyncio
import os

import pytest

from objectserver import diskfile, layout
from objectserver.app import Node
from strato import config as config_mod
from strato.timestamps import Timestamp

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def node(tmp_path):
    config = config_mod.load(overrides={"cluster": {"data_dir": str(tmp_path)},
                                        "storage": {"fallocate_reserve_mb": 0}}, environ={})
    diskfile.ensure_device_dirs(str(tmp_path / "d0"))
    node = Node(config, str(tmp_path), ["d0"])
    yield node
    node.executors.close()


def spy_io(node, before=None):
    """Wrap node.io: returns the list of functions called; before(fn) runs ahead of each call."""
    calls = []
    real = node.io

    async def io(device, fn, *args, **kwargs):
        calls.append(fn.__name__)
        if before is not None:
            await before(fn)
        return await real(device, fn, *args, **kwargs)

    node.io = io
    return calls


def write(node, part, name_hash, seconds, body=b"x"):
    writer = diskfile.Writer(node.device_path("d0"), part, name_hash)
    try:
        writer.write(body)
        stamp = Timestamp(seconds)
        writer.commit({"name": f"/a/c/{name_hash}", "X-Timestamp": stamp.internal}, stamp,
                      layout.DATA)
    finally:
        writer.abort()
    node.suffixes.invalidate("d0", part, name_hash)


def h(i):
    return f"{i:032x}"


def on_disk(node, part):
    return diskfile.partition_hashes(node.device_path("d0"), part)


async def test_a_batch_of_dirty_partitions_costs_one_executor_call(node):
    for part in range(1, 6):
        write(node, part, h(part), 1700000000)
    calls = spy_io(node)
    first = await node.suffixes.get_many("d0", range(1, 7))
    assert calls == ["hash_partitions"]  # six partitions never seen: one call
    assert first == {p: on_disk(node, p) for p in range(1, 7)} and first[6] == {}
    for part in range(1, 6):  # two dirty suffixes in each of five partitions
        write(node, part, h(part), 1700000001)
        write(node, part, h(part + 0x100), 1700000001)
    calls.clear()
    second = await node.suffixes.get_many("d0", range(1, 7))
    assert calls == ["hash_partitions"]
    assert second == {p: on_disk(node, p) for p in range(1, 7)}
    assert all(second[p] != first[p] and len(second[p]) == 2 for p in range(1, 6))
    calls.clear()
    assert await node.suffixes.get_many("d0", range(1, 7)) == second
    assert calls == []  # nothing touched: no executor call at all
    assert await node.suffixes.get("d0", 3) == second[3]  # the single form is the batch of one


async def test_an_emptied_suffix_leaves_the_digests(node):
    write(node, 1, h(1), 1700000000)
    write(node, 1, h(0x201), 1700000000)
    assert len(await node.suffixes.get("d0", 1)) == 2
    os.unlink(os.path.join(layout.hash_dir(node.device_path("d0"), 1, h(1)),
                           "1700000000.00000.data"))
    node.suffixes.invalidate("d0", 1, h(1))
    assert list(await node.suffixes.get("d0", 1)) == [layout.suffix_of(h(0x201))]


async def test_a_write_after_the_rehash_is_not_lost(node):
    write(node, 1, h(1), 1700000000)
    first = await node.suffixes.get("d0", 1)
    write(node, 1, h(1), 1700000001)
    real = node.io

    async def io_then_write(device, fn, *args):
        result = await real(device, fn, *args)
        write(node, 1, h(1), 1700000002, b"after")  # the hash above did not see this one
        return result

    node.io = io_then_write
    second = await node.suffixes.get("d0", 1)
    node.io = real
    assert second != first and second != on_disk(node, 1)
    assert await node.suffixes.get("d0", 1) == on_disk(node, 1)


async def test_rehashes_of_one_device_do_not_overlap(node):
    write(node, 1, h(1), 1700000000)
    await node.suffixes.get("d0", 1)
    running, peak, second = 0, 0, []

    async def overlap_probe(fn):
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        if not second:  # while the first rehash is in flight, a write and another request
            write(node, 1, h(1), 1700000002, b"newer")
            second.append(asyncio.create_task(node.suffixes.get("d0", 1)))
        await asyncio.sleep(0.05)
        running -= 1

    write(node, 1, h(1), 1700000001)
    spy_io(node, overlap_probe)
    await node.suffixes.get("d0", 1)
    assert await second[0] == on_disk(node, 1)
    assert peak == 1


async def test_a_failed_rehash_keeps_its_suffixes_dirty(node):
    write(node, 1, h(1), 1700000000)
    await node.suffixes.get("d0", 1)
    write(node, 1, h(1), 1700000001)
    real = node.io

    async def broken(device, fn, *args):
        raise OSError(5, "I/O error")

    node.io = broken
    with pytest.raises(OSError):
        await node.suffixes.get("d0", 1)
    node.io = real
    assert await node.suffixes.get("d0", 1) == on_disk(node, 1)


async def test_a_file_lost_behind_the_servers_back_shows_on_a_relist(node):
    """No dirty set knows of a file lost outside the server: the cached digest is trusted until
    the partition is relisted (the replicator relists a rotating share every pass)."""
    write(node, 1, h(1), 1700000000)
    write(node, 1, h(0x201), 1700000000)
    write(node, 2, h(2), 1700000000)
    assert len(await node.suffixes.get("d0", 1)) == 2
    before = await node.suffixes.get_many("d0", [1, 2])
    os.unlink(os.path.join(layout.hash_dir(node.device_path("d0"), 1, h(1)),
                           "1700000000.00000.data"))  # no invalidate: the server does not know
    calls = spy_io(node)
    assert await node.suffixes.get("d0", 1) == before[1] != on_disk(node, 1)  # cached
    assert calls == []
    relisted = await node.suffixes.get_many("d0", [1, 2], relist={1})
    assert calls == ["hash_partitions"]
    assert relisted == {1: on_disk(node, 1), 2: before[2]} and len(on_disk(node, 1)) == 1
