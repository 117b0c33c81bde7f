"""One storage node on an ephemeral loopback port, spoken to as the proxy does: the policy index
header picks the object directory; bad or unknown indexes get Swift's answers."""
import os

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from objectserver.app import create_app
from strato import config as config_mod

pytestmark = pytest.mark.timeout(60)
POLICY = "X-Backend-Storage-Policy-Index"


@pytest.fixture
async def node(tmp_path):
    config = config_mod.load(overrides={
        "cluster": {"data_dir": str(tmp_path), "hash_path_prefix": "p", "hash_path_suffix": "s",
                    "use_uvloop": False},
        "storage": {"fallocate_reserve_mb": 0}}, environ={})
    root = tmp_path / "devices"
    os.makedirs(root / "d0" / "objects")
    server = TestServer(create_app(config, str(root), ["d0"], daemons=False),
                        host="127.0.0.1", port=0)
    await server.start_server()
    async with aiohttp.ClientSession() as session:
        def call(method, path, headers=None, **kwargs):
            return session.request(method, f"http://127.0.0.1:{server.port}{path}",
                                   headers={"X-Timestamp": "1700000000.00000", **(headers or {})},
                                   **kwargs)
        call.root = root
        yield call
    await server.close()


def _files(root, top):
    return [n for _, _, names in os.walk(root / "d0" / top) for n in names]


async def test_policy_index_picks_the_directory(node):
    async with node("PUT", "/object/d0/3/a/c/o", {POLICY: "1"}, data=b"one") as resp:
        assert resp.status == 201
    assert _files(node.root, "objects-1") == ["1700000000.00000.data"]
    assert _files(node.root, "objects") == []
    async with node("GET", "/object/d0/3/a/c/o", {POLICY: "1"}) as resp:
        assert resp.status == 200 and await resp.read() == b"one"
    async with node("GET", "/object/d0/3/a/c/o") as resp:  # no header: policy 0, elsewhere
        assert resp.status == 404
    async with node("POST", "/replicate/object/d0/3", {POLICY: "1"}) as resp:
        assert list(await resp.json()) and resp.status == 200
    async with node("POST", "/replicate/object/d0/3") as resp:
        assert await resp.json() == {}


@pytest.mark.parametrize("value, status", [("7", 503), ("x", 400), ("-1", 400)])
async def test_bad_or_unknown_object_policy(node, value, status):
    async with node("PUT", "/object/d0/3/a/c/o", {POLICY: value}, data=b"x") as resp:
        assert resp.status == status
    assert _files(node.root, "objects") == [] and _files(node.root, "objects-1") == []


async def test_container_policy_on_the_node(node):
    async with node("PUT", "/container/d0/1/a/c", {POLICY: "9"}) as resp:
        assert resp.status == 400                       # not a policy of this cluster
    async with node("PUT", "/container/d0/1/a/c",
                    {"X-Backend-Storage-Policy-Default": "1"}) as resp:
        assert resp.status == 201
    async with node("HEAD", "/container/d0/1/a/c") as resp:
        assert resp.headers[POLICY] == "1"
    async with node("PUT", "/container/d0/1/a/c",
                    {POLICY: "0", "X-Timestamp": "1700000001.00000"}) as resp:
        assert resp.status == 409 and resp.headers[POLICY] == "1"
