"""The replicator with four in-process nodes on loopback and a real ring (3 replicas)."""
import json
import os

import pytest

from objectserver import replicator
from objectserver.app import NODE
from strato.timestamps import Timestamp

pytestmark = pytest.mark.timeout(90)
PREFIX, SUFFIX = "pre", "suf"  # as conftest.make_config


def ts(offset=0.0):
    return Timestamp(Timestamp.now().seconds + offset).internal


def load_ring(path):
    from ring import Ring

    return Ring.load(path, PREFIX, SUFFIX)


@pytest.fixture
async def cluster(node_factory, tmp_path):
    """Four nodes (one device each, n0..n3) and object/container/account rings over them."""
    try:
        from ring import Ring, RingBuilder  # noqa: F401
    except ImportError:
        pytest.skip("the ring's lookup API has not landed")

    nodes = [await node_factory(f"node{i}", devices=(f"n{i}",)) for i in range(4)]
    rings = {}
    for kind in ("object", "container", "account"):
        builder = RingBuilder(part_power=3, replicas=3, min_part_hours=0, seed=7)
        for i, handle in enumerate(nodes):
            builder.add_device(region=1, zone=i + 1, ip="127.0.0.1", port=handle.server.port,
                               device=f"n{i}", weight=100)
        builder.rebalance()
        path = str(tmp_path / f"{kind}.ring")
        builder.write_ring(path)
        rings[kind] = load_ring(path)
    for handle in nodes:
        server_node = handle.app[NODE]
        server_node.port = handle.server.port
        server_node.rings_loader = lambda: rings
    return nodes, rings


def by_device(nodes, devs):
    return [nodes[int(d.device[1:])] for d in devs]


async def read(handle, device, part, name):
    async with handle.request("GET", f"/object/{device}/{part}/a/c/{name}") as resp:
        return resp.status, resp.headers.copy(), await resp.read()


async def test_objects_reach_every_primary_then_deletes_and_posts_follow(cluster):
    nodes, rings = cluster
    part, devs = rings["object"].get_nodes("a", "c", "obj")
    first, second, third = by_device(nodes, devs)
    path = f"/object/{devs[0].device}/{part}/a/c/obj"
    body = os.urandom(100_000)
    async with first.request("PUT", path, data=body, headers={
            "X-Timestamp": ts(), "Content-Type": "x/y", "X-Object-Meta-K": "v"}) as resp:
        assert resp.status == 201
    assert await replicator.replicate_once(first.app[NODE])
    for handle, dev in ((second, devs[1]), (third, devs[2])):
        status, headers, data = await read(handle, dev.device, part, "obj")
        assert status == 200 and data == body
        assert headers["X-Object-Meta-K"] == "v" and headers["Content-Type"] == "x/y"
    # a delete on one replica reaches the others
    delete_ts = ts(5)
    async with second.request("DELETE", f"/object/{devs[1].device}/{part}/a/c/obj",
                              headers={"X-Timestamp": delete_ts}) as resp:
        assert resp.status == 204
    assert await replicator.replicate_once(second.app[NODE])
    for handle, dev in ((first, devs[0]), (third, devs[2])):
        status, headers, _ = await read(handle, dev.device, part, "obj")
        assert status == 404 and headers["X-Backend-Timestamp"] == delete_ts


async def test_post_replicates_as_meta(cluster):
    nodes, rings = cluster
    part, devs = rings["object"].get_nodes("a", "c", "m")
    handles = by_device(nodes, devs)
    for handle, dev in zip(handles, devs):
        async with handle.request("PUT", f"/object/{dev.device}/{part}/a/c/m", data=b"same",
                                  headers={"X-Timestamp": "1700000000.00000"}) as resp:
            assert resp.status == 201
    async with handles[0].request("POST", f"/object/{devs[0].device}/{part}/a/c/m",
                                  headers={"X-Timestamp": ts(), "X-Object-Meta-New": "1"}) as r:
        assert r.status == 202
    await replicator.replicate_once(handles[0].app[NODE])
    status, headers, data = await read(handles[2], devs[2].device, part, "m")
    assert status == 200 and data == b"same" and headers["X-Object-Meta-New"] == "1"


