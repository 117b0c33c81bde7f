"""Object versioning (Swift's legacy versioned_writes): X-Versions-Location / X-History-Location.

Versions of <obj> live in the versions container as "<len(obj) as 3 hex digits><obj>/<timestamp>",
so one object's versions list together in time order. Archiving copies the object *as stored*
(a symlink stays a link, a DLO/SLO manifest stays a manifest, sysmeta included), as Swift's
middleware does by sitting below slo/dlo and reading with ?symlink=get.
  * PUT or COPY over an existing object first archives the current object.
  * DELETE, stack mode (X-Versions-Location): the newest archived version is copied back over
    the object and the DELETE goes to that archive entry instead; a delete marker on top of the
    archive (left by history mode) is honoured as Swift's handle_obj_versions_delete_pop does.
  * DELETE, history mode (X-History-Location): the current object is archived, a zero-byte
    delete marker is written to the archive, then the object is deleted.
A failed archive step answers 412 (missing container or no access) or 503, never loses data.
"""
from __future__ import annotations

import json
from urllib.parse import unquote

from proxy.backend import empty_body
from proxy.core import Info, Result, SwiftCore
from proxy.errors import SwiftError
from strato.timestamps import Timestamp

DELETE_MARKER_CONTENT_TYPE = "application/x-deleted;swift_versions_deleted=1"
LISTING_PAGE = 100
# Node answer headers that describe one stored copy, not the object: never carried to a copy.
NOT_COPIED = ("x-timestamp", "content-length", "last-modified", "date", "server", "connection",
              "transfer-encoding", "keep-alive", "accept-ranges", "x-backend-timestamp",
              "x-backend-data-timestamp", "x-backend-durable-timestamp", "x-trans-id",
              "x-openstack-request-id", "content-range")


def prefix(obj: str) -> str:
    return f"{len(obj.encode('utf-8')):03x}{obj}/"


def version_name(obj: str, timestamp: str) -> str:
    return prefix(obj) + Timestamp(timestamp).internal


def location(info: Info) -> tuple[str | None, str]:
    """(versions container or None, mode 'stack'|'history')."""
    # Clients send the container name percent-encoded (swiftclient does); Swift unquotes it.
    history = info.get("X-History-Location")
    if history:
        return unquote(history).split("/")[0], "history"
    versions = info.get("X-Versions-Location")
    if versions:
        return unquote(versions).split("/")[0], "stack"
    return None, "stack"


def exclusive_modes(headers: dict) -> None:
    """Swift keeps one location and one mode: a container write naming one header (set or
    cleared) clears the other, so switching from history to stack mode takes effect."""
    names = {k.lower() for k in headers}
    if "x-versions-location" in names and "x-history-location" not in names:
        headers["X-History-Location"] = ""
    elif "x-history-location" in names and "x-versions-location" not in names:
        headers["X-Versions-Location"] = ""


def _failed(status: int) -> SwiftError:
    """Swift's _check_response_error: a client error while versioning is 412, else 503."""
    return SwiftError(412 if 400 <= status < 500 else 503)


async def raw_copy(core: SwiftCore, src: tuple[str, str, str], dst: tuple[str, str, str],
                   max_file_size: int) -> bool:
    """Copy an object exactly as stored (all stored headers but its timestamp); False on 404."""
    source = await _open(core, src)
    if source is None:
        return False
    await _store(core, source, dst, max_file_size)
    return True


async def _open(core: SwiftCore, src: tuple[str, str, str]) -> Result | None:
    """A GET of src as stored; None when it is missing."""
    source = await core.object_read("GET", *src)
    if source.status == 404:
        source.close()
        return None
    if source.status // 100 != 2:
        source.close()
        raise _failed(source.status)
    return source


