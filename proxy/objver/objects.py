"""Object requests of the versioning API (Swift's object_versioning), around the object handler.

* GET/HEAD of a versioned object answer X-Object-Version-Id ('null' for an object written
  without versioning) and point Content-Location / X-Symlink-Target at "?version-id=<id>".
* ?version-id=<id> on GET/HEAD/COPY reads that version (a delete marker is a 404), on DELETE
  removes that version (and the link when it is the current one), on PUT (empty body) makes
  that version current. POST with a version-id is a 400.
* POST to a versioned object updates the link and the version it names (not a 307).
PUT and DELETE without version-id are versioned in SwiftCore (writes.py), for every writer.
"""
from __future__ import annotations

import dataclasses
from urllib.parse import quote, unquote

from aiohttp import web

from proxy.errors import SwiftError
from proxy.objver import names, writes
from proxy.objver.names import is_version_link  # the object handler asks it through here
from strato.timestamps import Timestamp

INNER = "objver.inner"  # set on a request once this module has taken its part


async def object_request(ctx, handle) -> web.StreamResponse | None:
    """The versioning part of an object request, or None when there is none (the caller goes
    on as usual). `handle` is the object handler, called back for the request itself."""
    if ctx.request.get(INNER):
        return None
    vid = ctx.query.get("version-id")
    if not vid and ctx.method not in ("GET", "HEAD"):
        return None
    info = await ctx.core.container_info(ctx.account, ctx.container)
    versions = writes.versions_of(info)
    if vid:
        return await _with_version_id(ctx, handle, vid, versions)
    if not versions:
        return None
    return await _latest(ctx, handle, versions)


def _inner(ctx, container: str, obj: str):
    ctx.request[INNER] = True
    return dataclasses.replace(ctx, container=container, obj=obj)


def _version_headers(ctx, versions: str, headers) -> None:
    """X-Object-Version-Id and the version-id forms of Content-Location / X-Symlink-Target."""
    headers["X-Object-Version-Id"] = "null"
    location = unquote(headers.get("Content-Location", ""))
    parts = location.split("/", 4)
    if len(parts) == 5 and parts[2] == ctx.account and parts[3] == versions:
        _obj, vid = names.parse_version_name(parts[4])
        if vid is not None:
            headers["X-Object-Version-Id"] = vid
            headers["Content-Location"] = (quote(f"/{ctx.version}/{ctx.account}/{ctx.container}/"
                                                 f"{ctx.obj}") + f"?version-id={vid}")
    target = headers.get("X-Symlink-Target")
    if target:
        container, obj = names.parse_link_target(target)
        if container == versions:
            _obj, vid = names.parse_version_name(obj)
            if vid is not None:
                headers["X-Object-Version-Id"] = vid
                headers["X-Symlink-Target"] = quote(f"{ctx.container}/{ctx.obj}") + \
                    f"?version-id={vid}"
    if ctx.tempurl and "\x00" in headers.get("Content-Disposition", ""):
        from proxy import tempurl
        headers["Content-Disposition"] = tempurl.disposition(ctx.query, ctx.obj)


async def _annotated(ctx, call, versions: str, vid: str | None = None,
                     last_modified: str | None = None) -> web.StreamResponse:
    """Run `call(before_send)` and give its answer the version headers, streamed or not
    (`vid`: the version read, when the caller followed the link itself)."""
    outer = ctx.request.get("before_send")

    def annotate(headers):
        followed = "Content-Location" in headers  # the version was a link: its target's id
        _version_headers(ctx, versions, headers)
        if vid is not None and not followed:
            headers["X-Object-Version-Id"] = vid
            headers["Content-Location"] = quote(
                    f"/{ctx.version}/{ctx.account}/{ctx.container}/{ctx.obj}") + \
                    f"?version-id={vid}"

    async def hook(headers):
        annotate(headers)
        if outer is not None:
            await outer(headers)

    ctx.request["before_send"] = hook
    try:
        response = await call(hook)
    except SwiftError as exc:  # a 416 of a part number, say, still names the version
        if vid is not None and exc.status in (404, 416):
            exc.headers["X-Object-Version-Id"] = vid
        if exc.status == 416 and last_modified:
            exc.headers.setdefault("Last-Modified", last_modified)
        raise
    if not response.prepared:
        annotate(response.headers)
    return response


