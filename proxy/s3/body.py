"""Request bodies for S3 writes: decoded and verified.

verified_body() yields the object bytes of a PUT/UploadPart body as they are read and ends with
S3Error when a check fails at the end (payload hash, Content-MD5, a trailing checksum), after its
last byte -- or, for a plain body whose payload hash the object PUT computes
(PayloadVerifier.sha256_for_store), ends after checking the length and leaves the rest to that
PUT's check, which runs before any replica can commit. It holds nothing back itself: the
proxy's put_stream, its only consumer, never lets a node see a whole body before the source has
ended normally (the piece that completes Content-Length is held, a chunked body's terminating
chunk goes last), and cancels every backend write when the source raises, so the object is
never committed (tests/integration/proxy/test_proxy_put_writes.py). Holding a piece here as well
only made each piece get hashed and sent one read later, out of the CPU's cache.
"""
from __future__ import annotations

from typing import AsyncIterator

import aiohttp

from proxy.backend import piece_parts
from proxy.handlers.common import as_buffered, buffered_parts
from proxy.s3.errors import S3Error
from proxy.s3.payload import TERMINATED, PayloadVerifier, verifier_for

READ_CHUNK = 65536
# read_ahead_if_small's limit: the proxy holds up to this much per such request (a module
# constant, not an [s3] key yet: adding one changes tests/unit/strato's section test).
TRAILER_READ_AHEAD = 1024 * 1024


def object_length(s3, verifier: PayloadVerifier) -> int | None:
    """The object's size as the client announced it (decoded length for aws-chunked)."""
    if verifier.streaming:
        return verifier.decoded_length
    length = verifier.plan.content_length  # (check_request parsed it)
    if length is None and "chunked" not in s3.headers.get("transfer-encoding", "").lower():
        raise S3Error("MissingContentLength")
    return length


async def verified_body(s3, verifier: PayloadVerifier
                        ) -> AsyncIterator[bytes | tuple[bytes, ...]]:
    """A plain body's pieces that arrived together come as a tuple (buffered_parts; a body
    piece's contract: proxy/backend.py piece_parts)."""
    if verifier.streaming:
        async for piece in _decoded_body(s3, verifier):
            yield piece
        return
    # A plain body (what boto3 sends over HTTP: signed SHA-256, CRC32 header): its bytes pass on
    # as they arrived (no feed() list), whatever has arrived at each wake-up, as the Swift path
    # reads it: bigger pieces than a fixed 64 KiB mean fewer trips through the hashes and the
    # fan-out.
    consume = verifier.consume
    try:
        async for data in buffered_parts(s3.request.content):
            for part in piece_parts(data):
                consume(part)
            yield data
    except (aiohttp.ClientPayloadError, ConnectionError) as exc:
        raise S3Error("IncompleteBody") from exc
    verifier.finish(verifier.plan.content_length)


async def _decoded_body(s3, verifier: PayloadVerifier) -> AsyncIterator[bytes]:
    """An aws-chunked body's object bytes (bytes(): a piece may be a view of the decoder's input,
    which the next feed reuses)."""
    try:
        async for data in as_buffered(s3.request.content):
            for piece in verifier.feed(data):
                if piece:
                    yield bytes(piece)
    except (aiohttp.ClientPayloadError, ConnectionError) as exc:
        raise S3Error("IncompleteBody", TERMINATED) from exc
    verifier.finish(None)


async def read_ahead_if_small(s3, verifier: PayloadVerifier, length: int | None):
    """The body as a source for the object PUT, already read and verified whole (every check
    passed: verifier.checksum_value is known), when its checksum comes in a trailer and it has
    at most TRAILER_READ_AHEAD bytes; None otherwise (stream it with verified_body).

    Why: a checksum known only after the body cannot go with the PUT's headers, so it was stored
    by a metadata POST to every replica afterwards (a second write and fsync per node, for every
    PUT boto3 sends over HTTPS). Larger bodies stream in bounded memory and keep the POST."""
    if not (verifier.checksum_algorithm and verifier.plan.checksum_trailer) \
            or length is None or length > TRAILER_READ_AHEAD:
        return None
    data = b"".join([part async for piece in verified_body(s3, verifier)
                     for part in piece_parts(piece)])
    return _once(data)


async def _once(data: bytes) -> AsyncIterator[bytes]:
    if data:
        yield data


async def read_small(s3, limit: int) -> bytes:
    """A whole (XML/JSON) request body up to `limit` bytes, verified like any payload (a bad
    Content-MD5 reports the digest as sent, base64, as S3 does for these bodies)."""
    verifier = verifier_for(s3, md5_hex_in_error=False)
    length = verifier.plan.content_length
    if length is not None and length > limit and not verifier.streaming:
        raise S3Error("MaxMessageLengthExceeded")
    out = bytearray()
    try:
        async for data in s3.request.content.iter_chunked(READ_CHUNK):
            for piece in verifier.feed(data):
                out += piece
            if len(out) > limit:
                raise S3Error("MaxMessageLengthExceeded")
    except (aiohttp.ClientPayloadError, ConnectionError) as exc:
        raise S3Error("IncompleteBody", TERMINATED) from exc
    verifier.finish(None if verifier.streaming else length)
    return bytes(out)
