"""A lean keep-alive HTTP/1.1 client for the proxy's requests to storage nodes.

aiohttp's ClientSession cost ~50 us of CPU per node request (a task, payload and writer objects,
header copies); an object PUT makes three. Here one PUT to one node is: a pooled connection (an
asyncio.Protocol), its request head built once as bytes, body bytes written straight to the
transport, and one future for the answer, parsed by proxy/nodewire.py (no I/O). A connection goes
back to the pool only after a complete request and a complete keep-alive answer; anything else
(error, timeout, early answer, unread bytes) closes it. Backend.call's small requests use it
too; streamed GET relays stay on aiohttp.
"""
from __future__ import annotations

import asyncio
import socket
import time

# the wire format (sans-I/O), re-exported for callers of this module
from proxy.nodewire import (COALESCE, LAST_CHUNK, MAX_BODY, MAX_READ_BODY,  # noqa: F401
                            NodeProtocolError, NodeResponseHead, ResponseParser, chunk_frame,
                            request_head)

MAX_IDLE_PER_NODE = 256  # idle kept-alive connections per (ip, port); more are closed
IDLE_SECONDS = 15.0  # an idle connection older than this is closed, not reused (aiohttp's default)


class NodeConnection(asyncio.Protocol):
    """One kept-alive connection to a node; one request at a time (start -> write -> finish ->
    answer()). Writes go straight to the transport; `paused` says it is above its high-water
    mark (then drain()). A write stalled for node_timeout, or an answer that does not come
    within node_timeout of the last byte read, aborts the connection."""

    def __init__(self, pool: "NodePool", key: tuple[str, int]):
        self.pool = pool
        self.key = key
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.paused = False
        self.idle_since = 0.0
        self.answer: asyncio.Future | None = None  # the current request's NodeResponseHead
        self._parser: ResponseParser | None = None
        self._head: bytes | None = None  # sent with the first body bytes
        self._body_done = False
        self._drain: asyncio.Future | None = None
        self._stall: asyncio.TimerHandle | None = None
        self._read_timer: asyncio.TimerHandle | None = None
        self._last_read = 0.0

    # -- asyncio callbacks
    def connection_made(self, transport) -> None:
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:  # the head and a small body go out at once, not after an ACK
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass

    def data_received(self, data: bytes) -> None:
        parser = self._parser
        if parser is None:  # nothing asked: the stream is out of step, never reuse it
            self._fail(NodeProtocolError("bytes from an idle connection"))
            return
        self._last_read = time.monotonic()
        try:
            done = parser.feed(data)
        except NodeProtocolError as exc:
            self._fail(exc)
            return
        if done:
            self._parser = None
            if not self.answer.done():
                self.answer.set_result(parser.response)

    def eof_received(self) -> bool:
        self.closed = True
        parser = self._parser
        if parser is not None:
            self._parser = None
            try:
                parser.feed_eof()
            except NodeProtocolError as exc:
                self._fail(exc)
                return False
            if not self.answer.done():
                self.answer.set_result(parser.response)
        return False  # the transport closes itself

    def connection_lost(self, exc) -> None:
        self.closed = True
        self._parser = None
        error = exc if isinstance(exc, Exception) else ConnectionResetError("node closed")
        if self.answer is not None and not self.answer.done():
            self.answer.set_exception(error)
            self.answer.exception()  # marked retrieved: an aborted PUT never awaits it
        self._wake(error)
        self.pool.lost(self)

    def pause_writing(self) -> None:
        self.paused = True
        loop = asyncio.get_running_loop()
        self._stall = loop.call_later(self.pool.node_timeout, self._fail,
                                      TimeoutError("node stopped reading the body"))

    def resume_writing(self) -> None:
        self.paused = False
        self._wake(None)

    # -- the request
    def start(self, head: bytes, bodyless_answer: bool = False, max_body: int = MAX_BODY) -> None:
        self._parser = ResponseParser(bodyless_answer, max_body)
        self.answer = asyncio.get_running_loop().create_future()
        self._head = head
        self._body_done = False

    def write(self, parts: tuple[bytes, ...]) -> None:
        """All of `parts` (after the request head, if it has not gone yet) in one system call:
        joined when small, else one writev (transport.writelines) with no copy. Each send on
        loopback wakes the node; a head, piece or footer sent alone cost a wake-up and a
        read of its own on both sides.
        Never raises: a connection that cannot take the bytes (uvloop raises on a handle it
        closed before connection_lost ran) is failed, and its answer() says so."""
        transport = self.transport
        try:
            head = self._head
            if head is not None:
                self._head = None
                parts = (head, *parts)
            if len(parts) == 1:
                transport.write(parts[0])
            elif sum(map(len, parts)) <= COALESCE:
                transport.write(b"".join(parts))
            else:
                transport.writelines(parts)
        except (RuntimeError, OSError) as exc:
            self._fail(ConnectionResetError(f"node connection: {exc}"))

    def finish(self, tail: bytes = b"") -> None:
        """The request is written (tail: the last chunk of a chunked body); now its answer."""
        if self._head is not None or tail:
            self.write((tail,))
        self._body_done = True
        self._last_read = time.monotonic()

    def drain(self) -> asyncio.Future:
        if self.closed:  # its connection_lost has woken (or will never wake) any waiter
            raise ConnectionResetError("node connection closed")
        if self._drain is None:
            self._drain = asyncio.get_running_loop().create_future()
        return self._drain

    async def response(self, timeout: float) -> NodeResponseHead:
        """The answer, failing with TimeoutError when the node sends nothing for `timeout`."""
        answer = self.answer
        if not answer.done():
            loop = asyncio.get_running_loop()
            self._read_timer = loop.call_later(timeout, self._read_timeout, answer, timeout)
            try:
                await answer
            finally:
                if self._read_timer is not None:  # (re-armed or not: never outlives its answer)
                    self._read_timer.cancel()
                    self._read_timer = None
        return answer.result()

    @property
    def reusable(self) -> bool:
        answer = self.answer
        return (not self.closed and not self.paused and self._body_done and self._parser is None
                and answer is not None and answer.done() and not answer.cancelled()
                and answer.exception() is None and answer.result().keep_alive
                and not self.transport.is_closing())

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    # -- internals
    def _read_timeout(self, answer: asyncio.Future, timeout: float) -> None:
        self._read_timer = None
        if answer is not self.answer or answer.done():
            return
        left = self._last_read + timeout - time.monotonic()
        if left > 0.001:  # bytes came meanwhile: the timeout counts from the last of them
            self._read_timer = asyncio.get_running_loop().call_later(
                left, self._read_timeout, answer, timeout)
            return
        self._fail(TimeoutError("node answer timed out"))

    def _fail(self, exc: Exception) -> None:
        if self.answer is not None and not self.answer.done():
            self.answer.set_exception(exc)
            self.answer.exception()
        self._wake(exc)
        self.abort()

    def _wake(self, exc) -> None:
        if self._stall is not None:
            self._stall.cancel()
            self._stall = None
        drain, self._drain = self._drain, None
        if drain is not None and not drain.done():
            if exc is None:
                drain.set_result(None)
            else:
                drain.set_exception(exc)
                drain.exception()


