"""The v3 attachments API (3.27+; os-complete 3.44; mode 3.54)."""
from __future__ import annotations

from aiohttp import web

from blockserver.api import microversion, views
from blockserver.api.common import ctx, flag, manager, read_json, read_object, reply
from blockserver.errors import bad_request

ATTACHMENTS = (3, 27)
COMPLETE = (3, 44)
MODE = (3, 54)


def _require(request: web.Request, minimum=ATTACHMENTS):
    c = ctx(request)
    microversion.require(c.microversion, minimum)
    return c


async def create(request: web.Request) -> web.Response:
    c = _require(request)
    body = await read_object(request, "attachment")
    mode = body.get("mode") if c.microversion >= MODE else None
    attacher = manager(request).attacher
    att = await attacher.create(c, volume_id=body.get("volume_uuid"),
                                instance_uuid=body.get("instance_uuid"),
                                connector=body.get("connector"), mode=mode or "rw")
    return reply({"attachment": views.attachment_detail(att, attacher.info(att))})


async def update(request: web.Request) -> web.Response:
    c = _require(request)
    body = await read_object(request, "attachment")
    if not body.get("connector"):
        raise bad_request("Invalid input received: connector is required.")
    attacher = manager(request).attacher
    att = await attacher.update(c, request.match_info["attachment_id"], body["connector"])
    return reply({"attachment": views.attachment_detail(att, attacher.info(att))})


async def action(request: web.Request) -> web.Response:
    c = _require(request, COMPLETE)
    body = await read_json(request)
    if not isinstance(body, dict) or list(body) != ["os-complete"]:
        raise bad_request("There is no such action: the only attachment action is os-complete.")
    await manager(request).attacher.complete(c, request.match_info["attachment_id"])
    return reply(None, 204)


async def delete(request: web.Request) -> web.Response:
    c = _require(request)
    await manager(request).attacher.delete(c, request.match_info["attachment_id"])
    return reply({"attachments": []})


async def show(request: web.Request) -> web.Response:
    c = _require(request)
    attacher = manager(request).attacher
    att = await attacher.get(c, request.match_info["attachment_id"])
    return reply({"attachment": views.attachment_detail(att, attacher.info(att))})


async def _listed(request: web.Request, detailed: bool) -> web.Response:
    c = _require(request)
    attacher = manager(request).attacher
    atts = await attacher.list(c, all_tenants=flag(request, "all_tenants"))
    volume_id = request.query.get("volume_id")
    atts = [a for a in atts if volume_id is None or a.volume_id == volume_id]
    return reply({"attachments": [views.attachment_detail(a, attacher.info(a)) if detailed
                                  else views.attachment_summary(a) for a in atts]})


async def index(request: web.Request) -> web.Response:
    return await _listed(request, detailed=False)


async def detail(request: web.Request) -> web.Response:
    return await _listed(request, detailed=True)


ROUTES = [
    ("POST", "/attachments", create),
    ("GET", "/attachments", index),
    ("GET", "/attachments/detail", detail),
    ("GET", "/attachments/{attachment_id}", show),
    ("PUT", "/attachments/{attachment_id}", update),
    ("DELETE", "/attachments/{attachment_id}", delete),
    ("POST", "/attachments/{attachment_id}/action", action),
]
