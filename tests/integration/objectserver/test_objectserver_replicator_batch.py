"""The batched REPLICATE: one request per peer device for up to replicator.BATCH partitions.

Real nodes on loopback and a real ring (3 replicas over four one-device nodes). The replicator's
requests are recorded by a wrapper around replicator._request that still sends them.
"""
import json
import os
import socket

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from objectserver import replicator
from objectserver.app import NODE
from strato.timestamps import Timestamp

pytestmark = pytest.mark.timeout(90)
PREFIX, SUFFIX = "pre", "suf"  # as conftest.make_config
POLICY = "X-Backend-Storage-Policy-Index"


def ts(offset=0.0):
    return Timestamp(Timestamp.now().seconds + offset).internal


def build_rings(tmp_path, ports):
    """object/container/account rings over devices n0..n3 at the given ports (part_power 3)."""
    from ring import Ring, RingBuilder

    rings = {}
    for kind in ("object", "container", "account"):
        builder = RingBuilder(part_power=3, replicas=3, min_part_hours=0, seed=7)
        for i, port in enumerate(ports):
            builder.add_device(region=1, zone=i + 1, ip="127.0.0.1", port=port, device=f"n{i}",
                               weight=100)
        builder.rebalance()
        path = str(tmp_path / f"{kind}.ring")
        builder.write_ring(path)
        rings[kind] = Ring.load(path, PREFIX, SUFFIX)
    return rings


def attach(handle, rings):
    node = handle.app[NODE]
    node.port = handle.server.port
    node.rings_loader = lambda: rings


@pytest.fixture
async def cluster(node_factory, tmp_path):
    nodes = [await node_factory(f"node{i}", devices=(f"n{i}",)) for i in range(4)]
    rings = build_rings(tmp_path, [h.server.port for h in nodes])
    for handle in nodes:
        attach(handle, rings)
    return nodes, rings


@pytest.fixture
def sent(monkeypatch):
    """[(method, path, partitions of a batched REPLICATE or None)] of the replicator's requests."""
    log = []
    real = replicator._request

    async def recording(node, method, dev, path, headers=None, data=None):
        parts = json.loads(data)["partitions"] if path.startswith("replicate/object/") else None
        log.append((method, path, parts))
        return await real(node, method, dev, path, headers, data)

    monkeypatch.setattr(replicator, "_request", recording)
    return log


def names_by_partition(ring, count):
    """{partition: (object name,)} for the first `count` partitions that names o0, o1... hit."""
    out = {}
    i = 0
    while len(out) < count:
        out.setdefault(ring.get_part("a", "c", f"o{i}"), (f"o{i}",))
        i += 1
    return out


async def put(handle, device, part, name, body, **headers):
    async with handle.request("PUT", f"/object/{device}/{part}/a/c/{name}", data=body,
                              headers={"X-Timestamp": ts(), **headers}) as resp:
        assert resp.status == 201


async def read(handle, device, part, name):
    async with handle.request("GET", f"/object/{device}/{part}/a/c/{name}") as resp:
        return resp.status, resp.headers.copy(), await resp.read()


def object_requests(log):
    return [entry for entry in log if entry[1].startswith("object/")]


