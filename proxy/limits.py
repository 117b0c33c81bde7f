"""Swift API v1 limits and the pure checks that enforce them (names, metadata, path splitting).

The numbers are Swift's defaults (swift/common/constraints.py) and are published by /info; every
check raises SwiftError with the status and short body Swift uses for the same mistake.
"""
from __future__ import annotations

import time
from urllib.parse import unquote_to_bytes

from proxy.errors import SwiftError

MAX_META_NAME_LENGTH = 128
MAX_META_VALUE_LENGTH = 256
MAX_META_COUNT = 90
MAX_META_OVERALL_SIZE = 4096
MAX_HEADER_SIZE = 8192
MAX_HEADER_COUNT = 100
MAX_OBJECT_NAME_LENGTH = 1024
MAX_CONTAINER_NAME_LENGTH = 256
MAX_ACCOUNT_NAME_LENGTH = 256
CONTAINER_LISTING_LIMIT = 10000
ACCOUNT_LISTING_LIMIT = 10000
EXTRA_HEADER_COUNT = 0
VALID_API_VERSIONS = ("v1", "v1.0")
RESELLER_PREFIX = "AUTH_"
MAX_DELETE_AT = 9999999999  # Swift normalises later times to this


def split_path(raw_path: str) -> tuple[str, str, str | None, str | None]:
    """'/v1/a/c/o/with/slashes' (still percent-encoded) -> ('v1', 'a', 'c', 'o/with/slashes').

    Segments are decoded as UTF-8; invalid UTF-8 or NUL is Swift's 412. The rest is Swift's
    split_path(path, 1, 4, True) as its proxy uses it: no leading slash, an empty version or an
    empty segment before the last is a 404 ('/v1//c', '/v1/a//o'); a path with a version but no
    account ('/info asdf', '/v1/') has no controller, which Swift answers 412 Bad URL. A trailing
    slash after the account or container names nothing more.
    """
    raw = raw_path.split("?", 1)[0]
    try:
        path = unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise SwiftError(412, "Invalid UTF8 or contains NULL") from None
    if "\x00" in path:
        raise SwiftError(412, "Invalid UTF8 or contains NULL")
    parts = path.split("/", 4)
    if parts[0] or len(parts) < 2 or not parts[1] or not all(parts[1:-1]):
        raise SwiftError(404, "Not Found")
    version = parts[1]
    account = parts[2] if len(parts) > 2 else ""
    if not account:
        raise SwiftError(412, "Bad URL")
    container = parts[3] or None if len(parts) > 3 else None
    obj = parts[4] or None if len(parts) > 4 else None
    return version, account, container, obj


def check_names(account: str, container: str | None, obj: str | None) -> None:
    if len(account.encode()) > MAX_ACCOUNT_NAME_LENGTH:
        raise SwiftError(400, f"Account name length of {len(account.encode())} longer than "
                              f"{MAX_ACCOUNT_NAME_LENGTH}")
    if container is not None and len(container.encode()) > MAX_CONTAINER_NAME_LENGTH:
        raise SwiftError(400, f"Container name length of {len(container.encode())} longer than "
                              f"{MAX_CONTAINER_NAME_LENGTH}")
    if obj is not None and len(obj.encode()) > MAX_OBJECT_NAME_LENGTH:
        raise SwiftError(400, f"Object name length of {len(obj.encode())} longer than "
                              f"{MAX_OBJECT_NAME_LENGTH}")


def check_metadata(headers, target: str) -> None:
    """Validate X-<target>-Meta-* headers (target: account, container, object) as Swift does."""
    prefix = f"x-{target}-meta-"
    count = 0
    size = 0
    for name, value in headers.items():
        lname = name.lower()
        if not lname.startswith(prefix):
            continue
        key = lname[len(prefix):]
        if target != "object" and key.startswith(("temp-url-key", "quota-")):
            # Swift counts these too; they are ordinary (validated) metadata.
            pass
        if not key:
            raise SwiftError(400, "Metadata name cannot be empty")
        count += 1
        size += len(key.encode()) + len(value.encode("utf-8", "surrogateescape"))
        if len(key.encode()) > MAX_META_NAME_LENGTH:
            raise SwiftError(400, f"Metadata name too long: {name}")
        if len(value.encode("utf-8", "surrogateescape")) > MAX_META_VALUE_LENGTH:
            raise SwiftError(400, f"Metadata value longer than {MAX_META_VALUE_LENGTH}: {name}")
        if count > MAX_META_COUNT:
            raise SwiftError(400, f"Too many metadata items; max {MAX_META_COUNT}")
        if size > MAX_META_OVERALL_SIZE:
            raise SwiftError(400, f"Total metadata too large; max {MAX_META_OVERALL_SIZE}")


