"""A lean keep-alive HTTP/1.1 client for the proxy's streamed object PUTs to storage nodes.

aiohttp's ClientSession cost ~50 us of CPU per node request (a task, payload and writer objects,
header copies); an object PUT makes three. Here one PUT to one node is: a pooled connection (an
asyncio.Protocol), its request head built once as bytes, body bytes written straight to the
transport, and one future for the answer, parsed by ResponseParser (no I/O; Content-Length,
chunked or until-close bodies). A connection goes back to the pool only after a complete request
and a complete keep-alive answer; anything else (error, timeout, early answer, unread bytes)
closes it. Backend.call's small requests use it too; streamed GET relays stay on aiohttp.
"""
from __future__ import annotations

import asyncio
import re
import socket
import time

from multidict import CIMultiDict

MAX_HEAD = 65536  # bytes of status line + headers (aiohttp's client allows 8190 per line)
MAX_BODY = 1 << 20  # a node's answer to a PUT is a few bytes; an error page at most a few KiB
# other answers read whole (Backend.call): a listing page of 10,000 long names and metadata
MAX_READ_BODY = 64 << 20
MAX_CHUNK_LINE = 1024  # a chunk-size line with its extensions
MAX_IDLE_PER_NODE = 256  # idle kept-alive connections per (ip, port); more are closed
IDLE_SECONDS = 15.0  # an idle connection older than this is closed, not reused (aiohttp's default)
COALESCE = 65536  # the request head joins the first body piece in one send up to this size

_STATUS = re.compile(rb"HTTP/1\.([01]) ([1-9][0-9][0-9])(?: ([^\r\n]*))?")
# RFC 9110 token characters: a header name with anything else is malformed
_TOKEN = b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_HEX = b"0123456789abcdefABCDEF"

_HEAD, _LENGTH, _CLOSE, _SIZE, _DATA, _CRLF, _TRAILER, _DONE = range(8)


class NodeProtocolError(Exception):
    """The node's answer broke HTTP/1.1 framing: the connection is dropped, the answer FAILED."""


class NodeResponseHead:
    __slots__ = ("status", "reason", "headers", "body", "keep_alive")

    def __init__(self, status: int, reason: str, headers: CIMultiDict, keep_alive: bool):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = b""
        self.keep_alive = keep_alive


