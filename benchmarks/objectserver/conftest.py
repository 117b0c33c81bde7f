"""One real storage node (two devices on the local disk) on an ephemeral loopback port, served by
its own event loop in a background thread, so pytest-benchmark's synchronous timer can drive it
over keep-alive HTTP (what a proxy pays per backend request, fsyncs included)."""
import asyncio
import http.client
import os
import threading

import pytest
from aiohttp import web

from objectserver.app import create_app
from strato import config as config_mod

DEVICES = ("d0", "d1")


class NodeThread:
    def __init__(self, root: str, config):
        self.root, self.config = root, config
        self.loop = asyncio.new_event_loop()
        self.port = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-node", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        app = create_app(self.config, self.root, DEVICES, daemons=False)
        runner = web.AppRunner(app, access_log=None)
        self.loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        self._runner = runner
        self._ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(runner.cleanup())
        self.loop.close()

    def start(self) -> "NodeThread":
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("storage node did not start")
        return self

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(30)

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("objectserver-bench")
    root = os.path.join(str(tmp), "devices")
    for name in DEVICES:
        os.makedirs(os.path.join(root, name, "objects"), exist_ok=True)
    config = config_mod.load(overrides={
        "cluster": {"data_dir": str(tmp), "hash_path_prefix": "pre", "hash_path_suffix": "suf"},
        "storage": {"fallocate_reserve_mb": 0}}, environ={})
    handle = NodeThread(root, config).start()
    yield handle
    handle.stop()


@pytest.fixture
def conn(node):
    c = node.connection()
    yield c
    c.close()
