"""The aiohttp adapter of the network service: Neutron v2.0 routes over network/plugin.py.

Requests are authenticated locally with identity's TokenValidator, bodies parsed by
network/validation.py, and every store transaction runs on one db thread (strato.executors), so
the event loop never waits on LMDB and writes are serialised. NeutronError becomes the wire answer
in one middleware; so do the router's own 404/405.
"""
from __future__ import annotations

import json
import logging
import os
import uuid

from aiohttp import web

from network import errors, plugin, quotas, validation
from network.store import Store

log = logging.getLogger("network")

COLLECTIONS = {"networks": "network", "subnets": "subnet", "ports": "port"}
DB_DEVICE = "db"

STORE = web.AppKey("store", Store)
EXECUTORS = web.AppKey("executors", object)
VALIDATOR = web.AppKey("validator", object)
READ_METHODS = ("GET", "HEAD")


def db_path(config) -> str:
    return os.path.join(config.cluster.data_dir, "network", "db")


def _json(body, status: int = 200) -> web.Response:
    return web.Response(status=status, body=json.dumps(body).encode(),
                        content_type="application/json")


@web.middleware
async def neutron_errors(request: web.Request, handler):
    request_id = f"req-{uuid.uuid4()}"
    try:
        response = await handler(request)
    except errors.NeutronError as exc:
        log.info("%s %s -> %d %s: %s", request.method, request.path, exc.status, exc.type,
                 exc.message)
        response = _json(exc.body(), exc.status)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        # The router's own answers (no such path, method not allowed) in Neutron's shape.
        name = {404: "HTTPNotFound", 405: "HTTPMethodNotAllowed",
                413: "HTTPRequestEntityTooLarge"}.get(exc.status, "HTTPError")
        response = _json(errors.NeutronError(exc.status, name, exc.reason).body(), exc.status)
        if exc.status == 405 and "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        response = _json(errors.NeutronError(500, "HTTPInternalServerError",
                                             "Request Failed: internal server error while "
                                             "processing your request.").body(), 500)
    response.headers["X-Openstack-Request-Id"] = request_id
    return response


def _caller(request: web.Request) -> plugin.Caller:
    from identity.validate import InvalidToken

    token = request.headers.get("X-Auth-Token")
    if not token:
        raise errors.unauthorized()
    try:
        # Cheap and cached (a dict lookup and a stat on a hit): it stays on the event loop.
        auth = request.app[VALIDATOR].validate(token)
    except InvalidToken:
        raise errors.unauthorized() from None
    if auth.project_id is None or not auth.can_read or (
            request.method not in READ_METHODS and not auth.can_write):
        raise errors.forbidden(_action(request))
    return plugin.Caller(project_id=auth.project_id, is_admin=auth.is_admin,
                         can_write=auth.can_write)


def _action(request: web.Request) -> str:
    """The policy rule Neutron would name: create_network, get_port, ..."""
    verb = {"POST": "create", "PUT": "update", "DELETE": "delete"}.get(request.method, "get")
    collection = request.match_info.get("collection")
    if collection:
        return f"{verb}_{COLLECTIONS[collection]}"
    return f"{verb}_quota" if request.path.startswith("/v2.0/quotas") else f"{verb}_extension"


async def _read(request: web.Request, fn):
    store = request.app[STORE]
    return await request.app[EXECUTORS].run(DB_DEVICE, store.read, fn)


async def _write(request: web.Request, fn):
    store = request.app[STORE]
    return await request.app[EXECUTORS].run(DB_DEVICE, store.write, fn)


async def _body(request: web.Request):
    raw = await request.read()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise errors.bad_request("Body contains invalid data") from None


def _fields(request: web.Request, record: dict) -> dict:
    # Repeated ?fields=a&fields=b: only those attributes, as Neutron answers.
    wanted = [f for f in request.query.getall("fields", []) if f]
    return {k: v for k, v in record.items() if k in wanted} if wanted else record


def _kind(request: web.Request) -> str:
    return COLLECTIONS[request.match_info["collection"]]


