"""What every handler shares: typed app keys, the request context, JSON in and out."""
from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from blockserver.context import RequestContext
from blockserver.errors import bad_request
from blockserver.manager import VolumeManager

MANAGER = web.AppKey("manager", VolumeManager)
HOST = web.AppKey("host", str)
# Request-scoped, set by the middlewares: the caller and the negotiated microversion.
CTX_KEY = web.RequestKey("ctx", RequestContext)
VERSION_KEY = web.RequestKey("microversion", tuple)


def ctx(request: web.Request) -> RequestContext:
    return request[CTX_KEY]


def manager(request: web.Request) -> VolumeManager:
    return request.app[MANAGER]


def base_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def reply(body: Any, status: int = 200) -> web.Response:
    if body is None:
        return web.Response(status=status)
    return web.json_response(body, status=status, dumps=lambda o: json.dumps(o, separators=(",", ":")))


async def read_json(request: web.Request) -> Any:
    raw = await request.read()
    if not raw:
        raise bad_request("Malformed request body: the body is empty.")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise bad_request("Malformed request body: not valid JSON.") from None


async def read_object(request: web.Request, key: str) -> dict:
    """The object under `key` in the JSON body ({"volume": {...}}); 400 if it is missing."""
    body = await read_json(request)
    if not isinstance(body, dict) or not isinstance(body.get(key), dict):
        raise bad_request(f"Missing required element '{key}' in request body.")
    return body[key]


async def read_action(request: web.Request) -> tuple[str, Any]:
    """(name, arguments) of an action body ({"os-extend": {...}}); 400 unless exactly one key."""
    body = await read_json(request)
    if not isinstance(body, dict) or len(body) != 1:
        raise bad_request("Malformed request body: an action is an object with exactly one key.")
    (name, args), = body.items()
    return name, args


async def read_metadata(request: web.Request) -> dict:
    """The {"metadata": {...}} body of a metadata create/replace; 400 if malformed."""
    body = await read_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("metadata"), dict):
        raise bad_request("Malformed request body: expected {\"metadata\": {...}}.")
    return body["metadata"]


def query(request: web.Request) -> dict[str, str]:
    return {k: v for k, v in request.query.items()}


def flag(request: web.Request, name: str) -> bool:
    """Query booleans arrive as True/False/true/1 (`cascade=False&force=False`)."""
    return request.query.get(name, "").strip().lower() in ("true", "1", "yes", "on")
