"""Full GETs of larger objects go out with sendfile(2), verified window by window: exact bytes,
on asyncio and uvloop, with a slow reader, over keep-alive; a corrupt object is a 503 before any
byte (one window) or a connection cut before the last window (several), and is quarantined."""
import hashlib
import os
import socket

import pytest
import uvloop

import native.chunkio
from objectserver import object_role
from strato.timestamps import Timestamp

pytestmark = pytest.mark.timeout(60)
OBJ = "/object/d0/7/acc/cont/big"


@pytest.fixture(params=["asyncio", "uvloop"])
def event_loop_policy(request):
    import asyncio
    return uvloop.EventLoopPolicy() if request.param == "uvloop" else \
        asyncio.DefaultEventLoopPolicy()


@pytest.fixture
def sendfile_calls(monkeypatch):
    calls = []
    real = native.chunkio.sendfile

    def counting(out_fd, in_fd, offset, count):
        calls.append(count)
        return real(out_fd, in_fd, offset, count)

    monkeypatch.setattr(object_role.chunkio, "sendfile", counting)
    return calls


async def put(node, body, path=OBJ):
    headers = {"X-Timestamp": Timestamp.now().internal, "Content-Type": "application/x-test"}
    async with node.request("PUT", path, data=body, headers=headers) as resp:
        assert resp.status == 201


def data_file(node):
    found = [os.path.join(d, f) for d, _, files in
             os.walk(os.path.join(node.root, "d0", "objects")) for f in files]
    assert len(found) == 1
    return found[0]


def flip(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0xFF]))


def quarantined(node):
    qdir = os.path.join(node.root, "d0", "quarantined", "objects")
    return os.listdir(qdir) if os.path.isdir(qdir) else []


@pytest.mark.parametrize("window", [8 << 20, 1 << 20])
async def test_get_is_sent_with_sendfile_exactly(node, sendfile_calls, monkeypatch, window):
    monkeypatch.setattr(object_role, "SENDFILE_WINDOW", window)
    body = os.urandom((3 << 20) + 123)
    await put(node, body)
    for _ in range(2):  # the second GET reuses the keep-alive connection
        async with node.request("GET", OBJ) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Length"] == str(len(body))
            assert resp.headers["Content-Type"] == "application/x-test"
            assert await resp.read() == body
    assert sum(sendfile_calls) >= 2 * len(body)
    async with node.request("HEAD", OBJ) as resp:  # a HEAD after it on the same connection
        assert resp.status == 200


async def test_small_objects_go_from_memory(node, sendfile_calls):
    await put(node, b"x" * 4096)
    async with node.request("GET", OBJ) as resp:
        assert await resp.read() == b"x" * 4096
    assert sendfile_calls == []


async def test_slow_reader_gets_every_byte(node, sendfile_calls):
    """A client that does not read for a while fills the socket: sendfile meets EAGAIN and the
    node waits for the socket to drain."""
    body = os.urandom(6 << 20)  # more than the node's socket can hold (tcp_wmem max 4 MiB)
    await put(node, body)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)  # before connect: a sane window
    sock.connect(("127.0.0.1", node.server.port))
    sock.sendall(f"GET {OBJ} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    import asyncio
    await asyncio.sleep(0.5)  # the node blocks on a full socket meanwhile
    loop = asyncio.get_running_loop()
    sock.setblocking(False)
    received = bytearray()
    while True:
        chunk = await loop.sock_recv(sock, 1 << 16)
        if not chunk:
            break
        received += chunk
    sock.close()
    head, _, payload = bytes(received).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert hashlib.md5(payload).hexdigest() == hashlib.md5(body).hexdigest()
    assert len(sendfile_calls) > 1  # it took more than one call: the wait path ran


async def test_corrupt_single_window_is_503_before_any_byte(node, sendfile_calls):
    body = os.urandom(3 << 20)
    await put(node, body)
    flip(data_file(node), 2 << 20)
    async with node.request("GET", OBJ) as resp:
        assert resp.status == 503
        assert len(await resp.read()) < 100
    assert sendfile_calls == []
    assert len(quarantined(node)) == 1
    async with node.request("GET", OBJ) as resp:
        assert resp.status == 404


async def test_corrupt_multi_window_is_cut_before_the_last_window(node, sendfile_calls,
                                                                  monkeypatch):
    monkeypatch.setattr(object_role, "SENDFILE_WINDOW", 1 << 20)
    body = os.urandom(3 << 20)
    await put(node, body)
    flip(data_file(node), 100)  # in the first window: already sent when the hash is known
    received = bytearray()
    with pytest.raises(Exception) as caught:
        async with node.request("GET", OBJ) as resp:
            assert resp.status == 200
            async for chunk in resp.content.iter_any():
                received += chunk
    assert not isinstance(caught.value, AssertionError)
    assert len(received) <= 2 << 20  # the last window never went out
    assert len(quarantined(node)) == 1
