"""A real cluster on loopback for the account-ACL and service-token tests: 3 storage nodes and a
proxy started as `python -m strato serve` processes (ports from tests/ports.py, 21100-21199)
with the users of Swift's functional suite, and no info cache so ACL changes apply at once."""
import os

import pytest
import requests

from clusterhelper import ServeCluster  # tests/clusterhelper.py
from ports import free_block  # tests/ports.py

USERS = ["test:tester:testing:.admin", "test:tester3:testing3",
         "test2:tester2:testing2:.admin", "test5:tester5:testing5:service",
         "admin:admin:admin:.admin,.reseller_admin"]


class Cluster(ServeCluster):
    def __init__(self, root):
        base = free_block(21100, 21200, 4)
        super().__init__(root, {
            "cluster": {"data_dir": os.path.join(str(root), "data"), "hash_path_prefix": "pp",
                        "hash_path_suffix": "ss", "log_level": "warning"},
            "ring": {"part_power": 4, "replicas": 3},
            "storage": {"base_port": base + 1, "nodes": 3, "devices_per_node": 1,
                        "fallocate_reserve_mb": 0},
            "proxy": {"port": base, "users": USERS, "info_cache_ttl": 0.0,
                      "auth": ["tempauth"]},
        })


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
