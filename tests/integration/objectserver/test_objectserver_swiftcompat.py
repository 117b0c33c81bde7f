"""Storage-node behaviour OpenStack Swift's functional suite depends on: bodies are never decoded,
any delimiter string, NUL in markers, symlink/SLO listing fields, and container POST timestamps."""
import gzip
import hashlib
import json
import xml.etree.ElementTree as ET
from urllib.parse import quote

import pytest

from strato.timestamps import Timestamp

pytestmark = pytest.mark.timeout(60)
CONT = "/container/d1/5/acc/cont"
TARGETS = {"X-Container-Host": None, "X-Container-Device": "d1", "X-Container-Partition": "5"}
EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e"


def ts(offset=0.0):
    return Timestamp(Timestamp.now().seconds + offset).internal


async def make_container(node, path=CONT):
    async with node.request("PUT", path, headers={"X-Timestamp": ts()}) as resp:
        assert resp.status == 201


async def put_row(node, name, path=CONT):
    headers = {"X-Timestamp": ts(), "X-Size": "1", "X-Content-Type": "text/plain",
               "X-Etag": "e" * 32}
    async with node.request("PUT", f"{path}/{quote(name, safe='')}", headers=headers) as resp:
        assert resp.status == 201


async def names(node, query, path=CONT, fmt="json"):
    async with node.request("GET", f"{path}?format={fmt}&{query}") as resp:
        assert resp.status in (200, 204), await resp.text()
        body = await resp.read()
    if fmt == "json":
        return [r.get("name", r.get("subdir")) for r in json.loads(body)]
    if fmt == "xml":
        return [e.find("name").text for e in ET.fromstring(body)]
    return body.decode().splitlines()


async def put_object(node, name, body=b"", **headers):
    headers = {**TARGETS, "X-Container-Host": node.host, "X-Timestamp": ts(),
               "Content-Type": "application/octet-stream", **headers}
    async with node.request("PUT", f"/object/d0/9/acc/cont/{quote(name, safe='')}", data=body,
                            headers=headers) as resp:
        assert resp.status == 201, await resp.text()
        return resp.headers["ETag"]


async def test_gzip_body_is_stored_and_served_as_sent(node):
    compressed = gzip.compress(b"swift never decodes bodies " * 100)
    headers = {"X-Timestamp": ts(), "Content-Type": "text/plain", "Content-Encoding": "gzip"}
    async with node.request("PUT", "/object/d0/9/acc/cont/z", data=compressed,
                            headers=headers) as resp:
        assert resp.status == 201
        assert resp.headers["ETag"] == hashlib.md5(compressed).hexdigest()
    async with node.request("GET", "/object/d0/9/acc/cont/z") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Encoding"] == "gzip"
        assert resp.headers["ETag"] == hashlib.md5(compressed).hexdigest()
        assert await resp.read() == compressed  # the session does not decompress either


async def test_multi_character_delimiter(node):
    await make_container(node)
    for name in ("test", "test-&bar", "test-&foo", "test-'baz"):
        await put_row(node, name)
    for fmt in ("json", "xml", "plain"):
        assert await names(node, "delimiter=-%26", fmt=fmt) == ["test", "test-&", "test-'baz"]
        assert await names(node, "delimiter=-%26&reverse=yes", fmt=fmt) == [
            "test-'baz", "test-&", "test"]
    assert await names(node, "delimiter=-%26&prefix=test-%26") == ["test-&bar", "test-&foo"]
    assert await names(node, "delimiter=st-") == ["test", "test-"]
    # accounts: the same roll-up over container names
    for name in ("test", "test-&bar", "test-&foo"):
        await make_container(node, f"/container/d1/5/acc/{quote(name, safe='')}")
    account = "/account/d1/5/acc"
    async with node.request("PUT", account, headers={"X-Timestamp": ts()}) as resp:
        assert resp.status in (201, 202)
    rows = [[name, ts(), Timestamp(0).internal, 0, 0, ts()] for name in ("test", "test-&bar", "test-&foo")]
    async with node.request("POST", f"/replicate{account}", json={"record": None, "rows": rows}) as r:
        assert r.status == 200
    assert await names(node, "delimiter=-%26", path=account) == ["test", "test-&"]
    assert await names(node, "delimiter=-%26&reverse=on", path=account) == ["test-&", "test"]


