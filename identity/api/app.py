"""The identity application: middlewares (error boundary first, then token check), resources
owned by cleanup contexts, and the routes of the handler modules."""
from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from identity import store as store_mod
from identity.api import assignments, auth, common, credentials, resources
from identity.catalog import host_for
from identity.errors import IdentityError, NotFound
from identity.token_service import TokenService
from identity.tokens import InvalidToken
from identity.validate import TokenValidator
from strato.executors import DeviceExecutors

log = logging.getLogger(__name__)

ROTATION_CHECK_SECONDS = 60.0


@web.middleware
async def error_boundary(request: web.Request, handler):
    """Every failure leaves as Keystone's JSON error document; nothing else escapes."""
    try:
        return await handler(request)
    except IdentityError as exc:
        if exc.status >= 500:
            log.error("%s %s: %s", request.method, request.path, exc.message)
        return common.json_response(exc.body(), status=exc.status,
                                    headers={"WWW-Authenticate": "Keystone uri=\"%s\""
                                             % request.app[common.BASE_URL]}
                                    if exc.status == 401 else None)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        err = IdentityError(exc.reason or "error", status=exc.status)
        return common.json_response(err.body(), status=exc.status)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        err = IdentityError("An unexpected error prevented the server from fulfilling your "
                            "request.", status=500)
        return common.json_response(err.body(), status=500)


@web.middleware
async def token_check(request: web.Request, handler):
    """Attach the caller's AuthContext when X-Auth-Token is valid. Handlers decide whether they
    need one (policy.require_*), so discovery and POST /v3/auth/tokens stay open; a token that is
    present but invalid is refused everywhere except where authentication happens."""
    token = request.headers.get("X-Auth-Token")
    if token:
        try:
            request["auth_context"] = request.app[common.VALIDATOR].validate(token)
        except InvalidToken as exc:
            if not auth.is_open(request):
                raise IdentityError(f"The request you have made requires authentication: "
                                    f"{exc}.", status=401) from None
    return await handler(request)


async def _not_found(request: web.Request):
    raise NotFound(f"Could not find resource: {request.path}.")


def create_app(config) -> web.Application:
    app = web.Application(middlewares=[error_boundary, token_check], client_max_size=common.MAX_BODY)
    section = config.identity
    app[common.CONFIG] = config
    app[common.BASE_URL] = f"http://{host_for(section.bind_ip, section.public_host)}:{section.port}"
    app.cleanup_ctx.append(_resources)
    app.cleanup_ctx.append(_key_rotation)
    auth.add_routes(app)
    resources.add_routes(app)
    assignments.add_routes(app)
    credentials.add_routes(app)
    app.router.add_route("*", "/{tail:.*}", _not_found)
    return app


async def _resources(app: web.Application):
    config = app[common.CONFIG]
    data_dir = config.cluster.data_dir
    executors = DeviceExecutors(4)
    app[common.EXECUTORS] = executors
    loop = asyncio.get_running_loop()
    app[common.STORE] = await loop.run_in_executor(
        executors.pool(common.POOL), store_mod.Store, store_mod.db_path_for(data_dir))
    app[common.TOKENS] = await loop.run_in_executor(
        executors.pool(common.POOL), TokenService, data_dir, config.identity.token_ttl,
        config.identity.key_rotation_hours)
    # Identity checks tokens with the very library other services use. It revokes, so it must
    # see each revocation at once (interval 0). Keys need no eager check: a rotation promotes
    # the staged key the validator already holds, and a failed open reloads the key set.
    app[common.VALIDATOR] = TokenValidator(data_dir, revocation_check_interval=0.0,
                                           ec2_cache_seconds=0.0)
    yield
    app[common.VALIDATOR].close()
    app[common.STORE].close()
    executors.close()


async def _key_rotation(app: web.Application):
    tokens: TokenService = app[common.TOKENS]
    pool = app[common.EXECUTORS]

    async def loop_forever():
        interval = min(ROTATION_CHECK_SECONDS, tokens.rotation_seconds / 4)
        while True:
            try:
                await pool.run(common.POOL, tokens.rotate_if_due)
            except Exception:
                log.exception("Fernet key rotation failed")
            await asyncio.sleep(interval)

    task = asyncio.create_task(loop_forever())
    yield
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
