"""Object requests: GET/HEAD (ranges, conditionals), PUT (streamed, copy), COPY, POST, DELETE."""
from __future__ import annotations

import asyncio
import json

from aiohttp import web
from multidict import CIMultiDict

from native import checksum
from proxy import account_acl, bulk, etag_quoter
from proxy import copy as copy_mod
from proxy import large
from proxy import headers as hdrs
from proxy import limits, symlink, tempurl, versioning
from proxy.context import Ctx
from proxy.core import Result
from proxy.errors import SwiftError, reason
from proxy.objver import objects as objver
from proxy.handlers.common import as_buffered, buffered_parts, created, respond, stream
from strato.truth import is_true


async def _authorize(ctx: Ctx, write: bool) -> None:
    acl = None
    if not ctx.owner:
        info = await ctx.core.container_info(ctx.account, ctx.container)
        acl = info.get("X-Container-Write" if write else "X-Container-Read")
    ctx.authorize(acl)


async def handle(ctx: Ctx, before_send=None) -> web.StreamResponse:
    method = ctx.method
    ctx.request["before_send"] = before_send
    versioned = await objver.object_request(ctx, handle)  # ?version-id, versioned containers
    if versioned is not None:
        return versioned
    if method in ("GET", "HEAD"):
        await _authorize(ctx, write=False)
        ctx.request["quote_etag"] = await etag_quoter.wanted(ctx.core, ctx.account, ctx.container)
        return await get(ctx)
    if method == "PUT":
        await _authorize(ctx, write=True)
        return await put(ctx)
    if method == "COPY":
        return await copy_verb(ctx)
    if method == "POST":
        await _authorize(ctx, write=True)
        return await post(ctx)
    if method == "DELETE":
        await _authorize(ctx, write=True)
        if ctx.query.get("multipart-manifest") == "delete":
            return await _delete_slo(ctx)
        return await delete(ctx)
    raise SwiftError(405, "Method Not Allowed")


HEARTBEAT_SECONDS = 10.0
# The bodies Swift's swob gives these statuses, as heartbeat answers quote them.
HEARTBEAT_BODIES = {
    400: "Bad Request\nThe server could not comply with the request since it is either "
         "malformed or otherwise incorrect.",
    422: "Unprocessable Entity\nUnable to process the contained instructions"}
