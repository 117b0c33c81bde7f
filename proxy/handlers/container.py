"""Container requests: listings with every parameter, create, metadata, ACLs, delete."""
from __future__ import annotations

from aiohttp import web

from proxy import acl as acl_mod
from proxy import account_acl, etag_quoter
from proxy import headers as hdrs
from proxy import limits, versioning
from proxy.context import Ctx
from proxy.errors import SwiftError
from proxy.handlers.common import respond
from proxy.objver import container as objver
from proxy.rings import POLICY_HEADER, policy_name, resolve_policy

QUOTA_HEADERS = ("x-container-meta-quota-bytes", "x-container-meta-quota-count")


async def handle(ctx: Ctx) -> web.StreamResponse:
    method = ctx.method
    core = ctx.core
    if method in ("GET", "HEAD"):
        acl = None
        if not ctx.owner:
            acl = (await core.container_info(ctx.account, ctx.container)).get("X-Container-Read")
        ctx.authorize(acl)
        params = limits.listing_params(ctx.query, limits.CONTAINER_LISTING_LIMIT)
        params["format"] = limits.listing_format(ctx.query, ctx.headers.get("Accept"))
        result = await core.container_read(method, ctx.account, ctx.container, params)
        result = await objver.listing_result(ctx, params, result)  # object versioning
        if result.status // 100 == 2:
            result.headers["X-Storage-Policy"] = policy_name(core.rings, result.backend_headers)
        return respond(result, owner=ctx.owner, head=(method == "HEAD"))
    if method in ("PUT", "POST"):
        ctx.authorize()
        limits.check_metadata(ctx.headers, "container")
        headers = hdrs.for_container_write(ctx.headers)
        if not ctx.owner:  # an account ACL read-write user: no ACLs, sync or temp-url keys
            headers = account_acl.without_owner_headers(headers)
        for name in ("X-Container-Read", "X-Container-Write"):
            if name in headers and headers[name]:
                headers[name] = acl_mod.clean_acl(name, headers[name])
        check_quota_values(headers)
        headers.update(etag_quoter.sysmeta_for(ctx.headers, "container"))
        check_versioning(ctx, headers)
        headers.update(await objver.write_headers(ctx, headers))  # X-Versions-Enabled
        versioning.exclusive_modes(headers)
        if method == "PUT":
            headers.update(policy_headers(core.rings, ctx.headers.get("X-Storage-Policy")))
        if method == "POST":  # as Swift's: X-Storage-Policy on a POST changes nothing
            info = await core.container_info(ctx.account, ctx.container)
            if info.exists:
                limits.check_combined_metadata(info.meta("container"), ctx.headers, "container")
        result = await core.container_write(method, ctx.account, ctx.container, headers)
        return respond(result)
    if method == "DELETE":
        ctx.authorize()
        await objver.before_delete(ctx)  # versions first (409 while any is left)
        result = await core.container_write("DELETE", ctx.account, ctx.container, {})
        if result.status == 409:
            raise SwiftError(409, "There was a conflict when trying to complete your request.")
        return respond(result)
    raise SwiftError(405, "Method Not Allowed")


def policy_headers(rings, name: str | None) -> dict:
    """What a container PUT tells the nodes about X-Storage-Policy: the index of the named
    policy (a 409 if the container exists with another), nothing when absent or empty (a new
    container gets the default, an existing one keeps its own); 400 for an unknown name."""
    if name is None or not name.strip():
        return {}
    policy = resolve_policy(rings, name)
    if policy is None:
        raise SwiftError(400, f"Invalid X-Storage-Policy '{name}'")
    return {POLICY_HEADER: str(policy.index)}


def check_quota_values(headers) -> None:
    for name, value in headers.items():
        if name.lower() in QUOTA_HEADERS and value:
            try:
                if int(value) < 0:
                    raise ValueError
            except ValueError:
                raise SwiftError(400, "Invalid quota value.") from None


def check_versioning(ctx: Ctx, headers) -> None:
    """X-Versions-Location and X-History-Location are exclusive and name a container."""
    versions = headers.get("X-Versions-Location")
    history = headers.get("X-History-Location")
    if versions and history:
        raise SwiftError(400, "Only one of X-Versions-Location or X-History-Location may be specified")
    for value in (versions, history):
        if value:
            if "/" in value.strip("/"):
                raise SwiftError(412, "Container name cannot contain slashes")
            limits.check_names(ctx.account, value, None)
