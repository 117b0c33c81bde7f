"""The proxy's HTTP client side: requests to storage nodes, fan-out with handoffs, streamed PUTs.

Paths follow docs/storage-protocol.md: /{role}/{device}/{partition}/{account}[/{container}[/{obj}]]
with every segment percent-encoded (safe=""). One aiohttp ClientSession per process is owned by
the application (app.py cleanup_ctx) and passed in. Errors and 5xx feed the ErrorLimiter.
The quorum decision itself lives in quorum.py; this module only collects answers.
"""
from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
from typing import AsyncIterator, Callable
from urllib.parse import quote, urlencode

import aiohttp
import aiohttp.payload
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from native import checksum
from proxy.nodes import ErrorLimiter, NodeIter
from proxy.quorum import FAILED
from strato import put_footer

log = logging.getLogger("strato.proxy.backend")


class _NodeRequest(aiohttp.ClientRequest):
    """A request to a storage node carries the headers the proxy gives it (plus Host and the
    body's framing) and nothing else: aiohttp's automatic Accept, Accept-Encoding and User-Agent
    mean nothing to a node (the proxy never decompresses) and adding them cost ~5 % of a 4 KiB
    PUT's proxy CPU (a sorted CIMultiDict copy of every request's headers)."""

    def update_auto_headers(self, skip_auto_headers) -> None:
        # Only what the body would add by itself is skipped (Content-Type on a POST, see call()).
        self._skip_auto_headers = (CIMultiDict((name, None) for name in skip_auto_headers)
                                   if skip_auto_headers else None)


async def empty_body():
    """The body of a zero-length PUT (markers, registry rows, upload records): yields nothing."""
    return
    yield b""  # noqa: unreachable - makes this an async generator


def node_session() -> aiohttp.ClientSession:
    """The one client session a proxy process uses for its nodes (its owner closes it): kept-alive
    connections without a per-host limit, no cookie jar (a node's Set-Cookie must never be
    replayed; the jar's filter and update cost CPU per request), no automatic headers."""
    connector = aiohttp.TCPConnector(limit=0, limit_per_host=0, ttl_dns_cache=None,
                                     force_close=False, enable_cleanup_closed=True)
    return aiohttp.ClientSession(connector=connector, auto_decompress=False,
                                 cookie_jar=aiohttp.DummyCookieJar(),
                                 request_class=_NodeRequest)


@dataclasses.dataclass
class NodeResponse:
    """One storage node's answer; `body` is read for small answers, `raw` kept open for streams."""

    node: object
    status: int
    headers: CIMultiDictProxy | CIMultiDict
    body: bytes = b""
    raw: aiohttp.ClientResponse | None = None

    def release(self) -> None:
        if self.raw is not None:
            self.raw.release()
            self.raw = None


def failed(node) -> NodeResponse:
    return NodeResponse(node, FAILED, CIMultiDict())


@functools.lru_cache(maxsize=4096)
def _segment(name: str) -> str:
    """A device, account or container name percent-encoded: the same few names recur in every
    request (three nodes each), so they are quoted once; object names are quoted as they come."""
    return quote(name, safe="")


def node_url(node, role: str, part: int, account: str, container: str | None = None,
             obj: str | None = None, query: dict | None = None) -> URL:
    path = f"/{role}/{_segment(node.device)}/{part}/{_segment(account)}"
    if container is not None:
        path += "/" + _segment(container)
        if obj is not None:
            path += "/" + quote(obj, safe="")
    url = f"http://{node.ip}:{node.port}{path}"
    if query:
        url += "?" + urlencode(query, quote_via=quote)
    return URL(url, encoded=True)


def _placement(ring, role: str, account: str, container: str | None, obj: str | None):
    """Partition and primaries of what the request is about: a container row (PUT/DELETE
    /container/d/p/a/c/o) lives with its container, an account row with its account."""
    if role == "account":
        return ring.get_nodes(account)
    if role == "container":
        return ring.get_nodes(account, container)
    return ring.get_nodes(account, container, obj)


