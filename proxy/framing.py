"""Request boundaries on a connection, tracked in front of aiohttp's HTTP parser (sans-I/O).

aiohttp's parser (llhttp) stays the only judge of HTTP framing. This core only cuts the received
bytes so that the parser gets one request at a time, and touches a request head only where llhttp
would refuse what eventlet (Swift) and S3 accept:
  * a request line with raw non-ASCII bytes (eventlet accepts them; llhttp answers 400) gets them
    percent-encoded before the parser sees it, so `/v1/a/☃` reaches the proxy as `/v1/a/%E2%98%83`
    and invalid UTF-8 still gets Swift's 412 from the path check;
  * garbage after a complete request (a body longer than its Content-Length, the body of a PUT sent
    with no framing at all) can no longer make the parser drop that request: the parser fails on a
    later feed, after the request was queued, so the request gets its own answer (411, 200, ...);
  * a PUT/POST/PATCH with neither Content-Length nor Transfer-Encoding is answered and then the
    connection closes (mode DISCARD): the bytes after it are its unframed body, not a request;
  * a method llhttp does not know ('LICK': Swift answers 405, llhttp 400) goes to the parser as
    GET (framing does not depend on the method, CONNECT aside) and the adapter restores its name;
  * a header name with characters outside RFC 9110's token set ('x-amz-meta-(': eventlet takes
    it, llhttp answers 400) goes to the parser under a stand-in token name and the adapter puts
    the real name back by position (only for heads that arrive whole in one buffer).
Limits: after a chunked body or an upgrade we cannot know where the parser's message ended without
parsing chunks ourselves (two parsers that disagree about framing is how request smuggling starts),
so tracking stops for that connection (mode OPAQUE: every byte goes to the parser as received).
The same happens whenever the parser's idea of a head end differs from ours.
"""
from __future__ import annotations

import enum
import re
from typing import NamedTuple

CRLF = b"\r\n"
HEAD_END = b"\r\n\r\n"
_HIGH_BYTE = re.compile(rb"[\x80-\xff]")
# Methods the parser knows that Swift and S3 clients send; a request line starting otherwise gets
# its method checked (and maybe stood in for) on the slow path.
COMMON_METHODS = (b"GET ", b"HEAD ", b"PUT ", b"POST ", b"DELETE ", b"OPTIONS ", b"COPY ",
                  b"PATCH ")
# Known to llhttp and framed like any other method (CONNECT, its one special case, is excluded).
PARSER_METHODS = frozenset(m.rstrip() for m in COMMON_METHODS) | frozenset({
    b"CONNECT", b"TRACE", b"LOCK", b"MKCOL", b"MOVE", b"PROPFIND", b"PROPPATCH", b"SEARCH",
    b"UNLOCK", b"BIND", b"REBIND", b"UNBIND", b"ACL", b"REPORT", b"MKACTIVITY", b"CHECKOUT",
    b"MERGE", b"M-SEARCH", b"NOTIFY", b"SUBSCRIBE", b"UNSUBSCRIBE", b"PURGE", b"MKCALENDAR",
    b"LINK", b"UNLINK", b"SOURCE", b"QUERY"})
STAND_IN_METHOD = b"GET"
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 token (a valid method name)
# A header line whose name has a character outside the token set (or an obs-fold line, or a space
# before the colon: those the parser refuses, and no stand-in is made for them).
_ODD_NAME = re.compile(rb"\r\n[!#$%&'*+\-.^_`|~0-9A-Za-z]*[^!#$%&'*+\-.^_`|~0-9A-Za-z:\r\n]")
_NAME_CHARS = re.compile(rb"[\x21-\x39\x3b-\x7e]+")  # visible ASCII but ':' (what we stand in for)
STAND_IN_NAME = b"X-Strato-Odd-Name-%d"


class Mode(enum.Enum):
    LINE = "line"          # a request line comes next: its bytes are held until it is complete
    HEAD = "head"          # the request line went out; header bytes pass until the blank line
    FRAMING = "framing"    # the whole head went out; waiting for the parser's framing (framed())
    BODY = "body"          # `remaining` body bytes pass, then LINE
    OPAQUE = "opaque"      # tracking stopped: every byte passes as received
    DISCARD = "discard"    # the connection ends after the current answer: nothing passes


