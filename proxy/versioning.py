"""Object versioning (Swift's legacy versioned_writes): X-Versions-Location / X-History-Location.

Versions of <obj> live in the versions container as "<len(obj) as 3 hex digits><obj>/<timestamp>",
so one object's versions list together in time order.
  * PUT over an existing object first copies the current object to the versions container.
  * DELETE, stack mode (X-Versions-Location): the newest archived version is copied back over
    the object and removed from the archive; with no archive it is a plain delete.
  * DELETE, history mode (X-History-Location): the current object is archived, then deleted.
"""
from __future__ import annotations

import json
from urllib.parse import unquote

from proxy import copy as copy_mod
from proxy.core import Info, SwiftCore
from proxy.errors import SwiftError
from strato.timestamps import Timestamp


def prefix(obj: str) -> str:
    return f"{len(obj.encode('utf-8')):03x}{obj}/"


def version_name(obj: str, timestamp: str) -> str:
    return prefix(obj) + Timestamp(timestamp).internal


def location(info: Info) -> tuple[str | None, str]:
    """(versions container or None, mode 'stack'|'history')."""
    # Clients send the container name percent-encoded (swiftclient does); Swift unquotes it.
    history = info.get("X-History-Location")
    if history:
        return unquote(history), "history"
    versions = info.get("X-Versions-Location")
    if versions:
        return unquote(versions), "stack"
    return None, "stack"


async def archive_current(core: SwiftCore, account: str, container: str, obj: str,
                          versions: str, max_file_size: int, required: bool = True) -> None:
    """Copy the current object (if any, and not a DLO manifest) into the versions container.

    A missing versions container fails a PUT (412) but lets a DELETE go ahead (required=False).
    """
    head = await core.object_read("HEAD", account, container, obj)
    if head.status == 404:
        return
    if head.status // 100 != 2:
        raise SwiftError(head.status if head.status >= 400 else 503)
    if "X-Object-Manifest" in (head.backend_headers or {}):
        return
    vinfo = await core.container_info(account, versions)
    if not vinfo.exists:
        if not required:
            return
        raise SwiftError(412, "Versions container does not exist")
    stamp = (head.backend_headers or {}).get("X-Timestamp") or Timestamp.now().internal
    await copy_mod.copy_object(core, (account, container, obj),
                               (account, versions, version_name(obj, stamp)), {}, max_file_size)


async def restore_newest(core: SwiftCore, account: str, container: str, obj: str,
                         versions: str, max_file_size: int) -> bool:
    """Stack-mode DELETE: put the newest archived version back; False when there is none."""
    marker = ""
    while True:
        listing = await core.container_read("GET", account, versions, {
            "format": "json", "prefix": prefix(obj), "reverse": "on", "marker": marker,
            "limit": "100"})
        if listing.status // 100 != 2:
            return False
        rows = json.loads(listing.body or b"[]")
        if not rows:
            return False
        for row in rows:
            marker = row["name"]
            try:
                await copy_mod.copy_object(core, (account, versions, row["name"]),
                                           (account, container, obj), {}, max_file_size)
            except SwiftError as exc:
                if exc.status == 404:
                    continue  # removed meanwhile: try the next older one
                raise
            await core.object_write("DELETE", account, versions, row["name"], {})
            return True