async def test_nul_in_markers_is_accepted_and_bad_utf8_is_400(node):
    await make_container(node)
    for name in ("B2x", "a", "b1x", "b1x0", "c"):
        await put_row(node, name)
    # Swift's testContainerFileSortingByMarkersInclusiveReversed
    assert await names(node, "reverse=on&marker=b1x%00&end_marker=B2w") == ["b1x", "a", "B2x"]
    assert await names(node, "marker=b1x%00") == ["b1x0", "c"]
    assert await names(node, "prefix=b%00") == []
    await put_row(node, "caf\u00e9 \u2603")
    # percent-encoded UTF-8 beyond latin-1 (what the proxy sends for the suite's UTF-8 names)
    assert await names(node, "prefix=caf%C3%A9+%E2%98%83") == ["caf\u00e9 \u2603"]
    await put_row(node, "x%41")  # decoded exactly once: %2541 is "%41", not "A"
    assert await names(node, "prefix=x%2541") == ["x%41"]
    for query in ("marker=%FF", "prefix=a%C3", "delimiter=%FE", "end_marker=%E2%82"):
        async with node.request("GET", f"{CONT}?format=json&{query}") as resp:
            assert resp.status == 400
            assert (await resp.text()).endswith("parameter not valid UTF-8")
    async with node.request("GET", "/account/d1/5/acc?format=json&marker=%FF") as resp:
        assert resp.status == 400


async def listing_row(node, name):
    async with node.request("GET", f"{CONT}?format=json") as resp:
        rows = {r["name"]: r for r in json.loads(await resp.read())}
    return rows[name]


async def test_symlink_and_slo_rows_carry_swift_fields(node):
    await make_container(node)
    await put_object(node, "link", **{"X-Symlink-Target": "tc/t%20o",
                                      "Content-Type": "application/symlink"})
    row = await listing_row(node, "link")
    row.pop("last_modified")
    assert row == {"name": "link", "hash": EMPTY_MD5, "bytes": 0,
                   "content_type": "application/symlink", "symlink_path": "/v1/acc/tc/t%20o"}
    await put_object(node, "static", **{"X-Symlink-Target": "tc/t", "X-Symlink-Target-Account":
                                        "AUTH_b", "X-Symlink-Target-Etag": '"abc"',
                                        "X-Symlink-Target-Bytes": "7"})
    row = await listing_row(node, "static")
    assert (row["hash"], row["symlink_path"], row["symlink_etag"], row["symlink_bytes"]) == (
        EMPTY_MD5, "/v1/AUTH_b/tc/t", "abc", 7)
    manifest = b'[{"name": "/s/1", "bytes": 1, "hash": "x"}]'
    etag = await put_object(node, "slo", manifest, **{
        "X-Static-Large-Object": "True", "X-Object-Sysmeta-Slo-Etag": "f" * 32,
        "X-Object-Sysmeta-Slo-Size": "1048577",
        "X-Object-Sysmeta-Container-Update-Override-Size": "1048577"})
    row = await listing_row(node, "slo")
    assert (row["hash"], row["slo_etag"], row["bytes"]) == (etag, f'"{"f" * 32}"', 1048577)
    # a POST that changes the type keeps the fields; XML shows the bare ETag
    async with node.request("POST", "/object/d0/9/acc/cont/slo", headers=dict(
            TARGETS, **{"X-Container-Host": node.host, "X-Timestamp": ts(1),
                        "Content-Type": "text/x"})) as resp:
        assert resp.status == 202
    row = await listing_row(node, "slo")
    assert (row["content_type"], row["slo_etag"]) == ("text/x", f'"{"f" * 32}"')
    async with node.request("GET", f"{CONT}?format=xml") as resp:
        hashes = [e.find("hash").text for e in ET.fromstring(await resp.read())]
    assert hashes == [EMPTY_MD5, etag, EMPTY_MD5]


