"""The volume API application: create_app(config) builds it; middlewares in one clear order.

Order, outermost first: errors (every failure leaves as Cinder's JSON fault body, and each response
gets a request id), microversion (parse, refuse, echo), auth (the RequestContext). Every route is
served both under /v3/{project_id} and project-less under /v3 (the post-3.67 form).
"""
from __future__ import annotations

import logging
import os
import uuid

from aiohttp import web

from blockserver import quotas
from blockserver.api import attachments, microversion, misc, snapshots, volumes
from blockserver.api.auth import AUTH, Authenticator, context_from_request
from blockserver.api.common import CTX_KEY, HOST, MANAGER, VERSION_KEY, reply
from blockserver.backends import build as build_backend
from blockserver.context import RequestContext
from blockserver.errors import ApiError
from blockserver.manager import VolumeManager
from blockserver.store import Store

log = logging.getLogger("blockserver.api")
MAX_BODY = 1 << 20  # no Cinder request body comes near 1 MiB
DISCOVERY = {"/", "/v3", "/v3/"}
MICROVERSION_HEADER = "OpenStack-API-Version"


@web.middleware
async def error_middleware(request: web.Request, handler):
    request_id = f"req-{uuid.uuid4()}"
    try:
        response = await handler(request)
    except ApiError as exc:
        if exc.status >= 500:
            log.error("%s %s: %s", request.method, request.path, exc.message)
        response = reply(exc.body(), exc.status)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = {404: "The resource could not be found.",
                   405: "The method is not allowed for this resource.",
                   413: "Request is too large."}.get(exc.status, exc.reason)
        err = ApiError(exc.status, message)
        response = reply(err.body(), exc.status)
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        err = ApiError(500, "The server has either erred or is incapable of performing the "
                            "requested operation.")
        response = reply(err.body(), 500)
    response.headers["X-Openstack-Request-Id"] = request_id
    version = request.get(VERSION_KEY)
    if version is not None and MICROVERSION_HEADER not in response.headers:
        response.headers[MICROVERSION_HEADER] = f"volume {microversion.text(version)}"
        response.headers["Vary"] = MICROVERSION_HEADER
    return response


@web.middleware
async def microversion_middleware(request: web.Request, handler):
    if request.path in DISCOVERY:
        return await handler(request)
    version = microversion.parse(request.headers.get(MICROVERSION_HEADER),
                                 request.headers.get("X-OpenStack-Volume-API-Version"))
    request[VERSION_KEY] = version
    response = await handler(request)
    response.headers[MICROVERSION_HEADER] = f"volume {microversion.text(version)}"
    response.headers["Vary"] = MICROVERSION_HEADER
    return response


@web.middleware
async def auth_middleware(request: web.Request, handler):
    if request.path in DISCOVERY:
        return await handler(request)
    ctx = context_from_request(request)
    request[CTX_KEY] = RequestContext(ctx.project_id, ctx.user_id, ctx.roles, ctx.is_admin,
                                      request[VERSION_KEY])
    return await handler(request)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", misc.root)
    app.router.add_get("/v3", misc.v3_root)
    app.router.add_get("/v3/", misc.v3_root)
    tables = volumes.ROUTES + snapshots.ROUTES + attachments.ROUTES + misc.ROUTES
    # Project-less first: a project id never equals a collection name, but a volume name might
    # equal "limits" in /v3/volumes/limits.
    for prefix in ("/v3", "/v3/{project_id}"):
        for method, path, handler in tables:
            app.router.add_route(method, prefix + path, handler)


def default_volume_dir(config) -> str:
    return config.blockserver.volume_dir or os.path.join(config.cluster.data_dir, "volumes")


def db_path(config) -> str:
    return os.path.join(config.cluster.data_dir, "blockserver", "db")


def create_app(config, *, exports=None, backend=None) -> web.Application:
    """The volume API. `exports` (the iSCSI side) is given by the service; without it attaching
    with a connector answers 503. `backend` overrides the configured one (tests)."""
    section = config.blockserver
    app = web.Application(client_max_size=MAX_BODY, middlewares=[
        error_middleware, microversion_middleware, auth_middleware])
    chosen = backend or build_backend(config)
    app[HOST] = f"{section.host_name}@{chosen.name}#{chosen.name}"

    async def auth_ctx(app: web.Application):
        app[AUTH] = Authenticator(section.auth_strategy, config.cluster.data_dir)
        yield
        app[AUTH].close()

    async def manager_ctx(app: web.Application):
        store = Store(db_path(config))
        manager = VolumeManager(store, chosen, quota_defaults=quotas.defaults_from_config(config),
                                exports=exports, host=app[HOST],
                                backend_threads=section.backend_threads)
        try:
            await manager.start()
        except BaseException:
            await manager.close()
            store.close()
            raise
        app[MANAGER] = manager
        yield
        await manager.close()
        store.close()

    app.cleanup_ctx.append(auth_ctx)
    app.cleanup_ctx.append(manager_ctx)
    add_routes(app)
    return app
