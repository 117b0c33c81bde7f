"""MD5 of many concurrent streams, batched: the proxy's ETags of the PUTs it is receiving (and
the SHA-256 of those whose S3 signature covers the payload).

    pool()                 this thread's Md5Lanes (a pool serves the thread that made it only;
                           a call from another raises RuntimeError)
    Md5Lanes(hold_limit, stream_limit)
                           .stream(data=None, xxh3=False, sha256=False) -> Md5Stream;
                           .flush(); .held;
                           .batches, .batch_streams, .batch_bytes (how wide the batches were)
    Md5Stream              .update(data); .md5_digest() / .md5_hexdigest() (flush the pool first);
                           .xxh3_hexdigest() / .xxh3_intdigest() when made with xxh3=True;
                           .sha256_digest() / .sha256_hexdigest() when made with sha256=True
                           (flush first, as for MD5); .length;
                           .discard() (a failed stream: drop what it holds, start over)
    is_wide(), set_wide(use), wide_calls()   the compiled twin's kernel switch (tests, benchmarks)
    sha256_interleaved(), sha256_interleaved_calls()
                           whether (and how often) batched SHA-256 streams ran interleaved

One stream's MD5 cannot beat the latency of its 64-step chain (~600 MB/s here). The compiled twin
keeps each stream's pieces (bytes of 4 KiB or more are referenced, smaller pieces joined per
stream, other buffers copied; up to stream_limit bytes a stream, hold_limit a pool) and hashes
the pool's streams side by side in AVX-512 lanes when a digest is asked or a limit is passed:
sixteen 1 MiB bodies at ~5.9 GB/s instead of 0.6. On a CPU without AVX-512 it hashes every
update at once, as the pure twin (hashlib) does. A batch's SHA-256 streams go through SHA-NI
two to four at a time, interleaved (~1.2x OpenSSL's one at a time; _md5lanes_sha256.h).
STRATO_NO_EXTENSIONS=1 selects the pure twin.
"""
import threading

import native

_impl = native.load("md5lanes")

Md5Lanes = _impl.Md5Lanes
is_wide = _impl.is_wide
set_wide = _impl.set_wide
wide_calls = _impl.wide_calls
sha256_interleaved = _impl.sha256_interleaved
sha256_interleaved_calls = _impl.sha256_interleaved_calls
HOLD_LIMIT = _impl.HOLD_LIMIT
STREAM_LIMIT = _impl.STREAM_LIMIT
IMPLEMENTATION = "c" if _impl.__name__.endswith("_c") else "py"

_local = threading.local()


def pool() -> "Md5Lanes":
    """The calling thread's pool (made on first use)."""
    lanes = getattr(_local, "lanes", None)
    if lanes is None:
        lanes = _local.lanes = Md5Lanes()
    return lanes


__all__ = ["Md5Lanes", "is_wide", "set_wide", "wide_calls", "sha256_interleaved",
           "sha256_interleaved_calls", "HOLD_LIMIT", "STREAM_LIMIT", "IMPLEMENTATION", "pool"]
