"""Snapshot handlers: create (with force), list, detail, show, update, delete."""
from __future__ import annotations

from aiohttp import web

from blockserver.api import listing, views
from blockserver.api.common import (ctx, flag, manager, query, read_action, read_metadata,
                                    read_object, reply)
from blockserver.errors import bad_request


async def create(request: web.Request) -> web.Response:
    body = await read_object(request, "snapshot")
    c = ctx(request)
    snap = await manager(request).create_snapshot(
        c, volume_id=body.get("volume_id"), name=body.get("name", body.get("display_name")),
        description=body.get("description", body.get("display_description")),
        metadata=body.get("metadata"), force=body.get("force", False))
    return reply({"snapshot": views.snapshot_detail(snap, c)}, 202)


async def _listed(request: web.Request, detailed: bool) -> web.Response:
    c = ctx(request)
    q = query(request)
    snaps = await manager(request).list_snapshots(c, all_tenants=flag(request, "all_tenants"))
    page, more, _total = listing.list_items(snaps, q)
    body = {"snapshots": [views.snapshot_detail(s, c) if detailed else views.snapshot_summary(s, c)
                          for s in page]}
    if more and page:
        body["snapshots_links"] = listing.next_link(str(request.url.with_query(None)), q,
                                                    page[-1].id)
    return reply(body)


async def index(request: web.Request) -> web.Response:
    return await _listed(request, detailed=False)


async def detail(request: web.Request) -> web.Response:
    return await _listed(request, detailed=True)


async def show(request: web.Request) -> web.Response:
    c = ctx(request)
    snap = await manager(request).get_snapshot(c, request.match_info["snapshot_id"])
    return reply({"snapshot": views.snapshot_detail(snap, c)})


async def update(request: web.Request) -> web.Response:
    body = await read_object(request, "snapshot")
    changes = {}
    for key, alias in (("name", "display_name"), ("description", "display_description")):
        if key in body or alias in body:
            changes[key] = body.get(key, body.get(alias))
    if "metadata" in body:
        changes["metadata"] = body["metadata"]
    c = ctx(request)
    snap = await manager(request).update_snapshot(c, request.match_info["snapshot_id"], changes)
    return reply({"snapshot": views.snapshot_detail(snap, c)})


async def delete(request: web.Request) -> web.Response:
    await manager(request).delete_snapshot(ctx(request), request.match_info["snapshot_id"],
                                           force=flag(request, "force"))
    return reply(None, 202)


ROUTES = [
    ("POST", "/snapshots", create),
    ("GET", "/snapshots", index),
    ("GET", "/snapshots/detail", detail),
    ("GET", "/snapshots/{snapshot_id}", show),
    ("PUT", "/snapshots/{snapshot_id}", update),
    ("DELETE", "/snapshots/{snapshot_id}", delete),
]


# -- actions and metadata ----------------------------------------------------------------------
async def action(request: web.Request) -> web.Response:
    name, args = await read_action(request)
    snapshot_id = request.match_info["snapshot_id"]
    m = manager(request)
    if name == "os-reset_status":
        await m.reset_snapshot_status(ctx(request), snapshot_id, args or {})
    elif name == "os-force_delete":
        await m.delete_snapshot(ctx(request), snapshot_id, force=True)
    else:
        raise bad_request(f"There is no such action: {name}")
    return reply(None, 202)


async def metadata_show(request: web.Request) -> web.Response:
    snap = await manager(request).get_snapshot(ctx(request), request.match_info["snapshot_id"])
    return reply({"metadata": dict(snap.metadata)})


async def _metadata_write(request: web.Request, *, replace: bool) -> web.Response:
    metadata = await read_metadata(request)
    merged = await manager(request).set_snapshot_metadata(
        ctx(request), request.match_info["snapshot_id"], metadata, replace=replace)
    return reply({"metadata": merged})


async def metadata_create(request: web.Request) -> web.Response:
    return await _metadata_write(request, replace=False)


async def metadata_replace(request: web.Request) -> web.Response:
    return await _metadata_write(request, replace=True)


async def metadata_item_delete(request: web.Request) -> web.Response:
    await manager(request).set_snapshot_metadata(
        ctx(request), request.match_info["snapshot_id"], {}, replace=False,
        delete_key=request.match_info["key"])
    return reply(None, 200)


ROUTES += [
    ("POST", "/snapshots/{snapshot_id}/action", action),
    ("GET", "/snapshots/{snapshot_id}/metadata", metadata_show),
    ("POST", "/snapshots/{snapshot_id}/metadata", metadata_create),
    ("PUT", "/snapshots/{snapshot_id}/metadata", metadata_replace),
    ("DELETE", "/snapshots/{snapshot_id}/metadata/{key}", metadata_item_delete),
]
