"""Names in Swift's reserved namespace and version ids (pure, no I/O).

A versioned container <c> keeps its versions in the hidden container "\\x00versions\\x00<c>"; the
version of <obj> written at timestamp T is "\\x00<obj>\\x00<~T>", where ~T counts down
(9999999999.99999 - T), so one object's versions list together, newest first. A client can never
name either: the proxy answers any path holding a NUL with 412.
"""
from __future__ import annotations

from urllib.parse import quote, unquote

from strato.timestamps import Timestamp
from strato.truth import is_true

RESERVED = "\x00"
DELETE_MARKER = "application/x-deleted;swift_versions_deleted=1"
SYSMETA_ENABLED = "X-Container-Sysmeta-Versions-Enabled"
SYSMETA_CONTAINER = "X-Container-Sysmeta-Versions-Container"
SYSMETA_LINK = "X-Object-Sysmeta-Versions-Symlink"
CLIENT_ENABLED = "X-Versions-Enabled"
_MAX_TICKS = 10 ** (10 + 5) - 1  # 9999999999.99999 in ticks, as Swift's Timestamp inversion


class InvalidVersion(ValueError):
    """A version id that is neither 'null' nor a timestamp."""


def reserved(*parts: str) -> str:
    """Swift's get_reserved_name: NUL before each part."""
    return RESERVED + RESERVED.join(parts)


def split_reserved(name: str) -> list[str]:
    if not name.startswith(RESERVED):
        raise ValueError(f"not a reserved name: {name!r}")
    return name[1:].split(RESERVED)


def versions_container(container: str) -> str:
    return reserved("versions", container)


def primary_of(versions: str) -> str | None:
    """The user container a versions container belongs to (None: not a versions container)."""
    try:
        kind, *rest = split_reserved(versions)
    except ValueError:
        return None
    return rest[0] if kind == "versions" and len(rest) == 1 else None


def invert(timestamp: Timestamp) -> Timestamp:
    if timestamp.offset:
        raise ValueError("cannot invert a timestamp with an offset")
    return Timestamp.from_ticks(_MAX_TICKS - timestamp.ticks)


def _no_offset(value) -> Timestamp:
    stamp = Timestamp(value)
    return Timestamp.from_ticks(stamp.ticks) if stamp.offset else stamp


def version_id(timestamp) -> str:
    """A version id: the write's timestamp without its offset (normal form)."""
    return _no_offset(timestamp).normal


def object_prefix(obj: str) -> str:
    """Listing prefix (or marker) of every version of `obj`."""
    return reserved(obj, "")


def version_name(obj: str, vid: str) -> str:
    return reserved(obj, invert(_no_offset(vid)).internal)


def parse_version_name(name: str) -> tuple[str, str | None]:
    """(object name, version id) of a version object's name; (name, None) when it is not one."""
    try:
        obj, inverted = split_reserved(name)
        return obj, invert(Timestamp(inverted)).normal
    except ValueError:
        return name, None


def check_version(value: str, allow_null: bool = True) -> str:
    """A ?version-id value: 'null' (objects written before versioning) or a timestamp."""
    if value == "null" and allow_null:
        return value
    try:
        Timestamp(value)
    except (TypeError, ValueError):
        raise InvalidVersion(value) from None
    return value


def link_target(versions: str, vname: str) -> str:
    """The X-Symlink-Target value of a version link (percent-encoded, as clients send it)."""
    return quote(f"{versions}/{vname}")


def parse_link_target(value: str) -> tuple[str, str]:
    container, _, obj = unquote(value).partition("/")
    return container, obj


def enabled(value) -> bool:
    return is_true(value)


def is_version_link(backend_headers) -> bool:
    """Whether an object's (node) headers make it a version link, not data of its own."""
    return enabled((backend_headers or {}).get(SYSMETA_LINK))
