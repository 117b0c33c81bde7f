"""A real cluster on loopback for the proxy's integration tests: 3 storage nodes + 1 proxy.

Started as `python -m strato serve storage|proxy` processes from a generated TOML file, on ports
28000-28099 (proxy 28000+k, nodes 28010+k..), rings built by the storage service's prepare().
Module-scoped: tests that kill a node restart it before they return.
"""
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests
import tomli_w

PROXY_PORT = 28000
NODE_BASE = 28010
USERS = ["test:tester:testing:.admin", "test:tester3:testing3", "test2:tester2:testing2:.admin",
         "admin:admin:admin:.admin,.reseller_admin"]


def wait_port(port, timeout=30.0, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"port {port} never answered")


class Cluster:
    def __init__(self, root, offset=0, nodes=3, **proxy):
        self.root = str(root)
        self.proxy_port = PROXY_PORT + offset
        self.node_base = NODE_BASE + offset * 4
        self.nodes = nodes
        self.procs = {}
        settings = {
            "cluster": {"data_dir": os.path.join(self.root, "data"), "hash_path_prefix": "pp",
                        "hash_path_suffix": "ss", "log_level": "warning"},
            "ring": {"part_power": 6, "replicas": 3},
            "storage": {"base_port": self.node_base, "nodes": nodes, "devices_per_node": 2,
                        "fallocate_reserve_mb": 0, "updater_interval": 0.5},
            "proxy": {"port": self.proxy_port, "users": USERS, "conn_timeout": 0.5,
                      "node_timeout": 5.0, "expirer_interval": 0.5, "info_cache_ttl": 0.0,
                      "error_limit_count": 3, "error_limit_seconds": 3.0, **proxy},
        }
        self.conf = os.path.join(self.root, "strato.toml")
        with open(self.conf, "wb") as f:
            tomli_w.dump(settings, f)
        from objectserver import service as storage_service
        from strato import config as config_mod
        self.config = config_mod.load(self.conf, environ={})
        storage_service.prepare(self.config)

    def _spawn(self, name, *args):
        log = open(os.path.join(self.root, f"{name}.log"), "ab")
        proc = subprocess.Popen([sys.executable, "-m", "strato", "serve", *args, "--config",
                                 self.conf], stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        log.close()
        self.procs[name] = proc
        return proc

    def start_node(self, i):
        proc = self._spawn(f"node{i}", "storage", "--instance", str(i))
        wait_port(self.node_base + i, proc=proc)

    def stop_node(self, i, sig=signal.SIGKILL):
        proc = self.procs.pop(f"node{i}")
        proc.send_signal(sig)
        proc.wait(timeout=20)

    def start(self):
        for i in range(self.nodes):
            self.start_node(i)
        proc = self._spawn("proxy", "proxy")
        wait_port(self.proxy_port, proc=proc)
        return self

    def stop(self):
        for proc in self.procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs.clear()

    @property
    def auth_url(self):
        return f"http://127.0.0.1:{self.proxy_port}/auth/v1.0"

    @property
    def base(self):
        return f"http://127.0.0.1:{self.proxy_port}"

    def login(self, user="test:tester", key="testing"):
        resp = requests.get(self.auth_url, headers={"X-Auth-User": user, "X-Auth-Key": key})
        resp.raise_for_status()
        return resp.headers["X-Storage-Url"], resp.headers["X-Auth-Token"]

    def log(self, name):
        with open(os.path.join(self.root, f"{name}.log"), errors="replace") as f:
            return f.read()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = Cluster(tmp_path_factory.mktemp("proxycluster"))
    try:
        c.start()
        yield c
    finally:
        c.stop()


class Client:
    """requests with the test user's token and storage URL."""

    def __init__(self, cluster, user="test:tester", key="testing"):
        self.url, self.token = cluster.login(user, key)
        self.session = requests.Session()

    def __call__(self, method, path="", headers=None, **kwargs):
        h = {"X-Auth-Token": self.token, **(headers or {})}
        return self.session.request(method, self.url + path, headers=h, timeout=30, **kwargs)


@pytest.fixture(scope="module")
def swift(cluster):
    return Client(cluster)


@pytest.fixture(scope="module")
def client_for(cluster):
    """client_for(user, key) -> a Client logged in as that user."""
    return lambda user, key: Client(cluster, user, key)
