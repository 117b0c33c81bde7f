"""iSCSI text key=value data (RFC 7143 6.1), sans-I/O, with named limits.

Pairs are "key=value" each ended by NUL. Keys are 1..63 characters of letters, digits and
".-+@_"; values are UTF-8 up to MAX_VALUE_LEN. A key sent twice is an error (6.1: "a key MUST
NOT be repeated"). TextError is turned into a Reject (full feature phase) or an initiator-error
login status by the caller.
"""
from __future__ import annotations

import re

from .constants import LOGIN_MAX_TEXT, MAX_KEY_LEN, MAX_KEYS, MAX_VALUE_LEN

_KEY = re.compile(r"[A-Za-z0-9.\-+@_]{1,%d}\Z" % MAX_KEY_LEN)


class TextError(ValueError):
    pass


def parse_text(data, limit: int = LOGIN_MAX_TEXT) -> list[tuple[str, str]]:
    """[(key, value), ...] in the order sent. Trailing NULs are tolerated; everything else is
    checked: the NUL terminator of the last pair, '=' in every pair, key syntax, value size,
    duplicates, the number of pairs and the total size."""
    raw = bytes(data)
    if len(raw) > limit:
        raise TextError(f"text of {len(raw)} bytes exceeds {limit}")
    if not raw:
        return []
    if not raw.endswith(b"\0"):
        raise TextError("text does not end with NUL")
    items = raw.rstrip(b"\0").split(b"\0")
    if items == [b""]:
        return []
    if len(items) > MAX_KEYS:
        raise TextError(f"more than {MAX_KEYS} keys")
    out = []
    seen = set()
    for item in items:
        key, sep, value = item.partition(b"=")
        if not sep:
            raise TextError("pair without '='")
        try:
            k = key.decode("ascii")
            v = value.decode("utf-8")
        except UnicodeDecodeError:
            raise TextError("key or value is not valid text") from None
        if not _KEY.match(k):
            raise TextError(f"bad key {k[:MAX_KEY_LEN]!r}")
        if len(value) > MAX_VALUE_LEN:
            raise TextError(f"value of {k} is longer than {MAX_VALUE_LEN} bytes")
        if k in seen:
            raise TextError(f"key {k} sent twice")
        seen.add(k)
        out.append((k, v))
    return out


def encode_text(pairs) -> bytes:
    """b"k=v\\0..." for an iterable of (key, value)."""
    return b"".join(f"{k}={v}".encode() + b"\0" for k, v in pairs)