async def test_differing_partitions_are_pushed_through_one_batch_per_peer(cluster, sent):
    """data, a tombstone and a .meta that only node 0 has reach its peers; node 0 sends one
    REPLICATE per peer device (no per-partition form), and a second pass sends no object request."""
    nodes, rings = cluster
    ring = rings["object"]
    mine = [p for p in range(8) if "n0" in {d.device for d in ring.get_part_nodes(p)}]
    # one object per partition of n0, each in its own state
    names = {p: n for p, (n,) in names_by_partition(ring, 8).items() if p in mine}
    states = ["data", "tombstone", "meta"]
    deleted = {}
    for i, (part, name) in enumerate(sorted(names.items())):
        devs = ring.get_part_nodes(part)
        others = [(nodes[int(d.device[1:])], d.device) for d in devs if d.device != "n0"]
        state = states[i % 3]
        old = "1700000000.00000"
        if state != "data":  # every replica has the object; n0 alone has what came after
            for handle, dev in [(nodes[0], "n0")] + others:
                await put(handle, dev, part, name, b"old", **{"X-Timestamp": old})
        if state == "data":
            await put(nodes[0], "n0", part, name, b"new-" + name.encode(),
                      **{"Content-Type": "x/y"})
        elif state == "tombstone":
            deleted[name] = ts()
            async with nodes[0].request("DELETE", f"/object/n0/{part}/a/c/{name}",
                                        headers={"X-Timestamp": deleted[name]}) as resp:
                assert resp.status == 204
        else:
            async with nodes[0].request("POST", f"/object/n0/{part}/a/c/{name}",
                                        headers={"X-Timestamp": ts(), "X-Object-Meta-K": "v"}) as r:
                assert r.status == 202
    assert await replicator.replicate_once(nodes[0].app[NODE])

    batches = [e for e in sent if e[1].startswith("replicate/object/")]
    peer_devices = {d.device for p in mine for d in ring.get_part_nodes(p)} - {"n0"}
    assert sorted(path for _, path, _ in batches) == sorted(f"replicate/object/{d}"
                                                            for d in peer_devices)
    asked = sorted((path.rsplit("/", 1)[1], p) for _, path, parts in batches for p in parts)
    assert asked == sorted((d.device, p) for p in mine for d in ring.get_part_nodes(p)
                           if d.device != "n0")
    assert {m for m, _, _ in object_requests(sent)} == {"PUT", "DELETE", "POST"}
    for i, (part, name) in enumerate(sorted(names.items())):
        for dev in ring.get_part_nodes(part):
            status, headers, body = await read(nodes[int(dev.device[1:])], dev.device, part, name)
            state = states[i % 3]
            if state == "data":
                assert (status, body) == (200, b"new-" + name.encode())
                assert headers["Content-Type"] == "x/y"
            elif state == "tombstone":
                assert status == 404 and headers["X-Backend-Timestamp"] == deleted[name]
            else:
                assert (status, body, headers["X-Object-Meta-K"]) == (200, b"old", "v")

    sent.clear()  # everything is in sync now: only digests travel
    assert await replicator.replicate_once(nodes[0].app[NODE])
    assert object_requests(sent) == []
    assert len([e for e in sent if e[1].startswith("replicate/object/")]) == len(peer_devices)


async def test_batches_hold_at_most_batch_partitions(cluster, sent, monkeypatch):
    nodes, rings = cluster
    ring = rings["object"]
    monkeypatch.setattr(replicator, "BATCH", 2)
    by_part = names_by_partition(ring, 8)
    for part, (name,) in by_part.items():
        await put(nodes[0], "n0", part, name, b"x")  # primary or handoff: n0 holds all 8
    assert await replicator.replicate_once(nodes[0].app[NODE])
    batches = [(path, parts) for _, path, parts in sent if parts is not None]
    assert batches and all(1 <= len(parts) <= 2 for _, parts in batches)
    # still every partition compared with every other primary, once
    asked = sorted((path.rsplit("/", 1)[1], p) for path, parts in batches for p in parts)
    assert asked == sorted((d.device, p) for p in range(8) for d in ring.get_part_nodes(p)
                           if d.device != "n0")
    # batches of 2 local partitions: one request per peer device of each pair
    expected = sum(len({d.device for p in pair for d in ring.get_part_nodes(p)} - {"n0"})
                   for pair in ([0, 1], [2, 3], [4, 5], [6, 7]))
    assert len(batches) == expected


async def test_a_write_reaching_both_while_the_peer_hashes_is_not_pushed(cluster, monkeypatch):
    """We hash, then an overwrite lands on every replica, then the peer hashes: the digests differ
    only because ours is older; looking again before pushing finds them equal."""
    nodes, rings = cluster
    ring = rings["object"]
    part = next(p for p in range(8) if "n0" in {d.device for d in ring.get_part_nodes(p)})
    devs = ring.get_part_nodes(part)
    name = next(f"w{i}" for i in range(999) if ring.get_part("a", "c", f"w{i}") == part)

    async def everywhere(stamp):
        for dev in devs:
            await put(nodes[int(dev.device[1:])], dev.device, part, name, stamp.encode(),
                      **{"X-Timestamp": stamp})

    await everywhere(ts())
    assert await replicator.replicate_once(nodes[0].app[NODE])  # in sync, digests cached
    real = replicator._request
    log = []

    async def overwrite_first(node, method, dev, path, headers=None, data=None):
        log.append((method, path))
        if path.startswith("replicate/object/") and part in json.loads(data)["partitions"] \
                and ("written", name) not in log:
            await everywhere(ts(1))  # after our hash, before the peer's
            log.append(("written", name))
        return await real(node, method, dev, path, headers, data)

    monkeypatch.setattr(replicator, "_request", overwrite_first)
    assert await replicator.replicate_once(nodes[0].app[NODE])
    assert ("written", name) in log
    assert [m for m, path in log if path.startswith("object/")] == []


