"""RFC 7232 quoted ETags on request (Swift's etag_quoter middleware).

X-Account-Rfc-Compliant-Etags: true on an account, or X-Container-Rfc-Compliant-Etags on a
container (which wins, also when false), makes object answers carry ETag: "<md5>" instead of the
bare MD5. Kept as sysmeta (X-<Kind>-Sysmeta-Rfc-Compliant-Etags, "True"/"False", "" removes it)
and shown back under the client's name. Off by default, as Swift ships it.
"""
from __future__ import annotations

from strato.truth import is_true

ENABLE_BY_DEFAULT = False


def client_header(kind: str) -> str:
    return f"X-{kind.title()}-Rfc-Compliant-Etags"


def sysmeta_header(kind: str) -> str:
    return f"X-{kind.title()}-Sysmeta-Rfc-Compliant-Etags"


def sysmeta_for(headers, kind: str) -> dict[str, str]:
    """The sysmeta an account/container PUT or POST stores for the client's flag ({}: none)."""
    out = {}
    value = headers.get(client_header(kind))
    if value is not None:
        out[sysmeta_header(kind)] = str(is_true(value)) if value else ""
    if headers.get(f"X-Remove-{kind.title()}-Rfc-Compliant-Etags"):
        out[sysmeta_header(kind)] = ""
    return out


def flag(stored: str | None) -> bool | None:
    return None if not stored else is_true(stored)


async def wanted(core, account: str, container: str) -> bool:
    """Whether object answers in this container get quoted ETags (cached info only, usually)."""
    cinfo = await core.container_info(account, container)
    if not cinfo.exists:
        return False
    quoted = flag(cinfo.get(sysmeta_header("container")))
    if quoted is None:
        ainfo = await core.account_info(account)
        quoted = flag(ainfo.get(sysmeta_header("account"))) if ainfo.exists else None
    return ENABLE_BY_DEFAULT if quoted is None else quoted


async def on_prepare(request, response) -> None:
    """aiohttp on_response_prepare: quote the ETag of answers whose handler asked for it."""
    if not request.get("quote_etag"):
        return
    etag = response.headers.get("ETag")
    if etag and not (etag.startswith(('"', 'W/"')) and etag.endswith('"')):
        response.headers["ETag"] = f'"{etag}"'
