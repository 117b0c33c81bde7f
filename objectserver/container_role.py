"""The container role: container records, object rows and listings in the device's LMDB.

Every LMDB transaction runs on the device's executor. Changes of a container's put/delete
timestamps are reported to its account at once; object-row changes are coalesced (updates.py).
"""
from __future__ import annotations

import asyncio

from aiohttp import web

from strato.timestamps import Timestamp

from . import db as dbmod
from . import listings
from .app import Node, Target, require_timestamp
from .errors import HTTPError
from .policy import requested_policy
from .updates import split_targets

META_HEADERS = ("X-Container-Read", "X-Container-Write", "X-Container-Sync-Key",
                "X-Container-Sync-To", "X-Versions-Location", "X-History-Location")
META_PREFIXES = ("X-Container-Meta-", "X-Container-Sysmeta-")


def _title(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))


def request_meta(request: web.Request, keys=META_HEADERS, prefixes=META_PREFIXES) -> dict:
    out = {}
    for name, value in request.headers.items():
        title = _title(name)
        if title in keys or title.startswith(prefixes):
            out[title] = value
    return out


def _normal(ts: str) -> str:
    return Timestamp(ts).normal


def info_headers(record: dict) -> dict:
    headers = {
        "X-Container-Object-Count": str(record["count"]),
        "X-Container-Bytes-Used": str(record["bytes"]),
        "X-Timestamp": _normal(record["created_at"]),
        "X-PUT-Timestamp": _normal(record["put_ts"]),
        "X-Backend-Timestamp": record["created_at"],
        "X-Backend-Put-Timestamp": record["put_ts"],
        "X-Backend-Delete-Timestamp": record["delete_ts"],
        "X-Backend-Status-Changed-At": record["status_changed_at"],
        "X-Backend-Storage-Policy-Index": str(record.get("policy", 0)),
    }
    headers.update(dbmod.live_meta(record["meta"]))
    return headers


async def _db(node: Node, target: Target, writing: bool = False) -> dbmod.DeviceDB:
    await node.check_device(target.device, writing=writing)
    return await node.db(target.device)


async def _report(node: Node, target: Target, record: dict) -> None:
    """Tell the account now (bounded wait); leave it to the coalescing loop if that fails."""
    try:
        async with asyncio.timeout(node.storage.update_timeout):
            ok = await node.reporter.report_now(target.device, target.account, target.container,
                                                record)
    except TimeoutError:
        ok = False
    if not ok:
        node.reporter.mark(target.device, target.account, target.container)


async def put(node: Node, request: web.Request, target: Target) -> web.StreamResponse:
    timestamp = require_timestamp(request)
    if target.obj is not None:
        return await _put_row(node, request, target, timestamp)
    db = await _db(node, target, writing=True)
    account_targets = split_targets(request.headers, "X-Account-Host", "X-Account-Device",
                                    "X-Account-Partition")
    policy, default_policy = requested_policy(node, request)
    created, record = await node.io(target.device, db.container_put, target.account,
                                    target.container, timestamp.internal, request_meta(request),
                                    target.partition, account_targets, policy, default_policy)
    await _report(node, target, record)
    return web.Response(status=201 if created else 202,
                        headers={"X-Backend-Timestamp": timestamp.internal})


async def _put_row(node, request, target, timestamp) -> web.StreamResponse:
    headers = request.headers
    try:
        size = int(headers["X-Size"])
        content_type = headers["X-Content-Type"]
        etag = headers["X-Etag"]
    except (KeyError, ValueError):
        raise HTTPError(400, "X-Size, X-Content-Type and X-Etag are required") from None
    if size < 0:
        raise HTTPError(400, "Invalid X-Size")
    row = [target.obj, timestamp.internal, size, content_type, etag, 0]
    if not await merge_row(node, target.device, target.account, target.container, row):
        raise HTTPError(404)
    return web.Response(status=201)


async def merge_row(node: Node, device: str, account: str, container: str, row: list,
                    writing: bool = True) -> bool:
    """One object row [name, timestamp, size, content_type, etag, deleted] into this replica
    (group commit, newest wins); False when there is no such container. The one path of a row
    PUT/DELETE, whether it came over HTTP or from an object write in this process (updates.py).
    Raises HTTPError 507 for a device that is not ours, missing or (writing) full."""
    await node.check_device(device, writing=writing)
    record = await node.rows(device).merge(account, container, row)
    if record is None:
        return False
    node.reporter.mark(device, account, container)
    return True


