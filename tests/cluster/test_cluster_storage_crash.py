"""kill -9 a real storage-node process in the middle of a PUT: no partial object, ever.

The node runs as `python -m strato serve storage` on a port from 26200-26299; after the kill its
temp file is still on disk (proving the write was in flight), the restart sweeps it, and neither
the object nor its bytes are visible; objects committed before the kill read back intact.
"""
import hashlib
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from strato.timestamps import Timestamp
from clusterhelper import wait_port  # tests/clusterhelper.py
from ports import free_block  # tests/ports.py

pytestmark = pytest.mark.timeout(90)
PORTS = range(26200, 26300)


def free_port() -> int:
    return free_block(PORTS.start, PORTS.stop)


class StorageProcess:
    def __init__(self, tmp_path):
        self.data = tmp_path / "data"
        self.port = free_port()
        self.device = self.data / "devices" / "n0d0"
        (self.device / "objects").mkdir(parents=True)
        self.config = tmp_path / "storage.toml"
        self.config.write_text(
            f'[cluster]\ndata_dir = "{self.data}"\nhash_path_prefix = "p"\nhash_path_suffix = "s"\n'
            f'log_level = "warning"\n[storage]\nbase_port = {self.port}\nnodes = 1\n'
            f'devices_per_node = 1\nfallocate_reserve_mb = 0\n')
        self.log = open(tmp_path / "storage.log", "ab")
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "strato", "serve", "storage", "--config", str(self.config)],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_port(self.port, self.process)

    def kill9(self):
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def storage(tmp_path):
    proc = StorageProcess(tmp_path)
    proc.start()
    yield proc
    proc.stop()


def test_kill9_mid_put_leaves_no_partial_object(storage):
    committed = os.urandom(2 << 20)
    resp = requests.put(storage.url("/object/n0d0/3/a/c/done"), data=committed,
                        headers={"X-Timestamp": Timestamp.now().internal})
    assert resp.status_code == 201

    sock = socket.create_connection(("127.0.0.1", storage.port))
    sock.sendall((f"PUT /object/n0d0/3/a/c/partial HTTP/1.1\r\nHost: x\r\n"
                  f"X-Timestamp: {Timestamp.now().internal}\r\nContent-Length: {64 << 20}\r\n\r\n"
                  ).encode())
    chunk = b"z" * (1 << 20)
    tmp_dir = storage.device / "tmp"
    for _ in range(8):
        sock.sendall(chunk)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # wait until the node has written part of it to disk
        sizes = [f.stat().st_size for f in tmp_dir.iterdir()]
        if sizes and max(sizes) >= 4 << 20:
            break
        time.sleep(0.05)
    assert sizes and max(sizes) >= 4 << 20, "the write never reached the temp file"
    storage.kill9()
    sock.close()
    assert list(tmp_dir.iterdir()), "the in-flight temp file should survive the kill"

    storage.start()
    assert list(tmp_dir.iterdir()) == []  # swept on start
    assert requests.get(storage.url("/object/n0d0/3/a/c/partial")).status_code == 404
    visible = [f for d, _, fs in os.walk(storage.device / "objects") for f in fs]
    assert len(visible) == 1  # only the committed object
    resp = requests.get(storage.url("/object/n0d0/3/a/c/done"))
    assert resp.status_code == 200
    assert hashlib.md5(resp.content).hexdigest() == hashlib.md5(committed).hexdigest()
