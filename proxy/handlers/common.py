"""Shared bits of the Swift handlers: turning core Results into aiohttp responses."""
from __future__ import annotations

import asyncio
import logging

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from proxy import account_acl
from proxy.core import Result
from proxy.errors import SwiftError

log = logging.getLogger("strato.proxy")

# Swift's swift_owner_headers: hidden from non-owners' reads (one list with the writes' filter).
OWNER_ONLY_HEADERS = account_acl.OWNER_HEADERS


class NoContent(web.Response):
    """A 204 that still says Content-Length: 0, as Swift's answers do (aiohttp drops it)."""

    async def _write_headers(self) -> None:
        self._headers["Content-Length"] = "0"
        await super()._write_headers()


def no_content(response: web.Response) -> web.Response:
    headers = CIMultiDict(response.headers)
    headers.popall("Content-Length", None)
    return NoContent(status=204, headers=headers)


def respond(result: Result, *, owner: bool = True, head: bool = False) -> web.Response:
    """A buffered response from a Result (errors keep the node's short body)."""
    headers = CIMultiDict(result.headers)
    if not owner:
        for name in OWNER_ONLY_HEADERS:
            headers.popall(name, None)
    headers.popall("Content-Length", None)
    if result.status >= 400 and not result.body:
        raise SwiftError(result.status, headers=headers)
    body = b"" if head else result.body
    if head and result.status // 100 == 2:
        length = result.headers.get("Content-Length", str(len(result.body)))
        headers["Content-Length"] = length if length.isdigit() else "0"
        return web.Response(status=result.status, headers=headers)
    if "Content-Type" not in headers:
        headers["Content-Type"] = "text/html; charset=UTF-8"
    return web.Response(status=result.status, headers=headers, body=body)


async def stream(request: web.Request, result: Result, extra: dict | None = None) -> web.StreamResponse:
    """Send a streamed object Result to the client with back-pressure."""
    headers = CIMultiDict(result.headers)
    if extra:
        headers.update(extra)
    length = headers.popall("Content-Length", [None])[0]
    hook = request.get("before_send")
    if hook is not None:
        await hook(headers)
    resp = web.StreamResponse(status=result.status, headers=headers)
    if length is not None and length.isdigit():
        resp.content_length = int(length)
    await relay(request, resp, result)
    return resp


async def relay(request: web.Request, resp: web.StreamResponse, result: Result) -> None:
    """Send resp's head, then the Result's body, then its end; the Result is closed after. A
    failure before the head is sent raises (the caller answers an error); after it, a node or
    the client failing can only cut the body: logged, and the connection dropped."""
    try:
        await resp.prepare(request)
        await copy_body(resp, result)
        await resp.write_eof()
    except (SwiftError, aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        if not resp.prepared:
            raise
        # Headers are gone: the only honest signal left is a short body. Drop the connection so
        # the client sees an incomplete response instead of waiting for bytes that never come.
        log.warning("%s %s: body aborted: %s", request.method, request.path, exc)
        if request.transport is not None:
            request.transport.close()
    finally:
        result.close()


async def copy_body(resp: web.StreamResponse, result: Result) -> None:
    """The body through Python: a node's body in one write per wake-up, whatever has arrived
    (readany's first piece plus the rest already buffered; fewer, larger sends than 64 KiB
    slices or one write per socket read), anything else as the Result yields it."""
    node = result.stream
    if node is None or node.raw is None or result.body_iter is not None:
        async for chunk in result.iter_body():
            await resp.write(chunk)
        return
    async for chunk in as_buffered(node.raw.content):
        await resp.write(chunk)


async def as_buffered(content):
    """A body (client's or node's) in pieces of whatever has arrived at each wake-up: no
    re-slicing into fixed chunks, no piece per socket read (each piece costs a write to the
    client, or one per replica in backend._fan_out; the reader's buffer limit bounds a piece)."""
    while chunk := await content.readany():
        more = content.read_nowait()  # everything else already buffered: one piece for all
        yield chunk + more if more else chunk


async def buffered_parts(content):
    """A request body for Backend.put_stream: as as_buffered() gives it, but what has arrived at
    a wake-up comes as the tuple of the reader's own pieces (bytes when there is one) instead of
    joined into one bytes (piece_parts; put_stream writes the tuple in one go). Peeks at the
    StreamReader's buffer, which aiohttp does not expose: where it is not there (no body, or an
    aiohttp without it: tests/unit/proxy/test_proxy_buffered_parts.py notices) this is
    as_buffered()."""
    buffer = getattr(content, "_buffer", None)
    if buffer is None:
        async for chunk in as_buffered(content):
            yield chunk
        return
    while True:
        first, _ = await content.readchunk()
        if not first:
            if content.at_eof():
                return
            continue  # (the end of a client's HTTP chunk)
        if not buffer:
            yield first
            continue
        parts = [first]
        while buffer:
            more, _ = await content.readchunk()
            if more:
                parts.append(more)
        yield tuple(parts) if len(parts) > 1 else first


def created(result: Result) -> web.Response:
    headers = CIMultiDict(result.headers)
    headers["Content-Type"] = "text/html; charset=UTF-8"
    return web.Response(status=result.status, headers=headers, body=b"")
