"""The object role over loopback HTTP against a real node: writes, reads, ranges, conflicts."""
import asyncio
import hashlib
import os
import socket

import pytest

from strato.timestamps import Timestamp

pytestmark = pytest.mark.timeout(60)
OBJ = "/object/d0/7/acc/cont/obj"


def ts(offset=0.0):
    return Timestamp(Timestamp.now().seconds + offset).internal


async def put(node, path=OBJ, body=b"hello world", timestamp=None, **headers):
    headers.setdefault("Content-Type", "text/plain")
    headers["X-Timestamp"] = timestamp or ts()
    async with node.request("PUT", path, data=body, headers=headers) as resp:
        return resp.status, resp.headers.copy()


async def test_put_get_head_delete(node):
    body = os.urandom(300_000)
    status, headers = await put(node, body=body, **{"X-Object-Meta-Color": "blue",
                                                    "Content-Disposition": "inline"})
    assert status == 201
    assert headers["ETag"] == hashlib.md5(body).hexdigest()
    async with node.request("GET", OBJ) as resp:
        assert resp.status == 200
        assert await resp.read() == body
        assert resp.headers["X-Object-Meta-Color"] == "blue"
        assert resp.headers["Content-Disposition"] == "inline"
        assert resp.headers["Content-Type"] == "text/plain"
        assert resp.headers["ETag"] == hashlib.md5(body).hexdigest()
        assert "Last-Modified" in resp.headers
    async with node.request("HEAD", OBJ) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Length"] == str(len(body))
    delete_ts = ts(1)
    async with node.request("DELETE", OBJ, headers={"X-Timestamp": delete_ts}) as resp:
        assert resp.status == 204
    async with node.request("GET", OBJ) as resp:
        assert resp.status == 404
        assert resp.headers["X-Backend-Timestamp"] == delete_ts
    async with node.request("DELETE", OBJ, headers={"X-Timestamp": ts(2)}) as resp:
        assert resp.status == 404


async def test_newest_timestamp_wins_and_older_gets_409(node):
    newer, older = ts(10), ts(5)
    assert (await put(node, body=b"new", timestamp=newer))[0] == 201
    status, headers = await put(node, body=b"old", timestamp=older)
    assert status == 409
    assert headers["X-Backend-Timestamp"] == newer
    assert (await put(node, body=b"same", timestamp=newer))[0] == 409
    big = b"x" * (2 << 20)  # large enough for the early check before the body is read
    assert (await put(node, body=big, timestamp=older))[0] == 409
    async with node.request("GET", OBJ) as resp:
        assert await resp.read() == b"new"
    async with node.request("DELETE", OBJ, headers={"X-Timestamp": older}) as resp:
        assert resp.status == 409
    # one file remains in the hash directory: older versions are cleaned on commit
    assert (await put(node, body=b"newest", timestamp=ts(20)))[0] == 201
    hash_dirs = [d for d, _, files in os.walk(os.path.join(node.root, "d0", "objects")) if files]
    assert len(hash_dirs) == 1 and len(os.listdir(hash_dirs[0])) == 1


async def test_etag_mismatch_422_leaves_nothing(node):
    status, _ = await put(node, body=b"abc", ETag="0" * 32)
    assert status == 422
    async with node.request("GET", OBJ) as resp:
        assert resp.status == 404
    assert os.listdir(os.path.join(node.root, "d0", "tmp")) == []


async def test_bad_or_missing_timestamp_400(node):
    async with node.request("PUT", OBJ, data=b"x", headers={"X-Timestamp": "yesterday"}) as resp:
        assert resp.status == 400
    async with node.request("PUT", OBJ, data=b"x") as resp:
        assert resp.status == 400
    async with node.request("DELETE", OBJ) as resp:
        assert resp.status == 400


