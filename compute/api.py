"""The aiohttp adapter of the compute service: Nova v2.1 routes over compute/manager.py.

Requests are authenticated locally with identity's TokenValidator; store transactions run on one
db thread (strato.executors) so the event loop never waits on LMDB. NovaError becomes Nova's fault
body in one middleware; so do the router's own 404/405. Only microversion 2.1 is offered: a request
for another is 406, as Nova answers outside its range.
"""
from __future__ import annotations

import json
import logging
import os
import uuid

import aiohttp
from aiohttp import web

from compute import errors, flavors as flavors_mod, validation, views
from compute.clients import Services
from compute.manager import Caller, Manager
from compute.store import Store

log = logging.getLogger("compute")

DB_DEVICE = "db"
MICROVERSION = "2.1"
STORE = web.AppKey("store", Store)
EXECUTORS = web.AppKey("executors", object)
VALIDATOR = web.AppKey("validator", object)
MANAGER = web.AppKey("manager", Manager)
FLAVORS = web.AppKey("flavors", dict)
READ_METHODS = ("GET", "HEAD")


def db_path(config) -> str:
    return os.path.join(config.cluster.data_dir, "compute", "db")


def _json(body, status: int = 200) -> web.Response:
    return web.Response(status=status, body=json.dumps(body).encode(),
                        content_type="application/json")


def _requested_version(request: web.Request) -> str | None:
    header = request.headers.get("OpenStack-API-Version", "")
    parts = header.split()
    if len(parts) == 2 and parts[0].lower() == "compute":
        return parts[1]
    return request.headers.get("X-OpenStack-Nova-API-Version")


@web.middleware
async def nova_errors(request: web.Request, handler):
    request_id = f"req-{uuid.uuid4()}"
    try:
        wanted = _requested_version(request)
        if wanted is not None and wanted not in (MICROVERSION, "latest"):
            raise errors.NovaError(406, f"Version {wanted} is not supported by the API. "
                                        f"Minimum is {MICROVERSION} and maximum is "
                                        f"{MICROVERSION}.")
        response = await handler(request)
    except errors.NovaError as exc:
        log.info("%s %s -> %d: %s", request.method, request.path, exc.status, exc.message)
        response = _json(exc.body(), exc.status)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        # The router's own answers (no such path, method not allowed) in Nova's shape.
        response = _json(errors.NovaError(exc.status, exc.reason).body(), exc.status)
        if exc.status == 405 and "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        response = _json(errors.NovaError(500, "Unexpected API Error. Please report this "
                                               "at the Strato bug tracker.").body(), 500)
    response.headers["X-Openstack-Request-Id"] = request_id
    response.headers["OpenStack-API-Version"] = f"compute {MICROVERSION}"
    response.headers["X-OpenStack-Nova-API-Version"] = MICROVERSION
    response.headers["Vary"] = "OpenStack-API-Version, X-OpenStack-Nova-API-Version"
    return response


def _caller(request: web.Request, rule: str) -> Caller:
    from identity.validate import InvalidToken

    token = request.headers.get("X-Auth-Token")
    if not token:
        raise errors.unauthorized()
    try:
        auth = request.app[VALIDATOR].validate(token)
    except InvalidToken:
        raise errors.unauthorized() from None
    if auth.project_id is None or not auth.can_read or (
            request.method not in READ_METHODS and not auth.can_write):
        raise errors.forbidden(rule)
    return Caller(user_id=auth.user_id, project_id=auth.project_id, is_admin=auth.is_admin,
                  token=token)


async def _body(request: web.Request):
    raw = await request.read()
    if not raw.strip():
        raise errors.bad_request("The request body is empty or not a JSON object.")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise errors.bad_request("Malformed request body") from None


