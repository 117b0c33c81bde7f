"""The bytes of the proxy's HTTP/1.1 requests to storage nodes and the parsing of their answers,
with no I/O (proxy/nodeconn.py moves the bytes): request heads built once as bytes, chunk framing,
and ResponseParser for Content-Length, chunked and until-close answers, every limit named.
"""
from __future__ import annotations

import re

from multidict import CIMultiDict

MAX_HEAD = 65536  # bytes of status line + headers (aiohttp's client allows 8190 per line)
MAX_BODY = 1 << 20  # a node's answer to a PUT is a few bytes; an error page at most a few KiB
# other answers read whole (Backend.call): a listing page of 10,000 long names and metadata
MAX_READ_BODY = 64 << 20
MAX_CHUNK_LINE = 1024  # a chunk-size line with its extensions
COALESCE = 65536  # up to this size a chunk is framed (and a head joined to it) in one bytes

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