class Backend:
    def __init__(self, session: aiohttp.ClientSession, limiter: ErrorLimiter,
                 conn_timeout: float, node_timeout: float, put_footer: bool = True):
        self.session = session
        self.limiter = limiter
        self.timeout = aiohttp.ClientTimeout(total=None, sock_connect=conn_timeout,
                                             sock_read=node_timeout)
        # PUT footer negotiation (strato/put_footer.py): (ip, port) -> whether that node's last
        # object-role answer listed the feature. Unknown or forgotten nodes get the old form.
        self.put_footer = put_footer
        self.footer_nodes: dict[tuple[str, int], bool] = {}

    def _learn(self, node, url: URL, headers) -> None:
        """Remember what the node's object role says it understands (only object-role answers:
        the container and account roles on the same port say nothing about it)."""
        if url.raw_path.startswith("/object/"):
            self.footer_nodes[(node.ip, node.port)] = put_footer.supports_footer(
                headers.get(put_footer.FEATURES_HEADER))

    def footer_ok(self, node) -> bool:
        """Whether a PUT to this node may carry the footer."""
        return self.put_footer and self.footer_nodes.get((node.ip, node.port), False)

    def _judge(self, node, status: int) -> None:
        if status == 507:
            self.limiter.limit_now(node)
        elif status >= 500:
            self.limiter.error(node)
        else:
            self.limiter.success(node)

    async def call(self, node, method: str, url: URL, headers: dict, body: bytes | None = None,
                   stream: bool = False) -> NodeResponse:
        """One request; FAILED (503) on a connection error or timeout. stream=True keeps it open."""
        try:
            # aiohttp adds Content-Type: application/octet-stream to a bodied request by
            # itself; on a POST the node would then reset the object's stored type.
            skip = ("Content-Type",) if method == "POST" else None
            resp = await self.session.request(method, url, headers=headers, data=body,
                                              timeout=self.timeout, allow_redirects=False,
                                              skip_auto_headers=skip)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            log.warning("%s %s: %s", method, url, exc or type(exc).__name__)
            self.limiter.error(node)
            # it may come back as another release: ask again before the next footer PUT
            self.footer_nodes.pop((node.ip, node.port), None)
            return failed(node)
        self._judge(node, resp.status)
        self._learn(node, url, resp.headers)
        if stream and method != "HEAD":
            return NodeResponse(node, resp.status, resp.headers, raw=resp)
        try:
            data = await resp.read()
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            log.warning("%s %s: reading: %s", method, url, exc or type(exc).__name__)
            self.limiter.error(node)
            return failed(node)
        finally:
            resp.release()
        return NodeResponse(node, resp.status, resp.headers, data)

    async def replicated(self, method: str, ring, role: str, account: str,
                         container: str | None = None, obj: str | None = None,
                         headers_for: Callable[[int], dict] = lambda i: {},
                         query: dict | None = None, body: bytes | None = None) -> list[NodeResponse]:
        """Send to every replica at once; a failed or 5xx replica is retried on the next handoff.

        Returns one answer per replica (in replica order), for quorum.best_status().
        """
        part, primaries = _placement(ring, role, account, container, obj)
        nodes = NodeIter(ring, part, primaries, self.limiter)
        first = nodes.take(len(primaries))

        async def one(index: int, node) -> NodeResponse:
            headers = headers_for(index)
            while True:
                url = node_url(node, role, part, account, container, obj, query)
                resp = await self.call(node, method, url, headers, body)
                if resp.status < 500:
                    return resp
                node = next(nodes, None)
                if node is None:
                    return resp

        return list(await asyncio.gather(*(one(i, n) for i, n in enumerate(first))))

    async def read(self, method: str, ring, role: str, account: str, container: str | None = None,
                   obj: str | None = None, headers: dict | None = None, query: dict | None = None,
                   stream: bool = False, accept: Callable[[NodeResponse], bool] | None = None
                   ) -> NodeResponse:
        """Ask one healthy replica at a time until one answers with something other than 404/5xx.

        All 404: the newest 404 (with its tombstone timestamp); nothing but errors: 503.
        `accept` may veto an answer (e.g. an older copy than a tombstone seen).
        """
        part, primaries = _placement(ring, role, account, container, obj)
        nodes = NodeIter(ring, part, primaries, self.limiter)
        not_found: NodeResponse | None = None
        last_error: NodeResponse | None = None
        for node in nodes:
            url = node_url(node, role, part, account, container, obj, query)
            resp = await self.call(node, method, url, dict(headers or {}), stream=stream)
            if resp.status == 404:
                resp.release()
                not_found = not_found or resp
                continue
            if resp.status >= 500:
                resp.release()
                last_error = resp
                continue
            if accept is not None and not accept(resp):
                resp.release()
                not_found = not_found or NodeResponse(node, 404, CIMultiDict())
                continue
            return resp
        if not_found is not None:
            return not_found
        return last_error or NodeResponse(None, 503, CIMultiDict())

    async def put_stream(self, ring, account: str, container: str, obj: str,
                         headers_for: Callable[[int], dict], body: AsyncIterator[bytes],
                         content_length: int | None) -> tuple[list[NodeResponse], int]:
        """Stream one body to every replica at once (never buffering it whole).

        Connect phase: a target that fails before it starts pulling the body is replaced by the
        next handoff. Then each chunk is written to every live target's connection (_fan_out).
        Returns (answers, replicas); a client that sends less than Content-Length raises 499.
        """
        part, primaries = _placement(ring, "object", account, container, obj)
        replicas = len(primaries)
        nodes = NodeIter(ring, part, primaries, self.limiter)
        targets: list[_Target] = []
        client_etag: str | None = None

        def start(index: int, node) -> "_Target":
            nonlocal client_etag
            target = _Target(index, node, node_url(node, "object", part, account, container, obj))
            headers = headers_for(index)
            if self.footer_ok(node):  # decided per node: mixed replicas are fine
                target.footer = True
                headers, etag = _footer_headers(headers, content_length)
                client_etag = etag if etag is not None else client_etag
            target.task = asyncio.create_task(self._put_one(target, headers))
            target.task.add_done_callback(target.finished)
            return target

        pending = [start(i, n) for i, n in enumerate(nodes.take(replicas))]
        while pending:  # connect phase
            await asyncio.wait([t.ready for t in pending], return_when=asyncio.FIRST_COMPLETED)
            still = []
            for target in pending:
                if not target.ready.done():
                    still.append(target)
                elif target.ready.result():
                    targets.append(target)
                else:
                    replacement = next(nodes, None)
                    if replacement is None:
                        targets.append(target)  # keep its failed answer for the count
                    else:
                        still.append(start(target.index, replacement))
            pending = still

        sent = 0
        aborted: BaseException | None = None
        # One MD5 per PUT: hashed here on the loop (a thread hand-off per chunk cost ~0.4 ms more
        # proxy CPU per 1 MiB PUT for no p99 gain, docs/storage-protocol.md) and sent after the
        # body to the footer targets.
        footer_targets = [t for t in targets if t.footer]
        hasher = checksum.Md5Xxh3() if footer_targets else None
        try:
            async for chunk in body:
                sent += len(chunk)
                if hasher is not None:
                    hasher.update(chunk)
                await _fan_out(targets, chunk)
            if content_length is not None and sent < content_length:
                from proxy.errors import SwiftError
                aborted = SwiftError(499, "Client Disconnect")
            elif hasher is not None:
                md5_hex = hasher.md5_hexdigest()
                if client_etag is not None and client_etag != md5_hex:
                    # no footer goes out: every footer replica sees a short body and stores
                    # nothing; an old-form replica checks the ETag itself (422)
                    from proxy.errors import SwiftError
                    aborted = SwiftError(422, "Unprocessable Entity")
                else:
                    await _fan_out(footer_targets,
                                   put_footer.encode(md5_hex, hasher.xxh3_hexdigest()))
        except (Exception, asyncio.CancelledError) as exc:  # noqa: BLE001 - re-raised below
            # Whatever stops the body (client gone, or a verifying source such as S3's raising on
            # a bad checksum) must abort every replica before it sees the end of the body.
            aborted = exc
        if aborted is not None:
            for target in targets:
                if target.task is not None:
                    target.task.cancel()
            await asyncio.gather(*(t.task for t in targets), return_exceptions=True)
            from proxy.errors import SwiftError
            if isinstance(aborted, (aiohttp.ClientPayloadError, ConnectionError)):
                raise SwiftError(499, "Client Disconnect")
            raise aborted
        for target in targets:
            target.end_body()
        answers = []
        for target in targets:
            try:
                answers.append(await target.task)
            except BaseException:  # noqa: BLE001 - counted as a failed replica
                answers.append(failed(target.node))
        return answers, replicas

    async def _put_one(self, target: "_Target", headers: dict) -> NodeResponse:
        return await self.call(target.node, "PUT", target.url, headers, _FanOutBody(target))


