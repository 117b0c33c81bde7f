"""A real blockserver process (`strato serve blockserver`) on loopback, restartable."""
import os
import signal
import subprocess
import sys
import time

import pytest
import requests
from ports import free_block  # tests/ports.py

PORT_RANGE = range(24000, 24100)  # this area's test ports


def free_port(taken=()) -> int:
    return free_block(PORT_RANGE.start, PORT_RANGE.stop, 1, taken)


class BlockServer:
    def __init__(self, tmp_path, extra_toml=""):
        self.tmp_path = tmp_path
        self.port = free_port()
        self.iscsi_port = free_port({self.port})
        self.config = tmp_path / "strato.toml"
        self.config.write_text(
            f'[cluster]\ndata_dir = "{tmp_path / "var"}"\nlog_level = "warning"\n'
            f'[blockserver]\nauth_strategy = "noauth"\nport = {self.port}\n'
            f'[iscsi]\nport = {self.iscsi_port}\n' + extra_toml)
        self.proc = None
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self):
        self.log = open(self.tmp_path / "blockserver.log", "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "strato", "serve", "blockserver", "--config", str(self.config)],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"blockserver exited: {self.logs()}")
            try:
                requests.get(self.url + "/v3/", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"blockserver did not start: {self.logs()}")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self.log.close()

    def restart(self):
        self.stop()
        self.start()

    def logs(self) -> str:
        return (self.tmp_path / "blockserver.log").read_text(errors="replace")[-4000:]


class Api:
    """A tiny Cinder client over requests (no SDK: these tests pin the wire format)."""

    def __init__(self, base, project="p1", token=None, version="3.70"):
        self.base = f"{base}/v3/{project}"
        self.session = requests.Session()
        if token:
            self.session.headers["X-Auth-Token"] = token
        if version:
            self.session.headers["OpenStack-API-Version"] = f"volume {version}"

    def __getattr__(self, method):
        def call(path, json=None, **kw):
            return self.session.request(method.upper(), self.base + path, json=json, timeout=10,
                                        **kw)
        return call

    def wait(self, coll, item_id, status, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            r = self.get(f"/{coll}s/{item_id}")
            if status is None and r.status_code == 404:
                return None
            body = r.json()[coll] if r.status_code == 200 else None
            if body is not None and body["status"] == status:
                return body
            if time.monotonic() > deadline:
                raise AssertionError(f"{coll} {item_id} never became {status}: {r.text}")
            time.sleep(0.02)

    def new_volume(self, size=1, **kw):
        r = self.post("/volumes", {"volume": {"size": size, **kw}})
        assert r.status_code == 202, r.text
        return self.wait("volume", r.json()["volume"]["id"], "available")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = BlockServer(tmp_path_factory.mktemp("blockserver"))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def api(server):
    return Api(server.url, project=f"proj{os.urandom(4).hex()}")


@pytest.fixture
def make_api(server):
    """Api(...) for other projects or tokens (test modules cannot import this conftest)."""
    return lambda **kw: Api(server.url, **kw)
