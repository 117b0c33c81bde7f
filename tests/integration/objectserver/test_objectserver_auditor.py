"""The auditor finds a flipped byte without any client read, at its bounded rate."""
import os
import time

import pytest

from objectserver import auditor
from objectserver.app import NODE
from strato.timestamps import Timestamp

pytestmark = pytest.mark.timeout(60)


async def test_auditor_quarantines_corruption_at_bounded_rate(node_factory):
    node = await node_factory("audited", auditor_bytes_per_second=4 << 20,
                              auditor_files_per_second=1000.0)
    bodies = {f"o{i}": os.urandom(1 << 20) for i in range(3)}
    for name, body in bodies.items():
        headers = {"X-Timestamp": Timestamp.now().internal, "Content-Type": "x/y"}
        async with node.request("PUT", f"/object/d0/1/a/c/{name}", data=body,
                                headers=headers) as resp:
            assert resp.status == 201
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(os.path.join(node.root, "d0", "objects"))
                   for f in fs)
    with open(files[1], "r+b") as f:
        f.seek(12345)
        f.write(b"\x00" if f.read(1) != b"\x00" else b"\x01")
    server_node = node.app[NODE]
    started = time.monotonic()
    checked, bad = await auditor.audit_device(server_node, "d0")
    elapsed = time.monotonic() - started
    assert (checked, bad) == (3, 1)
    assert elapsed >= 0.6  # 3 MiB at 4 MiB/s: the rate limit holds
    assert len(os.listdir(os.path.join(node.root, "d0", "quarantined", "objects"))) == 1
    statuses = []
    for name in bodies:
        async with node.request("GET", f"/object/d0/1/a/c/{name}") as resp:
            statuses.append(resp.status)
            if resp.status == 200:
                assert await resp.read() == bodies[name]
    assert sorted(statuses) == [200, 200, 404]
    assert await auditor.audit_device(server_node, "d0") == (2, 0)


async def test_auditor_paces_small_files_by_files_per_second(node_factory):
    """Swift's second limit: 10 small objects at 20 files/s take at least 9/20 s however fast
    their bytes hash (the byte limit alone let a pass open thousands of small files a second)."""
    node = await node_factory("paced", auditor_files_per_second=20.0)
    for i in range(10):
        headers = {"X-Timestamp": Timestamp.now().internal, "Content-Type": "x/y"}
        async with node.request("PUT", f"/object/d0/1/a/c/small{i}", data=b"x" * 100,
                                headers=headers) as resp:
            assert resp.status == 201
    started = time.monotonic()
    assert await auditor.audit_device(node.app[NODE], "d0") == (10, 0)
    assert time.monotonic() - started >= 9 / 20
