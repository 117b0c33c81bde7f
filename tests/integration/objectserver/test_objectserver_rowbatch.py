"""Concurrent object writes to one container replica: their listing rows travel in batches
(one replication request, one transaction) and every row lands; failures still reach async_pending."""
import asyncio
import json
import os

import pytest

from objectserver import updates
from strato.timestamps import Timestamp

pytestmark = pytest.mark.timeout(60)
N = 40


def ts(offset=0.0):
    return Timestamp(Timestamp.now().seconds + offset).internal


def count_calls(monkeypatch, cls, name):
    """Count the calls of a real method (it still runs)."""
    calls = []
    real = getattr(cls, name)

    async def counted(self, *args, **kwargs):
        calls.append(args)
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(cls, name, counted)
    return calls


async def put_all(objects, container_host, n=N, extra=None):
    targets = {"X-Container-Host": container_host, "X-Container-Device": "d1",
               "X-Container-Partition": "5", **(extra or {})}

    async def one(i):
        headers = dict(targets, **{"X-Timestamp": ts(1), "Content-Type": "text/x"})
        async with objects.request("PUT", f"/object/d0/9/acc/cont/o{i:03d}", data=b"x" * i,
                                   headers=headers) as resp:
            assert resp.status == 201

    await asyncio.gather(*(one(i) for i in range(n)))


async def test_concurrent_rows_are_batched_and_all_listed(node_factory, monkeypatch):
    singles = count_calls(monkeypatch, updates.ContainerUpdates, "_send_row")
    batches = count_calls(monkeypatch, updates.ContainerUpdates, "_send_rows")
    objects = await node_factory("objects")
    container = await node_factory("container")
    async with container.request("PUT", "/container/d1/5/acc/cont", headers={"X-Timestamp": ts()}) as r:
        assert r.status == 201
    await put_all(objects, container.host)
    assert batches, "no update travelled in a batch"
    assert len(singles) + len(batches) < N
    assert sum(len(args[3]) for args in batches) + len(singles) == N
    async with container.request("GET", "/container/d1/5/acc/cont?format=json") as resp:
        rows = json.loads(await resp.read())
        count = resp.headers["X-Container-Object-Count"]
    assert [(r["name"], r["bytes"]) for r in rows] == [(f"o{i:03d}", i) for i in range(N)]
    assert count == str(N)
    pending = os.path.join(objects.root, "d0", "async_pending")
    assert not any(files for _, _, files in os.walk(pending))


async def test_a_batch_for_a_missing_container_is_kept_for_the_updater(node_factory):
    objects = await node_factory("objects")
    container = await node_factory("container")  # no container created: every row is refused
    await put_all(objects, container.host, n=10)
    pending = os.path.join(objects.root, "d0", "async_pending")
    assert sum(len(files) for _, _, files in os.walk(pending)) == 10


@pytest.mark.parametrize("rows", [[["o", "1.0", -1, "t", "e", 0]], [["o", "soon", 1, "t", "e", 0]],
                                  [["o", "1.0", 1, "t", "e"]], [[None, "1.0", 1, "t", "e", 0]],
                                  "not-a-list"])
async def test_malformed_replicated_rows_get_400(node_factory, rows):
    container = await node_factory("container")
    async with container.request("PUT", "/container/d1/5/acc/cont", headers={"X-Timestamp": ts()}) as r:
        assert r.status == 201
    async with container.request("POST", "/replicate/container/d1/5/acc/cont",
                                 json={"record": None, "rows": rows}) as resp:
        assert resp.status == 400