async def test_missing_or_full_device_507(node, node_factory):
    assert (await put(node, path="/object/nodisk/7/a/c/o"))[0] == 507
    async with node.request("GET", "/object/nodisk/7/a/c/o") as resp:
        assert resp.status == 507
    os.rename(os.path.join(node.root, "d1"), os.path.join(node.root, "gone"))
    await asyncio.sleep(1.1)  # the free-space/presence reading is cached for a second
    assert (await put(node, path="/object/d1/7/a/c/o"))[0] == 507
    full = await node_factory("full", fallocate_reserve_mb=10 ** 9)
    assert (await put(full))[0] == 507
    async with full.request("GET", OBJ) as resp:  # reads still work on a full device
        assert resp.status == 404


async def test_chunked_put(node):
    parts = [os.urandom(70_000) for _ in range(5)]

    async def gen():
        for part in parts:
            yield part

    headers = {"X-Timestamp": ts(), "Content-Type": "application/x-test"}
    async with node.request("PUT", OBJ, data=gen(), headers=headers) as resp:
        assert resp.status == 201
        assert resp.headers["ETag"] == hashlib.md5(b"".join(parts)).hexdigest()
    async with node.request("GET", OBJ) as resp:
        assert await resp.read() == b"".join(parts)


async def test_short_body_leaves_nothing_visible(node):
    """A client that promises 1 MB and hangs up after 1000 bytes: no object, no temp file."""
    sock = socket.create_connection(("127.0.0.1", node.server.port))
    head = (f"PUT {OBJ} HTTP/1.1\r\nHost: x\r\nX-Timestamp: {ts()}\r\n"
            f"Content-Length: 1000000\r\n\r\n").encode()
    sock.sendall(head + b"a" * 1000)
    await asyncio.sleep(0.2)
    sock.close()
    for _ in range(50):
        await asyncio.sleep(0.05)
        if not os.listdir(os.path.join(node.root, "d0", "tmp")):
            break
    assert os.listdir(os.path.join(node.root, "d0", "tmp")) == []
    async with node.request("GET", OBJ) as resp:
        assert resp.status == 404


async def test_ranges(node):
    body = bytes(range(256)) * 40  # 10240 bytes
    await put(node, body=body)

    async def get(range_header):
        async with node.request("GET", OBJ, headers={"Range": range_header}) as resp:
            return resp.status, resp.headers.copy(), await resp.read()

    status, headers, data = await get("bytes=10-19")
    assert status == 206 and data == body[10:20]
    assert headers["Content-Range"] == "bytes 10-19/10240"
    status, headers, data = await get("bytes=-100")
    assert status == 206 and data == body[-100:]
    status, headers, data = await get("bytes=10000-")
    assert status == 206 and data == body[10000:]
    status, headers, data = await get("bytes=20000-30000")
    assert status == 416 and headers["Content-Range"] == "bytes */10240"
    status, headers, data = await get("bytes=oops")
    assert status == 200 and data == body
    status, headers, data = await get("bytes=0-9,100-109,-5")
    assert status == 206
    ctype = headers["Content-Type"]
    assert ctype.startswith("multipart/byteranges;boundary=")
    boundary = ctype.split("boundary=")[1].encode()
    parts = data.split(b"--" + boundary)
    assert parts[-1] == b"--" and len(parts) == 5
    expected = [(0, 10), (100, 110), (10235, 10240)]
    for part, (start, stop) in zip(parts[1:4], expected):
        head, _, payload = part.partition(b"\r\n\r\n")
        assert f"Content-Range: bytes {start}-{stop - 1}/10240".encode() in head
        assert payload == body[start:stop] + b"\r\n"
    assert int(headers["Content-Length"]) == len(data)


async def test_post_replaces_user_metadata(node):
    await put(node, **{"X-Object-Meta-A": "1", "X-Object-Meta-B": "2",
                       "X-Object-Sysmeta-Keep": "yes"})
    headers = {"X-Timestamp": ts(5), "X-Object-Meta-C": "3", "Content-Type": "image/png"}
    async with node.request("POST", OBJ, headers=headers) as resp:
        assert resp.status == 202
    async with node.request("GET", OBJ) as resp:
        assert await resp.read() == b"hello world"
        assert "X-Object-Meta-A" not in resp.headers
        assert resp.headers["X-Object-Meta-C"] == "3"
        assert resp.headers["X-Object-Sysmeta-Keep"] == "yes"
        assert resp.headers["Content-Type"] == "image/png"
        assert resp.headers["X-Backend-Timestamp"] == headers["X-Timestamp"]
    async with node.request("POST", OBJ, headers={"X-Timestamp": ts(1)}) as resp:
        assert resp.status == 409
    async with node.request("POST", "/object/d0/7/acc/cont/none",
                            headers={"X-Timestamp": ts()}) as resp:
        assert resp.status == 404