class NodePool:
    """Idle kept-alive connections per (ip, port). take() hands out the most recently used one
    that is still open (a node that closed an idle connection has been seen to by then: EOF
    marks it closed), open() makes a new one within conn_timeout, give_back() keeps it only if
    reusable."""

    def __init__(self, conn_timeout: float, node_timeout: float):
        self.conn_timeout = conn_timeout
        self.node_timeout = node_timeout
        self._idle: dict[tuple[str, int], list[NodeConnection]] = {}

    def take(self, ip: str, port: int) -> NodeConnection | None:
        idle = self._idle.get((ip, port))
        if idle:
            now = time.monotonic()
            while idle:
                conn = idle.pop()
                if (not conn.closed and not conn.transport.is_closing()
                        and now - conn.idle_since < IDLE_SECONDS):
                    return conn
                conn.abort()
        return None

    async def open(self, ip: str, port: int) -> NodeConnection:
        loop = asyncio.get_running_loop()
        key = (ip, port)
        _, conn = await asyncio.wait_for(
            loop.create_connection(lambda: NodeConnection(self, key), ip, port),
            self.conn_timeout)
        return conn

    def give_back(self, conn: NodeConnection) -> None:
        if not conn.reusable:
            conn.abort()
            return
        conn.answer = None
        idle = self._idle.setdefault(conn.key, [])
        if len(idle) >= MAX_IDLE_PER_NODE:
            conn.abort()
            return
        conn.idle_since = time.monotonic()
        idle.append(conn)

    def lost(self, conn: NodeConnection) -> None:
        idle = self._idle.get(conn.key)
        if idle and conn in idle:
            idle.remove(conn)

    def idle_count(self, ip: str, port: int) -> int:
        return len(self._idle.get((ip, port), ()))

    def close(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn.abort()
        self._idle.clear()
