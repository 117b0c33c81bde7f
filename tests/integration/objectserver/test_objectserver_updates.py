"""Object writes update container listings; failed updates wait in async_pending and are retried."""
import asyncio
import json

import pytest
from aiohttp.test_utils import TestServer

from strato.timestamps import Timestamp

pytestmark = pytest.mark.timeout(60)


def ts(offset=0.0):
    return Timestamp(Timestamp.now().seconds + offset).internal


async def list_names(node, path):
    async with node.request("GET", f"{path}?format=json") as resp:
        if resp.status != 200:
            return None
        return [r["name"] for r in json.loads(await resp.read())]


async def test_put_and_delete_update_every_container_replica(node_factory):
    objects = await node_factory("objects")
    c1 = await node_factory("c1")
    c2 = await node_factory("c2")
    for c in (c1, c2):
        async with c.request("PUT", "/container/d1/5/acc/cont", headers={"X-Timestamp": ts()}) as r:
            assert r.status == 201
    targets = {"X-Container-Host": f"{c1.host},{c2.host}", "X-Container-Device": "d1,d1",
               "X-Container-Partition": "5"}
    headers = dict(targets, **{"X-Timestamp": ts(1), "Content-Type": "text/x"})
    async with objects.request("PUT", "/object/d0/9/acc/cont/o%2F1", data=b"12345",
                               headers=headers) as resp:
        assert resp.status == 201
    for c in (c1, c2):
        async with c.request("GET", "/container/d1/5/acc/cont?format=json") as resp:
            rows = json.loads(await resp.read())
        assert [(r["name"], r["bytes"], r["content_type"]) for r in rows] == [("o/1", 5, "text/x")]
        assert rows[0]["hash"] == "827ccb0eea8a706c4c34a16891f84e7b"
    async with objects.request("DELETE", "/object/d0/9/acc/cont/o%2F1",
                               headers=dict(targets, **{"X-Timestamp": ts(2)})) as resp:
        assert resp.status == 204
    for c in (c1, c2):
        assert await list_names(c, "/container/d1/5/acc/cont") == []
    assert objects.pending_files() == []


async def test_failed_update_is_kept_and_retried_after_container_node_returns(node_factory):
    objects = await node_factory("objects", daemons=True, updater_interval=0.2)
    container = await node_factory("container")
    port = container.server.port
    async with container.request("PUT", "/container/d1/5/acc/cont",
                                 headers={"X-Timestamp": ts()}) as resp:
        assert resp.status == 201
    await container.server.close()  # the container node goes down
    headers = {"X-Container-Host": f"127.0.0.1:{port}", "X-Container-Device": "d1",
               "X-Container-Partition": "5", "X-Timestamp": ts(1), "Content-Type": "text/plain"}
    async with objects.request("PUT", "/object/d0/9/acc/cont/obj", data=b"abc",
                               headers=headers) as resp:
        assert resp.status == 201  # the object is durable; its listing update waits
    pending = objects.pending_files()
    assert len(pending) == 1
    with open(pending[0]) as f:
        saved = json.load(f)
    assert saved["op"] == "PUT" and saved["obj"] == "obj" and saved["headers"]["X-Size"] == "3"
    # the container node comes back on the same address; the updater delivers the row
    container.server = TestServer(container.app, host="127.0.0.1", port=port)
    await container.server.start_server()  # closed by the fixture
    for _ in range(100):
        if await list_names(container, "/container/d1/5/acc/cont") == ["obj"]:
            break
        await asyncio.sleep(0.1)
    assert await list_names(container, "/container/d1/5/acc/cont") == ["obj"]
    for _ in range(20):
        if not objects.pending_files():
            break
        await asyncio.sleep(0.1)
    assert objects.pending_files() == []


async def test_container_update_overrides(node_factory):
    objects = await node_factory("objects")
    container = await node_factory("container")
    async with container.request("PUT", "/container/d1/5/acc/cont",
                                 headers={"X-Timestamp": ts()}) as resp:
        assert resp.status == 201
    headers = {"X-Container-Host": container.host, "X-Container-Device": "d1",
               "X-Container-Partition": "5", "X-Timestamp": ts(1), "Content-Type": "x/manifest",
               "X-Object-Sysmeta-Container-Update-Override-Etag": "abc; slo_etag=def",
               "X-Object-Sysmeta-Container-Update-Override-Size": "12345"}
    async with objects.request("PUT", "/object/d0/9/acc/cont/slo", data=b"[]",
                               headers=headers) as resp:
        assert resp.status == 201
    async with container.request("GET", "/container/d1/5/acc/cont?format=json") as resp:
        rows = json.loads(await resp.read())
    # the ETag's slo_etag parameter becomes its own field, as Swift's slo middleware renders it
    assert (rows[0]["hash"], rows[0]["slo_etag"], rows[0]["bytes"]) == ("abc", '"def"', 12345)


