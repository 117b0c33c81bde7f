"""The proxy application: create_app(config) builds the aiohttp app serving Swift v1 (and S3).

Middleware order (outermost first):
  1. errors    - SwiftError -> its status and short body; anything unexpected -> 500, logged once.
  2. s3        - the S3 extension point: a request that looks like S3 (AWS Authorization header,
                 X-Amz-Algorithm/X-Amz-Credential query, or a path outside /v1/, /auth/, /info,
                 /healthcheck) goes to app[S3_HANDLER], or gets a 501 NotImplemented XML error.
  3. swift     - everything else: /auth/v1.0, /info, /healthcheck, /v1/<account>[/<c>[/<o>]].
Resources (client session, rings, expirer) are created and closed in cleanup_ctx.
"""
from __future__ import annotations

import logging
import time

import aiohttp
from aiohttp import web

from proxy import account_acl
from proxy import auth as auth_mod
from proxy import bulk_upload
from proxy import etag_quoter
from proxy import cors
from proxy import limits
from proxy import formpost, staticweb, tempurl
from proxy.backend import Backend, node_session
from proxy.context import AUTH, BACKGROUND, CONFIG, CORE, S3_HANDLER, Ctx
from proxy.core import SwiftCore
from proxy.errors import SwiftError
from proxy.handlers import account as account_h
from proxy.handlers import container as container_h
from proxy.handlers import misc
from proxy.handlers.common import no_content
from proxy.handlers import obj as obj_h
from proxy.nodes import ErrorLimiter
from proxy.request_ids import new_request_id

log = logging.getLogger("strato.proxy")

SWIFT_PREFIXES = ("/v1/", "/v1.0/", "/auth/", "/info", "/healthcheck")


def s3_signed(headers, query) -> bool:
    """Whether a request carries an S3 signature (Authorization header or presigned query)."""
    if headers.get("Authorization", "").startswith(("AWS4-HMAC-SHA256", "AWS ")):
        return True
    return "X-Amz-Algorithm" in query or "X-Amz-Credential" in query or "AWSAccessKeyId" in query


def is_s3_request(path: str, headers, query) -> bool:
    """Whether a request belongs to the S3 API rather than Swift (pure, see module docstring)."""
    if s3_signed(headers, query):
        return True
    if path in ("/info", "/healthcheck", "/v1", "/v1/", "/auth") or path.startswith("//"):
        return False  # Swift's own answers (a bare version is 412, '//...' a 404)
    return not path.startswith(SWIFT_PREFIXES)


def s3_not_implemented(path: str) -> web.Response:
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NotImplemented</Code>'
            "<Message>The S3 API is not available on this endpoint yet.</Message>"
            f"<Resource>{_xml_escape(path)}</Resource>"
            f"<RequestId>{new_request_id()}</RequestId></Error>")
    return web.Response(status=501, body=body.encode(), content_type="application/xml")


def _xml_escape(text: str) -> str:
    from xml.sax.saxutils import escape
    return escape(text)


@web.middleware
async def error_middleware(request: web.Request, handler):
    try:
        response = await handler(request)
        if response.status == 204 and type(response) is web.Response and not response.prepared:
            response = no_content(response)
        return response
    except SwiftError as exc:
        headers = dict(exc.headers)
        headers.setdefault("Content-Type", "text/html; charset=UTF-8")
        if request.method == "HEAD":
            headers["Content-Length"] = str(len(exc.body))
            return web.Response(status=exc.status, headers=headers)
        return web.Response(status=exc.status, body=exc.body, headers=headers)
    except web.HTTPException:
        raise
    except (ConnectionResetError, aiohttp.ClientConnectionResetError):
        raise
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return web.Response(status=500, text="An error occurred while processing the request.")


@web.middleware
async def s3_middleware(request: web.Request, handler):
    if is_s3_request(request.path, request.headers, request.query):
        s3 = request.app.get(S3_HANDLER)
        if s3 is None:
            return s3_not_implemented(request.path)
        return await s3(request)
    return await handler(request)


