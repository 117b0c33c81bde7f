"""Large objects: DLO (X-Object-Manifest) and SLO (multipart-manifest) on top of SwiftCore.

A large object is a manifest plus segments. Reads compute the whole object's length and ETag,
apply conditionals and a single Range here (proxy/conditional.py), then stream the covered
segments one after another, each from one healthy replica, checking each segment's ETag against
the manifest (SLO) so a replaced segment is noticed. Nested SLOs are expanded up to MAX_DEPTH.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import hashlib
import json
import secrets
from typing import AsyncIterator
from urllib.parse import unquote

from multidict import CIMultiDict

# The node's multipart/byteranges framing (pure), so large and plain objects frame alike.
from objectserver import ranges
from proxy import conditional
from proxy.core import Result, SwiftCore
from proxy.errors import SwiftError, reason
from proxy.objver import listing as objver_listing
from strato.truth import is_true

MAX_MANIFEST_SEGMENTS = 1000
MAX_MANIFEST_SIZE = 8 * 1024 * 1024
MIN_SEGMENT_SIZE = 1
SEGMENT_HEAD_CONCURRENCY = 10
MAX_DEPTH = 10
# swob's default 409 page, which Swift's slo answers a too deep chain of manifests with.
CONFLICT_BODY = ("<html><h1>Conflict</h1><p>There was a conflict when trying to complete your "
                 "request.</p></html>")


@dataclasses.dataclass(frozen=True)
class Segment:
    container: str
    obj: str
    size: int
    etag: str | None = None
    first: int = 0            # byte range of the segment that belongs to the large object
    last: int | None = None   # inclusive; None = to the end
    sub_slo: bool = False     # the segment is itself an SLO manifest (expanded when read)
    data: bytes | None = None  # an inline data segment ({"data": base64} in the manifest)


def is_slo(headers) -> bool:
    return is_true(headers.get("X-Static-Large-Object"))


def slo_etag(etags: list[str]) -> str:
    """The ETag of an SLO: MD5 of its segments' ETags concatenated (Swift's 'ETag of ETags')."""
    return hashlib.md5("".join(etags).encode()).hexdigest()


def dlo_etag(etags: list[str]) -> str:
    return hashlib.md5("".join(e.strip('"') for e in etags).encode()).hexdigest()


def clip(segments: list[Segment], start: int, end: int) -> list[Segment]:
    """The parts of `segments` covering byte range [start, end] of the whole (pure)."""
    out = []
    offset = 0
    for seg in segments:
        length = (seg.size if seg.last is None else seg.last + 1) - seg.first
        seg_start, seg_end = offset, offset + length - 1
        offset += length
        if length <= 0 or seg_end < start or seg_start > end:
            continue
        lo = max(start, seg_start) - seg_start + seg.first
        hi = min(end, seg_end) - seg_start + seg.first
        out.append(dataclasses.replace(seg, first=lo, last=hi))
    return out


def total_length(segments: list[Segment]) -> int:
    return sum((s.size if s.last is None else s.last + 1) - s.first for s in segments)


async def read_following(core: SwiftCore, method: str, account: str, container: str, obj: str,
                         headers: dict | None = None) -> Result:
    """An object read that follows symlinks (segments may be links, as in Swift)."""
    from proxy import symlink

    for _hop in range(symlink.MAX_HOPS + 1):
        result = await core.object_read(method, account, container, obj, headers=headers)
        bh = result.backend_headers or {}
        if not (result.status // 100 == 2 and symlink.is_link(bh)):
            return result
        result.close()
        account, container, obj = symlink.target_of(bh, account)
    raise SwiftError(409, "Too many levels of symbolic links")


async def stream_segments(core: SwiftCore, account: str, segments: list[Segment]
                          ) -> AsyncIterator[bytes]:
    for seg in segments:
        if seg.data is not None:
            yield seg.data[seg.first:(None if seg.last is None else seg.last + 1)]
            continue
        headers = {}
        whole = seg.first == 0 and (seg.last is None or seg.last == seg.size - 1)
        if not whole:
            last = "" if seg.last is None else str(seg.last)
            headers["Range"] = f"bytes={seg.first}-{last}"
        result = await read_following(core, "GET", account, seg.container, seg.obj, headers)
        try:
            if result.status // 100 != 2:
                raise SwiftError(409, f"Segment {seg.container}/{seg.obj}: {result.status}")
            etag = (result.headers.get("ETag") or "").strip('"')
            if seg.etag and etag and etag != seg.etag.strip('"'):
                raise SwiftError(409, f"Segment {seg.container}/{seg.obj} changed")
            async for chunk in result.iter_body():
                yield chunk
        finally:
            result.close()


# -- reading ------------------------------------------------------------------------------------
def part_range(segments: list[Segment], part: int) -> tuple[int, int]:
    """Byte range of 1-based manifest entry `part` (pure; the caller checks the bounds)."""
    seg_lengths = [total_length([s]) for s in segments]
    start = sum(seg_lengths[:part - 1])
    return start, start + seg_lengths[part - 1] - 1


def parse_part_number(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or int(value) < 1:
        raise SwiftError(400, "Part number must be an integer greater than 0")
    return int(value)


async def answer(core: SwiftCore, account: str, manifest: Result, segments: list[Segment],
                 etag: str, request_headers, method: str, part_number: int | None = None,
                 multi_range: bool = False) -> Result:
    """Headers, status and body stream for a large object read (conditionals, Range or an SLO
    ?part-number applied). Several ranges: multipart/byteranges with multi_range (SLO), else
    the whole object (Swift's DLO ignores such a Range)."""
    headers = CIMultiDict(manifest.headers)
    length = total_length(segments)
    last_modified = _timestamp(manifest.backend_headers)
    status = conditional.evaluate(request_headers, etag, last_modified)
    headers["ETag"] = f'"{etag}"'
    headers.popall("Content-Range", None)
    if status is not None:
        headers["Content-Length"] = "0"
        return Result(status, headers)
    rng = request_headers.get("Range")
    wanted = None
    if part_number is not None:
        headers["X-Parts-Count"] = str(len(segments))
        if part_number > len(segments):
            body = "The requested part number is not satisfiable" if method != "HEAD" else ""
            # The object's own headers (Last-Modified, metadata...) stay, as in Swift's slo.
            kept = {k: v for k, v in headers.items()
                    if k.lower() not in ("content-length", "content-type", "accept-ranges")}
            raise SwiftError(416, body, {
                **kept, "Content-Range": f"bytes */{length}", "X-Static-Large-Object": "True",
                "ETag": f'"{etag}"', "X-Parts-Count": str(len(segments)),
                "X-Manifest-Etag": headers.get("X-Manifest-Etag", "")})
        wanted = part_range(segments, part_number)
    elif rng and "," in rng and not multi_range:
        wanted = None
    elif rng and "," in rng:
        spans = ranges.parse(rng, length)
        if spans == []:
            raise SwiftError(416, "Requested Range Not Satisfiable",
                             {"Content-Range": f"bytes */{length}"})
        if spans and len(spans) > 1:
            return await _multi_range(core, account, headers, segments, spans, length, method)
        if spans:
            wanted = (spans[0][0], spans[0][1] - 1)
    else:
        wanted = conditional.parse_range(rng, length)
    code = 200
    if wanted is not None:
        segments = clip(segments, *wanted)
        headers["Content-Range"] = f"bytes {wanted[0]}-{wanted[1]}/{length}"
        length = wanted[1] - wanted[0] + 1
        code = 206
    headers["Content-Length"] = str(length)
    headers["Accept-Ranges"] = "bytes"
    if method == "HEAD":
        return Result(code, headers)
    segments = await expand(core, account, segments)
    body = await _primed(stream_segments(core, account, segments))
    return Result(code, headers, body_iter=body)


async def _primed(body: AsyncIterator[bytes]) -> "_Primed":
    """Read the first chunk now, so a first segment that is gone or changed is a 409 before any
    header is sent (Swift's slo/dlo check the first segment so), not a cut-off 200."""
    try:
        first = await body.__anext__()
    except StopAsyncIteration:
        first = None
    return _Primed(first, body)


class _Primed:
    """An async iterator: the chunk already read, then the rest; aclose() releases the rest
    (the segment connection it holds) even when nobody iterated."""

    def __init__(self, first: bytes | None, rest: AsyncIterator[bytes]):
        self.first, self.rest = first, rest

    def __aiter__(self):
        return self

    async def __anext__(self) -> bytes:
        if self.first is not None:
            chunk, self.first = self.first, None
            return chunk
        return await self.rest.__anext__()

    async def aclose(self) -> None:
        await self.rest.aclose()


async def _multi_range(core: SwiftCore, account: str, headers: CIMultiDict,
                       segments: list[Segment], spans: list[tuple[int, int]], length: int,
                       method: str) -> Result:
    """Several satisfiable ranges of a large object: a 206 multipart/byteranges answer, framed
    exactly as the storage node frames plain objects (objectserver/ranges.py, pure)."""
    boundary = secrets.token_hex(16)
    part_type = headers.get("Content-Type", "application/octet-stream")
    headers["Content-Type"] = f"multipart/byteranges;boundary={boundary}"
    headers["Content-Length"] = str(ranges.multipart_length(boundary, part_type, spans, length))
    headers["Accept-Ranges"] = "bytes"
    if method == "HEAD":
        return Result(206, headers)

    async def body() -> AsyncIterator[bytes]:
        for start, stop in spans:
            yield ranges.part_header(boundary, part_type, start, stop, length)
            part = await expand(core, account, clip(segments, start, stop - 1))
            async for chunk in stream_segments(core, account, part):
                yield chunk
            yield ranges.PART_END
        yield ranges.closing(boundary)

    return Result(206, headers, body_iter=body())


def _timestamp(headers) -> float | None:
    try:
        return float((headers or {}).get("X-Timestamp", "").split("_")[0])
    except ValueError:
        return None


async def dlo_segments(core: SwiftCore, account: str, manifest_value: str) -> list[Segment]:
    container, _, prefix = unquote(manifest_value).lstrip("/").partition("/")
    segments, marker = [], ""
    while True:
        listing = await core.container_read("GET", account, container,
                                            {"format": "json", "prefix": prefix, "marker": marker})
        if listing.status == 404:
            return []
        if listing.status // 100 != 2:
            raise SwiftError(503, "Could not list segments")
        rows = json.loads(listing.body or b"[]")
        if not rows:
            return segments
        for row in rows:
            if "name" in row:
                # a versioned container's rows are links: read the versions they name
                segments.append(Segment(*objver_listing.segment_source(container, row),
                                        row["hash"]))
        marker = rows[-1].get("name") or rows[-1].get("subdir")


async def read_dlo(core: SwiftCore, account: str, manifest: Result, request_headers,
                   method: str, authorize=None) -> Result:
    """`authorize(container)` (async) vets read access to the segments' container."""
    value = manifest.backend_headers["X-Object-Manifest"]
    if authorize is not None:
        await authorize(unquote(value).lstrip("/").partition("/")[0])
    segments = await dlo_segments(core, account, value)
    etag = dlo_etag([s.etag or "" for s in segments])
    # Swift's DLO does not check segment ETags while reading (a segment may be a link, e.g. a
    # versioned object's current version, whose listed hash is not its body's).
    segments = [dataclasses.replace(s, etag=None) for s in segments]
    return await answer(core, account, manifest, segments, etag, request_headers, method)


def parse_stored_manifest(body: bytes) -> list[dict]:
    try:
        items = json.loads(body)
        assert isinstance(items, list)
        return items
    except (ValueError, AssertionError):
        raise SwiftError(500, "Unable to load SLO manifest") from None


def slo_segments(items: list[dict]) -> list[Segment]:
    out = []
    for item in items:
        if "data" in item:
            data = base64.b64decode(item["data"])
            out.append(Segment("", "", len(data), None, 0, None, False, data))
            continue
        container, _, obj = item["name"].lstrip("/").partition("/")
        size = int(item["bytes"])
        first, last = 0, None
        if item.get("range"):
            first, last = conditional.parse_range("bytes=" + item["range"], size) or (0, None)
        out.append(Segment(container, obj, size, item.get("hash"), first, last,
                           bool(item.get("sub_slo"))))
    return out


async def expand(core: SwiftCore, account: str, segments: list[Segment], depth: int = 0
                 ) -> list[Segment]:
    """Replace sub-SLO segments by the (clipped) segments of their own manifests."""
    if not any(s.sub_slo for s in segments):
        return segments
    # The top manifest counts as level 1, as in Swift's slo: MAX_DEPTH manifests in a chain.
    if depth + 1 >= MAX_DEPTH:
        raise SwiftError(409, CONFLICT_BODY)
    out: list[Segment] = []
    for seg in segments:
        if not seg.sub_slo:
            out.append(seg)
            continue
        sub = await read_following(core, "GET", account, seg.container, seg.obj)
        if sub.status != 200:
            sub.close()
            raise SwiftError(409, f"Unable to load SLO manifest {seg.container}/{seg.obj}")
        inner = slo_segments(parse_stored_manifest(await sub.read()))
        last = seg.last if seg.last is not None else seg.size - 1
        out.extend(await expand(core, account, clip(inner, seg.first, last), depth + 1))
    return out


async def read_slo(core: SwiftCore, account: str, container: str, obj: str, manifest: Result,
                   request_headers, method: str, authorize=None,
                   part_number: int | None = None) -> Result:
    bh = manifest.backend_headers
    if manifest.stream is not None and manifest.status == 200:
        body = await manifest.read()
    else:
        manifest.close()
        full = await core.object_read("GET", account, container, obj)
        if full.status != 200:
            full.close()
            raise SwiftError(full.status if full.status >= 400 else 503)
        body = await full.read()
    items = parse_stored_manifest(body)
    segments = slo_segments(items)
    if authorize is not None:
        for name in sorted({seg.container for seg in segments if seg.data is None}):
            await authorize(name)
    etag = (bh.get("X-Object-Sysmeta-Slo-Etag") or slo_etag([_item_etag(i) for i in items]))
    if bh.get("ETag"):
        manifest.headers["X-Manifest-Etag"] = bh["ETag"].strip('"')
    result = await answer(core, account, manifest, segments, etag, request_headers, method,
                          part_number, multi_range=True)
    # the object's stored headers are the manifest's (sysmeta: S3's encryption, tags, metadata)
    result.backend_headers = bh
    return result


def slo_size_and_etag(headers) -> tuple[int, str] | None:
    """A sub-SLO's total size and ETag from its manifest's sysmeta."""
    try:
        return int(headers["X-Object-Sysmeta-Slo-Size"]), headers["X-Object-Sysmeta-Slo-Etag"]
    except (KeyError, ValueError):
        return None


def _item_etag(item: dict) -> str:
    if "data" in item:
        return hashlib.md5(base64.b64decode(item["data"])).hexdigest()
    etag = (item.get("hash") or "").strip('"')
    if item.get("range"):
        return f"{etag}:{item['range']};"
    return etag


# -- SLO PUT ------------------------------------------------------------------------------------
class ManifestErrors(SwiftError):
    """A manifest whose segments do not check out: 400 with one (path, reason) per problem."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__(400, "Errors:\n" + "\n".join(f"{p}, {r}" for p, r in errors))


async def build_slo(core: SwiftCore, account: str, body: bytes,
                    itself: tuple[str, str] | None = None, authorize=None
                    ) -> tuple[list[dict], str, int]:
    """Validate a multipart-manifest=put body: (stored manifest, etag of etags, total size).

    `itself` is the manifest's own (container, object): a manifest may not list itself.
    `authorize(container, obj)` (async) vets the writer's read access to each segment; its
    SwiftError becomes that segment's "<status> <reason>" line, as Swift's segment HEAD would."""
    try:
        items = json.loads(body)
    except ValueError:
        raise SwiftError(400, "Manifest must be valid JSON.\n") from None
    if not isinstance(items, list) or not items:
        raise SwiftError(400, "Manifest must be a list of segments.\n")
    if len(items) > MAX_MANIFEST_SEGMENTS:
        raise SwiftError(413, f"Too many segments: max {MAX_MANIFEST_SEGMENTS}.\n")
    errors: list[tuple[str, str]] = []
    sem = asyncio.Semaphore(SEGMENT_HEAD_CONCURRENCY)

    async def check(index: int, item) -> dict | None:
        if isinstance(item, dict) and "data" in item:
            if set(item) != {"data"}:
                errors.append((f"Index {index}", "data segments take no other keys"))
                return None
            try:
                raw = base64.b64decode(item["data"], validate=True)
            except (binascii.Error, TypeError, ValueError):
                errors.append((f"Index {index}", "invalid base64 data"))
                return None
            if not raw:
                errors.append((f"Index {index}",
                               "too small; each segment must be at least 1 byte."))
                return None
            return {"data": base64.b64encode(raw).decode()}
        if not isinstance(item, dict) or not isinstance(item.get("path"), str):
            errors.append((f"Index {index}", "invalid segment (needs a path)"))
            return None
        unknown = set(item) - {"path", "etag", "size_bytes", "range"}
        if unknown:
            errors.append((f"Index {index}", f"extraneous keys {', '.join(sorted(unknown))}"))
            return None
        path = item["path"]
        # Swift takes the path literally (not percent-decoded): "seg_%ff" names that object.
        container, _, obj = path.lstrip("/").partition("/")
        if not container or not obj:
            errors.append((path, "Invalid path"))
            return None
        if itself is not None and (container, obj) == itself:
            errors.append((path, "Manifest may not reference itself"))
            return None
        if authorize is not None:
            try:
                await authorize(container, obj)
            except SwiftError as exc:
                errors.append((path, f"{exc.status} {reason(exc.status)}"))
                return None
        async with sem:
            head = await read_following(core, "HEAD", account, container, obj)
        if head.status == 404:
            errors.append((path, "404 Not Found"))
            return None
        if head.status // 100 != 2:
            errors.append((path, f"{head.status}"))
            return None
        bh = head.backend_headers
        sub_slo = is_slo(bh)
        if sub_slo:
            found = slo_size_and_etag(bh)
            if found is None:
                errors.append((path, "Unreadable SLO manifest"))
                return None
            size, etag = found
        else:
            size = int(head.headers.get("Content-Length", "0"))
            etag = (head.headers.get("ETag") or "").strip('"')
        if item.get("etag") not in (None, "") and str(item["etag"]).strip('"') != etag:
            errors.append((path, "Etag Mismatch"))
        if item.get("size_bytes") not in (None, ""):
            try:
                if int(item["size_bytes"]) != size:
                    errors.append((path, "Size Mismatch"))
            except (TypeError, ValueError):
                errors.append((path, "Invalid size_bytes"))
        if size < MIN_SEGMENT_SIZE:
            errors.append((path, "Too small; each segment must be at least 1 byte."))
        stored = {"name": f"/{container}/{obj}", "bytes": size, "hash": etag,
                  "content_type": head.headers.get("Content-Type", "application/octet-stream"),
                  "last_modified": head.headers.get("Last-Modified", "")}
        if sub_slo:
            stored["sub_slo"] = True
        if item.get("range"):
            rng = conditional.parse_range("bytes=" + str(item["range"]), size) if size else None
            if rng is None:
                errors.append((path, "Invalid range"))
                return None
            stored["range"] = f"{rng[0]}-{rng[1]}"
        return stored

    stored = await asyncio.gather(*(check(i, item) for i, item in enumerate(items)))
    if errors:
        raise ManifestErrors(errors)
    segments = slo_segments(stored)
    etag = slo_etag([_item_etag(s) for s in stored])
    return list(stored), etag, total_length(segments)


def raw_manifest(items: list[dict]) -> list[dict]:
    """The stored manifest in the format a multipart-manifest=put accepts (format=raw)."""
    out = []
    for item in items:
        if "data" in item:
            out.append({"data": item["data"]})
            continue
        entry = {"path": item["name"], "etag": item.get("hash"), "size_bytes": item.get("bytes")}
        if item.get("range"):
            entry["range"] = item["range"]
        out.append(entry)
    return out