async def list_resources(request: web.Request) -> web.Response:
    caller, kind = _caller(request), _kind(request)
    query = {k: request.query.getall(k) for k in request.query.keys()}
    limit, marker = request.query.get("limit"), request.query.get("marker")

    def listing(txn):
        found = plugin.list_(txn, caller, kind, query)
        return plugin.page(txn, caller, kind, found, limit, marker)

    records, next_marker = await _read(request, listing)
    collection = request.match_info["collection"]
    body = {collection: [_fields(request, r) for r in records]}
    if next_marker is not None:
        # The SDK follows rel=next until a page has none.
        href = request.url.update_query(marker=next_marker)
        body[f"{collection}_links"] = [{"rel": "next", "href": str(href)}]
    return _json(body)


async def create_resource(request: web.Request) -> web.Response:
    caller, kind = _caller(request), _kind(request)
    body = await _body(request)
    collection = request.match_info["collection"]
    if isinstance(body, dict) and set(body) == {collection}:
        # Bulk create ({"ports": [{...}, ...]}): all in one transaction, or none.
        items = body[collection]
        if not isinstance(items, list) or not items:
            raise errors.bad_request(f"Unable to find '{kind}' in request body")
        many = [validation.parse(kind, {kind: item}, "POST", set()) for item in items]
        records = await _write(request, lambda txn: [plugin.CREATE[kind](txn, caller, attrs)
                                                     for attrs in many])
        return _json({collection: records}, 201)
    attrs = validation.parse(kind, body, "POST", set())
    record = await _write(request, lambda txn: plugin.CREATE[kind](txn, caller, attrs))
    return _json({kind: record}, 201)


async def show_resource(request: web.Request) -> web.Response:
    caller, kind = _caller(request), _kind(request)
    ident = request.match_info["id"]
    record = await _read(request, lambda txn: plugin.get(txn, caller, kind, ident))
    return _json({kind: _fields(request, record)})


async def update_resource(request: web.Request) -> web.Response:
    caller, kind = _caller(request), _kind(request)
    ident = request.match_info["id"]
    body = await _body(request)
    # Known attributes are those the resource shows; a missing resource is 404 before that.
    current = await _read(request, lambda txn: plugin.get(txn, caller, kind, ident))
    attrs = validation.parse(kind, body, "PUT", set(current))
    record = await _write(request, lambda txn: plugin.update(txn, caller, kind, ident, attrs))
    return _json({kind: record})


async def delete_resource(request: web.Request) -> web.Response:
    caller, kind = _caller(request), _kind(request)
    ident = request.match_info["id"]
    await _write(request, lambda txn: plugin.delete(txn, caller, kind, ident))
    return web.Response(status=204)


async def tags(request: web.Request) -> web.Response:
    """GET/PUT/POST/DELETE /v2.0/<coll>/<id>/tags[/<tag>] (Neutron's standard-attr tags)."""
    caller, kind = _caller(request), _kind(request)
    ident, one = request.match_info["id"], request.match_info.get("tag")
    method = request.method
    if one is not None:
        one = validation.tag("tag", one)
    if method == "GET":
        current = (await _read(request, lambda txn: plugin.get(txn, caller, kind, ident)))["tags"]
        if one is None:
            return _json({"tags": current})
        if one not in current:
            raise errors.NeutronError(404, "TagNotFound",
                                      f"Tag {one} could not be found for {kind} {ident}.")
        return web.Response(status=204)
    if method == "DELETE" and one is not None:
        def remove(txn):
            if one not in plugin.get(txn, caller, kind, ident)["tags"]:
                raise errors.NeutronError(404, "TagNotFound",
                                          f"Tag {one} could not be found for {kind} {ident}.")
            return plugin.change_tags(txn, caller, kind, ident, remove=[one])
        await _write(request, remove)
        return web.Response(status=204)
    if method == "DELETE":
        await _write(request, lambda txn: plugin.change_tags(txn, caller, kind, ident,
                                                             replace=[]))
        return web.Response(status=204)
    if one is not None:  # PUT .../tags/<tag>: add one
        await _write(request, lambda txn: plugin.change_tags(txn, caller, kind, ident,
                                                             add=[one]))
        return web.Response(status=201)
    wanted = validation.tags_body(await _body(request))
    if method == "PUT":
        result = await _write(request, lambda txn: plugin.change_tags(
            txn, caller, kind, ident, replace=wanted))
        return _json({"tags": result})
    result = await _write(request, lambda txn: plugin.change_tags(txn, caller, kind, ident,
                                                                  add=wanted))
    return _json({"tags": result}, 201)