async def test_conditional_get(node):
    _, headers = await put(node)
    etag = headers["ETag"]
    async with node.request("GET", OBJ, headers={"If-None-Match": etag}) as resp:
        assert resp.status == 304
    async with node.request("GET", OBJ, headers={"If-Match": "nope"}) as resp:
        assert resp.status == 412
    async with node.request("GET", OBJ, headers={"If-Match": f'"{etag}"'}) as resp:
        assert resp.status == 200
    status, _ = await put(node, timestamp=ts(3), **{"If-None-Match": "*"})
    assert status == 412


async def test_corrupted_data_is_quarantined_never_served(node):
    body = os.urandom(3 << 20)
    await put(node, body=body)
    data_files = [os.path.join(d, f) for d, _, files in
                  os.walk(os.path.join(node.root, "d0", "objects")) for f in files]
    assert len(data_files) == 1
    with open(data_files[0], "r+b") as f:  # flip one byte in the middle of the body
        f.seek(1 << 20)
        byte = f.read(1)
        f.seek(1 << 20)
        f.write(bytes([byte[0] ^ 0xFF]))
    received = bytearray()
    with pytest.raises(Exception):
        async with node.request("GET", OBJ) as resp:
            assert resp.status == 200
            async for chunk in resp.content.iter_any():
                received += chunk
    assert len(received) < len(body)  # cut short: the client can tell
    quarantined = os.listdir(os.path.join(node.root, "d0", "quarantined", "objects"))
    assert len(quarantined) == 1
    async with node.request("GET", OBJ) as resp:
        assert resp.status == 404


async def test_bad_paths_400_and_methods_405(node):
    for path in ("/object/d0/notanumber/a/c/o", "/object/d0/1/a/c", "/nope/d0/1/a"):
        async with node.request("GET", path) as resp:
            assert resp.status == 400
    async with node.request("PATCH", OBJ) as resp:
        assert resp.status == 405


async def test_x_delete_at_expired_is_404(node):
    await put(node, **{"X-Delete-At": str(int(Timestamp.now().seconds) - 10)})
    async with node.request("GET", OBJ) as resp:
        assert resp.status == 404


async def test_expirer_delete_with_x_if_delete_at(node):
    at = str(int(Timestamp.now().seconds) + 100)
    await put(node, **{"X-Delete-At": at})
    async with node.request("DELETE", OBJ, headers={"X-Timestamp": ts(1),
                                                    "X-If-Delete-At": "12"}) as resp:
        assert resp.status == 412
    async with node.request("DELETE", OBJ, headers={"X-Timestamp": ts(2),
                                                    "X-If-Delete-At": at}) as resp:
        assert resp.status == 204
    async with node.request("GET", OBJ) as resp:
        assert resp.status == 404


async def test_replicate_digests_follow_every_change(node):
    async def digests():
        async with node.request("POST", "/replicate/object/d0/7") as resp:
            assert resp.status == 200
            return await resp.json()

    assert await digests() == {}
    await put(node, body=b"v1")
    first = await digests()
    assert len(first) == 1
    await put(node, body=b"v2", timestamp=ts(1))
    second = await digests()
    assert second.keys() == first.keys() and second != first  # remembered, yet not stale
    async with node.request("DELETE", OBJ, headers={"X-Timestamp": ts(2)}) as resp:
        assert resp.status == 204
    third = await digests()
    assert third != second
    async with node.request("POST", "/replicate/object/d0/8") as resp:
        assert await resp.json() == {}
