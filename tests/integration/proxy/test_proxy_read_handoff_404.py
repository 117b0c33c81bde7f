"""A handoff's 404 is not an answer about the object (Swift's is_useful_response): when every
primary fails and the handoffs have no copy, a read is 503 -- which clients retry -- not a 404
for an object that may well exist. A primary's 404, or a handoff's tombstone, still is one.
Three real storage-node apps on loopback, plus three ring devices on ports nothing listens on."""
import os
import socket

import pytest
from aiohttp.test_utils import TestServer

from objectserver.app import create_app
from proxy.backend import Backend, node_session
from proxy.nodes import ErrorLimiter
from ring.builder import RingBuilder
from ring.lookup import Ring
from strato import config as config_mod
from strato.timestamps import Timestamp

pytestmark = pytest.mark.timeout(60)


def _dead_port() -> int:
    with socket.socket() as s:  # bound then closed: connecting is refused
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def cluster(tmp_path):
    config = config_mod.load(overrides={
        "cluster": {"data_dir": str(tmp_path), "hash_path_prefix": "p", "hash_path_suffix": "s",
                    "use_uvloop": False},
        "storage": {"fallocate_reserve_mb": 0, "update_timeout": 0.2}}, environ={})
    servers = []
    for i in range(3):
        root = os.path.join(str(tmp_path), f"n{i}")
        os.makedirs(os.path.join(root, "d0", "objects"))
        server = TestServer(create_app(config, root, ["d0"], daemons=False),
                            host="127.0.0.1", port=0)
        await server.start_server()
        servers.append(server)
    builder = RingBuilder(6, 3)
    for i, server in enumerate(servers):
        builder.add_device(1, i, "127.0.0.1", server.port, "d0", 1.0)
    for i in range(3):
        builder.add_device(1, 3 + i, "127.0.0.1", _dead_port(), "d0", 1.0)
    builder.rebalance()
    ring = Ring.from_builder(builder)
    live = {server.port for server in servers}
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