def _base(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


async def versions(request: web.Request) -> web.Response:
    return _json({"versions": [{"id": "v2.0", "status": "CURRENT", "links": [
        {"rel": "self", "href": f"{_base(request)}/v2.0/"}]}]})


async def v2_root(request: web.Request) -> web.Response:
    return _json({"resources": [
        {"name": kind, "collection": coll,
         "links": [{"rel": "self", "href": f"{_base(request)}/v2.0/{coll}"}]}
        for coll, kind in COLLECTIONS.items()]})


async def list_extensions(request: web.Request) -> web.Response:
    _caller(request)
    return _json({"extensions": []})


async def show_extension(request: web.Request) -> web.Response:
    _caller(request)
    alias = request.match_info["alias"]
    raise errors.NeutronError(404, "HTTPNotFound",
                              f"Extension with alias {alias} does not exist")


async def list_quotas(request: web.Request) -> web.Response:
    _caller(request)
    return _json({"quotas": []})  # no project has quotas other than the defaults


async def show_quota(request: web.Request) -> web.Response:
    quotas.check_project(_caller(request), request.match_info["project_id"])
    return _json({"quota": quotas.limits()})


async def show_quota_details(request: web.Request) -> web.Response:
    project_id = request.match_info["project_id"]
    quotas.check_project(_caller(request), project_id)
    return _json({"quota": await _read(request, lambda txn: quotas.usage(txn, project_id))})


def create_app(config, *, store_path: str | None = None) -> web.Application:
    from identity.validate import TokenValidator
    from strato.executors import DeviceExecutors

    app = web.Application(middlewares=[neutron_errors])

    async def resources(app):
        app[STORE] = Store(store_path or db_path(config))
        app[EXECUTORS] = DeviceExecutors(1)  # one thread: the single writer
        app[VALIDATOR] = TokenValidator.from_config(config)
        yield
        app[EXECUTORS].close()
        app[STORE].close()
        app[VALIDATOR].close()

    app.cleanup_ctx.append(resources)
    colls = "{collection:networks|subnets|ports}"
    app.router.add_get("/", versions)
    app.router.add_get("/v2.0", v2_root)
    app.router.add_get("/v2.0/", v2_root)
    app.router.add_get("/v2.0/extensions", list_extensions)
    app.router.add_get("/v2.0/extensions/{alias}", show_extension)
    app.router.add_get("/v2.0/quotas", list_quotas)
    app.router.add_get("/v2.0/quotas/{project_id}", show_quota)
    app.router.add_get("/v2.0/quotas/{project_id}/default", show_quota)
    app.router.add_get("/v2.0/quotas/{project_id}/details", show_quota_details)  # the SDK's
    app.router.add_get("/v2.0/quotas/{project_id}/details.json", show_quota_details)
    app.router.add_get(f"/v2.0/{colls}", list_resources)
    app.router.add_post(f"/v2.0/{colls}", create_resource)
    app.router.add_get(f"/v2.0/{colls}/{{id}}", show_resource)
    app.router.add_put(f"/v2.0/{colls}/{{id}}", update_resource)
    app.router.add_delete(f"/v2.0/{colls}/{{id}}", delete_resource)
    for method in ("GET", "PUT", "POST", "DELETE"):
        app.router.add_route(method, f"/v2.0/{colls}/{{id}}/tags", tags)
    for method in ("GET", "PUT", "DELETE"):
        app.router.add_route(method, f"/v2.0/{colls}/{{id}}/tags/{{tag}}", tags)
    return app
