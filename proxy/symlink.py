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
