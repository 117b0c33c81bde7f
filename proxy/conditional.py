"""HTTP conditionals and byte ranges for answers the proxy builds itself (large objects): pure.

Plain objects are answered by the storage node, which applies the same rules; these are for
DLO/SLO, whose ETag and length only the proxy knows.
"""
from __future__ import annotations

from email.utils import parsedate_to_datetime

from proxy.errors import SwiftError


def _etags(value: str) -> list[str]:
    return [v.strip().strip('"') for v in value.split(",") if v.strip()]


def _http_time(value: str) -> float | None:
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def evaluate(headers, etag: str, last_modified: float | None) -> int | None:
    """None to go on, else 304 or 412, following RFC 7232's order (as Swift does)."""
    etag = etag.strip('"')
    if_match = headers.get("If-Match")
    if if_match is not None:
        wanted = _etags(if_match)
        if "*" not in wanted and etag not in wanted:
            return 412
    elif last_modified is not None and headers.get("If-Unmodified-Since"):
        since = _http_time(headers["If-Unmodified-Since"])
        if since is not None and int(last_modified) > since:
            return 412
    if_none = headers.get("If-None-Match")
    if if_none is not None:
        wanted = _etags(if_none)
        if "*" in wanted or etag in wanted:
            return 304
    elif last_modified is not None and headers.get("If-Modified-Since"):
        since = _http_time(headers["If-Modified-Since"])
        if since is not None and int(last_modified) <= since:
            return 304
    return None


def parse_range(value: str | None, length: int) -> tuple[int, int] | None:
    """A single 'bytes=' range -> (start, end) inclusive; None means 'send it all'.

    Syntactically invalid headers are ignored (whole object), like Swift; a satisfiable-looking but
    out-of-bounds range is 416. Several ranges: only the first one is served (documented limit).
    """
    if not value or not value.strip().lower().startswith("bytes="):
        return None
    specs = value.strip()[6:].split(",")
    parsed = []
    for spec in specs:
        spec = spec.strip()
        first, dash, last = spec.partition("-")
        if not dash:
            return None
        first, last = first.strip(), last.strip()
        if (first and not first.isdigit()) or (last and not last.isdigit()) or (not first and not last):
            return None
        if first and last and int(last) < int(first):
            return None
        parsed.append((first, last))
    for first, last in parsed:
        if not first:
            suffix = int(last)
            if suffix == 0:
                continue
            return (max(0, length - suffix), length - 1) if length else None
        start = int(first)
        if start >= length:
            continue
        end = min(int(last), length - 1) if last else length - 1
        return start, end
    raise SwiftError(416, "Requested Range Not Satisfiable",
                     {"Content-Range": f"bytes */{length}"})
