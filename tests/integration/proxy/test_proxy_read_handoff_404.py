"""A handoff's 404 is not an answer about the object (Swift's is_useful_response): when every
primary fails and the handoffs have no copy, a read is 503 -- which clients retry -- not a 404
for an object that may well exist. A primary's 404, or a handoff's tombstone, still is one.
Three real storage-node apps on loopback, plus three ring devices on ports nothing listens on."""
import socket

import pytest

from nodeapps import ring_of, start_node_apps  # tests/nodeapps.py
from proxy.backend import Backend, node_session
from proxy.nodes import ErrorLimiter
from strato.timestamps import Timestamp

pytestmark = pytest.mark.timeout(60)


def _dead_port() -> int:
    with socket.socket() as s:  # bound then closed: connecting is refused
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def cluster(tmp_path):
    servers = [server for server, _ in await start_node_apps(tmp_path)]
    live = {server.port for server in servers}
    ring = ring_of([*live, *(_dead_port() for _ in range(3))], part_power=6)
    session = node_session()
    yield ring, live, session
    await session.close()
    for server in servers:
        await server.close()


def _name(ring, live, primaries_live: int) -> str:
    for i in range(100000):
        name = f"o{i}"
        _, nodes = ring.get_nodes("AUTH_a", "c", name)
        if sum(n.port in live for n in nodes) == primaries_live:
            return name
    raise AssertionError("no such name")


async def test_failed_primaries_and_empty_handoffs_are_503(cluster):
    ring, live, session = cluster
    backend = Backend(session, ErrorLimiter(100, 1.0), 0.5, 2.0)
    name = _name(ring, live, 0)  # every primary dead; the live nodes are handoffs
    resp = await backend.read("GET", ring, "object", "AUTH_a", "c", name)
    assert resp.status == 503


async def test_a_primarys_404_and_a_handoffs_tombstone_are_answers(cluster):
    ring, live, session = cluster
    backend = Backend(session, ErrorLimiter(100, 1.0), 0.5, 2.0)
    name = _name(ring, live, 1)  # one live primary: its 404 is authoritative
    assert (await backend.read("GET", ring, "object", "AUTH_a", "c", name)).status == 404
    dead = _name(ring, live, 0)
    part, _ = ring.get_nodes("AUTH_a", "c", dead)
    stamp = Timestamp.now().internal
    for port in live:  # a tombstone on every live node (all of them handoffs for `dead`)
        async with session.delete(f"http://127.0.0.1:{port}/object/d0/{part}/AUTH_a/c/{dead}",
                                  headers={"X-Timestamp": stamp,
                                           "X-Backend-Storage-Policy-Index": "0"}) as r:
            assert r.status == 404
    resp = await backend.read("GET", ring, "object", "AUTH_a", "c", dead)
    assert resp.status == 404 and resp.headers.get("X-Backend-Timestamp") == stamp
