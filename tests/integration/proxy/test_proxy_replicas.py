"""Quorum writes, handoffs, read fail-over and error limiting with a storage node really killed."""
import glob
import os
import time
import uuid

import pytest
from ring import RingWatcher
from ring.hashing import hash_path

pytestmark = pytest.mark.timeout(120)


def _object_ring(cluster):
    path = os.path.join(cluster.config.cluster.data_dir, "rings", "object.ring")
    watcher = RingWatcher(path, "pp", "ss", 60, autostart=False)
    return watcher.ring


def _copies(cluster, account, container, obj):
    """Devices holding a .data file of the object."""
    digest = hash_path(account, container, obj, prefix="pp", suffix="ss")
    root = os.path.join(cluster.config.cluster.data_dir, "devices")
    found = glob.glob(os.path.join(root, "*", "objects", "*", "*", digest, "*.data"))
    return sorted({p[len(root) + 1:].split(os.sep)[0] for p in found})


def test_writes_survive_a_dead_node_via_handoffs(cluster, swift):
    container = f"ha-{uuid.uuid4().hex[:8]}"
    assert swift("PUT", f"/{container}").status_code == 201
    ring = _object_ring(cluster)
    dead_port = cluster.node_base + 0
    cluster.stop_node(0)
    try:
        names = [f"o{i}" for i in range(12)]
        started = time.monotonic()
        for n in names:
            resp = swift("PUT", f"/{container}/{n}", data=n.encode() * 100)
            assert resp.status_code == 201, resp.text
        for n in names:
            got = swift("GET", f"/{container}/{n}")
            assert got.status_code == 200 and got.content == n.encode() * 100
        # Error limiting keeps the dead node from slowing every request down.
        assert time.monotonic() - started < 20
        # Objects whose primaries include the dead node were written to a handoff instead:
        # still three copies, none on the dead node.
        moved = 0
        for n in names:
            part, primaries = ring.get_nodes("AUTH_test", container, n)
            if any(d.port == dead_port for d in primaries):
                moved += 1
                copies = _copies(cluster, "AUTH_test", container, n)
                assert len(copies) == 3, (n, copies)
                dead_devices = {d.device for d in primaries if d.port == dead_port}
                assert not dead_devices & set(copies)
        assert moved > 0
    finally:
        cluster.start_node(0)
    # With the node back, reads still work (fail-over or its own copy).
    for n in names:
        assert swift("GET", f"/{container}/{n}").status_code == 200


def test_write_fails_without_quorum(cluster, swift):
    time.sleep(cluster.config.proxy.error_limit_seconds)  # forget the previous test's errors
    container = f"nq-{uuid.uuid4().hex[:8]}"
    assert swift("PUT", f"/{container}").status_code == 201
    cluster.stop_node(1)
    cluster.stop_node(2)
    try:
        resp = swift("PUT", f"/{container}/x", data=b"data")
        # 3 nodes with 2 devices each: handoffs on the one live node can stand in for the dead
        # primaries, but only when the ring puts enough of them there; either way, no 5xx
        # masquerades as success and a 201 means a quorum of copies exists.
        if resp.status_code == 201:
            assert len(_copies(cluster, "AUTH_test", container, "x")) >= 2
        else:
            assert resp.status_code == 503
    finally:
        cluster.start_node(1)
        cluster.start_node(2)