# Allowed transitions (STYLE.md: states in one table).
TRANSITIONS: dict[Mode, frozenset[Mode]] = {
    Mode.LINE: frozenset({Mode.HEAD, Mode.FRAMING, Mode.OPAQUE, Mode.DISCARD}),
    Mode.HEAD: frozenset({Mode.HEAD, Mode.FRAMING, Mode.OPAQUE, Mode.DISCARD}),
    Mode.FRAMING: frozenset({Mode.LINE, Mode.BODY, Mode.OPAQUE, Mode.DISCARD}),
    Mode.BODY: frozenset({Mode.LINE, Mode.OPAQUE, Mode.DISCARD}),
    Mode.OPAQUE: frozenset({Mode.DISCARD}),
    Mode.DISCARD: frozenset(),
}


class FramingMisuse(RuntimeError):
    """The adapter called the core out of order (a bug in our code, never the client's)."""


class Piece(NamedTuple):
    """Bytes to hand to the parser. head_end: they complete a request head, so the caller must
    report the parser's framing of that request (framed/lost_track/discard) before asking again.
    (A NamedTuple rather than a frozen dataclass: one is built per request on the hot path.)"""
    data: bytes
    head_end: bool = False
    method: str | None = None  # on a head_end piece: the real method, when the parser got GET
    # on a head_end piece: (header index, real name) for each name the parser got a stand-in for
    names: tuple[tuple[int, bytes], ...] = ()


def encode_request_line(line: bytes) -> bytes:
    """Percent-encode every byte >= 0x80 (the only change; ASCII lines are returned as they are)."""
    if line.isascii():
        return line
    return _HIGH_BYTE.sub(lambda m: b"%%%02X" % m[0][0], line)


def stand_in_names(head: bytes) -> tuple[bytes, tuple[tuple[int, bytes], ...]]:
    """(head for the parser, ((index, real name), ...)): header names with non-token characters
    are replaced by STAND_IN_NAME % index (index: the header's position, from 0). Heads with
    anything else odd (folded lines, spaces, no colon) are left for the parser to refuse."""
    if not _ODD_NAME.search(head):
        return head, ()
    lines = head.split(CRLF)
    names = []
    for index, line in enumerate(lines[1:-2]):
        name, colon, _ = line.partition(b":")
        if not colon or not _NAME_CHARS.fullmatch(name):
            return head, ()
        if _TOKEN.fullmatch(name):
            continue
        names.append((index, name))
        lines[index + 1] = STAND_IN_NAME % index + line[len(name):]
    return CRLF.join(lines), tuple(names)


def stand_in_method(line: bytes) -> tuple[bytes, str | None]:
    """(line for the parser, the real method or None): a valid method name the parser does not
    know is replaced by GET. Anything else is left for the parser to judge (and refuse)."""
    if line.startswith(COMMON_METHODS):
        return line, None
    method, space, rest = line.partition(b" ")
    if not space or method in PARSER_METHODS or not _TOKEN.fullmatch(method):
        return line, None
    return STAND_IN_METHOD + b" " + rest, method.decode("ascii")


