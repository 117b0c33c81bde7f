"""A real cluster on loopback for the storage-policy tests: 3 storage nodes (2 devices each) and
a proxy, as `python -m strato serve ...` processes, with the default policy table (gold: 3
replicas, silver: 2). Ports come from free_block in 29700-29799; the daemons run fast so that
replication and auditing can be watched within a test."""
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests
import tomli_w

from ports import free_block

USERS = ["test:tester:testing:.admin"]


def wait_port(port, proc, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"port {port} never answered")


class PolicyCluster:
    def __init__(self, root):
        self.root = str(root)
        base = free_block(29700, 29800, 4)
        self.proxy_port, self.node_base = base, base + 1
        self.data = os.path.join(self.root, "data")
        settings = {
            "cluster": {"data_dir": self.data, "hash_path_prefix": "pp",
                        "hash_path_suffix": "ss", "log_level": "warning"},
            "ring": {"part_power": 6, "replicas": 3},
            "storage": {"base_port": self.node_base, "nodes": 3, "devices_per_node": 2,
                        "fallocate_reserve_mb": 0, "replicator_interval": 0.5,
                        "auditor_interval": 0.5},
            "proxy": {"port": self.proxy_port, "users": USERS, "info_cache_ttl": 0.0},
        }
        self.conf = os.path.join(self.root, "strato.toml")
        with open(self.conf, "wb") as f:
            tomli_w.dump(settings, f)
        from objectserver import service as storage_service
        from strato import config as config_mod

        self.config = config_mod.load(self.conf, environ={})
        storage_service.prepare(self.config)
        self.procs = []

    def _spawn(self, name, port, *args):
        with open(os.path.join(self.root, f"{name}.log"), "ab") as log:
            proc = subprocess.Popen([sys.executable, "-m", "strato", "serve", *args, "--config",
                                     self.conf], stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
        self.procs.append(proc)
        wait_port(port, proc)

    def start(self):
        for i in range(3):
            self._spawn(f"node{i}", self.node_base + i, "storage", "--instance", str(i))
        self._spawn("proxy", self.proxy_port, "proxy")
        return self

    def stop(self):
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()

    @property
    def auth_url(self):
        return f"http://127.0.0.1:{self.proxy_port}/auth/v1.0"

    def files(self, policy_dir, suffix=".data"):
        """Paths of every file ending in `suffix` under <device>/<policy_dir>/ on any device."""
        found = []
        devices = os.path.join(self.data, "devices")
        for device in sorted(os.listdir(devices)):
            for top, _dirs, names in os.walk(os.path.join(devices, device, policy_dir)):
                found += [os.path.join(top, n) for n in names if n.endswith(suffix)]
        return found


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = PolicyCluster(tmp_path_factory.mktemp("policies"))
    try:
        yield c.start()
    finally:
        c.stop()


@pytest.fixture(scope="module")
def conn(cluster):
    import swiftclient

    return swiftclient.Connection(authurl=cluster.auth_url, user="test:tester", key="testing",
                                  retries=0)


@pytest.fixture(scope="module")
def token(cluster):
    resp = requests.get(cluster.auth_url, headers={"X-Auth-User": "test:tester",
                                                   "X-Auth-Key": "testing"})
    resp.raise_for_status()
    return resp.headers["X-Storage-Url"], resp.headers["X-Auth-Token"]