@pytest.fixture
async def failing_server():
    """A loopback server answering 500 to everything (a peer whose REPLICATE breaks)."""
    async def fail(request):
        return web.Response(status=500, text="boom")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fail)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    yield server
    await server.close()


def dead_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_down_or_failing_peer_marks_its_partitions_and_the_pass_goes_on(
        node_factory, tmp_path, failing_server, sent):
    """n2 answers 500, n3 is not listening: their partitions are not in sync, the others still get
    their data, and a handoff partition is kept (not every primary took it)."""
    good = [await node_factory(f"node{i}", devices=(f"n{i}",)) for i in range(2)]
    rings = build_rings(tmp_path, [good[0].server.port, good[1].server.port,
                                   failing_server.port, dead_port()])
    for handle in good:
        attach(handle, rings)
    ring = rings["object"]
    by_part = names_by_partition(ring, 8)
    for part, (name,) in by_part.items():
        await put(good[0], "n0", part, name, b"payload")
    result = await replicator.replicate_partitions(good[0].app[NODE], ring, "n0", sorted(by_part))
    assert result == dict.fromkeys(range(8), False)  # every partition has n2 or n3 as a primary
    for part, (name,) in by_part.items():
        devices = {d.device for d in ring.get_part_nodes(part)}
        if "n1" in devices:
            assert (await read(good[1], "n1", part, name))[2] == b"payload"
        if "n0" not in devices:  # a handoff partition stays until every primary took it
            assert (await read(good[0], "n0", part, name))[0] == 200
    assert {path.rsplit("/", 1)[1] for _, path, parts in sent if parts} == {"n1", "n2", "n3"}
    assert await replicator.replicate_once(good[0].app[NODE])  # a whole pass does not stop either


async def test_batch_answer_is_the_single_answers_together(node):
    for part, name in ((7, "o1"), (7, "o2"), (8, "o3")):
        await put(node, "d0", part, name, b"v")
    singles = {}
    for part in (7, 8, 9):
        async with node.request("POST", f"/replicate/object/d0/{part}") as resp:
            assert resp.status == 200
            singles[str(part)] = await resp.json()
    async with node.request("POST", "/replicate/object/d0", json={"partitions": [7, 8, 9]}) as r:
        assert r.status == 200
        assert await r.json() == singles
    assert singles["7"] and singles["8"] and singles["9"] == {}
    async with node.request("PUT", "/object/d0/3/a/c/p", data=b"one",
                            headers={"X-Timestamp": ts(), POLICY: "1"}) as resp:
        assert resp.status == 201
    async with node.request("POST", "/replicate/object/d0", json={"partitions": [3]},
                            headers={POLICY: "1"}) as resp:
        assert list((await resp.json())["3"])
    async with node.request("POST", "/replicate/object/d0", json={"partitions": [3]}) as resp:
        assert await resp.json() == {"3": {}}


@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b'{"partitions": []}',
                                  b'{"partitions": "7"}', b'{"partitions": [-1]}',
                                  b'{"partitions": [true]}', b'{"partitions": [1.5]}',
                                  b'{"partitions": ["7"]}', b'{"parts": [7]}',
                                  json.dumps({"partitions": list(range(1025))}).encode()])
async def test_bad_batch_bodies_get_400(node, body):
    async with node.request("POST", "/replicate/object/d0", data=body) as resp:
        assert resp.status == 400


async def test_batch_on_a_foreign_device_or_with_another_verb(node):
    async with node.request("POST", "/replicate/object/nope", json={"partitions": [1]}) as resp:
        assert resp.status == 507
    async with node.request("GET", "/replicate/object/d0") as resp:
        assert resp.status == 405
    async with node.request("POST", "/replicate/object/d0/x") as resp:
        assert resp.status == 400
    os.makedirs(os.path.join(node.root, "d0", "objects", "5"), exist_ok=True)
    async with node.request("POST", "/replicate/object/d0", json={"partitions": [5, 5]}) as resp:
        assert resp.status == 200 and await resp.json() == {"5": {}}