async def _latest(ctx, handle, versions: str) -> web.StreamResponse:
    """GET/HEAD of the current version. The link is followed here, so that it is not one of the
    symlink hops a client's own links may take (Swift's SYMLOOP_EXTEND) and needs no read
    access to the versions container beyond the container's own."""
    ctx.request[INNER] = True
    if ctx.query.get("symlink") == "get":
        return await _annotated(ctx, lambda hook: handle(ctx, before_send=hook), versions)
    await _authorize(ctx, write=False)
    head = await ctx.core.object_read("HEAD", ctx.account, ctx.container, ctx.obj)
    head.close()
    backend = head.backend_headers or {}
    target = backend.get("X-Symlink-Target") if head.status // 100 == 2 else None
    if not target or not is_version_link(backend) or \
            names.parse_link_target(target)[0] != versions:
        return await _annotated(ctx, lambda hook: handle(ctx, before_send=hook), versions)
    vname = names.parse_link_target(target)[1]
    vid = names.parse_version_name(vname)[1]
    from proxy.handlers import obj as obj_h
    inner = _inner(ctx, versions, vname)

    async def read(hook):
        return await obj_h.get(inner)

    response = await _annotated(ctx, read, versions, vid, head.headers.get("Last-Modified"))
    return response


async def _authorize(ctx, write: bool) -> None:
    from proxy.handlers import obj as obj_h
    await obj_h._authorize(ctx, write=write)


async def _with_version_id(ctx, handle, vid: str, versions: str) -> web.StreamResponse | None:
    method = ctx.method
    if method == "POST":
        raise SwiftError(400, "POST to a specific version is not allowed")
    if not versions and vid != "null":
        raise SwiftError(400, "version-aware operations require that the container is versioned")
    try:
        names.check_version(vid)
    except names.InvalidVersion:
        raise SwiftError(400, "Invalid version parameter") from None
    if method == "OPTIONS":
        return None
    if method == "DELETE":
        await _authorize(ctx, write=True)
        return await _delete_version(ctx, handle, vid, versions)
    if method == "PUT":
        await _authorize(ctx, write=True)
        return await _restore(ctx, vid, versions)
    if method not in ("GET", "HEAD", "COPY"):
        raise SwiftError(405, "Method Not Allowed")
    if ctx.tempurl and method in ("GET", "HEAD"):
        return await _latest(ctx, handle, versions)  # a TempURL names the object, not a version
    if vid == "null":
        if method != "COPY":
            await _authorize(ctx, write=False)
        head = await ctx.core.object_read("HEAD", ctx.account, ctx.container, ctx.obj)
        head.close()
        if head.status // 100 == 2 and is_version_link(head.backend_headers):
            raise SwiftError(404, "Not Found")  # the current object has a real version id
        ctx.request[INNER] = True
        response = await handle(ctx, before_send=ctx.request.get("before_send"))
        if not response.prepared and response.status // 100 == 2:
            response.headers["X-Object-Version-Id"] = "null"
        return response
    if method != "COPY":
        ctx.authorize()  # a version is its owner's (the versions container has no ACLs)
    vname = names.version_name(ctx.obj, vid)
    head = await ctx.core.object_read("HEAD", ctx.account, versions, vname)
    head.close()
    if head.status == 404 or (head.status // 100 == 2 and
                              head.headers.get("Content-Type") == names.DELETE_MARKER):
        headers = {"X-Object-Version-Id": vid}
        if head.status // 100 == 2:
            headers["Content-Type"] = names.DELETE_MARKER
        raise SwiftError(404, "Not Found", headers)
    inner = _inner(ctx, versions, vname)
    from proxy.handlers import obj as obj_h
    if method == "COPY":
        return await obj_h.copy_verb(inner)

    outer = ctx.request.get("before_send")

    async def hook(headers):
        headers["X-Object-Version-Id"] = vid
        if outer is not None:
            await outer(headers)

    ctx.request["before_send"] = hook
    try:
        response = await obj_h.get(inner)
    except SwiftError as exc:  # a 416 of a part number, say, still names the version
        exc.headers["X-Object-Version-Id"] = vid
        if exc.status == 416 and head.headers.get("Last-Modified"):
            exc.headers.setdefault("Last-Modified", head.headers["Last-Modified"])
        raise
    if not response.prepared:
        response.headers["X-Object-Version-Id"] = vid
    return response


