"""What every identity handler shares: typed app keys, JSON in and out, the executor."""
from __future__ import annotations

import json

from aiohttp import web

from identity.errors import BadRequest
from identity.tokens import AuthContext

MAX_BODY = 64 * 1024

CONFIG = web.AppKey("config", object)
STORE = web.AppKey("store", object)
EXECUTORS = web.AppKey("executors", object)
TOKENS = web.AppKey("tokens", object)
VALIDATOR = web.AppKey("validator", object)
BASE_URL = web.AppKey("base_url", str)

POOL = "identity"


async def run(request: web.Request, fn, *args, **kwargs):
    """Run blocking work (LMDB, argon2, file writes) on identity's executor."""
    return await request.app[EXECUTORS].run(POOL, fn, *args, **kwargs)


def ctx_of(request: web.Request) -> AuthContext | None:
    return request.get("auth_context")


def json_response(body, status: int = 200, headers: dict | None = None) -> web.Response:
    return web.Response(body=json.dumps(body).encode(), status=status, headers=headers,
                        content_type="application/json")


async def read_json(request: web.Request) -> dict:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise BadRequest("Request body is too large.", status=413)
    data = await request.content.read(MAX_BODY + 1)
    if len(data) > MAX_BODY:
        raise BadRequest("Request body is too large.", status=413)
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("Malformed JSON in request body.") from None
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    return body


def member(body: dict, key: str) -> dict:
    """body[key] as an object, or 400 naming the key (Keystone's wrapped resources)."""
    value = body.get(key)
    if not isinstance(value, dict):
        raise BadRequest(f"Invalid input for field '{key}': expected an object.")
    return value


def query_bool(value: str | None) -> bool | None:
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in ("", "true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise BadRequest(f"Invalid boolean in query: {value!r}.")