def _base(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


# -- discovery -------------------------------------------------------------------------------
def _version(request: web.Request) -> dict:
    return {"id": "v2.1", "status": "CURRENT", "version": MICROVERSION,
            "min_version": MICROVERSION, "updated": "2013-07-23T11:33:21Z",
            "links": [{"rel": "self", "href": f"{_base(request)}/v2.1/"}],
            "media-types": [{"base": "application/json",
                             "type": "application/vnd.openstack.compute+json;version=2.1"}]}


async def versions(request: web.Request) -> web.Response:
    return _json({"versions": [_version(request)]})


async def version(request: web.Request) -> web.Response:
    return _json({"version": _version(request)})


# -- flavors ---------------------------------------------------------------------------------
async def list_flavors(request: web.Request) -> web.Response:
    _caller(request, "os_compute_api:os-flavor-manage:index")
    detail = request.path.endswith("/detail")
    view = views.flavor_detail if detail else views.flavor_summary
    # is_public (the SDK sends the literal "None"), minRam, minDisk: every flavor here is
    # public, so only the numeric minimums narrow the list.
    found = list(request.app[FLAVORS].values())
    for param, attr in (("minRam", "ram"), ("minDisk", "disk")):
        value = request.query.get(param)
        if value is not None:
            try:
                minimum = int(value)
            except ValueError:
                raise errors.bad_request(f"Invalid {param} filter [{value}]") from None
            found = [f for f in found if getattr(f, attr) >= minimum]
    return _json({"flavors": [view(f, _base(request)) for f in found]})


async def show_flavor(request: web.Request) -> web.Response:
    _caller(request, "os_compute_api:os-flavor-manage:show")
    flavor = flavors_mod.lookup(request.app[FLAVORS], request.match_info["flavor_id"])
    return _json({"flavor": views.flavor_detail(flavor, _base(request))})


async def flavor_extra_specs(request: web.Request) -> web.Response:
    _caller(request, "os_compute_api:os-flavor-extra-specs:index")
    flavors_mod.lookup(request.app[FLAVORS], request.match_info["flavor_id"])
    return _json({"extra_specs": {}})


# -- servers ---------------------------------------------------------------------------------
def _page(request: web.Request, found: list[dict]):
    marker, limit = request.query.get("marker"), request.query.get("limit")
    if marker is not None:
        index = next((i for i, s in enumerate(found) if s["id"] == marker), None)
        if index is None:
            raise errors.bad_request(f"marker [{marker}] not found")
        found = found[index + 1:]
    links = []
    if limit is not None:
        try:
            count = int(limit)
            if count < 0:
                raise ValueError
        except ValueError:
            raise errors.bad_request("limit param must be an integer") from None
        if len(found) > count:
            found = found[:count]
            if found:
                url = request.url.update_query(marker=found[-1]["id"])
                links = [{"rel": "next", "href": str(url)}]
    return found, links


async def list_servers(request: web.Request) -> web.Response:
    caller = _caller(request, "os_compute_api:servers:index")
    detail = request.path.endswith("/detail")
    all_tenants = request.query.get("all_tenants", "0").lower() not in ("0", "false", "no", "off")
    query = {k: request.query[k] for k in ("name", "status") if k in request.query}
    found = await request.app[MANAGER].list(caller, query, all_tenants)
    found, links = _page(request, found)
    view = views.server_detail if detail else views.server_summary
    body = {"servers": [view(s, _base(request)) for s in found]}
    if links:
        body["servers_links"] = links
    return _json(body)


async def show_server(request: web.Request) -> web.Response:
    caller = _caller(request, "os_compute_api:servers:show")
    server = await request.app[MANAGER].get(caller, request.match_info["server_id"])
    return _json({"server": views.server_detail(server, _base(request))})


async def create_server(request: web.Request) -> web.Response:
    caller = _caller(request, "os_compute_api:servers:create")
    req = validation.parse_create(await _body(request))
    server = await request.app[MANAGER].create(caller, req)
    body = {"id": server["id"], "links": views.server_summary(server, _base(request))["links"],
            "OS-DCF:diskConfig": "MANUAL", "security_groups": [{"name": "default"}]}
    return _json({"server": body}, 202)


async def update_server(request: web.Request) -> web.Response:
    caller = _caller(request, "os_compute_api:servers:update")
    changes = validation.parse_update(await _body(request))
    server = await request.app[MANAGER].update(caller, request.match_info["server_id"], changes)
    return _json({"server": views.server_detail(server, _base(request))})


async def delete_server(request: web.Request) -> web.Response:
    caller = _caller(request, "os_compute_api:servers:delete")
    await request.app[MANAGER].delete(caller, request.match_info["server_id"])
    return web.Response(status=204)


async def not_implemented_action(request: web.Request) -> web.Response:
    caller = _caller(request, "os_compute_api:servers:action")
    await request.app[MANAGER].get(caller, request.match_info["server_id"])
    raise errors.NovaError(501, "Server actions are not implemented by this compute service.")


# -- volume attachments ----------------------------------------------------------------------
async def list_attachments(request: web.Request) -> web.Response:
    caller = _caller(request, "os_compute_api:os-volumes-attachments:index")
    server = await request.app[MANAGER].get(caller, request.match_info["server_id"])
    return _json({"volumeAttachments": [views.attachment(server, v)
                                        for v in server["volumes"]]})


async def show_attachment(request: web.Request) -> web.Response:
    caller = _caller(request, "os_compute_api:os-volumes-attachments:show")
    server = await request.app[MANAGER].get(caller, request.match_info["server_id"])
    volume_id = request.match_info["volume_id"]
    entry = next((v for v in server["volumes"] if v["volume_id"] == volume_id), None)
    if entry is None:
        raise errors.not_found(f"Volume {volume_id} is not attached to server "
                               f"{server['id']}.")
    return _json({"volumeAttachment": views.attachment(server, entry)})


async def attach_volume(request: web.Request) -> web.Response:
    caller = _caller(request, "os_compute_api:os-volumes-attachments:create")
    volume_id, device = validation.parse_attach(await _body(request))
    server, entry = await request.app[MANAGER].attach(
        caller, request.match_info["server_id"], volume_id, device)
    return _json({"volumeAttachment": views.attachment(server, entry)})


async def detach_volume(request: web.Request) -> web.Response:
    caller = _caller(request, "os_compute_api:os-volumes-attachments:delete")
    await request.app[MANAGER].detach(caller, request.match_info["server_id"],
                                      request.match_info["volume_id"])
    return web.Response(status=202)


class _Db:
    """The manager's view of the store: every transaction on the one db thread."""

    def __init__(self, store: Store, executors):
        self._store, self._executors = store, executors

    async def read(self, fn):
        return await self._executors.run(DB_DEVICE, self._store.read, fn)

    async def write(self, fn):
        return await self._executors.run(DB_DEVICE, self._store.write, fn)


def create_app(config, *, store_path: str | None = None, driver=None) -> web.Application:
    from compute import drivers
    from identity.validate import TokenValidator
    from strato.executors import DeviceExecutors

    app = web.Application(middlewares=[nova_errors])
    app[FLAVORS] = flavors_mod.parse(config.compute.flavors)

    async def resources(app):
        app[STORE] = Store(store_path or db_path(config))
        app[EXECUTORS] = DeviceExecutors(1)  # one thread: the single writer
        app[VALIDATOR] = TokenValidator.from_config(config)
        session = aiohttp.ClientSession()
        virt = driver or drivers.load(config)
        app[MANAGER] = Manager(_Db(app[STORE], app[EXECUTORS]), Services(config, session),
                               virt, app[FLAVORS], config)
        await app[MANAGER].sync_power_states()
        yield
        await app[MANAGER].close()
        await virt.close()
        await session.close()
        app[EXECUTORS].close()
        app[STORE].close()
        app[VALIDATOR].close()

    app.cleanup_ctx.append(resources)
    r = app.router
    r.add_get("/", versions)
    r.add_get("/v2.1", version)
    r.add_get("/v2.1/", version)
    r.add_get("/v2.1/flavors", list_flavors)
    r.add_get("/v2.1/flavors/detail", list_flavors)
    r.add_get("/v2.1/flavors/{flavor_id}", show_flavor)
    r.add_get("/v2.1/flavors/{flavor_id}/os-extra_specs", flavor_extra_specs)
    r.add_get("/v2.1/servers", list_servers)
    r.add_get("/v2.1/servers/detail", list_servers)
    r.add_post("/v2.1/servers", create_server)
    r.add_get("/v2.1/servers/{server_id}", show_server)
    r.add_put("/v2.1/servers/{server_id}", update_server)
    r.add_delete("/v2.1/servers/{server_id}", delete_server)
    r.add_post("/v2.1/servers/{server_id}/action", not_implemented_action)
    r.add_get("/v2.1/servers/{server_id}/os-volume_attachments", list_attachments)
    r.add_post("/v2.1/servers/{server_id}/os-volume_attachments", attach_volume)
    r.add_get("/v2.1/servers/{server_id}/os-volume_attachments/{volume_id}", show_attachment)
    r.add_delete("/v2.1/servers/{server_id}/os-volume_attachments/{volume_id}", detach_volume)
    return app
