"""Container and account roles over HTTP: records, rows, every listing parameter and format."""
import asyncio
import json
import xml.etree.ElementTree as ET

import pytest

from objectserver.app import NODE
from strato.timestamps import Timestamp

pytestmark = pytest.mark.timeout(60)
CONT = "/container/d0/3/acc/cont"
NAMES = ["a", "a/b", "a/c", "a/c/d", "b", "b/x", "c", "caf\u00e9", "d-1", "d-2"]


def ts(offset=0.0):
    return Timestamp(Timestamp.now().seconds + offset).internal


async def make_container(node, path=CONT, **headers):
    headers["X-Timestamp"] = headers.get("X-Timestamp") or ts()
    async with node.request("PUT", path, headers=headers) as resp:
        return resp.status


async def put_row(node, name, size=1, timestamp=None, path=CONT):
    from urllib.parse import quote

    headers = {"X-Timestamp": timestamp or ts(), "X-Size": str(size),
               "X-Content-Type": "text/plain", "X-Etag": "e" * 32}
    async with node.request("PUT", f"{path}/{quote(name, safe='')}", headers=headers) as resp:
        return resp.status


async def listing(node, query="", path=CONT, **headers):
    async with node.request("GET", f"{path}?format=json&{query}", headers=headers) as resp:
        assert resp.status == 200, await resp.text()
        return [row.get("name", row.get("subdir")) for row in json.loads(await resp.read())]


@pytest.fixture
async def filled(node):
    assert await make_container(node) == 201
    for name in NAMES:
        assert await put_row(node, name) == 201
    return node


async def test_container_lifecycle_and_counts(node):
    assert await make_container(node, **{"X-Container-Meta-Color": "red"}) == 201
    assert await make_container(node) == 202
    for name in ("x", "y"):
        assert await put_row(node, name, size=10) == 201
    async with node.request("HEAD", CONT) as resp:
        assert resp.status == 204
        assert resp.headers["X-Container-Object-Count"] == "2"
        assert resp.headers["X-Container-Bytes-Used"] == "20"
        assert resp.headers["X-Container-Meta-Color"] == "red"
    # newest wins: an older row does not change anything, a newer one replaces
    assert await put_row(node, "x", size=99, timestamp="0000000001.00000") == 201
    assert await put_row(node, "x", size=5) == 201
    async with node.request("DELETE", CONT, headers={"X-Timestamp": ts()}) as resp:
        assert resp.status == 409  # not empty
    for name in ("x", "y"):
        async with node.request("DELETE", f"{CONT}/{name}", headers={"X-Timestamp": ts(1)}) as r:
            assert r.status == 204
    async with node.request("HEAD", CONT) as resp:
        assert resp.headers["X-Container-Object-Count"] == "0"
        assert resp.headers["X-Container-Bytes-Used"] == "0"
    async with node.request("POST", CONT, headers={"X-Timestamp": ts(2),
                                                    "X-Container-Meta-Color": ""}) as resp:
        assert resp.status == 204
    async with node.request("HEAD", CONT) as resp:
        assert "X-Container-Meta-Color" not in resp.headers
    async with node.request("DELETE", CONT, headers={"X-Timestamp": ts(3)}) as resp:
        assert resp.status == 204
    async with node.request("GET", CONT) as resp:
        assert resp.status == 404
    assert await put_row(node, "z", path="/container/d0/3/acc/never") == 404


async def test_listing_params(filled):
    node = filled
    assert await listing(node) == NAMES
    assert await listing(node, "prefix=a/") == ["a/b", "a/c", "a/c/d"]
    assert await listing(node, "delimiter=/") == ["a", "a/", "b", "b/", "c", "caf\u00e9",
                                                  "d-1", "d-2"]
    assert await listing(node, "prefix=a/&delimiter=/") == ["a/b", "a/c", "a/c/"]
    assert await listing(node, "marker=b") == NAMES[5:]
    assert await listing(node, "end_marker=b") == NAMES[:4]
    assert await listing(node, "marker=a&end_marker=b/x") == ["a/b", "a/c", "a/c/d", "b"]
    assert await listing(node, "limit=3") == NAMES[:3]
    assert await listing(node, "limit=0") == []
    assert await listing(node, "reverse=true") == NAMES[::-1]
    assert await listing(node, "reverse=true&marker=b") == ["a/c/d", "a/c", "a/b", "a"]
    assert await listing(node, "reverse=true&end_marker=c") == ["d-2", "d-1", "caf\u00e9"]
    assert await listing(node, "reverse=true&delimiter=/") == ["d-2", "d-1", "caf\u00e9", "c",
                                                               "b/", "b", "a/", "a"]
    assert await listing(node, "delimiter=-") == NAMES[:8] + ["d-"]
    # paging with a subdir as marker continues after the whole roll-up
    assert await listing(node, "delimiter=/&marker=a/") == ["b", "b/", "c", "caf\u00e9",
                                                            "d-1", "d-2"]
    assert await listing(node, "path=a") == ["a/b", "a/c"]  # direct children, no roll-ups
    async with node.request("GET", f"{CONT}?limit=10001") as resp:
        assert resp.status == 412
    # any delimiter string, as Swift (rows roll up at its first occurrence after the prefix)
    assert await listing(node, "delimiter=/c") == [n for n in NAMES if n != "a/c/d"]


