"""The proxy's HTTP client side: requests to storage nodes, fan-out with handoffs, streamed PUTs.

Paths follow docs/storage-protocol.md: /{role}/{device}/{partition}/{account}[/{container}[/{obj}]]
with every segment percent-encoded (safe=""). One aiohttp ClientSession per process is owned by
the application (app.py cleanup_ctx) and passed in for GET relays (answers streamed on); object
PUT streams and every request whose answer is read whole go through the proxy's own pooled
client instead (proxy/nodeconn.py: ~3x less CPU per node request).
Errors and 5xx feed the ErrorLimiter.
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
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from native import md5lanes
from proxy import nodeconn
from proxy.md5gate import Md5Gate
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


# A body of at least this many bytes waits for the other large bodies (proxy/md5gate.py) before
# its MD5 is asked (put_stream) where md5lanes has its wide kernel: its MD5 then shares a batch
# with theirs; a smaller one is hashed in microseconds.
BATCH_WAIT_MIN = 65536


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
        # every request but GET relays goes through the proxy's own pooled client (nodeconn.py)
        self.pool = nodeconn.NodePool(conn_timeout, node_timeout)
        self.md5_gate = Md5Gate()
        self.node_timeout = node_timeout

    def _learn(self, node, url: URL, headers) -> None:
        """Remember what the node's object role says it understands (only object-role answers:
        the container and account roles on the same port say nothing about it)."""
        if url.raw_path.startswith("/object/"):
            self._learn_object(node, headers)

    def _learn_object(self, node, headers) -> None:
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
        """One request; FAILED (503) on a connection error or timeout. stream=True (a GET relay)
        keeps the answer open as an aiohttp.ClientResponse in .raw; the rest go through the node
        pool, answers read whole."""
        if not stream or method == "HEAD":
            return await self._small(node, method, url, headers, body)
        try:
            resp = await self.session.request(method, url, headers=headers, data=body,
                                              timeout=self.timeout, allow_redirects=False)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            log.warning("%s %s: %s", method, url, exc or type(exc).__name__)
            self._node_failed(node)
            return failed(node)
        self._judge(node, resp.status)
        self._learn(node, url, resp.headers)
        return NodeResponse(node, resp.status, resp.headers, raw=resp)

    async def _small(self, node, method: str, url: URL, headers: dict,
                     body: bytes | None) -> NodeResponse:
        """A request whose body (if any) is bytes and whose answer is read whole, on a pooled
        connection (proxy/nodeconn.py). Content-Length goes with a body, and with a bodiless
        PUT or POST (as aiohttp sends it): the node never sees an unframed request."""
        if body is not None or method in ("PUT", "POST"):
            headers = {k: v for k, v in headers.items() if k.lower() != "content-length"}
            headers["Content-Length"] = str(len(body or b""))
        head, _ = nodeconn.request_head(method, url.raw_path_qs, f"{node.ip}:{node.port}",
                                        headers)
        conn = None
        try:
            conn = self.pool.take(node.ip, node.port)
            if conn is None:
                conn = await self.pool.open(node.ip, node.port)
            conn.start(head, method == "HEAD", nodeconn.MAX_READ_BODY)
            conn.finish(body or b"")
            resp = await conn.response(self.node_timeout)
        except (OSError, asyncio.TimeoutError, nodeconn.NodeProtocolError) as exc:
            log.warning("%s %s: %s", method, url, exc or type(exc).__name__)
            if conn is not None:
                conn.abort()
            self._node_failed(node)
            return failed(node)
        except BaseException:
            if conn is not None:
                conn.abort()  # cancelled mid-request: never reused
            raise
        self.pool.give_back(conn)
        self._judge(node, resp.status)
        self._learn(node, url, resp.headers)
        return NodeResponse(node, resp.status, resp.headers, resp.body)

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
        A handoff's 404 without X-Backend-Timestamp (no tombstone there) says only that the
        handoff has no copy, not that there is none: as in Swift, it does not count, so
        primaries that failed and handoffs that know nothing give 503 (a client retries that),
        not a 404 for an object that exists.
        `accept` may veto an answer (e.g. an older copy than a tombstone seen).
        """
        part, primaries = _placement(ring, role, account, container, obj)
        nodes = NodeIter(ring, part, primaries, self.limiter)
        primary_ids = {id(node) for node in primaries}
        not_found: NodeResponse | None = None
        last_error: NodeResponse | None = None
        for node in nodes:
            url = node_url(node, role, part, account, container, obj, query)
            resp = await self.call(node, method, url, dict(headers or {}), stream=stream)
            if resp.status == 404:
                resp.release()
                if id(node) in primary_ids or "X-Backend-Timestamp" in resp.headers:
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
                         content_length: int | None,
                         sha256_check: Callable[[str], None] | None = None,
                         ) -> tuple[list[NodeResponse], int]:
        """Stream one body to every replica at once (never buffering it whole).

        Connect phase: a target that cannot be connected to is replaced by the next handoff.
        Then each chunk is written to every live target's connection (_fan_out), through the
        proxy's own pooled node client (proxy/nodeconn.py).
        `body` yields bytes, or tuples of bytes that go out in one write (piece_parts: what
        arrived at once, unjoined; handlers.common.buffered_parts).
        sha256_check, when given, is called with the body's SHA-256 (hex) once the whole body is
        in and before any replica can commit; if it raises, nothing is stored and the exception
        goes to the caller (S3's payload hash: hashed here beside the MD5, see below).
        Returns (answers, replicas); a client that sends less than Content-Length raises 499.
        """
        part, primaries = _placement(ring, "object", account, container, obj)
        replicas = len(primaries)
        nodes = NodeIter(ring, part, primaries, self.limiter)
        tail = f"/{part}/{_segment(account)}/{_segment(container)}/{quote(obj, safe='')}"
        client_etag: str | None = None

        def plan(index: int, node) -> _Target:
            nonlocal client_etag
            headers = headers_for(index)
            footer = self.footer_ok(node)  # decided per node: mixed replicas are fine
            if footer:
                headers, etag = _footer_headers(headers, content_length)
                client_etag = etag if etag is not None else client_etag
            head, chunked = nodeconn.request_head(
                "PUT", f"/object/{_segment(node.device)}{tail}", f"{node.ip}:{node.port}", headers)
            return _Target(index, node, head, chunked, footer)

        targets = [plan(i, n) for i, n in enumerate(nodes.take(replicas))]
        try:
            waiting = [t for t in targets if not self._pooled(t)]
            if waiting:
                await self._connect(targets, waiting, nodes, plan)
        except BaseException:
            _abort(targets)
            raise
        live = [t for t in targets if t.conn is not None]
        # framed per target as its own head says (a caller's Content-Length may differ from
        # the footer form's); the chunk framing is built once per piece, only if one needs it
        chunked = any(t.chunked for t in live)

        sent = 0
        aborted: BaseException | None = None
        # One MD5 per PUT, hashed here on the loop and sent after the body to the footer targets
        # (docs/storage-protocol.md). The loop's md5lanes pool keeps the pieces and hashes the
        # MD5s of all the PUTs it is receiving side by side when one of them needs its digest
        # (AVX-512 lanes: several times the throughput of one MD5 at a time), and the SHA-256s
        # asked for two to four at a time (SHA-NI interleaved); xxh3 goes as the pieces arrive.
        footer_targets = [t for t in live if t.footer]
        hasher = md5lanes.pool().stream(xxh3=True, sha256=sha256_check is not None) \
            if footer_targets or sha256_check is not None else None
        gate = self.md5_gate if hasher is not None and md5lanes.is_wide() and (
            content_length is None or content_length >= BATCH_WAIT_MIN) else None
        if gate is not None:
            gate.open(hasher)
        # The piece that completes Content-Length is held until the source has ended normally:
        # then it goes out with the footer in one write per node (one wake-up of the node
        # instead of two), and a source that fails after its last byte (S3's verifier, a copy
        # source) still leaves every replica short of its body.
        last = None
        try:
            async for chunk in body:
                parts = piece_parts(chunk)
                size = sum(map(len, parts))
                if not size:
                    continue  # an empty chunk would end a chunked body
                if last is not None:  # more than Content-Length: it is no longer the last
                    await _fan_out(live, last, _frame(last) if chunked else None)
                    last = None
                sent += size
                if hasher is not None:
                    for part in parts:
                        hasher.update(part)
                if sent == content_length:
                    last = parts
                    continue
                await _fan_out(live, parts, _frame(parts) if chunked else None)
            if content_length is not None and sent < content_length:
                from proxy.errors import SwiftError
                aborted = SwiftError(499, "Client Disconnect")
            elif hasher is not None:
                if gate is not None and sent >= BATCH_WAIT_MIN:
                    # until the other large bodies are in (10 ms at most): this digest then
                    # hashes them side by side (S3's 1 MiB PUTs at c16 on two workers: 1.4-1.8
                    # -> 2.6 streams a batch, proxy CPU per PUT x0.88)
                    await gate.ready(hasher)
                if sha256_check is not None:
                    # raises when the body is not what was signed: nothing more goes out
                    sha256_check(hasher.sha256_hexdigest())
                footer = None
                if footer_targets:
                    md5_hex = hasher.md5_hexdigest()
                    if client_etag is not None and client_etag != md5_hex:
                        # no footer goes out (nor the held last piece): every footer replica
                        # sees a short body and stores nothing; an old-form replica checks the
                        # ETag (422)
                        from proxy.errors import SwiftError
                        aborted = SwiftError(422, "Unprocessable Entity")
                    else:
                        footer = put_footer.encode(md5_hex, hasher.xxh3_hexdigest())
                if aborted is None and last is not None:
                    await _fan_out(live, last, _frame(last) if chunked else None, footer)
                elif aborted is None and footer is not None:
                    await _fan_out(footer_targets, (footer,),
                                   nodeconn.chunk_frame(footer) if chunked else None)
            elif last is not None:
                await _fan_out(live, last, _frame(last) if chunked else None)
        except (Exception, asyncio.CancelledError) as exc:  # noqa: BLE001 - re-raised below
            # Whatever stops the body (client gone, or a verifying source such as S3's raising on
            # a bad checksum) must abort every replica before it sees the end of the body.
            aborted = exc
        if gate is not None:
            gate.close(hasher)  # done or failed: nobody waits for it any more
        if aborted is not None:
            _abort(targets)
            if hasher is not None:
                hasher.discard()  # the pool would otherwise keep (and later hash) its pieces
            from proxy.errors import SwiftError
            if isinstance(aborted, (aiohttp.ClientPayloadError, ConnectionError)):
                raise SwiftError(499, "Client Disconnect")
            raise aborted
        for target in live:
            if not target.dead:
                target.conn.finish(nodeconn.LAST_CHUNK if target.chunked else b"")
        try:
            return [await self._answer(t) for t in targets], replicas
        except BaseException:
            _abort(targets)
            raise

    def _pooled(self, target: "_Target") -> bool:
        """Start the target's request on an idle kept-alive connection, if there is one."""
        conn = self.pool.take(target.node.ip, target.node.port)
        if conn is None:
            return False
        target.attach(conn)
        return True

    async def _open(self, target: "_Target") -> bool:
        node = target.node
        try:
            conn = await self.pool.open(node.ip, node.port)
        except (OSError, asyncio.TimeoutError) as exc:
            log.warning("PUT %s:%s/%s: connect: %s", node.ip, node.port, node.device,
                        exc or type(exc).__name__)
            self._node_failed(node)
            return False
        target.attach(conn)
        return True

    async def _connect(self, targets: list["_Target"], waiting: list["_Target"], nodes,
                       plan: Callable[[int, object], "_Target"]) -> None:
        """Connect the targets no idle connection served; one that fails is replaced by the
        next handoff at once (its place in `targets` too), the others keep connecting."""
        tasks = {asyncio.ensure_future(self._open(t)): t for t in waiting}
        try:
            while tasks:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    target = tasks.pop(task)
                    if task.result():
                        continue
                    node = next(nodes, None)
                    if node is None:
                        continue  # stays without a connection: its answer counts as failed
                    target = targets[target.index] = plan(target.index, node)
                    if not self._pooled(target):
                        tasks[asyncio.ensure_future(self._open(target))] = target
        finally:
            for task in tasks:
                task.cancel()

    async def _answer(self, target: "_Target") -> NodeResponse:
        node, conn = target.node, target.conn
        if conn is None:
            return failed(node)  # counted when its connect failed
        try:
            resp = await conn.response(self.node_timeout)
        except (OSError, asyncio.TimeoutError, nodeconn.NodeProtocolError) as exc:
            log.warning("PUT %s:%s/%s: %s", node.ip, node.port, node.device,
                        exc or type(exc).__name__)
            conn.abort()
            self._node_failed(node)
            return failed(node)
        self.pool.give_back(conn)
        target.conn = None
        self._judge(node, resp.status)
        self._learn_object(node, resp.headers)  # what it lists decides the next PUT's form
        return NodeResponse(node, resp.status, resp.headers, resp.body)

    def _node_failed(self, node) -> None:
        self.limiter.error(node)
        # it may come back as another release: ask again before the next footer PUT
        self.footer_nodes.pop((node.ip, node.port), None)

    def close(self) -> None:
        """Close the idle node connections (the application calls it at shutdown)."""
        self.pool.close()


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


