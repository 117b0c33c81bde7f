"""The account role: account records, container rows (from container servers) and listings."""
from __future__ import annotations

from aiohttp import web

from strato.timestamps import Timestamp

from . import db as dbmod
from . import listings
from .app import Node, Target, require_timestamp
from .container_role import _normal, request_meta
from .errors import HTTPError
from .policy import HEADER as POLICY_HEADER
from .policy import account_policy_headers

META_PREFIXES = ("X-Account-Meta-", "X-Account-Sysmeta-")
META_HEADERS = ("X-Account-Access-Control",)


def info_headers(record: dict, node: Node | None = None) -> dict:
    headers = {
        "X-Account-Container-Count": str(record["containers"]),
        "X-Account-Object-Count": str(record["count"]),
        "X-Account-Bytes-Used": str(record["bytes"]),
        "X-Timestamp": _normal(record["created_at"]),
        "X-PUT-Timestamp": _normal(record["put_ts"]),
        "X-Backend-Timestamp": record["created_at"],
        "X-Backend-Put-Timestamp": record["put_ts"],
        "X-Backend-Delete-Timestamp": record["delete_ts"],
        "X-Backend-Status-Changed-At": record["status_changed_at"],
    }
    if node is not None:
        headers.update(account_policy_headers(node, record))
    headers.update(dbmod.live_meta(record["meta"]))
    return headers


def _meta(request):
    return request_meta(request, META_HEADERS, META_PREFIXES)


def _ts_header(request, name: str, default: str) -> str:
    value = request.headers.get(name)
    if value is None:
        return default
    try:
        return Timestamp.parse(value).internal
    except ValueError:
        raise HTTPError(400, f"Invalid {name}") from None


async def put(node: Node, request: web.Request, target: Target) -> web.StreamResponse:
    timestamp = require_timestamp(request)
    await node.check_device(target.device, writing=True)
    db = await node.db(target.device)
    if target.container is not None:
        try:
            count = int(request.headers.get("X-Object-Count", "0"))
            nbytes = int(request.headers.get("X-Bytes-Used", "0"))
        except ValueError:
            raise HTTPError(400, "Invalid X-Object-Count or X-Bytes-Used") from None
        policy = request.headers.get(POLICY_HEADER, "0").strip()
        if not policy.isdigit():
            raise HTTPError(400, f"Invalid {POLICY_HEADER}")
        row = [target.container, _ts_header(request, "X-Put-Timestamp", dbmod.ZERO),
               _ts_header(request, "X-Delete-Timestamp", dbmod.ZERO), count, nbytes,
               timestamp.internal, int(policy)]
        await node.io(target.device, db.merge_container_rows, target.account, [row], True,
                      target.partition)
        return web.Response(status=201)
    created, _record = await node.io(target.device, db.account_put, target.account,
                                     timestamp.internal, _meta(request), target.partition)
    return web.Response(status=201 if created else 202)


async def post(node: Node, request: web.Request, target: Target) -> web.StreamResponse:
    if target.container is not None:
        raise HTTPError(400, "Invalid path")
    timestamp = require_timestamp(request)
    await node.check_device(target.device, writing=True)
    db = await node.db(target.device)
    await node.io(target.device, db.account_post, target.account, timestamp.internal,
                  _meta(request))
    return web.Response(status=204)


async def delete(node: Node, request: web.Request, target: Target) -> web.StreamResponse:
    if target.container is not None:
        raise HTTPError(400, "Invalid path")
    timestamp = require_timestamp(request)
    await node.check_device(target.device)
    db = await node.db(target.device)
    existed, _record = await node.io(target.device, db.account_delete, target.account,
                                     timestamp.internal)
    return web.Response(status=204 if existed else 404)


async def get(node: Node, request: web.Request, target: Target) -> web.StreamResponse:
    if target.container is not None:
        raise HTTPError(400, "Invalid path")
    query = listings.query_of(request.rel_url.raw_query_string)
    params = listings.parse_params(query)
    media = listings.negotiate(query.get("format"), request.headers.get("Accept"))
    await node.check_device(target.device)
    db = await node.db(target.device)
    record = await node.io(target.device, db.account_info, target.account)
    if record is None:
        raise HTTPError(404)
    headers = info_headers(record, node)
    if dbmod.is_deleted(record):
        raise HTTPError(404, headers={"X-Account-Status": "Deleted",
                                      **{k: v for k, v in headers.items()
                                         if k.startswith("X-Backend")}})
    if request.method == "HEAD":
        headers["Content-Type"] = f"{media}; charset=utf-8"
        return web.Response(status=204, headers=headers)
    rows = await node.io(target.device, db.list_containers, target.account, **params.as_kwargs())
    for row in rows:  # each container row names its own storage policy, as Swift's do
        if "name" in row:
            index = row.pop("storage_policy_index", 0)
            row["storage_policy"] = node.policies.get(index, "Policy-%d" % index)
    status, body, content_type = listings.render(media, "account", target.account, rows)
    headers["Content-Type"] = content_type
    return web.Response(status=status, body=body if status == 200 else None, headers=headers)


async def replicate(node: Node, request: web.Request, target: Target) -> web.StreamResponse:
    """POST /replicate/account/d/p/a with JSON {"record": {...} | null, "rows": [[name, put_ts,
    delete_ts, count, bytes, stats_ts], ...]}: merge them, answer our record."""
    if target.container is not None:
        raise HTTPError(400, "Invalid path")
    try:
        body = await request.json()
        record, rows = body.get("record"), body.get("rows") or []
    except (ValueError, AttributeError):
        raise HTTPError(400, "Invalid replication body") from None
    await node.check_device(target.device, writing=True)
    db = await node.db(target.device)
    if record is not None:
        await node.io(target.device, db.merge_account_record, target.account, record)
    if rows:
        await node.io(target.device, db.merge_container_rows, target.account, rows, True,
                      target.partition)
    mine = await node.io(target.device, db.account_info, target.account)
    return web.json_response({"record": mine})


HANDLERS = {"PUT": put, "GET": get, "HEAD": get, "DELETE": delete, "POST": post,
            "REPLICATE": replicate}