async def test_listing_formats(filled):
    node = filled
    async with node.request("GET", f"{CONT}?prefix=a/") as resp:  # plain by default
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert await resp.text() == "a/b\na/c\na/c/d\n"
    async with node.request("GET", f"{CONT}?prefix=zzz") as resp:
        assert resp.status == 204
    async with node.request("GET", f"{CONT}?prefix=zzz&format=json") as resp:
        assert resp.status == 200 and await resp.text() == "[]"
    async with node.request("GET", f"{CONT}?prefix=a/&format=json") as resp:
        rows = json.loads(await resp.read())
        assert set(rows[0]) == {"name", "hash", "bytes", "content_type", "last_modified"}
        assert rows[0]["bytes"] == 1 and rows[0]["hash"] == "e" * 32
    async with node.request("GET", f"{CONT}?prefix=a&delimiter=/",
                            headers={"Accept": "application/xml"}) as resp:
        assert resp.headers["Content-Type"] == "application/xml; charset=utf-8"
        body = await resp.read()
        assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
        doc = ET.fromstring(body)
        assert doc.tag == "container" and doc.get("name") == "cont"
        assert [c.tag for c in doc] == ["object", "subdir"]
        assert doc[0].find("name").text == "a" and doc[1].get("name") == "a/"
    async with node.request("GET", CONT, headers={"Accept": "image/png"}) as resp:
        assert resp.status == 406


async def test_account_role_and_updates_from_containers(node_factory):
    node = await node_factory("acct")
    account_path = "/account/d1/9/acc"
    async with node.request("PUT", account_path, headers={"X-Timestamp": ts(),
                                                          "X-Account-Meta-Q": "1"}) as resp:
        assert resp.status == 201
    targets = {"X-Account-Host": node.host, "X-Account-Device": "d1", "X-Account-Partition": "9"}
    for name in ("c1", "c2", "c3"):
        assert await make_container(node, f"/container/d0/3/acc/{name}", **targets) == 201
    for i in range(4):
        assert await put_row(node, f"o{i}", size=100, path="/container/d0/3/acc/c2") == 201
    for _ in range(50):  # object-row changes reach the account coalesced
        async with node.request("HEAD", account_path) as resp:
            if resp.headers["X-Account-Object-Count"] == "4":
                break
        await asyncio.sleep(0.1)
    assert resp.headers["X-Account-Container-Count"] == "3"
    assert resp.headers["X-Account-Bytes-Used"] == "400"
    assert resp.headers["X-Account-Meta-Q"] == "1"
    async with node.request("GET", f"{account_path}?format=json") as resp:
        rows = json.loads(await resp.read())
    assert [r["name"] for r in rows] == ["c1", "c2", "c3"]
    assert rows[1]["count"] == 4 and rows[1]["bytes"] == 400 and "last_modified" in rows[1]
    policy0 = node.app[NODE].policies[0]  # each row names its policy, as Swift's do
    assert [r["storage_policy"] for r in rows] == [policy0] * 3
    assert not any("storage_policy_index" in r for r in rows)
    assert await listing(node, "reverse=1&limit=2", path=account_path) == ["c3", "c2"]
    async with node.request("GET", f"{account_path}?format=xml") as resp:
        doc = ET.fromstring(await resp.read())
        assert doc.tag == "account" and [c.find("name").text for c in doc] == ["c1", "c2", "c3"]
        assert [c.find("storage_policy").text for c in doc] == [policy0] * 3
    async with node.request("DELETE", "/container/d0/3/acc/c1",
                            headers={"X-Timestamp": ts(1)}) as resp:
        assert resp.status == 204
    assert await listing(node, path=account_path) == ["c2", "c3"]
    async with node.request("GET", "/account/d1/9/nobody") as resp:
        assert resp.status == 404


async def test_bad_input_gets_swift_errors(node):
    assert await make_container(node) == 201
    async with node.request("PUT", f"{CONT}/o", headers={"X-Timestamp": ts(), "X-Size": "x",
                                                         "X-Content-Type": "t",
                                                         "X-Etag": "e"}) as resp:
        assert resp.status == 400
    async with node.request("PUT", f"{CONT}/o", headers={"X-Timestamp": ts()}) as resp:
        assert resp.status == 400
    async with node.request("PUT", CONT, headers={"X-Timestamp": "not-a-time"}) as resp:
        assert resp.status == 400
    async with node.request("POST", f"/replicate{CONT}", data=b"{not json") as resp:
        assert resp.status == 400
    async with node.request("GET", f"/replicate{CONT}") as resp:
        assert resp.status == 405
    async with node.request("GET", "/container/d0/3/acc/c%FF") as resp:
        assert resp.status == 400  # not UTF-8 after unquoting
    async with node.request("GET", "/container/nodev/3/acc/cont") as resp:
        assert resp.status == 507
    async with node.request("HEAD", "/account/d0/3/nobody") as resp:
        assert resp.status == 404