async def swift_dispatch(request: web.Request) -> web.StreamResponse:
    path = request.path
    if path == "/info":
        return await misc.info(request)
    if path == "/healthcheck":
        return await misc.healthcheck(request)
    if path in ("/auth/v1.0", "/auth/v1.0/", "/v1.0"):
        return await misc.auth_v1(request)
    if path in ("/v1", "/v1/", "/v1.0/"):
        raise SwiftError(412, "Bad URL")
    version, account, container, obj = limits.split_path(request.raw_path)
    if version not in limits.VALID_API_VERSIONS:
        raise SwiftError(412, "Invalid API version")
    limits.check_names(account, container, obj)
    app = request.app
    auth = app[AUTH]
    core = app[CORE]
    if request.method == "OPTIONS":
        return await _options(core, request, account, container)
    if formpost.applies(request, container):  # before auth, as in Swift
        return await _form_post(request, version, account, container, obj)
    tempurl_used = False
    if tempurl.applies(request.query, request.method, container, obj):
        identity = await _tempurl_identity(core, request, account, container, obj)
        tempurl_used = True
    else:
        identity = auth.authenticate(request.headers)
        # Account ACLs: a non-owner's grant on this account (proxy/account_acl.py).
        identity = await account_acl.resolve(core, identity, account)
    ctx = Ctx(request, core, auth, identity, version, account, container, obj,
              app[CONFIG].proxy.max_file_size, tempurl_used)
    origin = request.headers.get("Origin")
    if origin and container is not None:
        # Actual CORS request: the answer (even an error) carries the container's CORS headers.
        try:
            response = await _route(ctx)
        except SwiftError as exc:
            await _add_cors(core, account, container, origin, exc.headers, exc.headers.keys())
            raise
        extra = {}
        await _add_cors(core, account, container, origin, extra, response.headers.keys())
        if response.prepared:
            return response
        response.headers.update(extra)
        return response
    return await _route(ctx)


async def _route(ctx: Ctx) -> web.StreamResponse:
    if staticweb.applies(ctx):  # anonymous (or X-Web-Mode) reads of a web-enabled container
        response = await staticweb.serve(ctx, _route_api)
        if response is not None:
            return response
    return await _route_api(ctx)


async def _route_api(ctx: Ctx) -> web.StreamResponse:
    # Swift's bulk middleware answers these on any path of the account (proxy/bulk_upload.py).
    if "bulk-delete" in ctx.query and ctx.method in ("POST", "DELETE"):
        return await account_h.bulk_delete(ctx)
    if "extract-archive" in ctx.query and ctx.method == "PUT":
        return await bulk_upload.extract(ctx, obj_h.check_quotas)
    if ctx.obj is not None:
        return await obj_h.handle(ctx, before_send=_cors_hook(ctx))
    if ctx.container is not None:
        return await container_h.handle(ctx)
    return await account_h.handle(ctx)


def _cors_hook(ctx: Ctx):
    """Streamed object answers are prepared inside the handler: add CORS headers just before."""
    origin = ctx.headers.get("Origin")
    if not origin:
        return None

    async def hook(headers):
        await _add_cors(ctx.core, ctx.account, ctx.container, origin, headers, list(headers.keys()))
    return hook


async def _add_cors(core, account, container, origin, headers, names) -> None:
    info = await core.container_info(account, container)
    meta = info.meta("container") if info.exists else {}
    if cors.origin_allowed(origin, meta):
        headers.update(cors.response_headers(origin, meta, list(names)))


async def _options(core, request: web.Request, account: str, container: str | None):
    """OPTIONS: a CORS preflight checked against the container's settings, else the Allow list."""
    origin = request.headers.get("Origin")
    method = request.headers.get("Access-Control-Request-Method")
    if not origin:
        return web.Response(status=200, headers={"Allow": cors.ALLOWED_METHODS})
    if method not in cors.ALLOWED_METHODS.split(", "):
        raise SwiftError(401, "Unauthorized")
    meta = {}
    if container is not None:
        info = await core.container_info(account, container)
        meta = info.meta("container") if info.exists else {}
    if not cors.origin_allowed(origin, meta):
        raise SwiftError(401, "Unauthorized")
    return web.Response(status=200, headers=cors.preflight_headers(
        origin, request.headers.get("Access-Control-Request-Headers"), meta))


async def _tempurl_keys(core, account: str, container: str) -> tuple[list, list]:
    """(account keys, container keys): X-(Account|Container)-Meta-Temp-URL-Key(-2)."""
    ainfo = await core.account_info(account)
    meta = ainfo.meta("account") if ainfo.exists else {}
    account_keys = [meta[k] for k in ("temp-url-key", "temp-url-key-2") if meta.get(k)]
    cinfo = await core.container_info(account, container)
    meta = cinfo.meta("container") if cinfo.exists else {}
    container_keys = [meta[k] for k in ("temp-url-key", "temp-url-key-2") if meta.get(k)]
    return account_keys, container_keys


async def _form_post(request: web.Request, version: str, account: str, container: str,
                     prefix: str | None) -> web.Response:
    """A browser form POST (proxy/formpost.py): each file becomes an object PUT as the
    account's owner, once the form's signature checked out with a TempURL key."""
    app = request.app
    core, auth, max_size = app[CORE], app[AUTH], app[CONFIG].proxy.max_file_size
    account_keys, container_keys = await _tempurl_keys(core, account, container)

    async def put_file(name: str, headers, body) -> web.StreamResponse:
        try:
            limits.check_names(account, container, name)
            identity = auth_mod.Identity.for_tempurl(".formpost", account, time.time() + 60)
            sub = formpost.sub_request(request, account, container, name, headers)
            ctx = Ctx(sub, core, auth, identity, version, account, container, name, max_size,
                      body=body)
            return await obj_h.handle(ctx)
        except SwiftError as exc:  # the file's answer, which the form's answer reports
            return web.Response(status=exc.status, body=exc.body)

    return await formpost.serve(request, request.path, prefix, account_keys + container_keys,
                                put_file)


