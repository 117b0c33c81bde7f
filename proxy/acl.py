"""Container ACLs as Swift's tempauth reads them (X-Container-Read / X-Container-Write): pure.

An ACL is a comma-separated list of: `.r:<referrer>` (HTTP Referer match: `*`, a host, `.domain`
for a suffix, `-host` to deny), `.rlistings` (referrers may also list the container), and groups
(`account:user`, `account`, `*:user`, `*`). Write ACLs ignore referrers, as Swift does.
"""
from __future__ import annotations

import dataclasses
from urllib.parse import urlparse

from proxy.errors import SwiftError


@dataclasses.dataclass(frozen=True)
class ACL:
    referrers: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    rlistings: bool = False


def parse_acl(value: str | None) -> ACL:
    if not value:
        return ACL()
    referrers, groups, rlistings = [], [], False
    for item in (v.strip() for v in value.split(",")):
        if not item:
            continue
        if item.startswith(".r:"):
            ref = item[3:].strip()
            negate = ref.startswith("-")
            ref = ref[1:].strip() if negate else ref
            if ref.startswith("*") and ref != "*":
                ref = ref[1:]  # ".r:*.example.com" means the suffix, as Swift's clean_acl stores it
            referrers.append("-" + ref if negate else ref)
        elif item == ".rlistings":
            rlistings = True
        elif item.startswith("."):
            continue  # unknown dotted element: Swift's clean_acl rejects it before storing
        else:
            groups.append(item)
    return ACL(tuple(referrers), tuple(groups), rlistings)


def clean_acl(name: str, value: str) -> str:
    """Normalise an ACL header value before storing it; 400 for what Swift's clean_acl refuses."""
    out = []
    for raw in value.split(","):
        item = raw.strip()
        if not item:
            continue
        if item.startswith("."):
            if item == ".rlistings":
                if name.lower() == "x-container-write":
                    raise SwiftError(400, f"Referrers not allowed in write ACL: {item!r}")
                out.append(item)
                continue
            kind, _, rest = item.partition(":")
            if kind in (".r", ".ref", ".referer", ".referrer"):
                if name.lower() == "x-container-write":
                    raise SwiftError(400, f"Referrers not allowed in write ACL: {item!r}")
                rest = rest.strip()
                negate = rest.startswith("-")
                if negate:
                    rest = rest[1:].strip()
                if rest.startswith(("http://", "https://")):
                    rest = urlparse(rest).hostname or ""
                if not rest:
                    raise SwiftError(400, f"No host/domain value after referrer designation in ACL: {item!r}")
                out.append(f".r:{'-' if negate else ''}{rest}")
            else:
                raise SwiftError(400, f"Unknown designator {kind!r} in ACL: {item!r}")
        else:
            out.append(item)
    return ",".join(out)


def referrer_allowed(referrer: str | None, referrers: tuple[str, ...]) -> bool:
    """Whether the Referer header satisfies the .r: items (last matching item wins, like Swift)."""
    allowed = False
    host = ""
    if referrer:
        host = urlparse(referrer).hostname or ""
    for ref in referrers:
        negate = ref.startswith("-")
        pattern = ref[1:] if negate else ref
        if pattern == "*" or (host and (host == pattern or (pattern.startswith(".")
                                                             and host.endswith(pattern)))):
            allowed = not negate
    return allowed


def groups_match(acl_groups: tuple[str, ...], identity_groups: frozenset[str]) -> bool:
    """Whether one of the identity's groups (account, account:user, ...) is named by the ACL."""
    for group in acl_groups:
        if group == "*" or group in identity_groups:
            return True
        if group.startswith("*:") and any(g.endswith(group[1:]) for g in identity_groups):
            return True
    return False
