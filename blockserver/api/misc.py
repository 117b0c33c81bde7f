"""Version discovery, quotas and limits, and the read-only catalogue (types, zones, services)."""
from __future__ import annotations

from aiohttp import web

from blockserver.api import microversion, views
from blockserver.api.common import HOST, base_url, ctx, manager, read_object, reply
from blockserver.errors import forbidden, not_found
from blockserver.manager import AVAILABILITY_ZONE, DEFAULT_TYPE, DEFAULT_TYPE_ID
from blockserver.records import now_iso

UPDATED = "2023-08-31T00:00:00Z"


def version_document(request: web.Request) -> dict:
    return {"id": "v3.0", "status": "CURRENT",
            "version": microversion.text(microversion.MAX_VERSION),
            "min_version": microversion.text(microversion.MIN_VERSION),
            "updated": UPDATED,
            "links": [{"rel": "self", "href": f"{base_url(request)}/v3/"},
                      {"rel": "describedby", "type": "text/html",
                       "href": "https://docs.openstack.org/"}],
            "media-types": [{"base": "application/json",
                             "type": "application/vnd.openstack.volume+json;version=3"}]}


async def root(request: web.Request) -> web.Response:
    # Real Cinder answers 300 Multiple Choices at /; clients accept 200 or 300.
    return reply({"versions": [version_document(request)]}, 300)


async def v3_root(request: web.Request) -> web.Response:
    return reply({"versions": [version_document(request)]})


# -- quotas and limits -------------------------------------------------------------------------
def _target(request: web.Request) -> str:
    c = ctx(request)
    target = request.match_info["target_project"]
    if target != c.project_id and not c.is_admin:
        raise forbidden()
    return target


async def quota_show(request: web.Request) -> web.Response:
    target = _target(request)
    limits, usage = await manager(request).quota_report(target)
    with_usage = request.query.get("usage", "").strip().lower() in ("true", "1")
    return reply({"quota_set": views.quota_set(target, limits, usage if with_usage else None)})


async def quota_defaults(request: web.Request) -> web.Response:
    target = _target(request)
    return reply({"quota_set": views.quota_set(target, manager(request).quota_defaults, None)})


async def quota_update(request: web.Request) -> web.Response:
    target = request.match_info["target_project"]
    body = await read_object(request, "quota_set")
    m = manager(request)
    await m.set_quota(ctx(request), target, body)
    limits, _usage = await m.quota_report(target)
    return reply({"quota_set": views.quota_set(target, limits, None)})


async def quota_delete(request: web.Request) -> web.Response:
    await manager(request).reset_quota(ctx(request), request.match_info["target_project"])
    return reply(None, 200)


async def limits(request: web.Request) -> web.Response:
    limits_, usage = await manager(request).quota_report(ctx(request).project_id)
    return reply(views.limits(limits_, usage))


# -- catalogue ---------------------------------------------------------------------------------
async def types_index(request: web.Request) -> web.Response:
    return reply({"volume_types": [views.volume_type()]})


async def types_show(request: web.Request) -> web.Response:
    type_id = request.match_info["type_id"]
    if type_id not in (DEFAULT_TYPE_ID, DEFAULT_TYPE, "default"):
        raise not_found(f"Volume type {type_id} could not be found.")
    return reply({"volume_type": views.volume_type()})


async def types_extra_specs(request: web.Request) -> web.Response:
    await types_show(request)
    return reply({"extra_specs": {}})


async def availability_zones(request: web.Request) -> web.Response:
    return reply({"availabilityZoneInfo": [{"zoneName": AVAILABILITY_ZONE,
                                            "zoneState": {"available": True}}]})


async def services(request: web.Request) -> web.Response:
    if not ctx(request).is_admin:
        raise forbidden()
    host = request.app[HOST].split("#")[0]
    now = now_iso()
    rows = [{"binary": binary, "host": name, "zone": AVAILABILITY_ZONE, "status": "enabled",
             "state": "up", "updated_at": now, "disabled_reason": None, "cluster": None,
             "replication_status": "disabled", "active_backend_id": None, "frozen": False,
             "backend_state": "up"}
            for binary, name in (("cinder-scheduler", host.split("@")[0]),
                                 ("cinder-volume", host))]
    return reply({"services": rows})


async def pools(request: web.Request) -> web.Response:
    """GET /scheduler-stats/get_pools (admin): the one pool of this service's backend."""
    if not ctx(request).is_admin:
        raise forbidden()
    m = manager(request)
    pool = {"name": request.app[HOST]}
    if request.query.get("detail", "").strip().lower() in ("true", "1"):
        backend = m.backend
        pool["capabilities"] = {
            **await m.run_backend(backend.capacity),
            "volume_backend_name": backend.name, "storage_protocol": "iSCSI",
            "vendor_name": "Strato", "driver_version": "1.0",
            "thin_provisioning_support": True, "thick_provisioning_support": False,
            "multiattach": False, "reserved_percentage": 0, "pool_name": backend.name,
            "timestamp": now_iso()}
    return reply({"pools": [pool]})


async def extensions(request: web.Request) -> web.Response:
    return reply({"extensions": []})  # every feature is in the core API or a microversion


ROUTES = [
    ("GET", "/extensions", extensions),
    ("GET", "/scheduler-stats/get_pools", pools),
    ("GET", "/os-quota-sets/{target_project}", quota_show),
    ("GET", "/os-quota-sets/{target_project}/defaults", quota_defaults),
    ("PUT", "/os-quota-sets/{target_project}", quota_update),
    ("DELETE", "/os-quota-sets/{target_project}", quota_delete),
    ("GET", "/limits", limits),
    ("GET", "/types", types_index),
    ("GET", "/types/{type_id}", types_show),
    ("GET", "/types/{type_id}/extra_specs", types_extra_specs),
    ("GET", "/os-availability-zone", availability_zones),
    ("GET", "/os-services", services),
]
