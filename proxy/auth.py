"""Authentication and authorization behind one small interface (tempauth-compatible for now).

    identity = auth.authenticate(headers, query)    -> Identity | None (anonymous); 401 on a bad token
    auth.authorize(identity, account, container, obj, method, acl, referrer)   -> raises 401/403

Users come from config.proxy.users ("account:user:key[:group,...]"). `.admin` makes a user the
owner of AUTH_<account> (and SERVICE_<account>); `.reseller_admin` may act on every account.
Reseller prefixes are tempauth's `reseller_prefix = AUTH, SERVICE` with
`SERVICE_require_group = service`: owning SERVICE_<account> also needs the `service` group, which
a request gets from an X-Service-Token of a user in that group (its groups join the X-Auth-Token
user's, as tempauth does). Account ACLs (proxy/account_acl.py) attach a per-account grant to an
identity for one request (Identity.with_grant). Tokens are self-contained and
HMAC-signed ("AUTH_tk" + payload + signature), so every proxy worker accepts every other worker's
tokens without shared state; the signing key is derived from the cluster's hash path secrets.
A Keystone-backed class with the same two methods can replace TempAuth later.
"""
from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import hmac
import json
import time
from urllib.parse import quote

from proxy import acl as acl_mod
from proxy.account_acl import Level
from proxy.errors import SwiftError
from proxy.limits import RESELLER_PREFIX

TOKEN_PREFIX = "AUTH_tk"
# Reseller prefix -> the group its owners also need (tempauth's <PREFIX>require_group).
RESELLER_PREFIXES = {RESELLER_PREFIX: "", "SERVICE_": "service"}


@functools.lru_cache(maxsize=4096)  # asked several times per request for the same few names
def account_prefix(account: str) -> str | None:
    """The reseller prefix `account` starts with (None: not an account this auth serves)."""
    for prefix in RESELLER_PREFIXES:
        if account.startswith(prefix):
            return prefix
    return None


def dot_account(account: str) -> bool:
    """Hidden accounts (AUTH_.expiring_objects...) are nobody's, not even a reseller admin's."""
    prefix = account_prefix(account)
    return prefix is not None and account[len(prefix):].startswith(".")


@dataclasses.dataclass(frozen=True)
class Identity:
    """Who is asking: a tempauth user ('test:tester') with its groups; None means anonymous."""

    user: str                 # "account:user"
    account: str              # tempauth account ("test"); storage account is RESELLER_PREFIX + it
    groups: frozenset[str]    # ACL-matchable names: "test:tester", "test", "AUTH_test" if owner...
    expires: float
    # ((account, Level), ...): what account ACLs grant this identity in this request
    grants: tuple = ()

    @property
    def reseller_admin(self) -> bool:
        return ".reseller_admin" in self.groups

    def account_owner(self, account: str) -> bool:
        """Owner by its groups: AUTH_<acct> (plus the prefix's required group, if any)."""
        if account not in self.groups:
            return False
        required = RESELLER_PREFIXES.get(account_prefix(account) or "", "")
        return not required or required in self.groups

    def grant(self, account: str) -> Level | None:
        for granted_account, level in self.grants:
            if granted_account == account:
                return level
        return None

    def with_grant(self, account: str, level: Level) -> "Identity":
        return dataclasses.replace(self, grants=self.grants + ((account, level),))

    def with_service(self, service: "Identity") -> "Identity":
        """tempauth's X-Service-Token: the service user's groups join this user's."""
        return dataclasses.replace(self, groups=self.groups | service.groups)

    @classmethod
    def for_tempurl(cls, user: str, account: str, expires: float) -> "Identity":
        """A TempURL's stand-in for the owner of `account` (a service account's included:
        the signature is the proof, as Swift's tempurl bypasses the auth check)."""
        required = RESELLER_PREFIXES.get(account_prefix(account) or "", "")
        return cls(user, account, frozenset({account, required} - {""}), expires)

    def owns(self, account: str) -> bool:
        """Whether this identity is the owner ("swift_owner") of storage account `account`:
        reseller admin, owner by group, or admin by the account's ACL."""
        if self.reseller_admin and not dot_account(account):
            return True
        return self.account_owner(account) or self.grant(account) is Level.ADMIN


@dataclasses.dataclass(frozen=True)
class User:
    account: str
    name: str
    key: str
    groups: tuple[str, ...]


def parse_users(entries) -> dict[str, User]:
    users = {}
    for entry in entries:
        account, name, key, *rest = entry.split(":", 3)
        groups = tuple(g for g in (rest[0].split(",") if rest else []) if g)
        users[f"{account}:{name}"] = User(account, name, key, groups)
    return users


