"""Server-side copy (COPY, X-Copy-From): stream the source's body into a new PUT.

Reusable by S3 (CopyObject): works on SwiftCore only. The source is read from one replica and
streamed to the destination's replicas without buffering it whole.
"""
from __future__ import annotations

from multidict import CIMultiDict

from proxy import headers as hdrs
from proxy import limits
from proxy.core import Result, SwiftCore
from proxy.errors import SwiftError

# Headers of the source that a copy carries over unless X-Fresh-Metadata: true. X-Delete-At too:
# Swift's copy (its _copy_headers) gives the copy the source's expiry unless the request names
# its own (rclone's server-side copy and move of an expiring object count on it).
CARRIED = ("content-type", "content-encoding", "content-disposition", "content-language",
           "cache-control", "expires", "x-object-manifest", "x-symlink-target",
           "x-symlink-target-account", "x-symlink-target-etag", "x-symlink-target-bytes",
           "x-delete-at", "x-robots-tag")


def parse_source(value: str) -> tuple[str, str]:
    """'/container/object' or 'container/object' (percent-encoded) -> (container, object)."""
    from urllib.parse import unquote

    text = unquote(value)
    if text.startswith("/"):
        text = text[1:]
    container, _, obj = text.partition("/")
    if not container or not obj:
        raise SwiftError(412, "X-Copy-From header must be of the form <container name>/<object name>")
    return container, obj


async def copy_object(core: SwiftCore, src: tuple[str, str, str], dst: tuple[str, str, str],
                      request_headers, max_file_size: int, fresh: bool = False,
                      read_headers: dict | None = None, source: Result | None = None,
                      extra: dict | None = None) -> Result:
    """Copy src (account, container, obj) to dst, overlaying the request's metadata.

    `source` is an already opened read of src (a large object assembled, a symlink followed, a
    Range applied: a 206 source copies just that part, as Swift's copy does); without it src is
    read as stored. `extra` headers are set on the copy as they are.
    """
    if source is None:
        source = await core.object_read("GET", *src, headers=read_headers or {})
    if source.status // 100 != 2:
        source.close()
        raise SwiftError(source.status if source.status != 304 else 412)
    length_text = source.headers.get("Content-Length")
    length = int(length_text) if length_text and length_text.isdigit() else None
    if length is not None and length > max_file_size:
        source.close()
        raise SwiftError(413, "Your request is too large.")
    try:
        headers = sink_headers(source.headers, request_headers, fresh, extra)  # may be a 400
        result = await core.object_put(*dst, headers, source.iter_body(), length)
    finally:
        source.close()
    return Result(result.status, copied_from(result.headers, src, dst, source.headers))


def sink_headers(source_headers, request_headers, fresh: bool = False,
                 extra: dict | None = None) -> dict[str, str]:
    """What a copy stores: the source's carried headers and user metadata (none when fresh),
    then `extra`, then the request's own object headers on top; the request's X-Delete-At or
    X-Delete-After is checked and resolved as a PUT's is (SwiftError 400 when bad)."""
    headers: dict[str, str] = {}
    if not fresh:
        for name, value in source_headers.items():
            lname = name.lower()
            if lname in CARRIED or lname.startswith("x-object-meta-"):
                headers[name] = value
    overlay = hdrs.for_object_write(request_headers)
    overlay.pop("ETag", None)
    overlay.pop("etag", None)
    lower = {k.lower() for k in overlay}
    headers = {k: v for k, v in headers.items() if k.lower() not in lower}
    if extra:
        headers.update(extra)
    headers.update({k: v for k, v in overlay.items()
                    if v != "" or not k.lower().startswith("x-object-meta-")})
    delete_at = limits.delete_at_header(request_headers)
    if delete_at is not None:
        for name in [k for k in headers if k.lower() == "x-delete-at"]:
            del headers[name]
        headers["X-Delete-At"] = delete_at
    _repoint_link(headers, request_headers)
    return headers


def _repoint_link(headers: dict, request_headers) -> None:
    """A link copied as itself (?symlink=get) takes the request's X-Symlink-Target-Account over
    the source's, as Swift's copy sends the request's headers on top of the source's."""
    account = request_headers.get("X-Symlink-Target-Account")
    if account is None or not any(k.lower() == "x-symlink-target" for k in headers):
        return
    for name in [k for k in headers if k.lower() == "x-symlink-target-account"]:
        del headers[name]
    headers["X-Symlink-Target-Account"] = account


def copied_from(put_headers, src: tuple[str, str, str], dst: tuple[str, str, str],
                source_headers) -> CIMultiDict:
    """A copy's answer headers: the PUT's, plus where the data came from."""
    out = CIMultiDict(put_headers)
    out["X-Copied-From"] = f"{_q(src[1])}/{_q(src[2])}"
    if src[0] != dst[0]:
        out["X-Copied-From-Account"] = _q(src[0])
    if "Last-Modified" in source_headers:
        out["X-Copied-From-Last-Modified"] = source_headers["Last-Modified"]
    return out


def _q(text: str) -> str:
    from urllib.parse import quote
    return quote(text, safe="/")
