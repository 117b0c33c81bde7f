"""A PUT whose body is written in several steps has its whole Content-Length reserved when its
file is created: what ends up on disk is unchanged, a client that hangs up leaves nothing, and a
device without room answers 507 at once instead of after the body (a small tmpfs is the full
device: a real ENOSPC)."""
import asyncio
import hashlib
import os

import pytest
from tinyfs import mounted_tmpfs  # tests/tinyfs.py

from objectserver import metafile
from strato.timestamps import Timestamp

pytestmark = pytest.mark.timeout(60)
OBJ = "/object/d0/7/acc/cont/obj"


def ts() -> str:
    return Timestamp.now().internal


def data_files(root):
    return [os.path.join(d, f) for d, _, files in os.walk(os.path.join(root, "d0", "objects"))
            for f in files]


async def put_raw(node, head_length: int, body: bytes, hang_up: bool):
    """Announce head_length bytes, send body; then hang up, or read the node's answer (the
    status line) while the rest of the body is still unsent."""
    reader, writer = await asyncio.open_connection("127.0.0.1", node.server.port)
    writer.write((f"PUT {OBJ} HTTP/1.1\r\nHost: x\r\nX-Timestamp: {ts()}\r\n"
                  f"Content-Type: x/y\r\nContent-Length: {head_length}\r\n\r\n").encode())
    writer.write(body)
    await writer.drain()
    try:
        if hang_up:
            await asyncio.sleep(0.3)
            return None
        return await asyncio.wait_for(reader.readline(), 10)
    finally:
        writer.close()


async def test_reserved_put_is_byte_identical(node):
    body = os.urandom((3 << 20) + 123)  # several disk writes, the file made at the first
    stamp = ts()
    headers = {"X-Timestamp": stamp, "Content-Type": "x/y", "Content-Length": str(len(body))}
    async with node.request("PUT", OBJ, data=body, headers=headers) as resp:
        assert resp.status == 201
        assert resp.headers["ETag"] == hashlib.md5(body).hexdigest()
    [path] = data_files(node.root)
    with open(path, "rb") as f:
        raw = f.read()
    assert raw[:len(body)] == body
    metadata, data_length = metafile.parse_tail(raw, len(raw))
    assert data_length == len(body) and metadata["Content-Length"] == str(len(body))
    assert len(raw) == len(body) + len(metafile.encode(metadata))  # no reserved tail left over
    async with node.request("GET", OBJ) as resp:
        assert resp.status == 200 and await resp.read() == body


async def test_short_body_after_a_reserved_write_leaves_nothing(node):
    await put_raw(node, 8 << 20, b"a" * ((1 << 20) + 300_000), hang_up=True)
    tmp = os.path.join(node.root, "d0", "tmp")
    for _ in range(100):
        await asyncio.sleep(0.05)
        if not os.listdir(tmp):
            break
    assert os.listdir(tmp) == []
    assert data_files(node.root) == []
    async with node.request("GET", OBJ) as resp:
        assert resp.status == 404


@pytest.fixture
def tiny_d0(tmp_path):
    """A 4 MiB tmpfs where node_factory("tiny") puts its device d0 (skipped where this process
    may not mount). Set up before the node, so it is unmounted after the node stops."""
    mount_point = tmp_path / "tiny" / "devices" / "d0"
    mount_point.mkdir(parents=True)
    with mounted_tmpfs(mount_point, "4m"):
        yield mount_point


async def test_no_room_for_the_announced_body_is_507_before_it_is_sent(tiny_d0, node_factory):
    node = await node_factory("tiny", devices=("d0",))
    # 8 MiB announced, 1.3 MiB sent: the reservation at the first write finds no room, and the
    # node answers while the rest of the body is still unsent (unreserved, it would wait for it)
    status = await put_raw(node, 8 << 20, b"b" * ((1 << 20) + 300_000), hang_up=False)
    assert status.startswith(b"HTTP/1.1 507")
    tmp = os.path.join(node.root, "d0", "tmp")
    for _ in range(100):
        if not os.listdir(tmp):
            break
        await asyncio.sleep(0.05)
    assert os.listdir(tmp) == [] and data_files(node.root) == []
    body = os.urandom(2 << 20)  # what fits still goes in, reserved and whole
    headers = {"X-Timestamp": ts(), "Content-Type": "x/y"}
    async with node.request("PUT", OBJ, data=body, headers=headers) as resp:
        assert resp.status == 201
    async with node.request("GET", OBJ) as resp:
        assert await resp.read() == body