CONDITIONAL = ("range", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since")


async def get(ctx: Ctx) -> web.StreamResponse:
    """GET/HEAD: follows symlinks (at most symlink.MAX_HOPS), assembles large objects."""
    account, container, obj = ctx.account, ctx.container, ctx.obj
    follow = ctx.query.get("symlink") != "get"
    manifest_get = ctx.query.get("multipart-manifest") == "get"
    location, static_etag = None, None
    for _hop in range(symlink.MAX_HOPS + 1):
        result = await _read(ctx, account, container, obj, manifest_get, follow,
                             static_etag, location)
        bh = result.backend_headers or {}
        if not (follow and result.status // 100 == 2 and symlink.is_link(bh)):
            break
        result.close()
        # a version link names its version by the ETag stored, not as assembled
        static_etag = None if objver.is_version_link(bh) else bh.get(symlink.TARGET_ETAG)
        account, container, obj = symlink.target_of(bh, account)
        location = symlink.location(account, container, obj)
        try:
            await _authorize_target(ctx, account, container, obj)
        except SwiftError as exc:  # a forbidden target still says where the link points
            exc.headers["Content-Location"] = location
            raise
    else:
        raise SwiftError(409, "Too many levels of symbolic links, maximum allowed is "
                              f"{symlink.MAX_HOPS}")
    if location:
        result.headers["Content-Location"] = location
    if result.status // 100 == 2 or result.status in (304, 412, 416):
        result.headers["Accept-Ranges"] = "bytes"
    if manifest_get and result.status == 200 and large.is_slo(result.backend_headers or {}):
        return await _manifest(ctx, result)
    if ctx.tempurl and result.status // 100 == 2:
        _tempurl_disposition(ctx, result.headers)
    if result.body_iter is not None:
        return await stream(ctx.request, result)
    if ctx.method == "HEAD" or result.stream is None:
        return respond(result, head=(ctx.method == "HEAD" or result.status == 304))
    return await stream(ctx.request, result)


async def _authorize_target(ctx: Ctx, account: str, container: str, obj: str) -> None:
    """Following a link needs read access to its target, as a direct GET would."""
    if ctx.identity is not None and ctx.identity.owns(account) and not ctx.tempurl:
        return
    if ctx.tempurl:
        return  # the signature covered the object; segment containers were checked above
    info = await ctx.core.container_info(account, container)
    await account_acl.authorize_in(ctx, account, container, obj, "GET",
                                   info.get("X-Container-Read"))


async def _read(ctx: Ctx, account: str, container: str, obj: str, manifest_get: bool,
                follow: bool, static_etag: str | None = None, location: str | None = None):
    """One object read as a Result: large objects assembled, links returned for the caller.

    `static_etag`: the object was reached through a static link with that target ETag; it is
    checked against the object as stored (a manifest's own ETag) before conditionals apply."""
    core = ctx.core
    if static_etag or (not manifest_get and any(h in ctx.headers for h in CONDITIONAL)):
        # The node would apply Range/conditionals to a manifest's or link's own bytes: look first.
        head = await core.object_read("HEAD", account, container, obj)
        bh = head.backend_headers or {}
        if head.status // 100 == 2:
            if static_etag:
                symlink.check_static_etag(bh, static_etag, location, follow)
            if follow and symlink.is_link(bh):
                return head
            if not manifest_get and (large.is_slo(bh) or "X-Object-Manifest" in bh):
                return await _large(ctx, account, container, obj, head,
                                    part_number=_part_number(ctx, bh))
    result = await core.object_read(ctx.method, account, container, obj,
                                    headers=hdrs.for_read(ctx.headers))
    bh = result.backend_headers or {}
    if result.status == 200 and not manifest_get and not (follow and symlink.is_link(bh)) \
            and (large.is_slo(bh) or "X-Object-Manifest" in bh):
        return await _large(ctx, account, container, obj, result,
                            part_number=_part_number(ctx, bh))
    return result


def _part_number(ctx: Ctx, backend_headers) -> int | None:
    """?part-number=N selects one entry of an SLO (GET/HEAD only; copies ignore it)."""
    if not large.is_slo(backend_headers):
        return None
    return large.parse_part_number(ctx.query.get("part-number"))


def _tempurl_disposition(ctx: Ctx, headers) -> None:
    """TempURL answers: a download disposition, and no private metadata (Swift's defaults)."""
    for name in [k for k in headers if k.lower().startswith("x-object-meta-")
                 and not k.lower().startswith("x-object-meta-public-")]:
        headers.popall(name, None)
    if "filename" in ctx.query or "inline" in ctx.query or "Content-Disposition" not in headers:
        headers["Content-Disposition"] = tempurl.disposition(ctx.query, ctx.obj)


async def _large(ctx: Ctx, account: str, container: str, obj: str, manifest,
                 method: str | None = None, headers=None, part_number: int | None = None):
    bh = manifest.backend_headers
    method = method or ctx.method
    headers = ctx.headers if headers is None else headers

    async def authorize(segment_container: str) -> None:
        # Segments are read with the requester's rights, as Swift's DLO/SLO middlewares do.
        if ctx.tempurl and ctx.identity.user == ".tempurl-container" \
                and segment_container != container:
            raise SwiftError(401, "Unauthorized")
        try:
            await _authorize_target(ctx, account, segment_container, "segment")
        except SwiftError as exc:
            # Swift's SLO: the manifest was readable, a segment is not -> 409 (DLO keeps 403).
            if exc.status in (401, 403) and large.is_slo(bh):
                raise SwiftError(409, "Conflict") from None
            raise

    if large.is_slo(bh):
        return await large.read_slo(ctx.core, account, container, obj, manifest, headers,
                                    method, authorize, part_number)
    manifest.close()
    return await large.read_dlo(ctx.core, account, manifest, headers, method, authorize)


async def _manifest(ctx: Ctx, result) -> web.StreamResponse:
    """multipart-manifest=get: the stored manifest as JSON; format=raw: as a PUT takes it, with
    the stored Content-Type and that body's own ETag (Swift's slo answers so)."""
    raw = ctx.query.get("format") == "raw"
    if ctx.method == "HEAD" and raw:
        result.close()
        result = await ctx.core.object_read("GET", ctx.account, ctx.container, ctx.obj)
        if result.status != 200:
            result.close()
            raise SwiftError(result.status if result.status >= 400 else 503)
    body = await result.read() if (ctx.method == "GET" or raw) else b""
    headers = CIMultiDict(result.headers)
    headers.popall("Content-Length", None)
    if raw:
        body = json.dumps(large.raw_manifest(large.parse_stored_manifest(body))).encode()
        headers["ETag"] = checksum.Md5Xxh3(body).md5_hexdigest()
        headers["Content-Length"] = str(len(body))
    else:
        headers["Content-Type"] = "application/json; charset=utf-8"
        headers["Content-Length"] = result.headers.get("Content-Length", "0")
    if ctx.method == "HEAD":
        return web.Response(status=200, headers=headers)
    headers.popall("Content-Length")
    return web.Response(status=200, headers=headers, body=body)


async def put(ctx: Ctx) -> web.StreamResponse:
    headers = ctx.headers
    limits.check_metadata(headers, "object")
    inm = headers.get("If-None-Match")
    if inm is not None and inm.strip() != "*":
        raise SwiftError(400, "If-None-Match only supports *")
    node_headers = hdrs.for_object_write(headers)
    delete_at = limits.delete_at_header(headers)
    node_headers.pop("X-Delete-At", None)
    node_headers.pop("x-delete-at", None)
    if delete_at:
        node_headers["X-Delete-At"] = delete_at
    manifest = headers.get("X-Object-Manifest")
    if manifest is not None and ("/" not in manifest.lstrip("/") or manifest.startswith("/")):
        raise SwiftError(400, "X-Object-Manifest must be in the format container/prefix")
    if "X-Copy-From" in headers:
        container, obj = copy_mod.parse_source(headers["X-Copy-From"])
        src_account = _source_account(ctx, headers.get("X-Copy-From-Account"))
        return await _copy(ctx, (src_account, container, obj),
                           (ctx.account, ctx.container, ctx.obj))
    length = limits.check_content_length(headers, ctx.max_file_size)
    if inm is not None:
        await _refuse_existing(ctx)
    if symlink.TARGET in headers:
        await _symlink_headers(ctx, node_headers, length)
    if ctx.query.get("multipart-manifest") == "put":
        return await _put_slo(ctx, node_headers, length)
    await check_quotas(ctx, length or 0)
    await archive_before_overwrite(ctx, ctx.account, ctx.container, ctx.obj)
    if is_true(headers.get("X-Detect-Content-Type")):
        node_headers.pop("Content-Type", None)
        node_headers.pop("content-type", None)
    body = ctx.body if ctx.body is not None else buffered_parts(ctx.request.content)
    result = await ctx.core.object_put(ctx.account, ctx.container, ctx.obj, node_headers, body,
                                       length)
    return created(result)


async def _symlink_headers(ctx: Ctx, node_headers: dict, length: int | None) -> None:
    headers = ctx.headers
    symlink.check_put(headers, length)
    for name in (symlink.TARGET, symlink.TARGET_ACCOUNT, symlink.TARGET_ETAG):
        if headers.get(name):
            node_headers[name] = headers[name]
    if not headers.get("Content-Type"):
        node_headers["Content-Type"] = symlink.CONTENT_TYPE
    account, container, obj = symlink.target_of(headers, ctx.account)
    if (account, container, obj) == (ctx.account, ctx.container, ctx.obj):
        raise SwiftError(400, "Symlink cannot target itself")
    wanted = headers.get(symlink.TARGET_ETAG)
    if wanted:  # a static link: the target must exist with that ETag now
        stored, target_type = await symlink.validate_static(
            ctx.core, account, container, obj, wanted,
            lambda a, c, o: _authorize_target(ctx, a, c, o),
            objver.head_through)  # version links answer for their version
        node_headers.update(stored)
        if not headers.get("Content-Type") and target_type:
            # Swift's symlink middleware: a static link without its own type takes the target's.
            node_headers["Content-Type"] = target_type


async def archive_before_overwrite(ctx: Ctx, account: str, container: str, obj: str) -> None:
    """Object versioning: keep the current object before a PUT or COPY replaces it."""
    info = await ctx.core.container_info(account, container)
    versions, _mode = versioning.location(info)
    if versions:
        await versioning.archive_current(ctx.core, account, container, obj, versions,
                                         ctx.max_file_size)


async def delete(ctx: Ctx) -> web.StreamResponse:
    info = await ctx.core.container_info(ctx.account, ctx.container)
    versions, mode = versioning.location(info)
    node_headers = {}
    if_delete_at = limits.check_if_delete_at(ctx.headers)
    if if_delete_at is not None:
        node_headers["X-If-Delete-At"] = if_delete_at
    if versions:
        result = await versioning.delete(ctx.core, ctx.account, ctx.container, ctx.obj,
                                         versions, mode, ctx.max_file_size, node_headers)
        return respond(result)
    result = await ctx.core.object_write("DELETE", ctx.account, ctx.container, ctx.obj,
                                         node_headers)
    return respond(result)


async def _refuse_existing(ctx: Ctx) -> None:
    """If-None-Match: * on PUT: 412 when the object already exists."""
    head = await ctx.core.object_read("HEAD", ctx.account, ctx.container, ctx.obj)
    head.close()
    if head.status // 100 == 2:
        raise SwiftError(412, "Precondition Failed")


def _source_account(ctx: Ctx, value: str | None) -> str:
    if not value:
        return ctx.account
    from urllib.parse import unquote
    return unquote(value)


async def _copy(ctx: Ctx, src: tuple[str, str, str], dst: tuple[str, str, str]) -> web.StreamResponse:
    # Reading the source needs read access to it, as a GET would.
    if ctx.identity is None or not ctx.identity.owns(src[0]):
        info = await ctx.core.container_info(src[0], src[1])
        await account_acl.authorize_in(ctx, src[0], src[1], src[2], "GET",
                                       info.get("X-Container-Read"))
    limits.check_names(*dst)
    fresh = is_true(ctx.headers.get("X-Fresh-Metadata"))  # "t", "y" too
    # The source is read as the request would read it (Swift's copy_get): conditionals, Range
    # and ?part-number apply, so a ranged COPY copies that range.
    read_headers = {k: v for k, v in ctx.headers.items()
                    if k.lower() in ("if-match", "if-none-match", "if-modified-since",
                                     "if-unmodified-since", "range")}
    await check_quotas(ctx, 0, account=dst[0], container=dst[1])
    source, extra = await _read_source(ctx, src, read_headers)
    if source.status == 200 and ctx.query.get("multipart-manifest") == "get" \
            and large.is_slo(source.backend_headers or {}):
        return await _copy_slo_manifest(ctx, src, dst, source, fresh)
    if source.status // 100 == 2:
        await archive_before_overwrite(ctx, *dst)
    result = await copy_mod.copy_object(ctx.core, src, dst, ctx.headers, ctx.max_file_size,
                                        fresh=fresh, source=source, extra=extra)
    return created(result)


async def _copy_slo_manifest(ctx: Ctx, src, dst, source, fresh: bool) -> web.StreamResponse:
    """COPY ?multipart-manifest=get of an SLO: Swift PUTs the raw manifest at the destination
    with multipart-manifest=put, so its segments are checked there, with the requester's
    rights (another account: 400 listing each segment's 403/404)."""
    body = json.dumps(large.raw_manifest(large.parse_stored_manifest(await source.read())))
    node_headers = copy_mod.sink_headers(source.headers, ctx.headers, fresh)
    result = await _store_slo(ctx, node_headers, body.encode(), dst)
    return created(Result(result.status, copy_mod.copied_from(
        result.headers, src, dst, source.headers)))


async def _read_source(ctx: Ctx, src: tuple[str, str, str], read_headers: dict):
    """A copy's source as a GET would see it: links followed (unless ?symlink=get), large
    objects assembled (unless ?multipart-manifest=get, which copies the manifest itself)."""
    account, container, obj = src
    follow = ctx.query.get("symlink") != "get"
    manifest_get = ctx.query.get("multipart-manifest") == "get"
    # A manifest's or link's own bytes must not be ranged: look at the whole first.
    whole = {k: v for k, v in read_headers.items() if k.lower() != "range"}
    for _hop in range(symlink.MAX_HOPS + 1):
        result = await ctx.core.object_read("GET", account, container, obj, headers=whole)
        bh = result.backend_headers or {}
        if not (follow and result.status // 100 == 2 and symlink.is_link(bh)):
            break
        result.close()
        account, container, obj = symlink.target_of(bh, account)
        await _authorize_target(ctx, account, container, obj)
    else:
        raise SwiftError(409, "Too many levels of symbolic links, maximum allowed is "
                              f"{symlink.MAX_HOPS}")
    bh = result.backend_headers or {}
    extra = {}
    if result.status // 100 == 2 and large.is_slo(bh):
        if manifest_get:
            extra = {k: v for k, v in bh.items() if k.lower() in (
                "x-static-large-object", "x-object-sysmeta-slo-etag", "x-object-sysmeta-slo-size")}
            # The copy is a manifest too: its listing row shows the whole object's size, as
            # the original's does (Swift's SLO copy sends the same override).
            size = bh.get("X-Object-Sysmeta-Container-Update-Override-Size") or \
                bh.get("X-Object-Sysmeta-Slo-Size")
            if size:
                extra["X-Object-Sysmeta-Container-Update-Override-Size"] = size
        else:
            result = await _large(ctx, account, container, obj, result, "GET", read_headers,
                                  part_number=_part_number(ctx, bh))
    elif result.status // 100 == 2 and "X-Object-Manifest" in bh and not manifest_get:
        result = await _large(ctx, account, container, obj, result, "GET", read_headers)
        result.headers.popall("X-Object-Manifest", None)
    elif result.status == 200 and len(whole) != len(read_headers):
        result.close()  # a plain object and a Range: read just that part
        result = await ctx.core.object_read("GET", account, container, obj, headers=read_headers)
    return result, extra


async def copy_verb(ctx: Ctx) -> web.StreamResponse:
    """COPY /v1/a/c/o with Destination: c2/o2 (and optional Destination-Account)."""
    dest = ctx.headers.get("Destination")
    if not dest:
        raise SwiftError(412, "Destination header required")
    container, obj = copy_mod.parse_source(dest)
    account = ctx.account
    if ctx.headers.get("Destination-Account"):
        from urllib.parse import unquote
        account = unquote(ctx.headers["Destination-Account"])
    # Writing the destination needs write access there.
    if ctx.identity is None or not ctx.identity.owns(account):
        info = await ctx.core.container_info(account, container)
        try:
            await account_acl.authorize_in(ctx, account, container, obj, "PUT",
                                           info.get("X-Container-Write"))
        except SwiftError:
            await _missing_source_is_404(ctx)
            raise
    limits.check_metadata(ctx.headers, "object")
    return await _copy(ctx, (ctx.account, ctx.container, ctx.obj), (account, container, obj))


async def _missing_source_is_404(ctx: Ctx) -> None:
    """Swift's copy reads the source before the destination is authorized, so a COPY of a
    missing object of one's own account is a 404 even to a forbidden destination."""
    if ctx.owner:
        head = await ctx.core.object_read("HEAD", ctx.account, ctx.container, ctx.obj)
        if head.status == 404:
            raise SwiftError(404, "Not Found")


async def post(ctx: Ctx) -> web.StreamResponse:
    headers = ctx.headers
    if symlink.TARGET in headers:
        raise SwiftError(400, "A PUT request is required to set a symlink target")
    limits.check_metadata(headers, "object")
    head = await ctx.core.object_read("HEAD", ctx.account, ctx.container, ctx.obj)
    link = head.backend_headers if head.status // 100 == 2 and \
        symlink.is_link(head.backend_headers or {}) else None
    node_headers = hdrs.for_object_write(headers)
    for name in list(node_headers):
        if name.lower() in ("etag", "x-delete-at"):
            node_headers.pop(name)
    delete_at = limits.delete_at_header(headers)
    if delete_at:
        node_headers["X-Delete-At"] = delete_at
    if not any(name.lower() == "content-encoding" for name in node_headers):
        # A POST replaces Content-Encoding with the other allowed headers (Swift drops it when
        # the POST does not name it; rclone's touch is such a POST). It is stored as sysmeta
        # (hdrs.STORED_ENCODING), which a POST would otherwise leave alone: an empty value
        # is answered as no Content-Encoding.
        node_headers[hdrs.STORED_ENCODING] = ""
    result = await ctx.core.object_write("POST", ctx.account, ctx.container, ctx.obj, node_headers)
    if result.status == 202 and link is not None and objver.is_version_link(link):
        result, link = await objver.post_to_version(ctx, link, node_headers), None
    if result.status == 202 and link is not None:
        # The link's own metadata changed; the client is pointed at the target (Swift's 307).
        target = symlink.location(*symlink.target_of(link, ctx.account))
        extra = {symlink.TARGET_ETAG: link[symlink.TARGET_ETAG]} \
            if link.get(symlink.TARGET_ETAG) else {}  # a static link says which target it meant
        return web.Response(status=307, headers={"Location": target, **extra},
                            text="The requested POST was applied to a symlink. POST directly "
                                 "to the target to apply requested metadata.")
    if result.status == 202:
        return web.Response(status=202, content_type="text/html", charset="UTF-8",
                            body=b"<html><h1>Accepted</h1><p>The request is accepted for "
                                 b"processing.</p></html>")
    return respond(result)


async def check_quotas(ctx: Ctx, length: int, account: str | None = None,
                       container: str | None = None) -> None:
    """Container quotas (X-Container-Meta-Quota-Bytes/-Count) and the account's byte quota."""
    account = account or ctx.account
    container = container or ctx.container
    info = await ctx.core.container_info(account, container)
    if not info.exists:
        raise SwiftError(404 if info.status == 404 else 503)
    # Named lookups in the (case-insensitive) cached headers: building Info.meta()'s dict of
    # every metadata header cost ~3 % of a 4 KiB PUT's proxy CPU.
    quota_bytes = info.get("X-Container-Meta-Quota-Bytes")
    if quota_bytes is not None and quota_bytes.isdigit():
        if info.int("X-Container-Bytes-Used") + length > int(quota_bytes):
            raise SwiftError(413, "Upload exceeds quota.")
    quota_count = info.get("X-Container-Meta-Quota-Count")
    if quota_count is not None and quota_count.isdigit():
        if info.int("X-Container-Object-Count") + 1 > int(quota_count):
            raise SwiftError(413, "Upload exceeds quota.")
    ainfo = await ctx.core.account_info(account)
    legacy = ainfo.get("X-Account-Meta-Quota-Bytes")
    for quota, used, extra in (
            (legacy, "X-Account-Bytes-Used", length),
            (ainfo.get("X-Account-Sysmeta-Quota-Bytes"), "X-Account-Bytes-Used", length),
            (ainfo.get("X-Account-Sysmeta-Quota-Count"), "X-Account-Object-Count", 1)):
        if quota and quota.isdigit() and ainfo.int(used) + extra > int(quota):
            raise SwiftError(413, "Upload exceeds quota.")


async def _put_slo(ctx: Ctx, node_headers: dict, length: int | None) -> web.StreamResponse:
    """multipart-manifest=put: validate the segments, store the manifest with its SLO sysmeta.

    With ?heartbeat=on the answer is a 202 at once, whitespace while segments are checked, then
    the outcome in Swift's bulk format (so long validations do not time the client out)."""
    if length is not None and length > large.MAX_MANIFEST_SIZE:
        raise SwiftError(413, "Manifest File > 8388608 bytes")
    body = await ctx.request.content.read(large.MAX_MANIFEST_SIZE + 1)
    if len(body) > large.MAX_MANIFEST_SIZE:
        raise SwiftError(413, "Manifest File > 8388608 bytes")
    if is_true(ctx.query.get("heartbeat")):
        return await _put_slo_heartbeat(ctx, node_headers, body)
    return created(await _store_slo(ctx, node_headers, body))


async def _put_slo_heartbeat(ctx: Ctx, node_headers: dict, body: bytes) -> web.StreamResponse:
    accept = ctx.headers.get("Accept", "")
    json_out = "json" in accept.lower()
    resp = web.StreamResponse(status=202, headers={
        "Content-Type": "application/json" if json_out else "text/plain"})
    resp.enable_chunked_encoding()
    await resp.prepare(ctx.request)
    await resp.write(b" ")
    task = asyncio.ensure_future(_store_slo(ctx, node_headers, body))
    while True:
        done, _ = await asyncio.wait({task}, timeout=HEARTBEAT_SECONDS)
        if done:
            break
        await resp.write(b" ")
    doc = {"Response Status": "201 Created", "Response Body": "", "Errors": []}
    try:
        result = task.result()
        doc["Etag"] = result.headers.get("ETag", "")
        doc["Last Modified"] = result.headers.get("Last-Modified", "")
    except SwiftError as exc:
        doc["Response Status"] = f"{exc.status} {reason(exc.status)}"
        doc["Response Body"] = HEARTBEAT_BODIES.get(exc.status, reason(exc.status))
        doc["Errors"] = [list(e) for e in getattr(exc, "errors", [])]
    if json_out:
        text = json.dumps(doc)
    else:
        lines = [f"Response Status: {doc['Response Status']}",
                 f"Response Body: {doc['Response Body'].splitlines()[0] if doc['Response Body'] else ''}"]
        if "Etag" in doc:
            lines += [f"Etag: {doc['Etag']}", f"Last Modified: {doc['Last Modified']}"]
        lines.append("Errors:")
        lines += [f"{p}, {r}" for p, r in doc["Errors"]]
        text = "\n".join(lines) + "\n"
    await resp.write(b"\r\n\r\n" + text.encode())
    await resp.write_eof()
    return resp


async def _store_slo(ctx: Ctx, node_headers: dict, body: bytes, dst=None):
    """Validate and store a manifest at dst (default: the request's object)."""
    account, container, obj = dst or (ctx.account, ctx.container, ctx.obj)

    async def may_read(seg_container: str, seg_obj: str) -> None:
        await _authorize_target(ctx, account, seg_container, seg_obj)

    stored, etag, size = await large.build_slo(ctx.core, account, body,
                                               itself=(container, obj), authorize=may_read)
    given = next((v for k, v in node_headers.items() if k.lower() == "etag"), None)
    node_headers = {k: v for k, v in node_headers.items() if k.lower() != "etag"}
    if given and given.strip('"') != etag:
        raise SwiftError(422, "Unprocessable Entity")
    await check_quotas(ctx, size, account=account, container=container)
    await archive_before_overwrite(ctx, account, container, obj)
    data = json.dumps(stored).encode()
    node_headers.update({"X-Static-Large-Object": "True", "X-Object-Sysmeta-Slo-Etag": etag,
                         "X-Object-Sysmeta-Slo-Size": str(size),
                         # the container listing shows the whole object's size, as Swift's does
                         "X-Object-Sysmeta-Container-Update-Override-Size": str(size)})
    if not any(k.lower() == "content-type" for k in node_headers):
        node_headers["Content-Type"] = hdrs.guess_content_type(obj)

    async def one_chunk():
        yield data

    result = await ctx.core.object_put(account, container, obj, node_headers,
                                       one_chunk(), len(data))
    result.headers["ETag"] = f'"{etag}"'
    return result


async def _delete_slo(ctx: Ctx) -> web.StreamResponse:
    """multipart-manifest=delete: the segments, then the manifest, answered like a bulk delete."""
    manifest = await ctx.core.object_read("GET", ctx.account, ctx.container, ctx.obj)
    if manifest.status == 404:
        manifest.close()
        raise SwiftError(404)
    if not large.is_slo(manifest.backend_headers or {}):
        manifest.close()
        result = await ctx.core.object_write("DELETE", ctx.account, ctx.container, ctx.obj, {})
        return respond(result)
    items = large.parse_stored_manifest(await manifest.read())
    paths = []
    for item in items:
        if "name" not in item:
            continue  # inline data segment: nothing to delete
        container, _, obj = item["name"].lstrip("/").partition("/")
        paths.append((container, obj))
    deleted, not_found, errors = await bulk.delete_paths(ctx.core, ctx.account, paths)
    if not errors:
        result = await ctx.core.object_write("DELETE", ctx.account, ctx.container, ctx.obj, {})
        if result.status // 100 == 2:
            deleted += 1
        elif result.status == 404:
            not_found += 1
        else:
            errors.append((f"/{ctx.container}/{ctx.obj}", str(result.status)))
    body, ctype = bulk.render(ctx.headers.get("Accept"), deleted, not_found, errors)
    return web.Response(status=200, body=body, content_type=ctype)