async def _store(core: SwiftCore, source: Result, dst: tuple[str, str, str],
                 max_file_size: int) -> None:
    """PUT an opened source at dst with its stored headers (but its timestamp); closes it."""
    bh = source.backend_headers or {}
    length_text = bh.get("Content-Length")
    if not (length_text and length_text.isdigit()) or int(length_text) > max_file_size:
        source.close()
        raise SwiftError(413, "Your request is too large.")
    headers = {k: v for k, v in bh.items() if k.lower() not in NOT_COPIED}
    try:
        await core.object_put(*dst, headers, source.iter_body(), int(length_text))
    except SwiftError as exc:
        raise _failed(exc.status) from None
    finally:
        source.close()


async def archive_current(core: SwiftCore, account: str, container: str, obj: str,
                          versions: str, max_file_size: int) -> None:
    """Copy the current object (if any) into the versions container, named by its timestamp.
    One GET: the read that copies it also names the version (no HEAD first)."""
    source = await _open(core, (account, container, obj))
    if source is None:
        return
    stamp = (source.backend_headers or {}).get("X-Timestamp") or Timestamp.now().internal
    await _store(core, source, (account, versions, version_name(obj, stamp)), max_file_size)


async def _newest_first(core: SwiftCore, account: str, versions: str, obj: str):
    """The archive entries of obj, newest first (a missing versions container lists nothing)."""
    marker = ""
    while True:
        listing = await core.container_read("GET", account, versions, {
            "format": "json", "prefix": prefix(obj), "reverse": "on", "marker": marker,
            "limit": str(LISTING_PAGE)})
        if listing.status == 404:
            return
        if listing.status // 100 != 2:
            raise _failed(listing.status)
        rows = json.loads(listing.body or b"[]")
        if not rows:
            return
        for row in rows:
            yield row
        marker = rows[-1]["name"]


async def delete(core: SwiftCore, account: str, container: str, obj: str, versions: str,
                 mode: str, max_file_size: int, node_headers: dict) -> Result:
    """An object DELETE in a versioned container; the Result of the DELETE actually sent."""
    if mode == "history":
        await archive_current(core, account, container, obj, versions, max_file_size)
        marker = version_name(obj, Timestamp.now().internal)

        try:
            await core.object_put(account, versions, marker,
                                  {"Content-Type": DELETE_MARKER_CONTENT_TYPE}, empty_body(), 0)
        except SwiftError as exc:
            raise _failed(exc.status) from None
        return await core.object_write("DELETE", account, container, obj, node_headers)
    target = await _pop_target(core, account, container, obj, versions, max_file_size)
    if target is None:
        return await core.object_write("DELETE", account, container, obj, node_headers)
    # The DELETE now removes an archive entry: X-If-Delete-At was about the current object.
    headers = {k: v for k, v in node_headers.items() if k.lower() != "x-if-delete-at"}
    return await core.object_write("DELETE", account, versions, target, headers)


async def _pop_target(core: SwiftCore, account: str, container: str, obj: str, versions: str,
                      max_file_size: int) -> str | None:
    """Stack mode: restore what the DELETE should bring back; the archive entry the DELETE must
    remove instead of the object (None: delete the object itself)."""
    rows = _newest_first(core, account, versions, obj)
    async for row in rows:
        if row.get("content_type") == DELETE_MARKER_CONTENT_TYPE:
            head = await core.object_read("HEAD", account, container, obj)
            head.close()
            if head.status != 404:
                if head.status // 100 != 2:
                    raise _failed(head.status)
                return None  # the object was written after the marker: delete it
            # The marker is current: bring back the newest data version below it, if any.
            async for older in rows:
                if older.get("content_type") == DELETE_MARKER_CONTENT_TYPE:
                    break
                if await raw_copy(core, (account, versions, older["name"]),
                                  (account, container, obj), max_file_size):
                    gone = await core.object_write("DELETE", account, versions, older["name"], {})
                    if gone.status // 100 != 2 and gone.status != 404:
                        raise _failed(gone.status)
                    break
            return row["name"]
        if await raw_copy(core, (account, versions, row["name"]), (account, container, obj),
                          max_file_size):
            return row["name"]
        # removed meanwhile: try the next older one
    return None

