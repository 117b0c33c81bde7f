"""Pure-Python reference for native.md5lanes: the same API, each stream hashed as it is fed.

hashlib's MD5 (OpenSSL) per stream and the xxhash package's xxh3; nothing is batched, so
`held` stays 0 and flush() has nothing to do. The compiled twin batches streams into AVX-512 lanes.
"""
import hashlib

import xxhash

STREAM_LIMIT = 1024 * 1024
HOLD_LIMIT = 16 * 1024 * 1024
WIDE = False


def set_wide(use: bool = True) -> bool:
    """No lanes here: always False (the compiled twin's switch for its wide kernel)."""
    return False


class Md5Lanes:
    """The streams of one thread."""

    def __init__(self, hold_limit: int = HOLD_LIMIT, stream_limit: int = STREAM_LIMIT):
        if hold_limit < 0 or stream_limit < 0:
            raise ValueError("hold_limit and stream_limit must be >= 0")
        self.hold_limit = hold_limit
        self.stream_limit = stream_limit
        # how wide the batches were (flush() calls that hashed something, their streams and
        # bytes): nothing is batched here
        self.batches = self.batch_streams = self.batch_bytes = 0

    @property
    def held(self) -> int:
        return 0

    def stream(self, data=None, xxh3: bool = False) -> "Md5Stream":
        stream = Md5Stream(xxh3)
        if data is not None:
            stream.update(data)
        return stream

    def flush(self) -> None:
        pass


class Md5Stream:
    """MD5 (and optionally xxh3-64) of one stream; made by Md5Lanes.stream()."""

    __slots__ = ("_md5", "_xxh3", "length")

    def __init__(self, xxh3: bool):
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._xxh3 = xxhash.xxh3_64() if xxh3 else None
        self.length = 0

    def update(self, data) -> None:
        self._md5.update(data)
        if self._xxh3 is not None:
            self._xxh3.update(data)
        self.length += memoryview(data).nbytes

    def md5_digest(self) -> bytes:
        return self._md5.digest()

    def md5_hexdigest(self) -> str:
        return self._md5.hexdigest()

    def _xxh3_hasher(self):
        if self._xxh3 is None:
            raise ValueError("this stream was made without xxh3")
        return self._xxh3

    def xxh3_intdigest(self) -> int:
        return self._xxh3_hasher().intdigest()

    def xxh3_hexdigest(self) -> str:
        return self._xxh3_hasher().hexdigest()
