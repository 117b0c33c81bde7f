"""Keystone (Strato identity) tokens on the Swift API, beside the config users of TempAuth.

    auth = with_keystone(config, tempauth)      # what create_app installs as app[AUTH]
    identity = auth.authenticate(headers)       # AUTH_tk... -> TempAuth; else a Fernet token
    auth.authorize(identity, account, ...)      # TempAuth's rules + read-only for readers

Tokens are validated locally by identity.validate.TokenValidator (Fernet keys and the revocation
list read from <data_dir>/identity; no request to identity per call). Dispatch is on the token's
format, not trial and error: a TempAuth token starts with "AUTH_tk", a Fernet token never does
(its first byte is the version 0x80, "gA" in base64), so a config user's request costs one
startswith more than before and a Keystone request never pays for an HMAC check.

How a token's AuthContext maps to Swift, following Swift's keystoneauth middleware:
  - the project's account is AUTH_<project_id> (reseller prefix AUTH_);
  - member or admin role on the project (ctx.can_write) -> owner of that account ("operator
    roles" in keystoneauth);
  - reader role -> GET/HEAD/OPTIONS of that account, its containers and objects, nothing else
    (keystoneauth's project_reader_roles);
  - reseller admin (every account, like keystoneauth's reseller_admin_role): the "ResellerAdmin"
    role on any project, or the "admin" role on the project named [proxy] keystone_admin_project
    ("admin" in the Default domain, the cloud admin's project). Decision: an "admin" role on
    an ordinary project only owns that project's account, so a project admin never reaches
    another project's data (identity's own API treats "admin" anywhere as an identity admin).
  - container ACL names: "<project_id>:<user_id>", "<project_name>:<user_name>",
    "*:<user_id>", "*:<user_name>", "<project_id>:*", "<project_name>:*" and "*:*" match as in
    keystoneauth (the ACL matcher in proxy/acl.py treats "*:x" as "any group ending in :x", so the
    identity carries "<project>:*" groups to make "<project>:*" and "*:*" match).
A token that does not open, has expired or was revoked is a 401, as any bad token.
Account ACLs (proxy/account_acl.py, tempauth's X-Account-Access-Control) apply to these
identities too, matched on the same names as container ACLs ("<project_name>:<user_name>",
"<project_id>:<user_id>"...); Swift's keystoneauth has no account ACLs, so this is Strato's
extension. Keystone service tokens (keystoneauth's SERVICE_service_roles) are not supported:
X-Service-Token is honoured for /auth/v1.0 (TempAuth) tokens only.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging

from proxy.auth import TOKEN_PREFIX, Identity, TempAuth
from proxy.errors import SwiftError
from proxy.limits import RESELLER_PREFIX

try:  # imported once here: an import statement per request costs microseconds
    from identity import swift_auth
    from identity.validate import InvalidToken, TokenValidator
except ImportError:  # a proxy installed without identity: TempAuth only (with_keystone)
    InvalidToken = TokenValidator = swift_auth = None

log = logging.getLogger("strato.proxy.keystone")

RESELLER_ADMIN_ROLE = "ResellerAdmin"
READ_METHODS = ("GET", "HEAD", "OPTIONS")
_CACHE_SIZE = 10000


@dataclasses.dataclass(frozen=True)
class KeystoneIdentity(Identity):
    """An Identity from a Keystone token; `read_only` names the accounts it may only read."""

    read_only: frozenset[str] = frozenset()
    project_id: str = ""
    user_id: str = ""


def identity_for(ctx, admin_project: str = "admin") -> KeystoneIdentity:
    """The Swift identity of a validated AuthContext (pure; see the module docstring)."""
    groups = {f"{ctx.project_id}:{ctx.user_id}", f"{ctx.project_name}:{ctx.user_name}",
              f"{ctx.project_id}:*", f"{ctx.project_name}:*"}
    account = RESELLER_PREFIX + ctx.project_id if ctx.project_id else ""
    read_only = frozenset()
    if ctx.project_id:
        if ctx.can_write:
            groups.add(account)
        elif ctx.can_read:
            read_only = frozenset({account})
        cloud_admin = (ctx.is_admin and ctx.project_name == admin_project
                       and ctx.domain_id == "default")
        if cloud_admin or RESELLER_ADMIN_ROLE in ctx.roles:
            groups.add(".reseller_admin")
    else:
        # Unscoped or domain-scoped: no account of its own; only "*:<user>" ACLs apply.
        groups = {f"{ctx.domain_id}/:{ctx.user_id}"}
    return KeystoneIdentity(user=f"{ctx.project_name}:{ctx.user_name}",
                            account=ctx.project_id or "", groups=frozenset(groups),
                            expires=float(ctx.expires_at), read_only=read_only,
                            project_id=ctx.project_id or "", user_id=ctx.user_id)


class KeystoneAuth:
    """TempAuth for config users and /auth/v1.0, plus Keystone tokens; same interface."""

    def __init__(self, tempauth: TempAuth, validator, admin_project: str = "admin",
                 tempauth_tokens: bool = True, data_dir: str | None = None):
        self.tempauth = tempauth
        self.data_dir = data_dir
        self.validator = validator
        self.admin_project = admin_project
        self.tempauth_tokens = tempauth_tokens
        # AuthContext object -> its Identity: the validator hands back the same cached context
        # for a token it already opened, so the mapping is done once per token, not per request.
        self._identities: dict[int, tuple[object, KeystoneIdentity]] = {}

    async def login_v1(self, user_name, key):
        """/auth/v1.0: config users first (TempAuth token), then identity's users with the same
        "project:user" / password (a Keystone token for AUTH_<project_id>), so Swift's v1 auth
        is backed by the users identity keeps. Password hashing is slow: off the event loop."""
        if self.tempauth_tokens:
            try:
                return self.tempauth.login(user_name, key)
            except SwiftError:
                pass
        if swift_auth is None or not self.data_dir or not user_name or key is None:
            raise _unauthorized()
        def check_and_issue():  # one trip to the worker thread for both
            ctx = swift_auth.check_v1_credentials(user_name, key, self.data_dir)
            return ctx, swift_auth.issue_token(ctx, self.data_dir)

        try:
            ctx, token = await asyncio.get_running_loop().run_in_executor(None, check_and_issue)
        except swift_auth.InvalidCredentials:
            raise _unauthorized() from None
        return token, identity_for(ctx, self.admin_project)

    @property
    def users(self):
        return self.tempauth.users

    def authenticate(self, headers) -> Identity | None:
        token = headers.get("X-Auth-Token") or headers.get("X-Storage-Token")
        if not token:
            return None
        if token.startswith(TOKEN_PREFIX):
            if not self.tempauth_tokens:
                raise _unauthorized()
            return self.tempauth.authenticate(headers)
        try:
            ctx = self.validator.validate(token)
        except InvalidToken:
            raise _unauthorized() from None
        except Exception:  # noqa: BLE001 - a broken key repository must not become a 500 storm
            log.exception("Keystone token validation failed")
            raise _unauthorized() from None
        cached = self._identities.get(id(ctx))
        if cached is not None and cached[0] is ctx:
            return cached[1]
        identity = identity_for(ctx, self.admin_project)
        if len(self._identities) >= _CACHE_SIZE:
            self._identities.clear()
        self._identities[id(ctx)] = (ctx, identity)
        return identity

    def authorize(self, identity: Identity | None, account: str, container: str | None,
                  obj: str | None, method: str, acl: str | None = None,
                  referrer: str | None = None) -> None:
        if (isinstance(identity, KeystoneIdentity) and method in READ_METHODS
                and account in identity.read_only):
            return
        self.tempauth.authorize(identity, account, container, obj, method, acl, referrer)


def _unauthorized() -> SwiftError:
    return SwiftError(401, "Unauthorized", {"Www-Authenticate": 'Swift realm="unknown"'})


def with_keystone(config, tempauth: TempAuth):
    """The proxy's auth for `config.proxy.auth`: TempAuth alone, or KeystoneAuth around it when
    "keystone" is listed and the identity package is installed (the all-in-one always has it:
    identity keeps its keys in the same data_dir)."""
    methods = list(getattr(config.proxy, "auth", ["tempauth", "keystone"]))
    if "keystone" not in methods:
        return tempauth
    if TokenValidator is None:
        log.warning("proxy: auth lists keystone but the identity package is missing")
        return tempauth
    validator = TokenValidator.from_config(config)
    admin_project = getattr(config.proxy, "keystone_admin_project", "admin")
    return KeystoneAuth(tempauth, validator, admin_project,
                        tempauth_tokens="tempauth" in methods, data_dir=config.cluster.data_dir)