async def test_swift_bytes_in_content_type_overrides_bytes(node):
    await make_container(node)
    headers = {"X-Timestamp": ts(), "X-Size": "10", "X-Etag": "e" * 32,
               "X-Content-Type": "application/octet-stream;swift_bytes=4194305"}
    async with node.request("PUT", f"{CONT}/big", headers=headers) as resp:
        assert resp.status == 201
    row = await listing_row(node, "big")
    assert (row["bytes"], row["content_type"]) == (4194305, "application/octet-stream")


async def test_container_post_moves_put_timestamp(node):
    await make_container(node)
    async with node.request("HEAD", CONT) as resp:
        before = resp.headers["X-Backend-Put-Timestamp"]
    later = ts(5)
    async with node.request("POST", CONT, headers={"X-Timestamp": later,
                                                   "X-Container-Meta-A": "1"}) as resp:
        assert resp.status == 204
    async with node.request("HEAD", CONT) as resp:
        assert resp.headers["X-Backend-Put-Timestamp"] == later != before
        assert resp.headers["X-PUT-Timestamp"] == Timestamp(later).normal
        assert resp.headers["X-Container-Meta-A"] == "1"
    async with node.request("POST", CONT, headers={"X-Timestamp": ts(9),
                                                   "X-Backend-No-Timestamp-Update": "true",
                                                   "X-Container-Meta-A": "2"}) as resp:
        assert resp.status == 204
    async with node.request("HEAD", CONT) as resp:
        assert resp.headers["X-Backend-Put-Timestamp"] == later
        assert resp.headers["X-Container-Meta-A"] == "2"


async def test_legacy_path_lists_inside_the_normalised_directory(node):
    await make_container(node)
    for name in ("/dir1/", "/dir1/file2", "/dir1/sub/", "/dir1/sub/f", "/file1", "dir1/"):
        await put_row(node, name)
    for path in ("/dir1", "/dir1/"):  # Swift's testStructure
        assert await names(node, f"path={quote(path, safe='')}") == ["/dir1/file2", "/dir1/sub/"]
    assert await names(node, "path=") == ["dir1/"]


async def test_416_304_and_412_keep_the_object_headers(node):
    body = b"0123456789"
    headers = {"X-Timestamp": ts(), "Content-Type": "text/x", "X-Object-Meta-Fruit": "kiwi"}
    async with node.request("PUT", "/object/d0/9/acc/cont/r", data=body, headers=headers) as resp:
        etag = resp.headers["ETag"]
    for status, extra in ((416, {"Range": "bytes=20-30"}), (304, {"If-None-Match": etag}),
                          (412, {"If-Match": "nope"})):
        async with node.request("GET", "/object/d0/9/acc/cont/r", headers=extra) as resp:
            assert resp.status == status
            assert resp.headers["ETag"] == etag and resp.headers["Accept-Ranges"] == "bytes"
            assert resp.headers["X-Object-Meta-Fruit"] == "kiwi" and "Last-Modified" in resp.headers
            if status == 416:
                assert resp.headers["Content-Range"] == "bytes */10"


async def test_post_without_content_type_keeps_the_one_an_earlier_post_set(node):
    async with node.request("PUT", "/object/d0/9/acc/cont/p", data=b"x",
                            headers={"X-Timestamp": ts(), "Content-Type": "text/x"}) as resp:
        assert resp.status == 201
    for offset, headers in ((1, {"Content-Type": "image/jpeg", "X-Object-Meta-T": "a"}),
                            (2, {"X-Object-Meta-T": "b"})):
        # (aiohttp's client adds "Content-Type: application/octet-stream" to a POST unless told)
        async with node.request("POST", "/object/d0/9/acc/cont/p",
                                headers={"X-Timestamp": ts(offset), **headers},
                                skip_auto_headers=("Content-Type",)) as resp:
            assert resp.status == 202
    async with node.request("HEAD", "/object/d0/9/acc/cont/p") as resp:
        assert resp.headers["Content-Type"] == "image/jpeg"
        assert resp.headers["X-Object-Meta-T"] == "b"