def signing_key(hash_path_prefix: str, hash_path_suffix: str, secret: str = "") -> bytes:
    material = f"{secret}\x00{hash_path_prefix}\x00{hash_path_suffix}".encode()
    return hmac.new(material, b"strato-proxy-auth-token-v1", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TempAuth:
    """Config users, signed tokens, and Swift tempauth's authorization rules."""

    CACHE_SIZE = 10_000  # verified tokens remembered (the HMAC and JSON cost ~6 us per request)

    def __init__(self, users: dict[str, User], key: bytes, ttl: int):
        self.users = users
        self.key = key
        self.ttl = ttl
        self._verified: dict[str, Identity] = {}

    # -- tokens ---------------------------------------------------------------------------------
    def groups_for(self, user: User) -> frozenset[str]:
        groups = {f"{user.account}:{user.name}", user.account, *user.groups}
        if ".admin" in user.groups:
            groups.update(prefix + user.account for prefix in RESELLER_PREFIXES)
        return frozenset(groups)

    def login(self, user_name: str | None, key: str | None) -> tuple[str, Identity]:
        """Check credentials: (token, identity); 401 when unknown or wrong."""
        user = self.users.get(user_name or "")
        if user is None or key is None or not hmac.compare_digest(user.key.encode(), key.encode()):
            raise SwiftError(401, "Unauthorized")
        expires = float(int(time.time() + self.ttl))
        identity = Identity(f"{user.account}:{user.name}", user.account,
                            self.groups_for(user), expires)
        return self.issue(identity), identity

    async def login_v1(self, user_name: str | None, key: str | None) -> tuple[str, Identity]:
        """/auth/v1.0's check (the same async interface as KeystoneAuth.login_v1)."""
        return self.login(user_name, key)

    def issue(self, identity: Identity) -> str:
        payload = json.dumps({"u": identity.user, "a": identity.account,
                              "g": sorted(identity.groups), "e": int(identity.expires)},
                             separators=(",", ":")).encode()
        sig = hmac.new(self.key, payload, hashlib.sha256).digest()[:20]
        return f"{TOKEN_PREFIX}{_b64(payload)}.{_b64(sig)}"

    def verify(self, token: str, now: float | None = None) -> Identity | None:
        """The identity a token stands for, or None when forged, malformed or expired."""
        now = time.time() if now is None else now
        known = self._verified.get(token)
        if known is not None:
            return known if known.expires > now else None
        identity = self._verify(token, now)
        if identity is not None:
            if len(self._verified) >= self.CACHE_SIZE:
                self._verified.clear()
            self._verified[token] = identity
        return identity

    def _verify(self, token: str, now: float) -> Identity | None:
        if not token.startswith(TOKEN_PREFIX):
            return None
        body, _, sig = token[len(TOKEN_PREFIX):].partition(".")
        try:
            payload, given = _unb64(body), _unb64(sig)
        except (ValueError, TypeError):
            return None
        wanted = hmac.new(self.key, payload, hashlib.sha256).digest()[:20]
        if not hmac.compare_digest(wanted, given):
            return None
        try:
            data = json.loads(payload)
            identity = Identity(data["u"], data["a"], frozenset(data["g"]), float(data["e"]))
        except (ValueError, KeyError, TypeError):
            return None
        if identity.expires <= now:
            return None
        return identity

    # -- the interface ----------------------------------------------------------------------------
    def authenticate(self, headers) -> Identity | None:
        """Identity from X-Auth-Token / X-Storage-Token; None if none given; 401 if it is bad.
        A valid X-Service-Token adds its user's groups (an invalid one adds nothing)."""
        token = headers.get("X-Auth-Token") or headers.get("X-Storage-Token")
        if not token:
            return None
        identity = self.verify(token)
        if identity is None:
            raise SwiftError(401, "Unauthorized", {"Www-Authenticate": 'Swift realm="unknown"'})
        service_token = headers.get("X-Service-Token")
        if service_token:
            service = self.verify(service_token)
            if service is not None:
                identity = identity.with_service(service)
        return identity

    def authorize(self, identity: Identity | None, account: str, container: str | None,
                  obj: str | None, method: str, acl: str | None = None,
                  referrer: str | None = None) -> None:
        """Allow (return) or deny (401 anonymous / 403 authenticated), as tempauth does.

        `acl` is the container's read ACL for GET/HEAD and its write ACL for writes; the caller
        passes None for account-level requests and container-level writes (owner only).
        Account ACL grants (identity.grants, see proxy/account_acl.py) are checked last.
        """
        if account_prefix(account) is None:
            raise self._denied(identity, account)
        if identity is not None:
            if identity.reseller_admin and not dot_account(account):
                return
            if identity.account_owner(account) and (method not in ("PUT", "DELETE") or container):
                return
        if method == "OPTIONS":
            return
        parsed = acl_mod.parse_acl(acl)
        if container and acl_mod.referrer_allowed(referrer, parsed.referrers):
            if obj or parsed.rlistings:
                return
            raise self._denied(identity, account)
        if identity is None:
            raise self._denied(None, account)
        if container and acl_mod.groups_match(parsed.groups, identity.groups):
            return
        level = identity.grant(account)
        if level is not None and level.allows(container, method):
            return
        raise self._denied(identity, account)

    @staticmethod
    def _denied(identity: Identity | None, account: str = "unknown") -> SwiftError:
        if identity is None:
            # The realm is the account, percent-quoted so it can never break the header.
            realm = quote(account, safe="")
            return SwiftError(401, "Unauthorized", {"Www-Authenticate": f'Swift realm="{realm}"'})
        return SwiftError(403, "Forbidden")
