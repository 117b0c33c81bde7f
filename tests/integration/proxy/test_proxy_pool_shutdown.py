"""The proxy application closes its node pool's idle connections when it shuts down (a kept-alive
connection to a storage node is not left for the process exit to drop)."""
import os
import types

import pytest
from aiohttp.test_utils import TestServer
from yarl import URL

from objectserver.app import create_app as create_node_app
from proxy.app import CORE, create_app
from ring.builder import RingBuilder
from ring.lookup import Ring
from strato import config as config_mod

pytestmark = pytest.mark.timeout(60)


async def test_shutdown_closes_the_idle_node_connections(tmp_path):
    config = config_mod.load(overrides={
        "cluster": {"data_dir": str(tmp_path), "hash_path_prefix": "p", "hash_path_suffix": "s",
                    "use_uvloop": False},
        "storage": {"fallocate_reserve_mb": 0}}, environ={})
    root = os.path.join(str(tmp_path), "n0")
    os.makedirs(os.path.join(root, "d0", "objects"))
    node_server = TestServer(create_node_app(config, root, ["d0"], daemons=False),
                             host="127.0.0.1", port=0)
    await node_server.start_server()
    builder = RingBuilder(4, 1)
    builder.add_device(1, 0, "127.0.0.1", node_server.port, "d0", 1.0)
    builder.rebalance()
    ring = Ring.from_builder(builder)
    rings = types.SimpleNamespace(account=ring, container=ring, object=ring)
    proxy = create_app(config, rings=rings, run_expirer=False)
    proxy_server = TestServer(proxy, host="127.0.0.1", port=0)
    await proxy_server.start_server()
    try:
        backend = proxy[CORE].backend
        node = types.SimpleNamespace(ip="127.0.0.1", port=node_server.port, device="d0")
        url = URL(f"http://127.0.0.1:{node_server.port}/account/d0/0/AUTH_x")
        resp = await backend.call(node, "HEAD", url, {})
        assert resp.status in (204, 404)
        assert backend.pool.idle_count("127.0.0.1", node_server.port) == 1  # kept alive
        await proxy_server.close()  # runs the application's cleanup
        assert backend.pool.idle_count("127.0.0.1", node_server.port) == 0
    finally:
        await proxy_server.close()
        await node_server.close()
