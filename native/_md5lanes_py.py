"""Pure-Python reference for native.md5lanes: the same API, each stream hashed as it is fed.

hashlib's MD5 and SHA-256 (OpenSSL) per stream and the xxhash package's xxh3; nothing is batched, so
`held` stays 0 and flush() has nothing to do. The compiled twin batches streams into AVX-512 lanes.
"""
import hashlib
import threading

import xxhash

STREAM_LIMIT = 1024 * 1024
HOLD_LIMIT = 16 * 1024 * 1024
COALESCE = 4096
RUN_API = "hashlib"


def set_wide(use: bool = True) -> bool:
    """No lanes here: always False (the compiled twin's switch for its wide kernel)."""
    return False


def is_wide() -> bool:
    return False


def wide_calls() -> int:
    return 0


def sha256_interleaved() -> bool:
    """No interleaving here: hashlib hashes one stream at a time."""
    return False


def sha256_interleaved_calls() -> int:
    return 0


class Md5Lanes:
    """The streams of one thread: made there, used there only (native.md5lanes.pool())."""

    def __init__(self, hold_limit: int = HOLD_LIMIT, stream_limit: int = STREAM_LIMIT):
        if hold_limit < 0 or stream_limit < 0:
            raise ValueError("hold_limit and stream_limit must be >= 0")
        self.hold_limit = hold_limit
        self.stream_limit = stream_limit
        # how wide the batches were (flush() calls that hashed something, their streams and
        # bytes): nothing is batched here
        self.batches = self.batch_streams = self.batch_bytes = 0
        self._owner = threading.get_ident()

    def _check_thread(self) -> None:
        if threading.get_ident() != self._owner:
            raise RuntimeError("an Md5Lanes pool is used by the thread that made it only")

    @property
    def held(self) -> int:
        return 0

    def stream(self, data=None, xxh3: bool = False, sha256: bool = False) -> "Md5Stream":
        self._check_thread()
        stream = Md5Stream(self, xxh3, sha256)
        if data is not None:
            stream.update(data)
        return stream

    def flush(self) -> None:
        self._check_thread()


class Md5Stream:
    """MD5 (and optionally xxh3-64 and SHA-256) of one stream; made by Md5Lanes.stream()."""

    __slots__ = ("_lanes", "_md5", "_xxh3", "_sha256_wanted", "_sha256", "_length")

    def __init__(self, lanes: Md5Lanes, xxh3: bool, sha256: bool = False):
        self._lanes = lanes
        self._xxh3 = xxhash.xxh3_64() if xxh3 else None
        self._sha256_wanted = sha256
        self.discard()

    def update(self, data) -> None:
        self._lanes._check_thread()
        self._md5.update(data)
        if self._xxh3 is not None:
            self._xxh3.update(data)
        if self._sha256 is not None:
            self._sha256.update(data)
        self._length += memoryview(data).nbytes

    def discard(self) -> None:
        """Start over, empty (the compiled twin also drops the pieces it holds)."""
        self._md5 = hashlib.md5(usedforsecurity=False)
        if self._xxh3 is not None:
            self._xxh3.reset()
        self._sha256 = hashlib.sha256() if self._sha256_wanted else None
        self._length = 0

    @property
    def length(self) -> int:
        return self._length

    def md5_digest(self) -> bytes:
        return self._md5.digest()

    def md5_hexdigest(self) -> str:
        return self._md5.hexdigest()

    def _sha256_hasher(self):
        if self._sha256 is None:
            raise ValueError("this stream was made without sha256")
        return self._sha256

    def sha256_digest(self) -> bytes:
        return self._sha256_hasher().digest()

    def sha256_hexdigest(self) -> str:
        return self._sha256_hasher().hexdigest()

    def _xxh3_hasher(self):
        if self._xxh3 is None:
            raise ValueError("this stream was made without xxh3")
        return self._xxh3

    def xxh3_intdigest(self) -> int:
        return self._xxh3_hasher().intdigest()

    def xxh3_hexdigest(self) -> str:
        return self._xxh3_hasher().hexdigest()
