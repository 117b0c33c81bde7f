"""Storage-node apps served in this test process on loopback (one device `d0` each), and a ring
over them: for tests that drive the proxy's Backend against real nodes without processes."""
import os

from aiohttp.test_utils import TestServer

from objectserver.app import create_app
from ring.builder import RingBuilder
from ring.lookup import Ring
from strato import config as config_mod


def node_config(tmp_path):
    return config_mod.load(overrides={
        "cluster": {"data_dir": str(tmp_path), "hash_path_prefix": "p", "hash_path_suffix": "s",
                    "use_uvloop": False},
        "storage": {"fallocate_reserve_mb": 0, "update_timeout": 0.2}}, environ={})


async def start_node_apps(tmp_path, count: int = 3, middleware=None) -> list:
    """[(TestServer, root)] of `count` started nodes; middleware(i) may give one per node."""
    config = node_config(tmp_path)
    servers = []
    for i in range(count):
        root = os.path.join(str(tmp_path), f"n{i}")
        os.makedirs(os.path.join(root, "d0", "objects"))
        app = create_app(config, root, ["d0"], daemons=False)
        if middleware is not None:
            app.middlewares.append(middleware(i))
        server = TestServer(app, host="127.0.0.1", port=0)
        await server.start_server()
        servers.append((server, root))
    return servers


def ring_of(ports, part_power: int = 4, replicas: int = 3) -> Ring:
    """A ring of one `d0` device per port, one zone each."""
    builder = RingBuilder(part_power, replicas)
    for i, port in enumerate(ports):
        builder.add_device(1, i, "127.0.0.1", port, "d0", 1.0)
    builder.rebalance()
    return Ring.from_builder(builder)
