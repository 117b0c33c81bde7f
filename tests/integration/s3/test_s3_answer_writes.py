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


async def _serve(make_response, body: bytes):
    writes = []

    async def handler(request: web.Request) -> web.StreamResponse:
        transport = request.transport
        original = transport.write

        def counted(data):
            writes.append(bytes(data))
            return original(data)
        transport.write = counted
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