async def _delete_version(ctx, handle, vid: str, versions: str) -> web.StreamResponse:
    from proxy.handlers import obj as obj_h
    from proxy.handlers.common import respond
    core = ctx.core
    if vid == "null":  # straight through to the current name, link or not
        if not versions:  # legacy versioned_writes (or none) has its say, as in Swift
            ctx.request[INNER] = True
            return await handle(ctx, before_send=ctx.request.get("before_send"))
        result = await core.object_write("DELETE", ctx.account, ctx.container, ctx.obj, {},
                                         versioned=False)
        return respond(result)
    async def slo_delete(container, vname):  # the manifest version and its segments
        return await obj_h._delete_slo(_inner(ctx, container, vname))

    manifest = ctx.query.get("multipart-manifest") == "delete"
    result, current, _marker = await writes.delete_version(
        core, ctx.account, ctx.container, ctx.obj, vid, versions,
        slo_delete if manifest else None)
    extra = {"X-Object-Version-Id": vid, "X-Object-Current-Version-Id": current}
    result.headers.update(extra)
    if manifest:
        return result
    if result.status >= 400 and not result.body:
        raise SwiftError(result.status, headers=extra)
    return respond(result)


async def _restore(ctx, vid: str, versions: str) -> web.StreamResponse:
    """PUT ?version-id=<id> with an empty body: that version becomes the current one."""
    from proxy import headers as hdrs
    from proxy.handlers.common import created
    try:
        names.check_version(vid, allow_null=False)
    except names.InvalidVersion:
        raise SwiftError(400, "Invalid version parameter") from None
    request = ctx.request
    if request.headers.get("Transfer-Encoding", "").lower() == "chunked":
        has_body = bool(await request.content.read(1))
    elif request.content_length is None:
        raise SwiftError(411, "Length Required")
    else:
        has_body = request.content_length != 0
    if has_body:
        raise SwiftError(400, "PUT version-id requests require a zero byte body",
                         {"Content-Type": "text/plain"})
    vname = names.version_name(ctx.obj, vid)
    head = await ctx.core.object_read("HEAD", ctx.account, versions, vname)
    head.close()
    if head.status == 404:
        vinfo = await ctx.core.container_info(ctx.account, versions)
        if vinfo.exists:
            raise SwiftError(404, "The specified version does not exist",
                             {"Content-Type": "text/plain"})
        raise writes._no_versions_container()
    writes._check(head.status)
    backend = head.backend_headers or {}
    etag = head.headers.get("ETag", "")
    size = backend.get("X-Object-Sysmeta-Slo-Size") or head.headers.get("Content-Length", "0")
    link = writes.link_headers(hdrs.for_object_write(ctx.headers), versions, vname, etag, size,
                               head.headers.get("Content-Type", "application/octet-stream"),
                               backend.get("X-Object-Sysmeta-Slo-Etag"))
    result = await writes.put_link(ctx.core, ctx.account, ctx.container, ctx.obj, link,
                                   Timestamp.now())
    result.headers["ETag"] = etag.strip('"')
    result.headers["X-Object-Version-Id"] = vid
    return created(result)


async def head_through(core, account: str, container: str, obj: str):
    """HEAD an object as a link's target: a version link answers for its version."""
    head = await core.object_read("HEAD", account, container, obj)
    head.close()
    backend = head.backend_headers or {}
    if head.status // 100 == 2 and is_version_link(backend) and "X-Symlink-Target" in backend:
        vcontainer, vname = names.parse_link_target(backend["X-Symlink-Target"])
        head = await core.object_read("HEAD", account, vcontainer, vname)
        head.close()
    return head


async def post_to_version(ctx, link_headers, node_headers: dict):
    """A POST that reached a version link goes on to the version it names (not a 307), without
    the expiry headers (those stay on the link), as Swift's object_versioning does."""
    container, obj = names.parse_link_target(link_headers.get("X-Symlink-Target", ""))
    headers = {k: v for k, v in node_headers.items() if k.lower() not in writes.EXPIRY}
    return await ctx.core.object_write("POST", ctx.account, container, obj, headers)