def _footer_headers(headers: dict, content_length: int | None) -> tuple[dict, str | None]:
    """The footer form of one node's PUT headers, and the client's ETag taken out of them (the
    proxy checks it against its own MD5: the node cannot before the footer arrives)."""
    out, etag = {}, None
    for name, value in headers.items():
        low = name.lower()
        if low == "etag":
            etag = value.strip().strip('"').lower()
        elif low != "content-length":
            out[name] = value
    if content_length is not None:  # else chunked, the footer last
        out["Content-Length"] = str(content_length + put_footer.FOOTER_LEN)
    out[put_footer.HEADER] = put_footer.VERSION
    out["ETag"] = put_footer.ETAG_SENTINEL  # a node without the feature answers 422, keeps nothing
    return out, etag


async def _fan_out(targets: list["_Target"], chunk: bytes) -> None:
    """Write one chunk of the client's body to every live node connection, then wait while any
    of them holds more than its transport's high-water mark (back-pressure: the proxy keeps at
    most about one chunk plus each connection's write buffer per node, never the whole body).
    The same bytes object goes to each transport: no copies, no queue or task hop per node."""
    for target in targets:
        writer = target.writer
        if writer is None or target.dead:
            continue
        try:
            await writer.write(chunk, drain=False)
        except (OSError, aiohttp.ClientError):  # the node went away: its call() answers FAILED
            target.dead = True
    for target in targets:
        writer = target.writer
        if writer is None or target.dead:
            continue
        try:
            await writer.drain()
        except (OSError, aiohttp.ClientError):
            target.dead = True


