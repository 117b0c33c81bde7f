"""A mixed cluster during a rolling upgrade: storage node 2 runs as a release without the PUT
footer (STRATO_TEST_EMULATE_NO_PUT_FOOTER=1 in its environment: it neither advertises the
feature nor understands the footer header, so a footer sent to it would be stored as object
bytes). Real proxy and storage-node processes on loopback.

What must hold: node 2 only ever gets the old form while the others get the footer, every replica
holds exactly the client's bytes with one ETag, and a client ETag that does not match leaves no
data file on any node.
"""
import glob
import hashlib
import os
import time
import uuid

import pytest
import requests
import xxhash

from clusterhelper import ServeCluster  # tests/clusterhelper.py
from ports import free_block  # tests/ports.py
from ring.hashing import hash_path
from strato import put_footer
from strato.timestamps import Timestamp

pytestmark = pytest.mark.timeout(120)
OLD = 2  # the node that emulates the release before the footer
EMULATE = "STRATO_TEST_EMULATE_NO_PUT_FOOTER"


class MixedCluster(ServeCluster):
    def start_node(self, i):
        if i != OLD:
            return super().start_node(i)
        os.environ[EMULATE] = "1"  # inherited by that node's process only
        try:
            return super().start_node(i)
        finally:
            del os.environ[EMULATE]


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    root = tmp_path_factory.mktemp("footermixed")
    base = free_block(28000, 28100, 4)
    cluster = MixedCluster(root, {
        "cluster": {"data_dir": os.path.join(str(root), "data"), "hash_path_prefix": "pp",
                    "hash_path_suffix": "ss", "log_level": "warning"},
        "ring": {"part_power": 4, "replicas": 3},
        "storage": {"base_port": base + 1, "nodes": 3, "devices_per_node": 1,
                    "fallocate_reserve_mb": 0, "updater_interval": 0.5},
        "proxy": {"port": base, "users": ["test:tester:testing:.admin"], "info_cache_ttl": 0.0},
    })
    try:
        cluster.start()
        url, token = cluster.login()
        session = requests.Session()
        session.headers["X-Auth-Token"] = token
        container = f"c-{uuid.uuid4().hex[:8]}"
        assert session.put(f"{url}/{container}", timeout=30).status_code == 201
        yield cluster, session, f"{url}/{container}", container
    finally:
        cluster.stop()


def _replicas(cluster, container, obj):
    """(node index, node object URL) of every data file of the object."""
    digest = hash_path("AUTH_test", container, obj, prefix="pp", suffix="ss")
    root = os.path.join(cluster.config.cluster.data_dir, "devices")
    out = []
    for path in glob.glob(os.path.join(root, "*", "objects", "*", "*", digest, "*.data")):
        device, _, part = path[len(root) + 1:].split(os.sep)[:3]
        node = int(device[1:device.index("d")])
        out.append((node, f"http://127.0.0.1:{cluster.node_base + node}/object/{device}/{part}"
                          f"/AUTH_test/{container}/{obj}"))
    return sorted(out)


def _direct(url, method="GET", **kwargs):
    headers = {"X-Backend-Storage-Policy-Index": "0", **kwargs.pop("headers", {})}
    return requests.request(method, url, headers=headers, timeout=30, **kwargs)


def test_only_the_new_nodes_advertise(mixed):
    cluster = mixed[0]
    for node in range(3):
        resp = _direct(f"http://127.0.0.1:{cluster.node_base + node}/object/n{node}d0/0/a/c/o",
                       "HEAD")
        assert resp.status_code == 404
        assert resp.headers.get(put_footer.FEATURES_HEADER) == (
            None if node == OLD else put_footer.FEATURE)


def test_the_old_node_refuses_a_footer_put(mixed):
    """Node 2 really behaves like the old release: without the sentinel ETag it would store a
    footer as object bytes; with it (as the proxy sends a footer PUT) it refuses (422), so a
    node rolled back by mistake can never keep a footer as data."""
    cluster = mixed[0]
    body = b"abc"
    footer = put_footer.encode(hashlib.md5(body).hexdigest(), xxhash.xxh3_64(body).hexdigest())
    url = f"http://127.0.0.1:{cluster.node_base + OLD}/object/n{OLD}d0/0/a/c/direct"
    headers = {put_footer.HEADER: put_footer.VERSION, "Content-Type": "a/b"}
    resp = _direct(url, "PUT", data=body + footer, headers={
        **headers, "X-Timestamp": Timestamp.now().internal, "ETag": put_footer.ETAG_SENTINEL})
    assert resp.status_code == 422
    assert _direct(url).status_code == 404
    resp = _direct(url, "PUT", data=body + footer, headers={
        **headers, "X-Timestamp": Timestamp.now().internal})
    assert resp.status_code == 201
    assert _direct(url).content == body + footer


@pytest.mark.parametrize("size", [4096, 1 << 20])
def test_every_replica_holds_the_clients_bytes(mixed, size):
    cluster, session, url, container = mixed
    for i in range(4):  # the first PUTs teach the proxy which nodes know the footer
        body = os.urandom(size)
        framing = body if i % 2 == 0 else iter([body[:1000], body[1000:]])  # chunked
        resp = session.put(f"{url}/o{size}-{i}", data=framing, timeout=30)
        assert resp.status_code == 201, resp.text
        etag = hashlib.md5(body).hexdigest()
        assert resp.headers["ETag"] == etag
        replicas = _replicas(cluster, container, f"o{size}-{i}")
        assert [node for node, _ in replicas] == [0, 1, 2]
        for node, node_url in replicas:
            got = _direct(node_url)
            assert got.status_code == 200 and got.content == body, (node, len(got.content))
            assert got.headers["ETag"] == etag


def test_etag_mismatch_422_leaves_nothing(mixed):
    cluster, session, url, container = mixed
    assert session.put(f"{url}/warm", data=b"w", timeout=30).status_code == 201
    for framing in ("length", "chunked"):
        body = os.urandom(300_000)
        data = body if framing == "length" else iter([body[:5], body[5:]])
        resp = session.put(f"{url}/bad-{framing}", data=data, timeout=30,
                           headers={"ETag": hashlib.md5(body + b"x").hexdigest()})
        assert resp.status_code == 422, resp.text
        assert session.get(f"{url}/bad-{framing}", timeout=30).status_code == 404
        assert _replicas(cluster, container, f"bad-{framing}") == []
    pattern = os.path.join(cluster.config.cluster.data_dir, "devices", "*", "tmp", "*")
    for _ in range(50):  # the nodes clean up once they see their connections cut
        if not glob.glob(pattern):
            break
        time.sleep(0.1)
    assert glob.glob(pattern) == []
