"""Swift tempauth's account ACLs (X-Account-Access-Control): validate, store, match. Pure,
except `resolve`, which reads the account's (cached) info once per request.

The header is Swift's version-2 ACL: a JSON object with up to three lists of tempauth group
names, e.g. {"admin":["test:tester3"],"read-only":["test2"]}:
  - admin:      everything the account's owner may do ("swift_owner"), setting ACLs included;
  - read-write: GET/HEAD of the account; any method on its containers and objects;
  - read-only:  GET/HEAD of the account, its containers and objects.
Names match a user's groups exactly (no wildcards), as in swift/common/middleware/tempauth.py.
The ACL is kept as account sysmeta (SYSMETA) and shown back only to owners and admins.
"""
from __future__ import annotations

import dataclasses
import enum
import functools
import json

from proxy.errors import SwiftError
from proxy.limits import MAX_HEADER_SIZE

HEADER = "X-Account-Access-Control"
SYSMETA = "X-Account-Sysmeta-Core-Access-Control"
KEYS = ("admin", "read-write", "read-only")


class Level(enum.Enum):
    """What an account ACL grants one identity (the first match in this order wins)."""

    ADMIN = "admin"
    READ_WRITE = "read-write"
    READ_ONLY = "read-only"

    def allows(self, container: str | None, method: str) -> bool:
        """tempauth's rules: admin anything; read-write all but account writes; read-only
        reads (OPTIONS is allowed before ACLs are looked at)."""
        if self is Level.ADMIN:
            return True
        if self is Level.READ_WRITE:
            return container is not None or method in ("GET", "HEAD")
        return method in ("GET", "HEAD")


@dataclasses.dataclass(frozen=True)
class AccountACL:
    admin: tuple[str, ...] = ()
    read_write: tuple[str, ...] = ()
    read_only: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.admin or self.read_write or self.read_only)

    def level_for(self, groups) -> Level | None:
        """The strongest grant any of `groups` (an identity's names) has, or None."""
        for level, names in ((Level.ADMIN, self.admin), (Level.READ_WRITE, self.read_write),
                             (Level.READ_ONLY, self.read_only)):
            if any(name in groups for name in names):
                return level
        return None

    def header_value(self) -> str:
        """Swift's format_acl(version=2): sorted keys, no spaces, ASCII only; empty lists left
        out (an ACL whose lists are all empty is no ACL and has no header)."""
        doc = {key: list(names) for key, names in zip(KEYS, (self.admin, self.read_write,
                                                              self.read_only)) if names}
        return json.dumps(doc, ensure_ascii=True, separators=(",", ":"), sort_keys=True)


# Swift's swift_owner_headers: only owners (and ACL admins) see or set these.
OWNER_HEADERS = ("x-container-read", "x-container-write", "x-container-sync-key",
                 "x-container-sync-to", "x-account-meta-temp-url-key",
                 "x-account-meta-temp-url-key-2", "x-container-meta-temp-url-key",
                 "x-container-meta-temp-url-key-2", "x-account-access-control")


def without_owner_headers(headers: dict) -> dict:
    """A non-owner's write (a read-write ACL user's container POST) keeps its other headers;
    these are dropped silently, as Swift's proxy does."""
    return {k: v for k, v in headers.items() if k.lower() not in OWNER_HEADERS}


def _invalid(why: str, value: str) -> SwiftError:
    return SwiftError(400, f"{HEADER} invalid: {why}\n\nInput: {value}\n",
                      {"Content-Type": "text/plain; charset=UTF-8"})


def validate(value: str) -> AccountACL:
    """Parse a client's X-Account-Access-Control; 400 with tempauth's messages when it is not
    a JSON object of string lists under the three known keys. "" and "{}" clear the ACL."""
    # A longer header line is refused by Swift's HTTP server before tempauth sees it.
    if len(HEADER) + 2 + len(value.encode("utf-8", "surrogateescape")) > MAX_HEADER_SIZE:
        raise SwiftError(400, "Header Line Too Long")
    if value == "":
        return AccountACL()
    try:
        doc = json.loads(value)
    except ValueError:
        doc = None
    if type(doc) is not dict:
        raise _invalid(f"Syntax error in input ({value!r})", value)
    for key in doc:
        if key not in KEYS:
            raise _invalid(f"Key {json.dumps(key)} not recognized", value)
    for key in KEYS:
        if key not in doc:
            continue
        if not isinstance(doc[key], list):
            raise _invalid(f"Value for key {json.dumps(key)} must be a list", value)
        if not all(isinstance(name, str) for name in doc[key]):
            raise _invalid(f"Elements of {json.dumps(key)} list must be strings", value)
    return AccountACL(*(tuple(doc.get(key, ())) for key in KEYS))


@functools.lru_cache(maxsize=1024)  # every non-owner request reads it: parse each value once
def parse_stored(value: str | None) -> AccountACL | None:
    """The ACL kept in sysmeta; None when there is none (or it is unreadable: deny, as Swift
    logs and ignores an invalid stored ACL)."""
    if not value:
        return None
    try:
        acl = validate(value)
    except SwiftError:
        return None
    return None if acl.empty else acl


def sysmeta_for(value: str) -> dict[str, str]:
    """The account sysmeta a valid header value is stored as ("" deletes it)."""
    acl = validate(value)
    return {SYSMETA: "" if acl.empty else acl.header_value()}


def to_client(stored: str | None) -> str | None:
    """The header an owner sees for the stored sysmeta value (None: no header)."""
    acl = parse_stored(stored)
    return None if acl is None else acl.header_value()


async def resolve(core, identity, account: str):
    """`identity` with its account-ACL grant on `account` attached (Identity.with_grant), read
    from the account's cached info. Owners and anonymous requests cost nothing."""
    if identity is None or identity.owns(account):
        return identity
    info = await core.account_info(account)
    if not info.exists:
        return identity
    acl = parse_stored(info.get(SYSMETA))
    level = acl.level_for(identity.groups) if acl is not None else None
    if level is None:
        return identity
    return identity.with_grant(account, level)


async def authorize_in(ctx, account: str, container: str | None, obj: str | None, method: str,
                       acl: str | None) -> None:
    """ctx.auth.authorize on another account than the request's own (copy sources and
    destinations, link targets), with the identity's grant on that account resolved first."""
    identity = await resolve(ctx.core, ctx.identity, account)
    ctx.auth.authorize(identity, account, container, obj, method, acl,
                       ctx.headers.get("Referer"))
