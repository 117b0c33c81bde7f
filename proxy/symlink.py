"""Symlinks (Swift's symlink middleware): objects that name another object.

A symlink is a zero-byte object stored with X-Symlink-Target ("container/object", percent-
encoded) and optionally X-Symlink-Target-Account; with X-Symlink-Target-Etag it is a *static*
link, checked against the target when created. GET/HEAD follow links (at most MAX_HOPS) and answer
with the target plus Content-Location; ?symlink=get answers with the link itself.
"""
from __future__ import annotations

from urllib.parse import quote, unquote

from proxy.errors import SwiftError

MAX_HOPS = 2
TARGET = "X-Symlink-Target"
TARGET_ACCOUNT = "X-Symlink-Target-Account"
TARGET_ETAG = "X-Symlink-Target-Etag"
TARGET_BYTES = "X-Symlink-Target-Bytes"
CONTENT_TYPE = "application/symlink"


def parse_target(value: str) -> tuple[str, str]:
    """'c/o' (percent-encoded, no leading slash) -> (container, object); 412 otherwise."""
    text = unquote(value)
    container, _, obj = text.partition("/")
    if not container or not obj or text.startswith("/"):
        raise SwiftError(412, "X-Symlink-Target header must be of the form "
                              "<container name>/<object name>")
    return container, obj


def is_link(headers) -> bool:
    return TARGET in headers


def target_of(headers, account: str) -> tuple[str, str, str]:
    container, obj = parse_target(headers[TARGET])
    target_account = unquote(headers.get(TARGET_ACCOUNT) or "") or account
    return target_account, container, obj


def location(account: str, container: str, obj: str) -> str:
    return f"/v1/{quote(account)}/{quote(container)}/{quote(obj)}"


def check_put(headers, length: int | None) -> None:
    if length not in (0, None):
        raise SwiftError(400, "Symlink requests require a zero byte body")
    parse_target(headers[TARGET])
    account = headers.get(TARGET_ACCOUNT)
    if account is not None and ("/" in unquote(account) or not account):
        raise SwiftError(412, "Account name cannot contain slashes")


def check_static_etag(headers, wanted: str, where: str | None, following: bool) -> None:
    """An object reached through a static link: 409 unless its stored ETag is the link's.
    A link met on the way (when following) answers with its own target ETag, so a chain of
    static links must agree link by link (Swift's _recursive_get_head)."""
    wanted = wanted.strip('"')
    extra = {"Content-Type": "text/plain", "Content-Location": where or ""}
    if following and is_link(headers):
        found = (headers.get(TARGET_ETAG) or headers.get("ETag") or "").strip('"')
        if found != wanted:
            raise SwiftError(409, "X-Symlink-Target-Etag headers do not match", extra)
        return
    found = (headers.get("ETag") or "").strip('"')
    if found != wanted:
        raise SwiftError(409, f"Object Etag {found!r} does not match X-Symlink-Target-Etag "
                              f"header {wanted!r}", extra)


EMPTY_ETAG = "d41d8cd98f00b204e9800998ecf8427e"


async def validate_static(core, account: str, container: str, obj: str, wanted: str,
                          authorize, head) -> tuple[dict, str | None]:
    """A static link's PUT: its target must exist now with ETag `wanted` (Swift's
    _validate_etag_and_update_sysmeta). Static links on the way are followed (their target ETags
    must agree), dynamic ones are not (a dynamic link's own ETag is that of b"").

    `authorize(a, c, o)` vets read access, `head(core, a, c, o)` reads one object's headers.
    Returns (headers the link stores, the target's Content-Type)."""
    expect = wanted.strip('"')
    for hop in range(MAX_HOPS + 1):
        where = {"Content-Type": "text/plain",
                 "Content-Location": location(account, container, obj)}
        await authorize(account, container, obj)
        found = await head(core, account, container, obj)
        if found.status == 404:
            raise SwiftError(409, "X-Symlink-Target does not exist", where)
        if found.status // 100 != 2:
            raise SwiftError(found.status)
        stored = found.backend_headers or {}
        if is_link(stored) and stored.get(TARGET_ETAG):
            if stored[TARGET_ETAG].strip('"') != expect:
                raise SwiftError(409, "X-Symlink-Target-Etag headers do not match", where)
            if hop == MAX_HOPS:
                raise SwiftError(409, "Too many levels of symbolic links, maximum allowed is "
                                      f"{MAX_HOPS}", where)
            account, container, obj = target_of(stored, account)
            continue
        etag = (found.headers.get("ETag") or "").strip('"')
        if etag != expect:
            raise SwiftError(409, f"Object Etag {etag!r} does not match X-Symlink-Target-Etag "
                                  f"header {wanted!r}", where)
        out = {TARGET_BYTES: stored.get("X-Object-Sysmeta-Slo-Size")
               or found.headers.get("Content-Length", "0")}
        slo_etag = stored.get("X-Object-Sysmeta-Slo-Etag")
        if slo_etag:  # the listing shows the SLO's ETag too, as Swift's symlink middleware adds
            out["X-Object-Sysmeta-Container-Update-Override-Etag"] = \
                f"{EMPTY_ETAG}; slo_etag={slo_etag}"
        return out, found.headers.get("Content-Type")
    raise AssertionError("unreachable")
