"""An S3 GET's head goes out with its first body bytes: one send for a small object, not two.

objects.BodyResponse leans on aiohttp buffering a response head until the first body write (what
its web.Response does); if an aiohttp upgrade changes that, these tests fail instead of the
proxy quietly going back to two sends per GET. A real aiohttp server on loopback, its transport's
writes counted.
"""
import asyncio

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from proxy.s3.objects import BodyResponse

BODY = b"x" * 4096


def _record_writes(request: web.Request, writes: list) -> None:
    """Every bytes object the request's transport is asked to send goes to `writes` too."""
    transport = request.transport
    original = transport.write

    def write(data):
        writes.append(bytes(data))
        return original(data)
    transport.write = write


async def _serve(make_response, body: bytes):
    writes = []

    async def handler(request: web.Request) -> web.StreamResponse:
        _record_writes(request, writes)
        response = make_response()
        response.content_length = len(body)
        await response.prepare(request)
        if body:
            await response.write(body)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    async with TestServer(app, host="127.0.0.1", port=0) as server:  # (aiohttp's own: ephemeral port)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /b/k HTTP/1.1\r\nHost: h\r\n\r\n")
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        got = await reader.readexactly(len(body))
        writer.close()
    return writes, head, got


@pytest.mark.timeout(30)
async def test_head_and_small_body_leave_in_one_write():
    writes, head, got = await _serve(lambda: BodyResponse(status=200, headers={"ETag": '"e"'}),
                                     BODY)
    assert got == BODY and b'ETag: "e"' in head
    assert len(writes) == 1 and writes[0].startswith(b"HTTP/1.1 200") and writes[0].endswith(BODY)


@pytest.mark.timeout(30)
async def test_a_plain_stream_response_writes_twice():
    # The behaviour BodyResponse changes (if aiohttp ever buffers heads itself, this one fails:
    # then BodyResponse is no longer needed).
    writes, _, got = await _serve(lambda: web.StreamResponse(status=200), BODY)
    assert got == BODY and len(writes) == 2


@pytest.mark.timeout(30)
async def test_an_empty_body_still_sends_its_head():
    writes, head, got = await _serve(lambda: BodyResponse(status=200), b"")
    assert got == b"" and head.startswith(b"HTTP/1.1 200") and b"Content-Length: 0" in head
    assert len(writes) == 1


@pytest.mark.timeout(60)
def test_s3_gets_of_small_and_large_objects_round_trip(raw, raw_bucket):
    """Through the all-in-one: a small object (its head waits for the body), an empty one, and
    one above COALESCE_LIMIT (head sent at once) come back whole with their headers."""
    import hashlib
    import os

    from proxy.s3.objects import COALESCE_LIMIT
    for size in (0, 1, 4096, COALESCE_LIMIT, COALESCE_LIMIT + 1, 300 * 1024):
        body = os.urandom(size)
        assert raw("PUT", f"/{raw_bucket}/o{size}", body).status_code == 200
        got = raw("GET", f"/{raw_bucket}/o{size}")
        assert got.status_code == 200 and got.content == body
        assert got.headers["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
        assert got.headers["Content-Length"] == str(size) and got.headers["x-amz-request-id"]


async def _proxy_get_writes(aio, raw, path: str) -> tuple[list[bytes], bytes]:
    """(the proxy's transport writes, body) for a signed GET of `path`, answered by the
    proxy application run in this process against the session all-in-one's nodes and keys."""
    import os
    from urllib.parse import urlsplit

    from proxy.app import create_app
    from proxy.httpserver import SwiftAppRunner
    from strato import config as config_mod
    config = config_mod.load(os.path.join(aio["data_dir"], "run", "strato.toml"))
    app = create_app(config, run_expirer=False)
    writes = []

    @web.middleware
    async def counted(request, handler):
        _record_writes(request, writes)
        return await handler(request)
    app.middlewares.insert(0, counted)
    url, headers = raw.signed("GET", path)
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = f"GET {path} HTTP/1.1\r\nHost: {urlsplit(url).netloc}\r\n{head}\r\n".encode()
    runner = SwiftAppRunner(app)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        reader, writer = await asyncio.open_connection("127.0.0.1", runner.addresses[0][1])
        writer.write(request)
        await writer.drain()
        answer = await reader.readuntil(b"\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 200"), answer
        length = int(answer.lower().split(b"content-length: ", 1)[1].split(b"\r\n", 1)[0])
        body = await reader.readexactly(length)
        writer.close()
    finally:
        await runner.cleanup()
    return writes, body


@pytest.mark.timeout(60)
async def test_the_proxy_sends_a_small_s3_get_in_one_write(aio, raw, raw_bucket):
    """objects.get() itself uses BodyResponse up to COALESCE_LIMIT: the proxy's answer to a small
    GET is one write; a larger object's head still leaves first."""
    from proxy.s3.objects import COALESCE_LIMIT
    large = b"y" * (COALESCE_LIMIT + 1)
    assert raw("PUT", f"/{raw_bucket}/small", BODY).status_code == 200
    assert raw("PUT", f"/{raw_bucket}/large", large).status_code == 200
    writes, body = await _proxy_get_writes(aio, raw, f"/{raw_bucket}/small")
    assert body == BODY and len(writes) == 1 and len(writes[0]) > len(BODY)
    writes, body = await _proxy_get_writes(aio, raw, f"/{raw_bucket}/large")
    assert body == large and len(writes) >= 2 and len(writes[0]) < 4096  # the head alone first
