"""Container requests of the versioning API (Swift's object_versioning), around the handler.

* PUT/POST with X-Versions-Enabled: true creates the hidden versions container and records it
  (and the flag) as sysmeta; false suspends versioning (old versions stay). Refused (400) on a
  container using the legacy X-Versions-Location / X-History-Location, and the other way round.
* GET/HEAD answer X-Versions-Enabled, count the versions' bytes in X-Container-Bytes-Used, show
  links as their versions, and ?versions lists every version (JSON only; else 406).
* DELETE refuses (409) while versions remain, and removes the empty versions container.
"""
from __future__ import annotations

import json
from urllib.parse import quote

from objectserver import listings
from proxy.core import Result
from proxy.errors import SwiftError
from proxy.objver import listing, names, writes

LEGACY = ("X-Versions-Location", "X-History-Location")


async def write_headers(ctx, headers: dict) -> dict:
    """Sysmeta to add to a container PUT/POST (creating the versions container if need be)."""
    value = ctx.headers.get(names.CLIENT_ENABLED)
    core = ctx.core
    info = await core.container_info(ctx.account, ctx.container)
    legacy_asked = any(v for k, v in headers.items() if k.lower() in ("x-versions-location",
                                                                      "x-history-location"))
    if value is None:
        if legacy_asked and info.exists and writes.versions_of(info):
            raise SwiftError(400, "Cannot enable legacy versioned writes on a container that "
                                  "uses object versioning.")
        return {}
    legacy = legacy_asked or \
        (info.exists and any(info.get(h) for h in LEGACY))
    if legacy:
        raise SwiftError(400, "Cannot enable object versioning on a container that is already "
                              "using the legacy versioned writes feature.")
    if info.exists and info.get("X-Container-Sync-To"):
        raise SwiftError(400, "Cannot enable object versioning on a container configured as "
                              "source of container syncing.")
    return await enabling_headers(core, ctx.account, ctx.container, names.enabled(value))


async def enabling_headers(core, account: str, container: str, enabled: bool) -> dict:
    """The sysmeta that turns versioning on or off; turning it on makes the versions container."""
    out = {names.SYSMETA_ENABLED: str(enabled)}
    if enabled:
        versions = names.versions_container(container)
        created = await core.container_write("PUT", account, versions, {})
        if created.status // 100 != 2 and created.status != 409:
            raise SwiftError(500, "Error enabling object versioning")
        out[names.SYSMETA_CONTAINER] = quote(versions)
    return out


async def set_versioning(core, account: str, container: str, enabled: bool) -> None:
    """Enable or suspend versioning of an existing container (the S3 API's PutBucketVersioning)."""
    headers = await enabling_headers(core, account, container, enabled)
    result = await core.container_write("POST", account, container, headers)
    if result.status // 100 != 2:
        raise SwiftError(result.status if result.status >= 400 else 503)


def _wants_json(ctx) -> bool:
    fmt = ctx.query.get("format")
    if fmt is not None:
        return fmt.lower() == "json"
    accept = ctx.headers.get("Accept")
    if not accept:
        return True
    for part in accept.split(","):
        media, *params = [p.strip() for p in part.split(";")]
        q = next((p.split("=", 1)[1] for p in params if p.startswith("q=")), "1")
        try:
            if float(q) <= 0:
                continue
        except ValueError:
            continue
        if media.lower() in ("application/json", "application/*", "*/*"):
            return True
    return False


def _render(fmt: str, container: str, rows: list[dict]) -> tuple[int, bytes, str]:
    # the one renderer of Swift's listing formats
    return listings.render(listings.FORMATS.get(fmt, "text/plain"), "container", container, rows)


