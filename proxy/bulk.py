"""Bulk delete (POST ?bulk-delete) and the SLO delete that reuses it, on top of SwiftCore.

The body lists "/container/object" or "/container" paths (percent-encoded), one per line; objects
are deleted before containers. The answer is Swift's: HTTP 200 with a summary in the format the
Accept header asks for (text/plain default, application/json, application/xml), whose
"Response Status" says how it went.
"""
from __future__ import annotations

import asyncio
import json
from urllib.parse import unquote
from xml.sax.saxutils import escape

from proxy.core import SwiftCore
from proxy.errors import SwiftError, reason

MAX_DELETES = 10000
MAX_PATH_LENGTH = 1024 + 256 + 2
CONCURRENCY = 8


def parse_paths(body: bytes) -> list[tuple[str, str | None]]:
    paths = []
    for line in body.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if not line:
            continue
        if len(line) > MAX_PATH_LENGTH * 3:
            raise SwiftError(400, "Invalid File Name")
        container, _, obj = unquote(line).lstrip("/").partition("/")
        paths.append((container, obj or None))
        if len(paths) > MAX_DELETES:
            raise SwiftError(413, f"Max delete failures exceeded / too many deletes (max {MAX_DELETES})")
    return paths


def render(accept: str | None, deleted: int, not_found: int, errors: list[tuple[str, str]],
           status: int = 200) -> tuple[bytes, str]:
    """Swift's bulk-delete summary: (body, content type)."""
    if errors and status == 200:
        status = 400
    status_text = f"{status} {reason(status)}"
    accept = (accept or "").lower()
    if "json" in accept:
        body = json.dumps({"Number Deleted": deleted, "Number Not Found": not_found,
                           "Response Body": "", "Response Status": status_text,
                           "Errors": [list(e) for e in errors]})
        return body.encode(), "application/json"
    if "xml" in accept:
        errs = "".join(f"<object><name>{escape(n)}</name><status>{escape(s)}</status></object>"
                       for n, s in errors)
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<delete>'
                f"<number_deleted>{deleted}</number_deleted>"
                f"<number_not_found>{not_found}</number_not_found>"
                f"<response_body></response_body><response_status>{status_text}</response_status>"
                f"<errors>{errs}</errors></delete>")
        return body.encode(), "application/xml"
    lines = [f"Number Deleted: {deleted}", f"Number Not Found: {not_found}", "Response Body: ",
             f"Response Status: {status_text}", "Errors:"]
    lines += [f"{n}, {s}" for n, s in errors]
    return ("\n".join(lines) + "\n").encode(), "text/plain"


async def delete_paths(core: SwiftCore, account: str, paths: list[tuple[str, str | None]],
                       can_delete=None) -> tuple[int, int, list[tuple[str, str]]]:
    """Delete objects (concurrently) then containers; (deleted, not found, [(path, status)])."""
    deleted = not_found = 0
    errors: list[tuple[str, str]] = []
    sem = asyncio.Semaphore(CONCURRENCY)

    async def one(container: str, obj: str | None):
        nonlocal deleted, not_found
        path = f"/{container}" + (f"/{obj}" if obj else "")
        try:
            if can_delete is not None:
                await can_delete(container, obj)
            async with sem:
                if obj:
                    result = await core.object_write("DELETE", account, container, obj, {})
                else:
                    result = await core.container_write("DELETE", account, container, {})
            status = result.status
        except SwiftError as exc:
            status = exc.status
        if status // 100 == 2:
            deleted += 1
        elif status == 404:
            not_found += 1
        else:
            errors.append((path, f"{status} {reason(status)}"))

    await asyncio.gather(*(one(c, o) for c, o in paths if o))
    for container, obj in paths:
        if not obj:
            await one(container, None)
    return deleted, not_found, errors
