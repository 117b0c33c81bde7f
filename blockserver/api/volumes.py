"""Volume handlers: CRUD, detail listing with filters, metadata, and the volume actions."""
from __future__ import annotations

from aiohttp import web

from blockserver.api import listing, microversion, views
from blockserver.api.common import (HOST, base_url, ctx, flag, manager, query, read_action,
                                    read_json, read_metadata, read_object, reply)
from blockserver.errors import bad_request, not_found

UNSUPPORTED_SOURCES = {"imageRef": "images", "backup_id": "backups"}


async def create(request: web.Request) -> web.Response:
    body = await read_object(request, "volume")
    for key, what in UNSUPPORTED_SOURCES.items():
        if body.get(key):
            raise bad_request(f"Invalid input received: creating volumes from {what} is not "
                              "supported.")
    if body.get("multiattach") is True:
        raise bad_request("Invalid input received: multiattach volumes are not supported.")
    c = ctx(request)
    m = manager(request)
    vol = await m.create_volume(
        c, size=body.get("size"), name=body.get("name", body.get("display_name")),
        description=body.get("description", body.get("display_description")),
        metadata=body.get("metadata"), snapshot_id=body.get("snapshot_id"),
        source_volid=body.get("source_volid"), volume_type=body.get("volume_type"),
        availability_zone=body.get("availability_zone"))
    return reply({"volume": views.volume_detail(vol, [], c, base_url(request),
                                                request.app[HOST])}, 202)


async def _listed(request: web.Request):
    c = ctx(request)
    q = query(request)
    vols = await manager(request).list_volumes(c, all_tenants=flag(request, "all_tenants"))
    return c, q, *listing.list_items(vols, q)


async def index(request: web.Request) -> web.Response:
    _c, q, page, more, _total = await _listed(request)
    body = {"volumes": [views.volume_summary(v, base_url(request)) for v in page]}
    if more and page:
        body["volumes_links"] = listing.next_link(str(request.url.with_query(None)), q,
                                                  page[-1].id)
    return reply(body)


async def detail(request: web.Request) -> web.Response:
    c, q, page, more, total = await _listed(request)
    atts = await manager(request).attachments_of({v.id for v in page})
    body = {"volumes": [views.volume_detail(v, atts.get(v.id, []), c, base_url(request),
                                            request.app[HOST]) for v in page]}
    if more and page:
        body["volumes_links"] = listing.next_link(str(request.url.with_query(None)), q,
                                                  page[-1].id)
    if c.at_least(45) and flag(request, "with_count"):
        body["count"] = total
    return reply(body)


async def summary(request: web.Request) -> web.Response:
    """GET /volumes/summary (3.12; metadata 3.36): totals over the listed volumes."""
    c = ctx(request)
    microversion.require(c.microversion, (3, 12))
    vols = await manager(request).list_volumes(c, all_tenants=flag(request, "all_tenants"))
    body = {"total_size": sum(v.size for v in vols), "total_count": len(vols)}
    if c.at_least(36):
        metadata: dict[str, list] = {}
        for vol in vols:
            for key, value in vol.metadata.items():
                if value not in metadata.setdefault(key, []):
                    metadata[key].append(value)
        body["metadata"] = metadata
    return reply({"volume-summary": body})


async def _show_body(request: web.Request, volume_id: str) -> dict:
    c = ctx(request)
    m = manager(request)
    vol = await m.get_volume(c, volume_id)
    atts = (await m.attachments_of({vol.id})).get(vol.id, [])
    return {"volume": views.volume_detail(vol, atts, c, base_url(request), request.app[HOST])}


async def show(request: web.Request) -> web.Response:
    return reply(await _show_body(request, request.match_info["volume_id"]))


async def update(request: web.Request) -> web.Response:
    body = await read_object(request, "volume")
    changes = {}
    for key, alias in (("name", "display_name"), ("description", "display_description")):
        if key in body or alias in body:
            changes[key] = body.get(key, body.get(alias))
    if "metadata" in body:
        changes["metadata"] = body["metadata"]
    volume_id = request.match_info["volume_id"]
    await manager(request).update_volume(ctx(request), volume_id, changes)
    return reply(await _show_body(request, volume_id))


async def delete(request: web.Request) -> web.Response:
    await manager(request).delete_volume(ctx(request), request.match_info["volume_id"],
                                         cascade=flag(request, "cascade"),
                                         force=flag(request, "force"))
    return reply(None, 202)


# -- metadata ----------------------------------------------------------------------------------
async def metadata_show(request: web.Request) -> web.Response:
    vol = await manager(request).get_volume(ctx(request), request.match_info["volume_id"])
    return reply({"metadata": dict(vol.metadata)})


async def _metadata_write(request: web.Request, *, replace: bool) -> web.Response:
    metadata = await read_metadata(request)
    merged = await manager(request).set_volume_metadata(
        ctx(request), request.match_info["volume_id"], metadata, replace=replace)
    return reply({"metadata": merged})


async def metadata_create(request: web.Request) -> web.Response:
    return await _metadata_write(request, replace=False)


