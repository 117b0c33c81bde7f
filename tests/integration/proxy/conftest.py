"""A real cluster on loopback for the proxy's integration tests: 3 storage nodes + 1 proxy.

Started as `python -m strato serve storage|proxy` processes from a generated TOML file, on the
first free block of ports in 28000-28099 (proxy, then the nodes: with fixed ports two concurrent
runs could reach each other's cluster, whose tokens verify alike), rings built by the storage
service's prepare().
Module-scoped: tests that kill a node restart it before they return.
"""
import os
import uuid

import pytest
import requests

from clusterhelper import ServeCluster  # tests/clusterhelper.py
from ports import free_block  # tests/ports.py

USERS = ["test:tester:testing:.admin", "test:tester3:testing3", "test2:tester2:testing2:.admin",
         "admin:admin:admin:.admin,.reseller_admin"]


class Cluster(ServeCluster):
    def __init__(self, root, offset=0, nodes=3, **proxy):
        # offset: where the search for free ports starts (a second cluster in one module)
        base = free_block(28000 + offset, 28100, nodes + 1)
        super().__init__(root, {
            "cluster": {"data_dir": os.path.join(str(root), "data"), "hash_path_prefix": "pp",
                        "hash_path_suffix": "ss", "log_level": "warning"},
            "ring": {"part_power": 6, "replicas": 3},
            "storage": {"base_port": base + 1, "nodes": nodes,
                        "devices_per_node": 2, "fallocate_reserve_mb": 0,
                        "updater_interval": 0.5},
            "proxy": {"port": base, "users": USERS, "conn_timeout": 0.5,
                      "node_timeout": 5.0, "expirer_interval": 0.5, "info_cache_ttl": 0.0,
                      "error_limit_count": 3, "error_limit_seconds": 3.0, **proxy},
        })


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


@pytest.fixture
def container(swift):
    """A fresh, empty container for one test."""
    c = f"c-{uuid.uuid4().hex[:10]}"
    assert swift("PUT", f"/{c}").status_code == 201
    return c
