"""Account listings with versioned containers (Swift's object_versioning): the hidden versions
containers never show, and each versioned container's row counts its versions' bytes."""
from __future__ import annotations

import json

from objectserver import listings
from proxy.core import Result
from proxy.objver import listing


async def listing_result(ctx, params: dict, result: Result) -> Result:
    if ctx.method != "GET" or result.status // 100 != 2:
        return result
    core = ctx.core
    found = await core.account_read("GET", ctx.account, listing.account_query(params))
    versions_rows = json.loads(found.body or b"[]") if found.status == 200 else []
    if not any("name" in row for row in versions_rows):
        return result
    page = result  # the handler's page is JSON already: no second backend GET for it
    if params.get("format") != "json":
        page = await core.account_read("GET", ctx.account, dict(params, format="json"))
    if page.status != 200:
        return result
    rows = json.loads(page.body or b"[]")
    reverse, limit = listing.page_shape(params)
    rows = listing.merge_account(rows, versions_rows, reverse, limit)
    media = listings.FORMATS.get(params.get("format"), "text/plain")
    status, body, ctype = listings.render(media, "account", ctx.account, rows)
    result.headers["Content-Type"] = ctype
    return Result(status, result.headers, body if status == 200 else b"")
