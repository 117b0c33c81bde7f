"""Account requests: listing containers, metadata, (reseller-only) create/delete."""
from __future__ import annotations

from aiohttp import web

from proxy import acl as acl_mod  # noqa: F401  (kept for symmetry with container ACL checks)
from proxy import headers as hdrs
from proxy import limits
from proxy.context import Ctx
from proxy.errors import SwiftError
from proxy.handlers.common import respond


async def handle(ctx: Ctx) -> web.StreamResponse:
    method = ctx.method
    if method in ("GET", "HEAD"):
        ctx.authorize()
        params = limits.listing_params(ctx.query, limits.ACCOUNT_LISTING_LIMIT)
        params["format"] = limits.listing_format(ctx.query, ctx.headers.get("Accept"))
        result = await ctx.core.account_read(method, ctx.account, params)
        return respond(result, owner=ctx.owner, head=(method == "HEAD"))
    if method == "POST":
        ctx.authorize()
        limits.check_metadata(ctx.headers, "account")
        check_account_quota_headers(ctx)
        result = await ctx.core.account_write("POST", ctx.account, hdrs.for_account_write(ctx.headers))
        return respond(result)
    if method in ("PUT", "DELETE"):
        if ctx.identity is None or not ctx.identity.reseller_admin:
            if ctx.identity is None:
                ctx.authorize()
            raise SwiftError(405, "Method Not Allowed")
        limits.check_metadata(ctx.headers, "account")
        result = await ctx.core.account_write(method, ctx.account, hdrs.for_account_write(ctx.headers))
        return respond(result)
    raise SwiftError(405, "Method Not Allowed")


def check_account_quota_headers(ctx: Ctx) -> None:
    """Only a reseller admin may set an account's quota (Swift's account_quotas middleware)."""
    for name, value in ctx.headers.items():
        lname = name.lower()
        if lname in ("x-account-meta-quota-bytes", "x-remove-account-meta-quota-bytes"):
            if ctx.identity is None or not ctx.identity.reseller_admin:
                raise SwiftError(403, "Forbidden")
            if lname == "x-account-meta-quota-bytes" and value:
                try:
                    if int(value) < 0:
                        raise ValueError
                except ValueError:
                    raise SwiftError(400, "Invalid bytes quota.") from None
