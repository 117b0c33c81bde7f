"""aws-chunked body decoder, pure-Python reference (native/_awschunked_c.pyx is its compiled twin).

S3 clients stream bodies as `<hex-size>[;chunk-signature=<64 hex>]\r\n<data>\r\n ... 0[;...]\r\n`
followed by optional trailer lines `name:value\r\n` and a final `\r\n`. The decoder is sans-I/O:
feed() takes whatever bytes arrived and returns events; it checks every delimiter by value (CRLF
after a chunk's data, the final empty line), caps header and trailer sizes, and never buffers more
than one header line. Verifying signatures and checksums is the caller's job; this only frames.

Events are tuples (kind, a, b):
  (CHUNK, size, signature-or-None)   start of a chunk (the last one has size 0)
  (DATA, bytes, None)                part of the current chunk's payload
  (TRAILER, name (lower case), value)
  (END, None, None)                  the body is complete; anything after it is an error
"""

CHUNK, DATA, TRAILER, END = 1, 2, 3, 4

MAX_LINE = 4096            # a chunk header or one trailer line
MAX_TRAILER_BYTES = 16384  # all trailer lines together
MAX_CHUNK_SIZE = 1 << 40
SIGNATURE_KEY = b"chunk-signature="

_HEADER, _DATA, _DATA_CRLF, _TRAILER, _DONE = range(5)
_HEX = frozenset(b"0123456789abcdefABCDEF")
_SIG_HEX = frozenset(b"0123456789abcdef")


class AwsChunkedError(ValueError):
    """The body is not valid aws-chunked framing."""


class Decoder:
    def __init__(self, signed: bool):
        """signed: chunk headers must carry `;chunk-signature=` (STREAMING-AWS4-HMAC-SHA256-*)."""
        self.signed = signed
        self._state = _HEADER
        self._line = bytearray()
        self._remaining = 0
        self._crlf_seen = 0
        self._trailer_bytes = 0

    @property
    def done(self) -> bool:
        return self._state == _DONE

    def feed(self, data) -> list:
        events = []
        view = memoryview(data).cast("B") if not isinstance(data, memoryview) else data.cast("B")
        pos, end = 0, len(view)
        while pos < end:
            state = self._state
            if state == _DATA:
                take = min(self._remaining, end - pos)
                events.append((DATA, bytes(view[pos:pos + take]), None))
                pos += take
                self._remaining -= take
                if self._remaining == 0:
                    self._state = _DATA_CRLF
                    self._crlf_seen = 0
            elif state == _DATA_CRLF:
                expected = 13 if self._crlf_seen == 0 else 10
                if view[pos] != expected:
                    raise AwsChunkedError("chunk data is not followed by CRLF")
                pos += 1
                self._crlf_seen += 1
                if self._crlf_seen == 2:
                    self._state = _HEADER
            elif state == _DONE:
                raise AwsChunkedError("data after the end of the aws-chunked body")
            else:
                pos = self._read_line(view, pos, end, events)
        return events

    def _read_line(self, view, pos, end, events) -> int:
        window = min(end, pos + MAX_LINE + 1)  # a line longer than that is an error anyway
        nl = bytes(view[pos:window]).find(b"\n")
        if nl < 0:
            self._line += view[pos:window]
            if len(self._line) > MAX_LINE:
                raise AwsChunkedError("chunk header or trailer line too long")
            return window
        self._line += view[pos:pos + nl + 1]
        if len(self._line) > MAX_LINE:
            raise AwsChunkedError("chunk header or trailer line too long")
        line = bytes(self._line)
        self._line.clear()
        if not line.endswith(b"\r\n"):
            raise AwsChunkedError("line not terminated by CRLF")
        line = line[:-2]
        if self._state == _HEADER:
            self._header(line, events)
        else:
            self._trailer(line, events)
        return pos + nl + 1

    def _header(self, line: bytes, events) -> None:
        size_text, sep, ext = line.partition(b";")
        if not size_text or len(size_text) > 16 or not all(c in _HEX for c in size_text):
            raise AwsChunkedError("invalid chunk size")
        size = int(size_text, 16)
        if size > MAX_CHUNK_SIZE:
            raise AwsChunkedError("chunk too large")
        signature = None
        if sep:
            if not ext.startswith(SIGNATURE_KEY):
                raise AwsChunkedError("unknown chunk extension")
            sig = ext[len(SIGNATURE_KEY):]
            if len(sig) != 64 or not all(c in _SIG_HEX for c in sig):
                raise AwsChunkedError("malformed chunk signature")
            signature = sig.decode("ascii")
        if self.signed and signature is None:
            raise AwsChunkedError("chunk signature missing")
        events.append((CHUNK, size, signature))
        if size:
            self._state = _DATA
            self._remaining = size
        else:
            self._state = _TRAILER

    def _trailer(self, line: bytes, events) -> None:
        if not line:
            self._state = _DONE
            events.append((END, None, None))
            return
        self._trailer_bytes += len(line) + 2
        if self._trailer_bytes > MAX_TRAILER_BYTES:
            raise AwsChunkedError("trailer too large")
        name, sep, value = line.partition(b":")
        name = name.strip()
        if not sep or not name or any(c <= 32 or c >= 127 for c in name):
            raise AwsChunkedError("malformed trailer line")
        try:
            text = value.strip().decode("ascii")
        except UnicodeDecodeError:
            raise AwsChunkedError("non-ASCII trailer value") from None
        events.append((TRAILER, name.decode("ascii").lower(), text))

    def close(self) -> None:
        """Call at end of input: raises unless the body ended properly."""
        if self._state != _DONE:
            raise AwsChunkedError("aws-chunked body is truncated")
