"""The proxy's GET body relay (handlers/common.stream) against a storage node that misbehaves on
purpose: a hand-written HTTP/1.1 node on loopback (a real node cannot be told to die half-way
through a body), a real aiohttp proxy app, a raw client socket; all under uvloop as in production.

What must hold: whole bodies arrive byte for byte and the client connection stays usable; a body
the node cuts short or stalls on reaches the client as a cut connection, never as a short body
that looks complete; a client that leaves mid-body costs no file descriptors.
"""
import asyncio
import contextlib
import dataclasses
import os

import pytest
import uvloop
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from proxy.backend import Backend, node_session
from proxy.core import Result
from proxy.handlers.common import stream
from proxy.nodes import ErrorLimiter

pytestmark = pytest.mark.timeout(60)

BIG = 3 * 1024 * 1024 + 12345  # many socket reads, odd length
SMALL = 64 * 1024 + 7


@dataclasses.dataclass(frozen=True)
class Node:
    ip: str
    port: int
    device: str = "d0"


def body_of(size: int) -> bytes:
    return (bytes(range(256)) * (size // 256 + 1))[:size]


async def node_server(behaviour):
    """A node answering GET /<size> with `size` bytes; behaviour: 'whole', 'cut' (closes after
    half the body), 'stall' (stops after half the body and keeps the connection open).
    Returns (server, port, connections accepted so far as a one-item list)."""
    accepted = [0]

    async def serve(reader, writer):
        accepted[0] += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                size = int(head.split(b" ", 2)[1].strip(b"/"))
                body = body_of(size)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                             b"Content-Length: %d\r\n\r\n" % size)
                if behaviour == "whole":
                    writer.write(body)
                    await writer.drain()
                    continue
                writer.write(body[:size // 2])
                await writer.drain()
                if behaviour == "stall":
                    await asyncio.sleep(30)
                writer.close()
                return
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], accepted


async def proxy_app(node_port: int, node_timeout: float = 5.0):
    session = node_session()  # the proxy's own node client
    backend = Backend(session, ErrorLimiter(100, 1.0), 0.5, node_timeout)
    node = Node("127.0.0.1", node_port)

    async def get(request):
        url = URL(f"http://127.0.0.1:{node_port}/{request.match_info['size']}", encoded=True)
        resp = await backend.call(node, "GET", url, {}, stream=True)
        headers = CIMultiDict({"Content-Length": resp.headers["Content-Length"],
                               "Content-Type": resp.headers["Content-Type"]})
        return await stream(request, Result(resp.status, headers, stream=resp))

    app = web.Application()
    app.router.add_get("/{size}", get)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, session, site._server.sockets[0].getsockname()[1]


@contextlib.asynccontextmanager
async def relay(behaviour: str, node_timeout: float = 5.0):
    """A node of `behaviour` behind a proxy app: yields (proxy port, node connections accepted)."""
    node, node_port, accepted = await node_server(behaviour)
    runner, session, port = await proxy_app(node_port, node_timeout)
    try:
        yield port, accepted
    finally:
        await session.close()
        await runner.cleanup()
        node.close()


async def fetch(reader, writer, size: int):
    """One GET on an open client connection: (status line, body bytes read, clean end?)."""
    writer.write(b"GET /%d HTTP/1.1\r\nHost: x\r\n\r\n" % size)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    length = int([line.split(b":")[1] for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:")][0])
    body = bytearray()
    while len(body) < length:
        data = await reader.read(length - len(body))
        if not data:
            return head.split(b"\r\n")[0], bytes(body), False
        body += data
    return head.split(b"\r\n")[0], bytes(body), True


def test_whole_bodies_keep_the_connection_alive():
    async def scenario():
        async with relay("whole") as (port, accepted):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            for size in (BIG, SMALL, 1, BIG, 256 * 1024):
                status, body, clean = await fetch(reader, writer, size)
                assert status == b"HTTP/1.1 200 OK" and clean
                assert body == body_of(size), size
            writer.close()
            # Each answer ended its node connection's response: one pooled connection served all.
            assert accepted[0] == 1

    uvloop.run(scenario())


@pytest.mark.parametrize("behaviour", ["cut", "stall"])
def test_a_node_failing_mid_body_cuts_the_client_connection(behaviour):
    async def scenario():
        async with relay(behaviour, node_timeout=0.5) as (port, _):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            status, body, clean = await asyncio.wait_for(fetch(reader, writer, BIG), 20)
            assert status == b"HTTP/1.1 200 OK"
            assert not clean and len(body) < BIG  # a short body, and the connection ended
            assert await reader.read() == b""
            writer.close()

    uvloop.run(scenario())


def test_a_client_leaving_mid_body_leaks_nothing():
    async def scenario():
        async with relay("whole") as (port, _):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            await fetch(reader, writer, BIG)  # warm: pools and pipes exist before counting
            writer.close()
            await asyncio.sleep(0.2)
            fds = len(os.listdir("/proc/self/fd"))
            for _ in range(5):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(b"GET /%d HTTP/1.1\r\nHost: x\r\n\r\n" % (BIG * 4))
                await reader.readexactly(1000)
                writer.transport.abort()  # gone without reading the rest
            await asyncio.sleep(1.0)
            # Still serving, and every descriptor of the abandoned relays is closed.
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            status, body, clean = await fetch(reader, writer, BIG)
            assert clean and body == body_of(BIG)
            writer.close()
            await asyncio.sleep(0.2)
            assert len(os.listdir("/proc/self/fd")) <= fds + 2

    uvloop.run(scenario())

