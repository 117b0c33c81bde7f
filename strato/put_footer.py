"""The PUT footer (proxy -> storage node): the body's MD5 and xxh3, known only after the body.

Why: every replica hashing the same body with MD5 was ~38 % of a storage node's CPU on a 1 MiB
PUT. The proxy hashes the client's body once (MD5 + xxh3 in one pass) and sends both after it;
each node checks its copy with xxh3 only and stores the proxy's MD5 as the ETag.

Wire form (docs/storage-protocol.md): a node PUT with `HEADER: VERSION` carries the object's bytes
and then FOOTER_LEN bytes: MAGIC + MD5 hex (32) + xxh3-64 hex (16), lowercase. With Content-Length
that length includes the footer; with chunked framing the footer is the stream's last FOOTER_LEN
bytes. A node says it understands this with `FEATURES_HEADER` (a comma-separated token list holding
FEATURE) on every object-role answer; a proxy sends the footer form only to a node whose last
answer said so, with `ETag: ETAG_SENTINEL` so that a node without the feature refuses it.
Sans-I/O: bytes in, values out.
"""
from __future__ import annotations

HEADER = "X-Backend-Obj-Footer"
VERSION = "md5xxh3-1"
FEATURES_HEADER = "X-Backend-Storage-Features"
FEATURE = "put-footer-1"
# The ETag a footer PUT carries: never an MD5, so a node that does not know the footer (one
# rolled back by mistake) rejects the PUT with 422 and stores nothing instead of storing the
# footer as object bytes. A node that knows the footer ignores it.
ETAG_SENTINEL = "put-footer-follows"
MAGIC = b"STRFTR1\n"
MD5_HEX_LEN = 32
XXH3_HEX_LEN = 16
FOOTER_LEN = len(MAGIC) + MD5_HEX_LEN + XXH3_HEX_LEN  # 56
_HEX = frozenset(b"0123456789abcdef")


class FooterError(ValueError):
    """The footer or its framing is malformed: the sender broke the protocol (a 400)."""


def supports_footer(features: str | None) -> bool:
    """Whether a node's FEATURES_HEADER value lists FEATURE."""
    if not features:
        return False
    return features == FEATURE or FEATURE in (t.strip() for t in features.split(","))


def encode(md5_hex: str, xxh3_hex: str) -> bytes:
    out = MAGIC + md5_hex.encode("ascii") + xxh3_hex.encode("ascii")
    if len(out) != FOOTER_LEN:
        raise FooterError("bad digest length")
    return out


def decode(data) -> tuple[str, str]:
    """(md5 hex, xxh3 hex) of a footer, checked by value: length, magic, lowercase hex."""
    data = bytes(data)
    if len(data) != FOOTER_LEN or not data.startswith(MAGIC):
        raise FooterError("bad footer")
    digests = data[len(MAGIC):]
    if not _HEX.issuperset(digests):
        raise FooterError("footer digest is not lowercase hex")
    return (digests[:MD5_HEX_LEN].decode("ascii"), digests[MD5_HEX_LEN:].decode("ascii"))


class BodySplitter:
    """Splits a footer PUT's body pieces (as they arrive, any boundaries) into the object's bytes
    and the footer.

    total_length is the request's Content-Length (object + footer), or None for chunked framing,
    where the last FOOTER_LEN bytes seen are held back until the end. feed() returns the object
    bytes of one piece as a list of buffers (usually the piece itself, not copied); footer()
    after the last piece returns (md5 hex, xxh3 hex) or raises FooterError.
    """

    __slots__ = ("_body_left", "_tail")

    def __init__(self, total_length: int | None):
        if total_length is not None and total_length < FOOTER_LEN:
            raise FooterError("Content-Length shorter than the footer")
        self._body_left = None if total_length is None else total_length - FOOTER_LEN
        self._tail = bytearray()  # bytes after the object's (or possibly the footer)

    @property
    def body_length(self) -> int | None:
        """Bytes of object still expected (Content-Length framing), None for chunked."""
        return self._body_left

    def feed(self, piece) -> list:
        size = len(piece)
        if not size:
            return []
        left = self._body_left
        if left is not None:  # by count: only the piece crossing the boundary is cut
            if size <= left:
                self._body_left = left - size
                return [piece]
            view = memoryview(piece)
            self._tail += view[left:]
            if len(self._tail) > FOOTER_LEN:
                raise FooterError("body longer than Content-Length")
            self._body_left = 0
            return [view[:left]] if left else []
        tail = self._tail
        if size >= FOOTER_LEN:  # the newest FOOTER_LEN bytes may be the footer: hold them back
            view = memoryview(piece)
            out = [bytes(tail), view[:-FOOTER_LEN]] if tail else [view[:-FOOTER_LEN]]
            self._tail = bytearray(view[-FOOTER_LEN:])
            return out if size > FOOTER_LEN else out[:-1]
        tail += piece
        extra = len(tail) - FOOTER_LEN
        if extra <= 0:
            return []
        out = bytes(tail[:extra])
        del tail[:extra]
        return [out]

    def footer(self) -> tuple[str, str]:
        if self._body_left:
            raise FooterError("body shorter than Content-Length")
        return decode(self._tail)