class ResponseParser:
    """Sans-I/O: feed() the bytes of one answer; True once it is complete (then `.response`).
    Delimiters are checked by value (the chunk CRLF), every limit is a named constant, and
    bytes beyond the answer are an error (the proxy never pipelines)."""

    __slots__ = ("_buf", "_state", "_left", "_parts", "_size", "_bodyless", "_max_body",
                 "response")

    def __init__(self, bodyless: bool = False, max_body: int = MAX_BODY):
        self._buf = b""
        self._state = _HEAD
        self._left = 0
        self._parts: list[bytes] = []
        self._size = 0
        self._bodyless = bodyless  # an answer to HEAD has no body whatever its headers say
        self._max_body = max_body
        self.response: NodeResponseHead | None = None

    def feed(self, data: bytes) -> bool:
        if self._state == _DONE:
            raise NodeProtocolError("bytes after the answer")
        buf = self._buf + data if self._buf else bytes(data)
        while True:
            state = self._state
            if state == _HEAD:
                end = buf.find(b"\r\n\r\n")
                if end < 0 or end > MAX_HEAD:
                    if len(buf) > MAX_HEAD:
                        raise NodeProtocolError("answer head too long")
                    break
                self._parse_head(buf[:end])
                buf = buf[end + 4:]
            elif state == _LENGTH or state == _DATA:
                take = min(self._left, len(buf))
                if take:
                    self._add(buf[:take])
                    buf = buf[take:]
                    self._left -= take
                if self._left:
                    break
                self._state = _DONE if state == _LENGTH else _CRLF
            elif state == _CLOSE:
                if buf:
                    self._add(buf)
                    buf = b""
                break
            elif state == _SIZE:
                end = buf.find(b"\r\n")
                if end < 0 or end > MAX_CHUNK_LINE:
                    if len(buf) > MAX_CHUNK_LINE:
                        raise NodeProtocolError("chunk size line too long")
                    break
                digits = buf[:end].split(b";", 1)[0].rstrip(b" \t")
                if not digits or len(digits) > 16 or digits.translate(None, _HEX):
                    raise NodeProtocolError("bad chunk size")
                buf = buf[end + 2:]
                self._left = int(digits, 16)
                self._state = _DATA if self._left else _TRAILER
            elif state == _CRLF:
                if len(buf) < 2:
                    break
                if buf[:2] != b"\r\n":
                    raise NodeProtocolError("chunk not followed by CRLF")
                buf = buf[2:]
                self._state = _SIZE
            elif state == _TRAILER:
                end = buf.find(b"\r\n")
                if end < 0:
                    if len(buf) > MAX_HEAD:
                        raise NodeProtocolError("trailer too long")
                    break
                line, buf = buf[:end], buf[end + 2:]
                if not line:
                    self._state = _DONE
            if self._state == _DONE:
                if buf:
                    raise NodeProtocolError("bytes after the answer")
                self._finish()
                return True
        self._buf = buf
        return False

    def feed_eof(self) -> bool:
        """The node closed: completes an until-close body; anything else unfinished is an error."""
        if self._state == _CLOSE and not self._buf:
            self._finish()
            return True
        if self._state == _DONE:
            return True
        raise NodeProtocolError("connection closed before the answer was complete")

    def _add(self, piece: bytes) -> None:
        self._size += len(piece)
        if self._size > self._max_body:
            raise NodeProtocolError("answer body too long")
        self._parts.append(piece)

    def _finish(self) -> None:
        self._state = _DONE
        if self._parts:
            self.response.body = b"".join(self._parts)

    def _parse_head(self, head: bytes) -> None:
        lines = head.split(b"\r\n")
        # a bare CR or LF inside a line would let two parsers disagree on where it ends
        if head.count(b"\n") != len(lines) - 1 or head.count(b"\r") != len(lines) - 1:
            raise NodeProtocolError("bare CR or LF in the answer head")
        match = _STATUS.fullmatch(lines[0])
        if match is None:
            raise NodeProtocolError("bad status line")
        status = int(match.group(2))
        pairs = []
        length = chunked = None
        keep_alive = match.group(1) == b"1"
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep or not name or name.translate(None, _TOKEN):
                raise NodeProtocolError("bad header line")
            value = value.strip(b" \t")
            low = name.lower()
            if low == b"content-length":
                if not value.isdigit() or (length is not None and int(value) != length):
                    raise NodeProtocolError("bad Content-Length")
                length = int(value)
            elif low == b"transfer-encoding":
                chunked = value.lower().rsplit(b",", 1)[-1].strip() == b"chunked"
            elif low == b"connection" and value.lower() == b"close":
                keep_alive = False
            pairs.append((name.decode("ascii"), value.decode("utf-8", "surrogateescape")))
        if 100 <= status < 200:  # an interim answer (never asked for): the real one follows
            return
        if chunked is not None and length is not None:
            raise NodeProtocolError("both Content-Length and Transfer-Encoding")
        reason = (match.group(3) or b"").decode("latin-1")
        self.response = NodeResponseHead(status, reason, CIMultiDict(pairs), keep_alive)
        if self._bodyless or status in (204, 304):
            self._state = _DONE
        elif chunked:
            self._state = _SIZE
        elif chunked is None and length is not None:
            self._left = length
            self._state = _LENGTH if length else _DONE
        else:  # no framing (or a transfer coding we do not decode): the body runs to the close
            self.response.keep_alive = False
            self._state = _CLOSE


def request_head(method: str, path: str, host: str, headers: dict) -> tuple[bytes, bool]:
    """The request's head as bytes, and whether its body goes chunked (a PUT without
    Content-Length). A CR or LF in a header would split the request: ValueError, as aiohttp."""
    lines = [f"{method} {path} HTTP/1.1", "Host: " + host]
    has_length = False
    for name, value in headers.items():
        if len(name) == 14 and name.lower() == "content-length":
            has_length = True
        lines.append(f"{name}: {value}")
    chunked = not has_length and method == "PUT"
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    text = "\r\n".join(lines)
    if text.count("\n") != len(lines) - 1 or text.count("\r") != len(lines) - 1:
        raise ValueError("newline or carriage return in a node request header")
    return (text + "\r\n\r\n").encode("utf-8", "surrogateescape"), chunked


def chunk_frame(data: bytes) -> tuple[bytes, ...]:
    """One body piece as an HTTP/1.1 chunk (never empty: an empty chunk ends the body)."""
    if len(data) <= COALESCE:
        return (b"%x\r\n%b\r\n" % (len(data), data),)
    return (b"%x\r\n" % len(data), data, b"\r\n")


LAST_CHUNK = b"0\r\n\r\n"


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
        """Never raises: a connection that cannot take the bytes (uvloop raises on a handle it
        closed before connection_lost ran) is failed, and its answer() says so."""
        transport = self.transport
        try:
            head = self._head
            if head is not None:
                self._head = None
                if len(parts) == 1 and len(parts[0]) <= COALESCE:
                    transport.write(head + parts[0])
                    return
                transport.write(head)
            for part in parts:
                transport.write(part)
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