def check_content_length(headers, max_file_size: int) -> int | None:
    """Content-Length of an object PUT (None when chunked); 411 when neither, 413 when too large.

    Transfer-Encoding as Swift's swob reads it: more than one coding (even ending in chunked, which
    the HTTP parser framed) is 501, a single coding other than chunked is 400.
    """
    te_value = headers.get("Transfer-Encoding")
    te = ""
    if te_value is not None:
        codings = te_value.split(",")
        if len(codings) > 1:
            raise SwiftError(501, "Unsupported Transfer-Coding header value specified in "
                                  "Transfer-Encoding header")
        te = codings[0].strip().lower()
        if te != "chunked":
            raise SwiftError(400, "Invalid Transfer-Encoding header value")
    cl = headers.get("Content-Length")
    if cl is None:
        if te != "chunked":
            raise SwiftError(411, "Missing Content-Length header.")
        return None
    if te == "chunked":
        raise SwiftError(400, "Content-Length and Transfer-Encoding both given")
    try:
        length = int(cl)
        if length < 0:
            raise ValueError
    except ValueError:
        raise SwiftError(400, "Invalid Content-Length header value") from None
    if length > max_file_size:
        raise SwiftError(413, "Your request is too large.")
    return length


def delete_at_header(headers, now: float | None = None) -> str | None:
    """Resolve X-Delete-After / X-Delete-At to an absolute X-Delete-At (str) or None; 400 on bad."""
    now = time.time() if now is None else now
    after = headers.get("X-Delete-After")
    at = headers.get("X-Delete-At")
    if after is not None:
        try:
            seconds = int(after)
        except ValueError:
            raise SwiftError(400, "Non-integer X-Delete-After") from None
        # Swift truncates now + seconds to whole seconds (normalize_delete_at_timestamp), so an
        # object may expire up to a second early; clients (and Swift's tests) count on that.
        when = min(max(int(now + seconds), 0), MAX_DELETE_AT)
        if when <= now:
            raise SwiftError(400, "X-Delete-After in past")
        return str(when)
    if at is not None:
        try:
            when = int(at)
        except ValueError:
            raise SwiftError(400, "Non-integer X-Delete-At") from None
        if when <= now:
            raise SwiftError(400, "X-Delete-At in past")
        return str(min(when, MAX_DELETE_AT))
    return None


def listing_params(query, limit_max: int) -> dict[str, str]:
    """Validate listing parameters; returns the ones to forward. 412 on a bad limit or delimiter."""
    params = {}
    for key in ("prefix", "delimiter", "marker", "end_marker", "limit", "reverse", "format",
                "path", "states", "includes"):
        if key in query:
            params[key] = query[key]
    if "limit" in params:
        # Swift ignores a limit that is not a plain non-negative integer ("5000.0", "-1").
        if not params["limit"].isdigit():
            params.pop("limit")
        elif int(params["limit"]) > limit_max:
            raise SwiftError(412, f"Maximum limit is {limit_max}")
    fmt = params.get("format")
    if fmt is not None and fmt.lower() not in ("json", "xml", "plain", "text"):
        params.pop("format")
    return params


def listing_format(query, accept: str | None) -> str:
    """json, xml or plain, from ?format= first, then the Accept header (Swift's precedence)."""
    fmt = (query.get("format") or "").lower()
    if fmt in ("json", "xml", "plain"):
        return fmt
    if fmt == "text":
        return "plain"
    accept = (accept or "").lower()
    for part in accept.split(","):
        media = part.split(";")[0].strip()
        if media == "application/json":
            return "json"
        if media in ("application/xml", "text/xml"):
            return "xml"
        if media == "text/plain":
            return "plain"
    return "plain"


def check_if_delete_at(headers) -> str | None:
    value = headers.get("X-If-Delete-At")
    if value is None:
        return None
    if not value.isdigit():
        raise SwiftError(400, "Bad X-If-Delete-At header value")
    return value


def check_combined_metadata(existing: dict[str, str], headers, target: str) -> None:
    """Count and size limits over the metadata already stored plus this POST's changes."""
    prefix = f"x-{target}-meta-"
    merged = {k.lower(): v for k, v in existing.items()}
    for name, value in headers.items():
        lname = name.lower()
        if lname.startswith(prefix):
            merged[lname[len(prefix):]] = value
        elif lname.startswith(f"x-remove-{target}-meta-"):
            merged[lname[len(f"x-remove-{target}-meta-"):]] = ""
    live = {k: v for k, v in merged.items() if v != ""}
    if len(live) > MAX_META_COUNT:
        raise SwiftError(400, f"Too many metadata items; max {MAX_META_COUNT}")
    size = sum(len(k.encode()) + len(v.encode("utf-8", "surrogateescape")) for k, v in live.items())
    if size > MAX_META_OVERALL_SIZE:
        raise SwiftError(400, f"Total metadata too large; max {MAX_META_OVERALL_SIZE}")
