"""A real cluster on loopback for the storage-policy tests: 3 storage nodes (2 devices each) and
a proxy, as `python -m strato serve ...` processes, with the default policy table (gold: 3
replicas, silver: 2). Ports come from free_block in 29700-29799; the daemons run fast so that
replication and auditing can be watched within a test."""
import os

import pytest

from clusterhelper import ServeCluster  # tests/clusterhelper.py
from ports import free_block

USERS = ["test:tester:testing:.admin"]


class PolicyCluster(ServeCluster):
    def __init__(self, root):
        base = free_block(29700, 29800, 4)
        self.data = os.path.join(str(root), "data")
        super().__init__(root, {
            "cluster": {"data_dir": self.data, "hash_path_prefix": "pp",
                        "hash_path_suffix": "ss", "log_level": "warning"},
            "ring": {"part_power": 6, "replicas": 3},
            "storage": {"base_port": base + 1, "nodes": 3, "devices_per_node": 2,
                        "fallocate_reserve_mb": 0, "replicator_interval": 0.5,
                        "auditor_interval": 0.5},
            "proxy": {"port": base, "users": USERS, "info_cache_ttl": 0.0},
        })

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