def piece_parts(piece: bytes | tuple[bytes, ...]) -> tuple[bytes, ...]:
    """A body source's piece as the bytes it stands for: a source may yield bytes, or a tuple of
    bytes -- what arrived at one wake-up, not joined (a join copies the body once more: 1 MiB
    PUT, proxy CPU x0.94-0.95) -- that put_stream sends in one write per node."""
    return piece if type(piece) is tuple else (piece,)


def _frame(parts: tuple[bytes, ...]) -> tuple[bytes, ...]:
    """Body pieces that go out in one write, as one HTTP/1.1 chunk (never empty)."""
    if len(parts) == 1:
        return nodeconn.chunk_frame(parts[0])
    return (b"%x\r\n" % sum(map(len, parts)), *parts, b"\r\n")


def _abort(targets: list["_Target"]) -> None:
    """Drop every target's connection: a replica that did not see its whole body stores nothing."""
    for target in targets:
        if target.conn is not None:
            target.conn.abort()
            target.conn = None


async def _fan_out(targets: list["_Target"], parts: tuple[bytes, ...],
                   framed: tuple[bytes, ...] | None, footer: bytes | None = None) -> None:
    """Write one chunk of the client's body to every live node connection, then wait while any
    of them holds more than its transport's high-water mark (back-pressure: the proxy keeps at
    most about one chunk plus each connection's write buffer per node, never the whole body).
    The same bytes objects go to each transport: no copies, no queue or task hop per node.
    `framed` is the same piece as an HTTP/1.1 chunk, for the targets whose body is chunked;
    `footer` (with the last piece of a Content-Length body) follows it to the footer targets
    in the same write."""
    paused = False
    with_footer, framed_footer = parts, framed
    if footer is not None:
        with_footer = parts + (footer,)
        if framed is not None:
            framed_footer = framed + nodeconn.chunk_frame(footer)
    for target in targets:
        if target.dead:
            continue
        conn = target.conn
        if conn.closed or conn.answer.done():  # gone, or answered early (507, 422...): stop
            target.dead = True
            continue
        # a failed write fails the connection (closed), not the PUT
        if target.footer:
            conn.write(framed_footer if target.chunked else with_footer)
        else:
            conn.write(framed if target.chunked else parts)
        paused = paused or conn.paused
    if not paused:
        return
    for target in targets:
        conn = target.conn
        if target.dead or not conn.paused:
            continue  # (a connection that failed since its write is closed: drain() raises)
        try:
            await conn.drain()
        except (OSError, nodeconn.NodeProtocolError):  # its answer() says FAILED
            target.dead = True


class _Target:
    """One replica of a streamed PUT: its node, request head and (once connected) connection."""

    __slots__ = ("index", "node", "head", "chunked", "footer", "conn", "dead")

    def __init__(self, index: int, node, head: bytes, chunked: bool, footer: bool):
        self.index = index
        self.node = node
        self.head = head
        self.chunked = chunked
        self.footer = footer  # this node gets the footer form (strato/put_footer.py)
        self.conn: nodeconn.NodeConnection | None = None
        self.dead = False  # stop feeding it: it answered, failed or went away

    def attach(self, conn: "nodeconn.NodeConnection") -> None:
        self.conn = conn
        conn.start(self.head)