async def test_post_with_content_type_updates_the_listing(node_factory):
    objects = await node_factory("objects")
    container = await node_factory("container")
    async with container.request("PUT", "/container/d1/5/acc/cont",
                                 headers={"X-Timestamp": ts()}) as resp:
        assert resp.status == 201
    targets = {"X-Container-Host": container.host, "X-Container-Device": "d1",
               "X-Container-Partition": "5"}
    async with objects.request("PUT", "/object/d0/9/acc/cont/o", data=b"12", headers=dict(
            targets, **{"X-Timestamp": ts(1), "Content-Type": "a/b"})) as resp:
        assert resp.status == 201
    async with objects.request("POST", "/object/d0/9/acc/cont/o", headers=dict(
            targets, **{"X-Timestamp": ts(2), "Content-Type": "c/d"})) as resp:
        assert resp.status == 202
    async with container.request("GET", "/container/d1/5/acc/cont?format=json") as resp:
        rows = json.loads(await resp.read())
    assert [(r["content_type"], r["bytes"]) for r in rows] == [("c/d", 2)]


async def test_account_reports_wait_for_a_down_account_server(node_factory):
    container = await node_factory("container")
    account = await node_factory("account")
    port = account.server.port
    await account.server.close()  # the account node is down while the container changes
    targets = {"X-Account-Host": f"127.0.0.1:{port}", "X-Account-Device": "d0",
               "X-Account-Partition": "2"}
    async with container.request("PUT", "/container/d1/5/acc/cont",
                                 headers=dict(targets, **{"X-Timestamp": ts()})) as resp:
        assert resp.status == 201
    async with container.request("PUT", "/container/d1/5/acc/cont/o", headers={
            "X-Timestamp": ts(1), "X-Size": "7", "X-Content-Type": "t", "X-Etag": "e"}) as resp:
        assert resp.status == 201
    await asyncio.sleep(0.5)
    account.server = TestServer(account.app, host="127.0.0.1", port=port)
    await account.server.start_server()
    for _ in range(100):  # the reporter backs off, then delivers the newest statistics
        async with account.request("HEAD", "/account/d0/2/acc") as resp:
            if resp.status == 204 and resp.headers["X-Account-Bytes-Used"] == "7":
                break
        await asyncio.sleep(0.1)
    assert resp.headers["X-Account-Container-Count"] == "1"
    assert resp.headers["X-Account-Object-Count"] == "1"


async def test_a_hanging_container_replica_costs_update_timeout_and_is_kept(node_factory):
    """A container replica that accepts but never answers: the object PUT still answers 201 after
    update_timeout, and the row waits in async_pending (one target: awaited in place)."""
    accepted = []

    async def never_answer(reader, writer):
        accepted.append(writer)  # held open, never read or answered

    hung = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = hung.sockets[0].getsockname()[1]
    try:
        # node_timeout far above update_timeout: only the update timeout can end the wait
        objects = await node_factory("objects", update_timeout=0.5, node_timeout=30.0)
        headers = {"X-Container-Host": f"127.0.0.1:{port}", "X-Container-Device": "d1",
                   "X-Container-Partition": "5", "X-Timestamp": ts(1), "Content-Type": "text/plain"}
        started = asyncio.get_running_loop().time()
        async with objects.request("PUT", "/object/d0/9/acc/cont/obj", data=b"abc",
                                   headers=headers) as resp:
            assert resp.status == 201
        assert asyncio.get_running_loop().time() - started < 3
        assert accepted  # the update was tried
        pending = objects.pending_files()
        assert len(pending) == 1
        with open(pending[0]) as f:
            assert json.load(f)["obj"] == "obj"
    finally:
        for writer in accepted:
            writer.close()
        hung.close()
        await hung.wait_closed()
