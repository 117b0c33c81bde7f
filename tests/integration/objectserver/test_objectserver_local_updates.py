"""Container updates for a replica on the writing node itself are merged in process (no HTTP),
with the same outcome as over HTTP: the row is listed, a failure waits in async_pending."""
import json
import os

import pytest

from objectserver.app import NODE
from strato.timestamps import Timestamp

pytestmark = pytest.mark.timeout(60)


def ts(offset=0.0):
    return Timestamp(Timestamp.now().seconds + offset).internal


async def listing(node, path):
    async with node.request("GET", f"{path}?format=json") as resp:
        assert resp.status == 200
        return [(r["name"], r["bytes"], r["hash"]) for r in json.loads(await resp.read())]


async def make_container(node, device="d1"):
    async with node.request("PUT", f"/container/{device}/5/acc/cont",
                            headers={"X-Timestamp": ts()}) as resp:
        assert resp.status == 201


async def without_http(node):
    """Close the node's client session: an update it sends over HTTP now fails (and is kept in
    async_pending), so a listed row and an empty async_pending prove the in-process path."""
    await node.app[NODE].session.close()


async def test_own_replica_is_updated_in_process(node):
    await make_container(node)
    await without_http(node)
    targets = {"X-Container-Host": node.host, "X-Container-Device": "d1",
               "X-Container-Partition": "5"}
    async with node.request("PUT", "/object/d0/9/acc/cont/o%2F1", data=b"12345",
                            headers=dict(targets, **{"X-Timestamp": ts(1)})) as resp:
        assert resp.status == 201
    assert await listing(node, "/container/d1/5/acc/cont") == [
        ("o/1", 5, "827ccb0eea8a706c4c34a16891f84e7b")]
    async with node.request("DELETE", "/object/d0/9/acc/cont/o%2F1",
                            headers=dict(targets, **{"X-Timestamp": ts(2)})) as resp:
        assert resp.status == 204
    assert await listing(node, "/container/d1/5/acc/cont") == []
    assert node.pending_files() == []
    async with node.request("HEAD", "/container/d1/5/acc/cont") as resp:
        assert resp.headers["X-Container-Object-Count"] == "0"


async def test_in_process_failure_is_kept_for_the_updater(node):
    # no container on d1, and a device this node does not have: both updates fail and wait
    await without_http(node)
    headers = {"X-Container-Host": f"{node.host},{node.host}", "X-Container-Device": "d1,nope",
               "X-Container-Partition": "5", "X-Timestamp": ts(1)}
    async with node.request("PUT", "/object/d0/9/acc/cont/obj", data=b"abc",
                            headers=headers) as resp:
        assert resp.status == 201  # the object is durable; its listing waits
    saved = []
    for path in node.pending_files():
        with open(path) as f:
            saved.append(json.load(f))
    assert sorted(u["target"]["device"] for u in saved) == ["d1", "nope"]
    assert all(u["op"] == "PUT" and u["headers"]["X-Size"] == "3" for u in saved)


async def test_own_and_remote_replicas_both_get_the_row(node_factory):
    here = await node_factory("here")
    there = await node_factory("there")
    for n in (here, there):
        await make_container(n)
    headers = {"X-Container-Host": f"{there.host},{here.host}", "X-Container-Device": "d1,d1",
               "X-Container-Partition": "5", "X-Timestamp": ts(1)}
    async with here.request("PUT", "/object/d0/9/acc/cont/x", data=b"12345",
                            headers=headers) as resp:
        assert resp.status == 201
    for n in (here, there):
        assert await listing(n, "/container/d1/5/acc/cont") == [
            ("x", 5, "827ccb0eea8a706c4c34a16891f84e7b")]
    assert here.pending_files() == []


async def test_row_path_checks_the_device(node, node_factory):
    """merge_row (every row PUT/DELETE, over HTTP or in process) answers 507 for a device that
    is not this node's, and for a row PUT on a full node; a row DELETE needs no room."""
    os.makedirs(os.path.join(node.root, "d2", "objects"))  # on disk, but not one of ours
    row = {"X-Size": "1", "X-Content-Type": "t/p", "X-Etag": "e"}
    async with node.request("PUT", "/container/d2/5/acc/cont/o",
                            headers=dict(row, **{"X-Timestamp": ts()})) as resp:
        assert resp.status == 507
    async with node.request("DELETE", "/container/d2/5/acc/cont/o",
                            headers={"X-Timestamp": ts()}) as resp:
        assert resp.status == 507
    full = await node_factory("full", fallocate_reserve_mb=10 ** 9)
    async with full.request("PUT", "/container/d1/5/acc/cont/o",
                            headers=dict(row, **{"X-Timestamp": ts()})) as resp:
        assert resp.status == 507
    async with full.request("DELETE", "/container/d1/5/acc/cont/o",
                            headers={"X-Timestamp": ts()}) as resp:
        assert resp.status == 404  # room is not asked for; there is just no such container
