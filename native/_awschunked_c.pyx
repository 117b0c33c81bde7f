# cython: language_level=3
"""aws-chunked body decoder, compiled twin of native/_awschunked_py.py (same API, same events).

The scan for line ends and the hex size parse run over typed memoryviews; payload bytes are
handed out as one bytes object per fed buffer and chunk, as the reference does.
"""

CHUNK, DATA, TRAILER, END = 1, 2, 3, 4

cdef enum:
    C_MAX_LINE = 4096
MAX_LINE = C_MAX_LINE
MAX_TRAILER_BYTES = 16384
MAX_CHUNK_SIZE = 1 << 40

cdef enum State:
    S_HEADER = 0
    S_DATA = 1
    S_DATA_CRLF = 2
    S_TRAILER = 3
    S_DONE = 4


class AwsChunkedError(ValueError):
    """The body is not valid aws-chunked framing."""


cdef inline int _hexval(unsigned char c) noexcept:
    if 48 <= c <= 57:
        return c - 48
    if 97 <= c <= 102:
        return c - 87
    if 65 <= c <= 70:
        return c - 55
    return -1


cdef class Decoder:
    cdef State _state
    cdef unsigned char _line[C_MAX_LINE + 2]
    cdef Py_ssize_t _line_len
    cdef unsigned long long _remaining
    cdef int _crlf_seen
    cdef Py_ssize_t _trailer_bytes

    def __init__(self):
        self._state = S_HEADER
        self._line_len = 0
        self._remaining = 0
        self._crlf_seen = 0
        self._trailer_bytes = 0

    @property
    def done(self):
        return self._state == S_DONE

    def feed(self, data):
        cdef const unsigned char[::1] view = memoryview(data).cast("B")
        cdef Py_ssize_t pos = 0, end = view.shape[0], take, i, window
        cdef unsigned char expected
        events = []
        while pos < end:
            if self._state == S_DATA:
                take = end - pos
                if <unsigned long long>take > self._remaining:
                    take = <Py_ssize_t>self._remaining
                events.append((DATA, bytes(view[pos:pos + take]), None))
                pos += take
                self._remaining -= take
                if self._remaining == 0:
                    self._state = S_DATA_CRLF
                    self._crlf_seen = 0
            elif self._state == S_DATA_CRLF:
                expected = 13 if self._crlf_seen == 0 else 10
                if view[pos] != expected:
                    raise AwsChunkedError("chunk data is not followed by CRLF")
                pos += 1
                self._crlf_seen += 1
                if self._crlf_seen == 2:
                    self._state = S_HEADER
            elif self._state == S_DONE:
                break  # S3 stops reading at the end of the trailers
            else:
                # Accumulate one line (bounded) into the fixed buffer.
                window = end
                if window - pos > C_MAX_LINE + 1:
                    window = pos + C_MAX_LINE + 1
                i = pos
                while i < window and view[i] != 10:
                    i += 1
                if i == window:
                    if self._line_len + (window - pos) > C_MAX_LINE:
                        raise AwsChunkedError("chunk header or trailer line too long")
                    for take in range(pos, window):
                        self._line[self._line_len] = view[take]
                        self._line_len += 1
                    pos = window
                    continue
                if self._line_len + (i + 1 - pos) > C_MAX_LINE:
                    raise AwsChunkedError("chunk header or trailer line too long")
                for take in range(pos, i + 1):
                    self._line[self._line_len] = view[take]
                    self._line_len += 1
                pos = i + 1
                self._complete_line(events)
        return events

    cdef _complete_line(self, list events):
        cdef Py_ssize_t n = self._line_len
        self._line_len = 0
        if n < 2 or self._line[n - 2] != 13:
            raise AwsChunkedError("line not terminated by CRLF")
        n -= 2
        if self._state == S_HEADER:
            self._header(n, events)
        else:
            self._trailer(n, events)

    cdef _header(self, Py_ssize_t n, list events):
        cdef Py_ssize_t i = 0, start, stop, semi = n
        cdef unsigned long long size = 0
        cdef int v
        for i in range(n):
            if self._line[i] == 59:  # ';'
                semi = i
                break
        start, stop = 0, semi
        while start < stop and (self._line[start] == 32 or self._line[start] == 9):
            start += 1
        while stop > start and (self._line[stop - 1] == 32 or self._line[stop - 1] == 9):
            stop -= 1
        if stop == start or stop - start > 16:
            raise AwsChunkedError("invalid chunk size")
        for i in range(start, stop):
            v = _hexval(self._line[i])
            if v < 0:
                raise AwsChunkedError("invalid chunk size")
            size = size * 16 + v
        if size > MAX_CHUNK_SIZE:
            raise AwsChunkedError("chunk too large")
        params = None
        if semi < n:
            params = (<char*>self._line)[semi + 1:n].decode("latin-1")
        events.append((CHUNK, size, params))
        if size:
            self._state = S_DATA
            self._remaining = size
        else:
            self._state = S_TRAILER

    cdef _trailer(self, Py_ssize_t n, list events):
        if n == 0:
            self._state = S_DONE
            events.append((END, None, None))
            return
        self._trailer_bytes += n + 2
        if self._trailer_bytes > MAX_TRAILER_BYTES:
            raise AwsChunkedError("trailer too large")
        line = (<char*>self._line)[:n]
        name, _, value = line.partition(b":")
        events.append((TRAILER, name.decode("latin-1"), value.decode("latin-1")))

    def close(self):
        if self._state == S_DONE or (self._state == S_TRAILER and self._line_len == 0):
            return
        raise AwsChunkedError("aws-chunked body is truncated")