class RequestFraming:
    """Feed received bytes with receive(), then take Pieces from next_piece() until it gives None.

    max_line: a request line longer than this (without its CRLF) is passed on untouched as soon as
    it is that long, so that the parser answers it with its own line-too-long error.
    """

    __slots__ = ("_buf", "_close_after", "_method", "_mode", "_remaining", "_seen", "max_line")

    def __init__(self, max_line: int = 16384) -> None:
        self.max_line = max_line
        self._buf = b""
        self._mode = Mode.LINE
        self._remaining = 0
        self._close_after = False  # the request whose body is passing is the connection's last
        self._seen = b""  # the last bytes of the head sent so far (a blank line may straddle feeds)
        self._method: str | None = None  # the real method of the head in progress (stand-in sent)

    @property
    def mode(self) -> Mode:
        return self._mode

    def _to(self, mode: Mode) -> None:
        if mode not in TRANSITIONS[self._mode]:
            raise FramingMisuse(f"{self._mode.value} -> {mode.value}")
        self._mode = mode

    def receive(self, data: bytes) -> None:
        if self._mode is Mode.DISCARD:
            return
        self._buf = self._buf + data if self._buf else data

    def whole_head(self, data: bytes) -> bool:
        """The fast path: True (and the head counts as handed over) when nothing is pending and
        data is exactly one whole ASCII request head, so it can go to the parser as it is."""
        if (self._mode is Mode.LINE and not self._buf and data.startswith(COMMON_METHODS)
                and data.isascii() and data.find(HEAD_END) == len(data) - 4
                and not _ODD_NAME.search(data)):
            self._mode = Mode.FRAMING  # LINE -> FRAMING is in TRANSITIONS
            return True
        return False

    def next_piece(self) -> Piece | None:
        mode = self._mode
        if mode is Mode.LINE:
            return self._line()
        if mode is Mode.BODY:
            return self._body()
        if mode is Mode.HEAD:
            return self._head()
        if mode is Mode.OPAQUE:
            data, self._buf = self._buf, b""
            return Piece(data) if data else None
        if mode is Mode.DISCARD:
            self._buf = b""
        return None  # FRAMING waits for framed()

    # -- the caller reports what the parser made of the head it was just given --------------
    def framed(self, body_length: int, close: bool = False) -> None:
        """The parser queued the request; its body has body_length bytes (0: none). close: the
        connection ends after this request, so nothing after its body is passed on."""
        if self._mode is not Mode.FRAMING:
            raise FramingMisuse(f"framed() in {self._mode.value}")
        if not body_length and not close:
            self._mode = Mode.LINE  # the hot path (FRAMING -> LINE is in TRANSITIONS)
            return
        if body_length < 0:
            raise FramingMisuse("negative body length")
        if body_length:
            self._remaining = body_length
            self._close_after = close
            self._to(Mode.BODY)
        elif close:
            self.discard()
        else:
            self._to(Mode.LINE)

    def lost_track(self) -> None:
        """Framing we do not follow (chunked, upgrade) or a parser that disagreed with us."""
        if self._mode is not Mode.DISCARD:
            self._to(Mode.OPAQUE)

    def discard(self) -> None:
        """Nothing more goes to the parser (it failed, or the connection closes after this)."""
        if self._mode is not Mode.DISCARD:
            self._to(Mode.DISCARD)
        self._buf = b""

    # -- the modes ---------------------------------------------------------------------------
    def _line(self) -> Piece | None:
        buf = self._buf
        # Empty lines before a request line are ignored by both parsers (RFC 9112 2.2).
        while buf.startswith(CRLF):
            buf = buf[2:]
        self._buf = buf
        if not buf:
            return None
        eol = buf.find(CRLF)
        if eol < 0:
            if len(buf) > self.max_line:
                self.lost_track()  # let the parser refuse the oversized line itself
                return self.next_piece()
            return None  # hold the partial line until it is complete
        original = buf[:eol]
        line, self._method = stand_in_method(encode_request_line(original))
        end = buf.find(HEAD_END, eol)
        if end < 0:
            data = line + buf[eol:]
            self._buf = b""
            self._seen = data[-3:]
            self._to(Mode.HEAD)
            return Piece(data)
        cut = end + 4
        fields, names = stand_in_names(buf[eol:cut])
        if cut == len(buf) and line is original and not names:
            data, self._buf = buf, b""  # exactly one whole head, unchanged
        else:
            data, self._buf = line + fields, buf[cut:]
        self._to(Mode.FRAMING)
        return Piece(data, True, self._method, names)

    def _head(self) -> Piece | None:
        buf = self._buf
        if not buf:
            return None
        seen = self._seen
        end = (seen + buf[:4]).find(HEAD_END) if seen else -1
        if end >= 0:
            cut = end + 4 - len(seen)
        else:
            end = buf.find(HEAD_END)
            cut = end + 4 if end >= 0 else -1
        if cut < 0:
            self._seen = (seen + buf)[-3:]
            self._buf = b""
            return Piece(buf)
        data, self._buf = buf[:cut], buf[cut:]
        self._seen = b""
        self._to(Mode.FRAMING)
        return Piece(data, True, self._method)

    def _body(self) -> Piece | None:
        buf = self._buf
        if not buf:
            return None
        if len(buf) <= self._remaining:
            data, self._buf = buf, b""
        else:
            data, self._buf = buf[:self._remaining], buf[self._remaining:]
        self._remaining -= len(data)
        if not self._remaining:
            if self._close_after:
                self._to(Mode.DISCARD)
                self._buf = b""
            else:
                self._to(Mode.LINE)
        return Piece(data)
