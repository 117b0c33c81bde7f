"""aws-chunked body decoder, pure-Python reference (native/_awschunked_c.pyx is its compiled twin).

S3 clients stream bodies as `<hex-size>[;<params>]\r\n<data>\r\n ... 0[;<params>]\r\n` followed by
optional trailer lines `name:value\r\n` and an optional final `\r\n`. The decoder is sans-I/O:
feed() takes whatever bytes arrived and returns events. It only frames, and frames the way S3
does: every line must end in CRLF, a chunk's data must be followed by CRLF (checked by value),
the trailer section ends at an empty line or at the end of the body, and whatever follows that
empty line is ignored (S3 does not read it). Header and trailer sizes are capped. What the chunk
parameters (signatures) and trailer names mean is the caller's business (proxy/s3/payload.py).

Events are tuples (kind, a, b):
  (CHUNK, size, params)   start of a chunk (the last one has size 0); params: the text after the
                          first ';' of the chunk header (latin-1), or None when there is no ';'
  (DATA, bytes, None)     part of the current chunk's payload
  (TRAILER, name, value)  one trailer line split at its first ':' (latin-1, not stripped;
                          value is "" when the line has no ':')
  (END, None, None)       the empty line that ends the trailer section
"""

CHUNK, DATA, TRAILER, END = 1, 2, 3, 4

MAX_LINE = 4096            # a chunk header or one trailer line
MAX_TRAILER_BYTES = 16384  # all trailer lines together
MAX_CHUNK_SIZE = 1 << 40

_HEADER, _DATA, _DATA_CRLF, _TRAILER, _DONE = range(5)
_HEX = frozenset(b"0123456789abcdefABCDEF")


class AwsChunkedError(ValueError):
    """The body is not valid aws-chunked framing."""


class Decoder:
    def __init__(self):
        self._state = _HEADER
        self._line = bytearray()
        self._remaining = 0
        self._crlf_seen = 0
        self._trailer_bytes = 0

    @property
    def done(self) -> bool:
        """The empty line after the trailers arrived (later bytes are ignored)."""
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
                break  # S3 stops reading at the end of the trailers
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
        size_text, sep, params = line.partition(b";")
        size_text = size_text.strip(b" \t")
        if not size_text or len(size_text) > 16 or not all(c in _HEX for c in size_text):
            raise AwsChunkedError("invalid chunk size")
        size = int(size_text, 16)
        if size > MAX_CHUNK_SIZE:
            raise AwsChunkedError("chunk too large")
        events.append((CHUNK, size, params.decode("latin-1") if sep else None))
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
        name, _, value = line.partition(b":")
        events.append((TRAILER, name.decode("latin-1"), value.decode("latin-1")))

    def close(self) -> None:
        """Call at end of input: raises unless the body ended after the last chunk (and whole
        trailer lines, if any)."""
        if self._state == _DONE or (self._state == _TRAILER and not self._line):
            return
        raise AwsChunkedError("aws-chunked body is truncated")
