"""Account requests: listing containers, metadata, account ACLs (proxy/account_acl.py), quotas,
(reseller-only) create/delete."""
from __future__ import annotations

from aiohttp import web

from proxy import account_acl, bulk, etag_quoter
from proxy import headers as hdrs
from proxy import limits
from proxy.context import Ctx
from proxy.errors import SwiftError
from proxy.handlers.common import respond
from proxy.objver import account as objver


async def handle(ctx: Ctx) -> web.StreamResponse:
    method = ctx.method
    if method in ("GET", "HEAD"):
        ctx.authorize()
        params = limits.listing_params(ctx.query, limits.ACCOUNT_LISTING_LIMIT)
        params["format"] = limits.listing_format(ctx.query, ctx.headers.get("Accept"))
        result = await ctx.core.account_read(method, ctx.account, params)
        result = await objver.listing_result(ctx, params, result)  # versions containers
        return respond(result, owner=ctx.owner, head=(method == "HEAD"))
    if method == "POST" and "bulk-delete" in ctx.query:
        return await bulk_delete(ctx)
    if method == "POST":
        acl_sysmeta = account_acl_sysmeta(ctx)  # 400 before 401/403, as tempauth checks it
        ctx.authorize()
        limits.check_metadata(ctx.headers, "account")
        quota_sysmeta = check_account_quota_headers(ctx)
        if acl_sysmeta and not ctx.owner:
            raise SwiftError(403, "Forbidden")
        info = await ctx.core.account_info(ctx.account)
        if info.exists:
            limits.check_combined_metadata(info.meta("account"), ctx.headers, "account")
        headers = hdrs.for_account_write(ctx.headers)
        headers.update(quota_sysmeta)
        headers.update(acl_sysmeta)
        headers.update(etag_quoter.sysmeta_for(ctx.headers, "account"))
        result = await ctx.core.account_write("POST", ctx.account, headers)
        return respond(result)
    if method in ("PUT", "DELETE"):
        if ctx.identity is None or not ctx.identity.reseller_admin:
            if ctx.identity is None:
                ctx.authorize()
            raise SwiftError(405, "Method Not Allowed")
        limits.check_metadata(ctx.headers, "account")
        headers = hdrs.for_account_write(ctx.headers)
        if method == "PUT":
            headers.update(account_acl_sysmeta(ctx))
        result = await ctx.core.account_write(method, ctx.account, headers)
        return respond(result)
    raise SwiftError(405, "Method Not Allowed")


QUOTA_PREFIXES = ("x-account-quota-", "x-remove-account-quota-")


def check_account_quota_headers(ctx: Ctx) -> dict[str, str]:
    """Only a reseller admin may set an account's quotas (Swift's account_quotas middleware).

    Legacy X-Account-Meta-Quota-Bytes is user metadata; X-Account-Quota-{Bytes,Count}[-Policy-P]
    are kept as sysmeta (returned translated, see headers.to_client). Returns the sysmeta to send.
    """
    sysmeta = {}
    for name, value in ctx.headers.items():
        lname = name.lower()
        legacy = lname in ("x-account-meta-quota-bytes", "x-remove-account-meta-quota-bytes")
        if not legacy and not lname.startswith(QUOTA_PREFIXES):
            continue
        if ctx.identity is None or not ctx.identity.reseller_admin:
            raise SwiftError(403, "Forbidden")
        removing = lname.startswith("x-remove-")
        if value and not removing:
            try:
                if int(value) < 0:
                    raise ValueError
            except ValueError:
                raise SwiftError(400, "Invalid quota value.") from None
        if not legacy:
            suffix = lname.split("account-quota-", 1)[1]
            sysmeta[f"X-Account-Sysmeta-Quota-{suffix}"] = "" if removing else value
    return sysmeta


async def bulk_delete(ctx: Ctx) -> web.StreamResponse:
    """POST /v1/<account>?bulk-delete: each path checked against the container's write ACL."""
    if ctx.identity is None:
        ctx.authorize()
    body = await ctx.request.content.read(bulk.MAX_DELETES * bulk.MAX_PATH_LENGTH)
    paths = bulk.parse_paths(body)

    async def can_delete(container, obj):
        acl = None
        if not ctx.owner:
            acl = (await ctx.core.container_info(ctx.account, container)).get("X-Container-Write")
            if obj is None:
                acl = None  # container deletes are the owner's
        ctx.auth.authorize(ctx.identity, ctx.account, container, obj, "DELETE", acl,
                           ctx.headers.get("Referer"))

    deleted, not_found, errors = await bulk.delete_paths(ctx.core, ctx.account, paths, can_delete)
    body, ctype = bulk.render(ctx.headers.get("Accept"), deleted, not_found, errors)
    return web.Response(status=200, body=body, content_type=ctype)


def account_acl_sysmeta(ctx: Ctx) -> dict[str, str]:
    """X-Account-Access-Control validated (400 as tempauth answers) and turned into the sysmeta
    that stores it ({} when the header is absent). Who may set it is the caller's check."""
    value = ctx.headers.get(account_acl.HEADER)
    if value is None:
        return {}
    return account_acl.sysmeta_for(value)