async def metadata_replace(request: web.Request) -> web.Response:
    return await _metadata_write(request, replace=True)


async def metadata_item_show(request: web.Request) -> web.Response:
    vol = await manager(request).get_volume(ctx(request), request.match_info["volume_id"])
    key = request.match_info["key"]
    if key not in vol.metadata:
        raise not_found(f"Volume {vol.id} has no metadata with key {key}.")
    return reply({"meta": {key: vol.metadata[key]}})


async def metadata_item_put(request: web.Request) -> web.Response:
    body = await read_json(request)
    key = request.match_info["key"]
    meta = body.get("meta") if isinstance(body, dict) else None
    if not isinstance(meta, dict) or list(meta) != [key]:
        raise bad_request("Malformed request body: expected {\"meta\": {key: value}} matching "
                          "the URL's key.")
    await manager(request).set_volume_metadata(ctx(request), request.match_info["volume_id"], meta,
                                               replace=False)
    return reply({"meta": meta})


async def metadata_item_delete(request: web.Request) -> web.Response:
    await manager(request).set_volume_metadata(ctx(request), request.match_info["volume_id"], {},
                                               replace=False, delete_key=request.match_info["key"])
    return reply(None, 200)


# -- actions -----------------------------------------------------------------------------------
async def action(request: web.Request) -> web.Response:
    name, args = await read_action(request)
    handler = ACTIONS.get(name)
    if handler is None:
        raise bad_request(f"There is no such action: {name}")
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise bad_request(f"Invalid input received: the body of {name} must be an object.")
    return await handler(request, request.match_info["volume_id"], args)


async def _extend(request, volume_id, args):
    if "new_size" not in args:
        raise bad_request("Invalid input received: new_size is required.")
    await manager(request).extend_volume(ctx(request), volume_id, args["new_size"])
    return reply(None, 202)


async def _reset_status(request, volume_id, args):
    await manager(request).reset_status(ctx(request), volume_id, args)
    return reply(None, 202)


async def _force_delete(request, volume_id, args):
    await manager(request).delete_volume(ctx(request), volume_id, force=True)
    return reply(None, 202)


async def _set_bootable(request, volume_id, args):
    await manager(request).set_bootable(ctx(request), volume_id, args.get("bootable"))
    return reply(None, 200)


async def _reserve(request, volume_id, args):
    await manager(request).attacher.reserve(ctx(request), volume_id)
    return reply(None, 202)


async def _unreserve(request, volume_id, args):
    await manager(request).attacher.unreserve(ctx(request), volume_id)
    return reply(None, 202)


async def _initialize_connection(request, volume_id, args):
    info = await manager(request).attacher.initialize_connection(
        ctx(request), volume_id, args.get("connector"))
    return reply({"connection_info": info})


async def _attach(request, volume_id, args):
    await manager(request).attacher.attach(ctx(request), volume_id, args)
    return reply(None, 202)


async def _begin_detaching(request, volume_id, args):
    await manager(request).attacher.begin_detaching(ctx(request), volume_id)
    return reply(None, 202)


async def _roll_detaching(request, volume_id, args):
    await manager(request).attacher.roll_detaching(ctx(request), volume_id)
    return reply(None, 202)


async def _detach(request, volume_id, args):
    await manager(request).attacher.detach(ctx(request), volume_id, args.get("attachment_id"))
    return reply(None, 202)


async def _terminate_connection(request, volume_id, args):
    await manager(request).attacher.terminate_connection(ctx(request), volume_id,
                                                         args.get("connector"))
    return reply(None, 202)


ACTIONS = {
    "os-extend": _extend,
    "os-reset_status": _reset_status,
    "os-force_delete": _force_delete,
    "os-set_bootable": _set_bootable,
    "os-reserve": _reserve,
    "os-unreserve": _unreserve,
    "os-initialize_connection": _initialize_connection,
    "os-attach": _attach,
    "os-begin_detaching": _begin_detaching,
    "os-roll_detaching": _roll_detaching,
    "os-detach": _detach,
    "os-terminate_connection": _terminate_connection,
}

ROUTES = [
    ("POST", "/volumes", create),
    ("GET", "/volumes", index),
    ("GET", "/volumes/detail", detail),
    ("GET", "/volumes/summary", summary),
    ("GET", "/volumes/{volume_id}", show),
    ("PUT", "/volumes/{volume_id}", update),
    ("DELETE", "/volumes/{volume_id}", delete),
    ("POST", "/volumes/{volume_id}/action", action),
    ("GET", "/volumes/{volume_id}/metadata", metadata_show),
    ("POST", "/volumes/{volume_id}/metadata", metadata_create),
    ("PUT", "/volumes/{volume_id}/metadata", metadata_replace),
    ("GET", "/volumes/{volume_id}/metadata/{key}", metadata_item_show),
    ("PUT", "/volumes/{volume_id}/metadata/{key}", metadata_item_put),
    ("DELETE", "/volumes/{volume_id}/metadata/{key}", metadata_item_delete),
]
