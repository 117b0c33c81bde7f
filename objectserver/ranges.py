"""HTTP Range requests as Swift answers them (RFC 7233 byte ranges): parsing and multipart framing.

parse() returns None when the header should be ignored (absent, not `bytes=`, malformed: Swift
then serves the whole object with 200), [] when no range is satisfiable (416), else the list of
(start, stop) half-open ranges to serve. Sans-I/O.
"""
from __future__ import annotations

MAX_RANGES = 50  # Swift ignores a Range header with more ranges than this


def parse(header: str | None, length: int) -> list[tuple[int, int]] | None:
    if not header:
        return None
    unit, eq, specs = header.strip().partition("=")
    if not eq or unit.strip().lower() != "bytes":
        return None
    parsed = []
    for spec in specs.split(","):
        spec = spec.strip()
        if not spec:
            continue
        first, dash, last = spec.partition("-")
        first, last = first.strip(), last.strip()
        if not dash or not (first or last):
            return None
        if (first and not first.isdigit()) or (last and not last.isdigit()):
            return None
        start = int(first) if first else None
        end = int(last) if last else None
        if start is not None and end is not None and end < start:
            return None
        parsed.append((start, end))
    if not parsed or len(parsed) > MAX_RANGES:
        return None
    satisfiable = []
    for start, end in parsed:
        if start is None:  # suffix: the last `end` bytes
            if end == 0 or length == 0:
                continue
            satisfiable.append((max(0, length - end), length))
        elif start < length:
            stop = length if end is None else min(end + 1, length)
            satisfiable.append((start, stop))
    return satisfiable


def content_range(start: int, stop: int, length: int) -> str:
    return f"bytes {start}-{stop - 1}/{length}"


def part_header(boundary: str, content_type: str, start: int, stop: int, length: int) -> bytes:
    return (f"--{boundary}\r\nContent-Type: {content_type}\r\n"
            f"Content-Range: {content_range(start, stop, length)}\r\n\r\n").encode()


PART_END = b"\r\n"


def closing(boundary: str) -> bytes:
    return f"--{boundary}--".encode()


def multipart_length(boundary: str, content_type: str, ranges, length: int) -> int:
    """Exact body length of the multipart/byteranges answer, for its Content-Length."""
    total = len(closing(boundary))
    for start, stop in ranges:
        total += len(part_header(boundary, content_type, start, stop, length))
        total += (stop - start) + len(PART_END)
    return total