async def listing_result(ctx, params: dict, result: Result) -> Result:
    """The container GET/HEAD answer as object versioning shows it (unchanged when the container
    was never versioned and no ?versions listing is asked for)."""
    core = ctx.core
    asked = "versions" in ctx.query
    if result.status // 100 != 2:
        return result
    info = await core.container_info(ctx.account, ctx.container)
    versions = writes.versions_of(info)
    if not versions and not asked:
        return result
    if asked and ctx.method == "GET" and not _wants_json(ctx):
        raise SwiftError(406, "Not Acceptable")
    headers = result.headers
    if versions:
        enabled = info.get(names.SYSMETA_ENABLED)
        if enabled is not None:
            headers[names.CLIENT_ENABLED] = enabled
        if "X-Container-Bytes-Used" in headers:
            try:
                used = int(headers["X-Container-Bytes-Used"])
            except ValueError:
                used = 0
            headers["X-Container-Bytes-Used"] = str(used + await writes.versions_bytes(
                core, ctx.account, versions))
    if ctx.method != "GET":
        return result
    page = result  # the handler's page is JSON already: no second backend GET for it
    if params.get("format") != "json":
        page = await core.container_read("GET", ctx.account, ctx.container,
                                         dict(params, format="json"))
    if page.status // 100 != 2:
        return page
    rows = json.loads(page.body or b"[]")
    location = versions or names.versions_container(ctx.container)
    listing.decorate(rows, ctx.container, location, asked)
    if asked:
        query = dict(params)
        if "version_marker" in ctx.query:
            query["version_marker"] = ctx.query["version_marker"]
        try:
            rows = await versions_listing(core, ctx.account, ctx.container, location, query, rows)
        except listing.BadListing as exc:
            raise SwiftError(400, str(exc)) from None
        body = json.dumps(rows).encode()
        status, ctype = 200, "application/json; charset=utf-8"
    else:
        status, body, ctype = _render(params.get("format", "plain"), ctx.container, rows)
    headers["Content-Type"] = ctype
    return Result(status, headers, body if status == 200 else b"")


async def versions_listing(core, account: str, container: str, versions: str, params: dict,
                           primary: list[dict] | None = None) -> list[dict]:
    """A ?versions listing page (prefix, marker, version_marker, delimiter, limit, reverse);
    `primary`: the container's own page, decorated, when the caller has it already.
    Raises listing.BadListing for parameters Swift refuses."""
    vquery = listing.versions_query(params)
    if primary is None:
        query = {k: v for k, v in params.items()
                 if k in ("prefix", "marker", "delimiter", "limit", "reverse")}
        page = await core.container_read("GET", account, container, dict(query, format="json"))
        if page.status // 100 != 2:
            raise SwiftError(page.status if page.status >= 400 else 503)
        primary = listing.decorate(json.loads(page.body or b"[]"), container, versions, True)
    reverse, limit = listing.page_shape(params)
    vinfo = await core.container_info(account, versions)
    rows = None
    if vinfo.status != 404:
        vquery["format"] = "json"
        page = await core.container_read("GET", account, versions, vquery)
        if page.status // 100 == 2:
            rows = json.loads(page.body or b"[]")
        elif page.status != 404:
            raise SwiftError(page.status)
    return listing.merge_versions(primary, rows, account, versions, reverse, limit)


async def before_delete(ctx) -> None:
    """A versioned container goes only once no version is left; its versions container first."""
    await drop_versions_container(ctx.core, ctx.account, ctx.container)


async def drop_versions_container(core, account: str, container: str) -> None:
    """Before a container's DELETE: 409 while versions are left, else its versions container
    goes (Swift deletes it first, as here)."""
    info = await core.container_info(account, container)
    versions = writes.versions_of(info)
    if not versions:
        return
    head = await core.container_read("HEAD", account, versions)
    if head.status // 100 == 2:
        if int(head.headers.get("X-Container-Object-Count", 0) or 0) > 0:
            raise SwiftError(409, "Delete all versions before deleting container.")
    elif head.status != 404:
        raise SwiftError(500, "Error deleting versioned container")
    else:
        return
    gone = await core.container_write("DELETE", account, versions, {})
    if gone.status // 100 != 2 and gone.status != 404:
        raise SwiftError(500, "Error deleting versioned container")