async def _tempurl_identity(core, request, account, container, obj):
    """A TempURL stands in for the account's owner, for this one object and method."""
    account_keys, container_keys = await _tempurl_keys(core, account, container)
    key = tempurl.check(request.query, request.method, account, container, obj,
                        account_keys + container_keys)
    if request.method in ("PUT", "POST") and ("X-Object-Manifest" in request.headers
                                              or "X-Symlink-Target" in request.headers):
        raise SwiftError(400, "TempURL may not create manifests or symlinks")
    # A container key reaches that container only (large-object segments included).
    user = ".tempurl" if key in account_keys else ".tempurl-container"
    return auth_mod.Identity.for_tempurl(user, account, time.time() + 60)


async def _trans_id(request: web.Request, response: web.StreamResponse) -> None:
    """Every Swift answer names its transaction, as Swift's catch_errors middleware does."""
    if "X-Trans-Id" not in response.headers:
        # Swift's shape (tx + 21 hex digits + '-' + 10 hex digits of the time) around the proxy's
        # one request id helper (per-process random prefix + counter: a uuid4 per answer cost
        # ~1.8 % of a 4 KiB PUT's proxy CPU).
        trans = f"tx{new_request_id().lower():0>21}-{int(time.time()):010x}"
        response.headers["X-Trans-Id"] = trans
        response.headers["X-Openstack-Request-Id"] = trans
    # An explicit "Connection: keep-alive" is answered in kind, as Swift's server does (aiohttp
    # only names the connection's fate for HTTP/1.0 or when closing).
    if (request.headers.get("Connection", "").lower() == "keep-alive" and request.keep_alive
            and "Connection" not in response.headers):
        response.headers["Connection"] = "keep-alive"


def _rings_factory(config):
    from proxy.rings import Rings
    return Rings.from_config(config)


def create_app(config, *, rings=None, run_expirer: bool = True) -> web.Application:
    """The proxy app. `rings` (an object with .account/.container/.object rings) defaults to
    watching <data_dir>/rings; run_expirer=False leaves the expiring-objects task off."""
    from proxy.domain_remap import domain_remap_middleware  # Host names the account/container
    app = web.Application(middlewares=[error_middleware, domain_remap_middleware, s3_middleware],
                          handler_args={"max_field_size": 16384, "max_line_size": 16384,
                                        "auto_decompress": False})
    app[CONFIG] = config
    from proxy.s3.handler import make_handler  # the S3 API shares the port (proxy/s3/)
    app[S3_HANDLER] = make_handler(config)
    app[BACKGROUND] = []
    key = auth_mod.signing_key(config.cluster.hash_path_prefix, config.cluster.hash_path_suffix,
                               config.proxy.auth_secret)
    app[AUTH] = auth_mod.TempAuth(auth_mod.parse_users(config.proxy.users), key,
                                  config.proxy.token_ttl)
    from proxy.keystone import with_keystone  # identity (Keystone) tokens beside config users
    app[AUTH] = with_keystone(config, app[AUTH])

    async def resources(app: web.Application):
        session = node_session()
        the_rings = rings if rings is not None else _rings_factory(config)
        limiter = ErrorLimiter(config.proxy.error_limit_count, config.proxy.error_limit_seconds)
        backend = Backend(session, limiter, config.proxy.conn_timeout, config.proxy.node_timeout,
                          put_footer=config.proxy.put_footer)
        app[CORE] = SwiftCore(backend, the_rings, autocreate=config.proxy.account_autocreate,
                              info_ttl=config.proxy.info_cache_ttl)
        if run_expirer:
            from proxy.expirer import Expirer
            expirer = Expirer(app[CORE], config.proxy.expirer_interval)
            app[BACKGROUND].append(expirer.start())
        try:
            yield
        finally:
            for task in app[BACKGROUND]:
                task.cancel()
            for task in app[BACKGROUND]:
                try:
                    await task
                except BaseException:  # noqa: BLE001 - shutting down
                    pass
            backend.close()  # the node pool's idle connections (proxy/nodeconn.py)
            await session.close()
            if rings is None:
                the_rings.close()

    app.on_response_prepare.append(_trans_id)
    app.on_response_prepare.append(etag_quoter.on_prepare)  # quoted ETags when asked
    app.cleanup_ctx.append(resources)
    # [\s\S]: names may contain newlines (percent-encoded); ".*" would leave them to a bare 404.
    app.router.add_route("*", r"/{tail:[\s\S]*}", swift_dispatch)
    return app