async def delete(node: Node, request: web.Request, target: Target) -> web.StreamResponse:
    timestamp = require_timestamp(request)
    if target.obj is not None:
        row = [target.obj, timestamp.internal, 0, "", "", 1]
        if not await merge_row(node, target.device, target.account, target.container, row,
                               writing=False):
            raise HTTPError(404)
        return web.Response(status=204)
    db = await _db(node, target, writing=False)
    existed, record = await node.io(target.device, db.container_delete, target.account,
                                    target.container, timestamp.internal)
    await _report(node, target, record)
    return web.Response(status=204 if existed else 404)


async def post(node: Node, request: web.Request, target: Target) -> web.StreamResponse:
    if target.obj is not None:
        raise HTTPError(400, "Invalid path")
    timestamp = require_timestamp(request)
    db = await _db(node, target, writing=True)
    # as Swift's: a POST moves the put timestamp (the container's Last-Modified, and the account
    # row's) unless X-Backend-No-Timestamp-Update says not to
    bump = request.headers.get("X-Backend-No-Timestamp-Update", "").lower() not in listings.TRUE_VALUES
    await node.io(target.device, db.container_post, target.account, target.container,
                  timestamp.internal, request_meta(request), bump)
    if bump:
        node.reporter.mark(target.device, target.account, target.container)
    return web.Response(status=204)


async def get(node: Node, request: web.Request, target: Target) -> web.StreamResponse:
    if target.obj is not None:
        raise HTTPError(400, "Invalid path")
    query = listings.query_of(request.rel_url.raw_query_string)
    params = listings.parse_params(query)
    media = listings.negotiate(query.get("format"), request.headers.get("Accept"))
    db = await _db(node, target)
    record = await node.io(target.device, db.container_info, target.account, target.container)
    if record is None:
        raise HTTPError(404)
    headers = info_headers(record)
    if dbmod.is_deleted(record):
        raise HTTPError(404, headers={k: v for k, v in headers.items() if k.startswith("X-Backend")})
    if request.method == "HEAD":
        headers["Content-Type"] = f"{media}; charset=utf-8"
        return web.Response(status=204, headers=headers)
    rows = await node.io(target.device, db.list_objects, target.account, target.container,
                         **params.as_kwargs())
    rows = [listings.object_row(row, target.account) for row in rows]
    status, body, content_type = listings.render(media, "container", target.container, rows)
    headers["Content-Type"] = content_type
    return web.Response(status=status, body=body if status == 200 else None, headers=headers)


def valid_row(row) -> bool:
    """[name, timestamp, size, content_type, etag, deleted] with the types the database keeps
    (checked before a row joins a shared transaction, which one bad row would abort)."""
    if not isinstance(row, list) or len(row) != 6:
        return False
    name, timestamp, size, content_type, etag, deleted = row
    if not (isinstance(name, str) and name and isinstance(content_type, str)
            and isinstance(etag, str) and isinstance(timestamp, str)):
        return False
    if type(size) is not int or size < 0 or type(deleted) not in (int, bool):
        return False
    try:
        Timestamp(timestamp)
    except ValueError:
        return False
    return True


async def replicate(node: Node, request: web.Request, target: Target) -> web.StreamResponse:
    """POST /replicate/container/d/p/a/c with JSON {"record": {...} | null, "rows": [[name, timestamp,
    size, content_type, etag, deleted], ...]}: merge them (newest-wins), answer our record."""
    if target.obj is not None:
        raise HTTPError(400, "Invalid path")
    try:
        body = await request.json()
        record, rows = body.get("record"), body.get("rows") or []
    except (ValueError, AttributeError):
        raise HTTPError(400, "Invalid replication body") from None
    db = await _db(node, target, writing=True)
    if record is not None:
        await node.io(target.device, db.merge_container_record, target.account, target.container,
                      record)
    if not isinstance(rows, list) or not all(valid_row(r) for r in rows):
        raise HTTPError(400, "Invalid replication rows")
    if rows:
        # the group committer: batched container updates from object servers share one
        # transaction with the single-row updates that arrive meanwhile
        await node.rows(target.device).merge_rows(target.account, target.container, rows)
        node.reporter.mark(target.device, target.account, target.container)
    mine = await node.io(target.device, db.container_info, target.account, target.container)
    return web.json_response({"record": mine})


HANDLERS = {"PUT": put, "GET": get, "HEAD": get, "DELETE": delete, "POST": post,
            "REPLICATE": replicate}