async def test_handoff_data_moves_home_and_leaves(cluster):
    nodes, rings = cluster
    part, devs = rings["object"].get_nodes("a", "c", "lost")
    primaries = {d.device for d in devs}
    handoff_index = next(i for i in range(4) if f"n{i}" not in primaries)
    handoff = nodes[handoff_index]
    async with handoff.request("PUT", f"/object/n{handoff_index}/{part}/a/c/lost", data=b"home",
                               headers={"X-Timestamp": ts()}) as resp:
        assert resp.status == 201
    assert await replicator.replicate_once(handoff.app[NODE])
    for handle, dev in zip(by_device(nodes, devs), devs):
        status, _, data = await read(handle, dev.device, part, "lost")
        assert status == 200 and data == b"home"
    part_dir = os.path.join(handoff.root, f"n{handoff_index}", "objects", str(part))
    assert not os.path.exists(part_dir)


async def test_quarantined_copy_is_restored(cluster):
    nodes, rings = cluster
    part, devs = rings["object"].get_nodes("a", "c", "q")
    handles = by_device(nodes, devs)
    body = os.urandom(50_000)
    for handle, dev in zip(handles, devs):
        async with handle.request("PUT", f"/object/{dev.device}/{part}/a/c/q", data=body,
                                  headers={"X-Timestamp": "1700000000.00000"}) as resp:
            assert resp.status == 201
    victim_dir = os.path.join(handles[0].root, devs[0].device, "objects")
    victim = [os.path.join(d, f) for d, _, fs in os.walk(victim_dir) for f in fs][0]
    with open(victim, "r+b") as f:
        f.write(b"\xff\xfe")
    with pytest.raises(Exception):
        await read(handles[0], devs[0].device, part, "q")
    assert (await read(handles[0], devs[0].device, part, "q"))[0] == 404
    await replicator.replicate_once(handles[1].app[NODE])
    status, _, data = await read(handles[0], devs[0].device, part, "q")
    assert status == 200 and data == body


async def test_container_rows_and_account_rows_replicate(cluster):
    nodes, rings = cluster
    part, devs = rings["container"].get_nodes("a", "box")
    handles = by_device(nodes, devs)
    base = f"/container/{devs[0].device}/{part}/a/box"
    async with handles[0].request("PUT", base, headers={"X-Timestamp": ts(),
                                                        "X-Container-Meta-T": "x"}) as resp:
        assert resp.status == 201
    for i in range(1205):  # more than one batch
        async with handles[0].request("PUT", f"{base}/o{i:05d}", headers={
                "X-Timestamp": ts(), "X-Size": "2", "X-Content-Type": "t", "X-Etag": "e"}) as r:
            assert r.status == 201
    apart, adevs = rings["account"].get_nodes("a")
    ahandles = by_device(nodes, adevs)
    async with ahandles[0].request("PUT", f"/account/{adevs[0].device}/{apart}/a/box", headers={
            "X-Timestamp": ts(), "X-Put-Timestamp": ts(), "X-Delete-Timestamp": "0",
            "X-Object-Count": "1205", "X-Bytes-Used": "2410"}) as resp:
        assert resp.status == 201
    await replicator.replicate_once(handles[0].app[NODE])
    if ahandles[0] is not handles[0]:
        await replicator.replicate_once(ahandles[0].app[NODE])
    for handle, dev in zip(handles[1:], devs[1:]):
        async with handle.request("GET", f"/container/{dev.device}/{part}/a/box?format=json") as r:
            assert r.status == 200
            assert r.headers["X-Container-Object-Count"] == "1205"
            assert r.headers["X-Container-Meta-T"] == "x"
            assert len(json.loads(await r.read())) == 1205
    for handle, dev in zip(ahandles[1:], adevs[1:]):
        async with handle.request("GET", f"/account/{dev.device}/{apart}/a?format=json") as r:
            assert r.status == 200
            rows = json.loads(await r.read())
            assert [(x["name"], x["count"]) for x in rows] == [("box", 1205)]
