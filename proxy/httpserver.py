"""The proxy's HTTP/1.1 server protocol: aiohttp's RequestHandler with proxy/framing.py in front of
its parser, so requests that eventlet (Swift) and S3 accept are not refused or lost by llhttp.

What changes against stock aiohttp (see proxy/framing.py for the rules):
  * raw non-ASCII bytes in the request target are percent-encoded before the parser sees them
    (llhttp answers them 400; Swift serves them, and 412s invalid UTF-8 from its path check);
  * the parser gets one request per feed, so a request followed by garbage in the same TCP read
    (a body longer than its Content-Length, the unframed body of a PUT without Content-Length)
    gets its own answer instead of vanishing behind the parser's 400 for the garbage;
  * a PUT/POST/PATCH with neither Content-Length nor Transfer-Encoding is answered (Swift's 411,
    S3's 411 MissingContentLength come from the handlers) and the connection then closes, because
    what follows is that request's body, not a request;
  * a method name llhttp does not know ('LICK') reaches the app, which answers 405 like Swift;
  * header names with non-token characters ('x-amz-meta-(') reach the app as sent.
Why this way: the native llhttp parser stays the only judge of framing and the fast path: a read
holding exactly one ASCII head with a common method goes to it as it is, after a prefix check, an
isascii(), one find() and one regex search for odd header names (RequestFraming.whole_head).
Cost, measured on the shared 2-core box (load ~22-24): data_received of a 4 KiB-GET head about
3.5 us stock -> 7.5 us (best of 15 x 20k); wrk -c16 4 KiB GET through one whole proxy worker, 6
alternating 10 s runs each: stock 203 req/s and 449 us CPU/request, ours 202 req/s and 463 us
(+3%, within the run-to-run spread of about +-45 us).
aiohttp's pure-Python parser accepts raw UTF-8 but is slower on every request and loses a request
followed by garbage just the same.
This leans on aiohttp internals (RequestHandler._parser/_messages, Server's handler kwargs); the
integration tests in tests/integration/protocol/ fail if an aiohttp upgrade changes them.
"""
from __future__ import annotations

import functools

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from multidict import CIMultiDict, CIMultiDictProxy

from proxy.framing import STAND_IN_NAME, FramingMisuse, Mode, RequestFraming

# Methods whose request carries a body: without any framing header, the bytes after the head are
# that body, so the connection cannot be reused after the answer.
BODY_METHODS = frozenset({"PUT", "POST", "PATCH"})


class _ObservedParser:
    """The handler's own parser, recording what the last feed_data produced."""

    __slots__ = ("_inner", "messages", "failed")

    def __init__(self, inner) -> None:
        self._inner = inner
        self.messages = ()
        self.failed = False

    def feed_data(self, data):
        self.messages = ()
        self.failed = True  # stays True when the parser raises (the handler queues its 400)
        result = self._inner.feed_data(data)
        self.failed = False
        self.messages = result[0]
        return result

    def __getattr__(self, name):  # message_consumed, set_upgraded, pause_reading, feed_eof, ...
        return getattr(self._inner, name)


class SwiftRequestHandler(RequestHandler):
    """RequestHandler feeding its parser through RequestFraming (one request per feed)."""

    __slots__ = ("_framing", "_observed")

    def __init__(self, manager, *, loop, pure_parser: bool = False, **kwargs) -> None:
        super().__init__(manager, loop=loop, **kwargs)
        parser = self._parser
        if pure_parser:  # tests run every case against both parsers (STYLE.md)
            from aiohttp.http_parser import HttpRequestParserPy
            from aiohttp.web_protocol import MAX_MSG_QUEUE_SIZE
            from aiohttp.web_protocol import RequestPayloadError
            parser = HttpRequestParserPy(
                self, loop, self._read_bufsize, max_line_size=self.max_line_size,
                max_field_size=self.max_field_size, max_headers=self.max_headers,
                payload_exception=RequestPayloadError,
                auto_decompress=kwargs.get("auto_decompress", True),
                max_msg_queue_size=MAX_MSG_QUEUE_SIZE)
        self._observed = _ObservedParser(parser)
        self._parser = self._observed
        self._framing = RequestFraming(max_line=self.max_line_size)

    def data_received(self, data: bytes) -> None:
        framing = self._framing
        if (not data or framing.mode is Mode.OPAQUE or self._payload_parser is not None
                or self._upgraded):
            super().data_received(data)
            return
        if self._force_close or self._close:
            return
        if framing.whole_head(data):  # the common case: one whole ASCII request head per read
            self._feed(data, True)
            return
        framing.receive(data)
        while (piece := framing.next_piece()) is not None:
            if not self._feed(piece.data, piece.head_end, piece.method, piece.names):
                return

    def _feed(self, data: bytes, head_end: bool, method: str | None = None,
              names: tuple = ()) -> bool:
        """Hand one piece to the parser (through the stock data_received); False: stop feeding."""
        super().data_received(data)
        observed = self._observed
        if observed.failed or self._force_close or self._close:
            self._framing.discard()  # the parser's 400 (queued by the handler) ends the connection
            return False
        messages = observed.messages
        if head_end:
            if len(messages) == 1:
                self._framed(messages[0][0], method, names)
            else:
                self._framing.lost_track()  # the parser saw the head end elsewhere: defer to it
        elif messages and self._framing.mode is not Mode.OPAQUE:
            self._framing.lost_track()
        return True

    def _framed(self, message, method: str | None, names: tuple) -> None:
        """Tell the framing core how long the queued request's body is, per the parser, and put
        back what the parser could not be told (the real method and header names; closing after
        an unframed body)."""
        framing = self._framing
        if message.upgrade or message.chunked or message.method == "CONNECT":
            framing.lost_track()
            return
        headers = message.headers
        length = headers.get("Content-Length")
        unframed = (length is None and (method or message.method) in BODY_METHODS
                    and "Transfer-Encoding" not in headers)
        if method is not None or names or (unframed and not message.should_close):
            queued, payload = self._messages[-1]
            if queued is not message:
                # Never expected; a request must not go on as GET or under stand-in names.
                raise FramingMisuse("the parsed request is not the last one queued")
            changes = {"should_close": True} if unframed else {}
            if method is not None:
                changes["method"] = method
            if names:
                changes.update(_real_names(message.raw_headers, names))
            self._messages[-1] = (message._replace(**changes), payload)
        framing.framed(int(length) if length else 0, close=unframed or message.should_close)


def _real_names(raw_headers, names) -> dict:
    """headers/raw_headers with the real names back at the positions that got a stand-in."""
    raw = list(raw_headers)
    for index, name in names:
        if index < len(raw) and raw[index][0] == STAND_IN_NAME % index:
            raw[index] = (name, raw[index][1])
    headers = CIMultiDict((name.decode("utf-8", "surrogateescape"),
                           value.decode("utf-8", "surrogateescape")) for name, value in raw)
    return {"headers": CIMultiDictProxy(headers), "raw_headers": tuple(raw)}


class SwiftAppRunner(web.AppRunner):
    """web.AppRunner whose sites accept connections with SwiftRequestHandler."""

    def __init__(self, app: web.Application, *, pure_parser: bool = False, **kwargs) -> None:
        super().__init__(app, **kwargs)
        self._pure_parser = pure_parser

    @property
    def server(self):
        server = super().server
        if server is None:
            return None
        # What web.Server.__call__ does, with our handler class.
        return functools.partial(SwiftRequestHandler, server, loop=server._loop,
                                 pure_parser=self._pure_parser, **server._kwargs)
