"""A real storage node on an ephemeral loopback port, with its own temporary devices."""
import os

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from objectserver.app import create_app
from strato import config as config_mod

DEVICES = ("d0", "d1")


def make_config(tmp_path, **storage):
    overrides = {"cluster": {"data_dir": str(tmp_path), "hash_path_prefix": "pre",
                             "hash_path_suffix": "suf", "use_uvloop": False},
                 "storage": {"fallocate_reserve_mb": 0, "updater_interval": 0.2,
                             "update_timeout": 0.5, "node_timeout": 1.0, **storage}}
    return config_mod.load(overrides=overrides, environ={})


def make_devices(root, names=DEVICES):
    for name in names:
        os.makedirs(os.path.join(root, name, "objects"), exist_ok=True)


class NodeHandle:
    def __init__(self, server, session, root, app):
        self.server, self.session, self.root, self.app = server, session, root, app

    @property
    def host(self):
        return f"127.0.0.1:{self.server.port}"

    def url(self, path):
        return f"http://{self.host}{path}"

    def request(self, method, path, **kwargs):
        return self.session.request(method, self.url(path), **kwargs)

    def pending_files(self, device="d0"):
        """The container updates waiting in a device's async_pending/ for the updater."""
        root = os.path.join(self.root, device, "async_pending")
        return [os.path.join(d, f) for d, _, files in os.walk(root) for f in files]


async def start_node(tmp_path, name="node", devices=DEVICES, daemons=False, **storage):
    root = os.path.join(str(tmp_path), name, "devices")
    make_devices(root, devices)
    app = create_app(make_config(tmp_path, **storage), root, devices, daemons=daemons)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    session = aiohttp.ClientSession(auto_decompress=False)
    return NodeHandle(server, session, root, app)


async def stop_node(handle):
    await handle.session.close()
    await handle.server.close()


@pytest.fixture
async def node(tmp_path):
    handle = await start_node(tmp_path)
    yield handle
    await stop_node(handle)


@pytest.fixture
async def node_factory(tmp_path):
    """start(name, **storage_settings) -> NodeHandle; all stopped at the end."""
    started = []

    async def start(name, devices=DEVICES, daemons=False, **storage):
        handle = await start_node(tmp_path, name=name, devices=devices, daemons=daemons, **storage)
        started.append(handle)
        return handle

    yield start
    for handle in started:
        await stop_node(handle)