class _FanOutBody(aiohttp.payload.Payload):
    """The request body aiohttp sends to one node: it hands aiohttp's writer for the node's
    connection to its _Target (put_stream writes the chunks through it) and returns when the
    whole body was written, so aiohttp then ends the request as for any other body."""

    def __init__(self, target: "_Target") -> None:
        super().__init__(None)
        self._target = target

    async def write(self, writer) -> None:
        await self.write_with_length(writer, None)

    async def write_with_length(self, writer, content_length: int | None) -> None:
        self._consumed = True  # never replayed (a redirect or retry cannot resend a stream)
        target = self._target
        target.writer = writer
        if not target.ready.done():
            target.ready.set_result(True)
        try:
            await target.body_sent
        except asyncio.CancelledError:
            target.dead = True  # aiohttp stopped sending (the node answered early): stop feeding
            raise

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        raise TypeError("a streamed body is not kept")


class _Target:
    def __init__(self, index: int, node, url: URL):
        self.index = index
        self.node = node
        self.url = url
        self.writer = None  # aiohttp's StreamWriter of the node connection, once the body starts
        loop = asyncio.get_running_loop()
        # True once aiohttp pulls the body (connected, head sent); False if the call ended first
        self.ready: asyncio.Future = loop.create_future()
        self.body_sent: asyncio.Future = loop.create_future()
        self.task: asyncio.Task | None = None
        self.dead = False
        self.footer = False  # this node gets the footer form (strato/put_footer.py)

    def end_body(self) -> None:
        if not self.body_sent.done():
            self.body_sent.set_result(None)

    def finished(self, _task) -> None:
        # The node answered or failed: stop feeding it.
        self.dead = True
        self.end_body()
        if not self.ready.done():
            self.ready.set_result(False)
