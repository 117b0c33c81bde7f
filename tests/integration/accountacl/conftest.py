"""A real cluster on loopback for the account-ACL and service-token tests: 3 storage nodes and a
proxy started as `python -m strato serve` processes (ports from tests/ports.py, 21100-21199)
with the users of Swift's functional suite, and no info cache so ACL changes apply at once."""
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests
import tomli_w

from ports import free_block  # tests/ports.py

USERS = ["test:tester:testing:.admin", "test:tester3:testing3",
         "test2:tester2:testing2:.admin", "test5:tester5:testing5:service",
         "admin:admin:admin:.admin,.reseller_admin"]


def _wait_port(port, proc, timeout=30.0):
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


class Cluster:
    def __init__(self, root):
        self.root = str(root)
        base = free_block(21100, 21200, 4)
        self.proxy_port, self.node_base = base, base + 1
        settings = {
            "cluster": {"data_dir": os.path.join(self.root, "data"), "hash_path_prefix": "pp",
                        "hash_path_suffix": "ss", "log_level": "warning"},
            "ring": {"part_power": 4, "replicas": 3},
            "storage": {"base_port": self.node_base, "nodes": 3, "devices_per_node": 1,
                        "fallocate_reserve_mb": 0},
            "proxy": {"port": self.proxy_port, "users": USERS, "info_cache_ttl": 0.0,
                      "auth": ["tempauth"]},
        }
        self.conf = os.path.join(self.root, "strato.toml")
        with open(self.conf, "wb") as f:
            tomli_w.dump(settings, f)
        from objectserver import service as storage_service
        from strato import config as config_mod
        storage_service.prepare(config_mod.load(self.conf, environ={}))
        self.procs = []

    def _spawn(self, name, port, *args):
        with open(os.path.join(self.root, f"{name}.log"), "ab") as log:
            proc = subprocess.Popen([sys.executable, "-m", "strato", "serve", *args, "--config",
                                     self.conf], stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
        self.procs.append(proc)
        _wait_port(port, proc)

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
    def base(self):
        return f"http://127.0.0.1:{self.proxy_port}"

    def login(self, user, key):
        resp = requests.get(self.base + "/auth/v1.0",
                            headers={"X-Auth-User": user, "X-Auth-Key": key}, timeout=10)
        resp.raise_for_status()
        return resp.headers["X-Storage-Url"], resp.headers["X-Auth-Token"]


@pytest.fixture(scope="session")  # one cluster for this folder's modules (started on first use)
def cluster(tmp_path_factory):
    c = Cluster(tmp_path_factory.mktemp("accountacl"))
    try:
        yield c.start()
    finally:
        c.stop()


class Client:
    """One user: requests against any account's URL with that user's token."""

    def __init__(self, cluster, user, key):
        self.cluster = cluster
        self.url, self.token = cluster.login(user, key)
        self.session = requests.Session()

    def __call__(self, method, account, path="", headers=None, **kwargs):
        h = {"X-Auth-Token": self.token, **(headers or {})}
        return self.session.request(method, f"{self.cluster.base}/v1/{account}{path}",
                                    headers=h, timeout=30, **kwargs)


@pytest.fixture(scope="session")
def users(cluster):
    """users["test:tester"] ... -> a logged-in Client for each configured user."""
    return {_user_key(entry)[0]: Client(cluster, *_user_key(entry)) for entry in USERS}


def _user_key(entry):
    account, user, key = entry.split(":")[:3]
    return f"{account}:{user}", key
