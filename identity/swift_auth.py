"""Swift's /auth/v1.0 backed by identity's users: `X-Auth-User: <project>:<user>` with the user's
password as `X-Auth-Key`, both names in the Default domain.

For the proxy (blocking: LMDB read + argon2, run it in an executor):
    ctx = check_v1_credentials("test:tester", key, data_dir=config.cluster.data_dir)
    token = issue_token(ctx, data_dir=...)     # a normal Fernet token TokenValidator accepts
Raises InvalidCredentials (answer 401) when anything does not match.
"""
from __future__ import annotations

import threading
import time

import lmdb

from identity import keys as keyrepo
from identity.passwords import verify_password
from identity.store import Store, db_path_for
from identity.tokens import AuthContext, TokenCodec, new_audit_id

DEFAULT_DOMAIN = "default"
V1_TOKEN_TTL = 3600.0


class InvalidCredentials(Exception):
    """Unknown account or user, wrong key, disabled user or project, or no role on the project."""


_stores: dict[str, Store] = {}
_stores_lock = threading.Lock()
_default_data_dir: str | None = None


def configure(data_dir: str) -> None:
    """Set the data directory used when check_v1_credentials/issue_token get none."""
    global _default_data_dir
    _default_data_dir = data_dir


def _store(data_dir: str | None) -> Store:
    data_dir = data_dir or _default_data_dir
    if data_dir is None:
        raise InvalidCredentials("identity.swift_auth is not configured with a data directory")
    with _stores_lock:
        store = _stores.get(data_dir)
        if store is None:
            try:
                store = _stores[data_dir] = Store(db_path_for(data_dir), readonly=True)
            except lmdb.Error as exc:
                raise InvalidCredentials(f"identity database unavailable: {exc}") from None
        return store


def check_credentials(store: Store, account_user: str, key: str, *, ttl: float = V1_TOKEN_TTL,
                      now: float | None = None) -> AuthContext:
    """The check itself, over an open store (identity's own /auth/v1.0 uses it too)."""
    now = time.time() if now is None else now
    account, sep, user_name = (account_user or "").partition(":")
    if not sep or not account or not user_name or not isinstance(key, str):
        raise InvalidCredentials("X-Auth-User must be <account>:<user>")
    user = store.find_by_name("users", user_name, DEFAULT_DOMAIN)
    project = store.find_by_name("projects", account, DEFAULT_DOMAIN)
    # Verify the password even when the names are wrong, so timing does not reveal which were.
    ok = verify_password(user.get("password_hash") if user else None, key)
    if user is None or project is None or not ok:
        raise InvalidCredentials("invalid credentials")
    if not user.get("enabled", True) or not project.get("enabled", True):
        raise InvalidCredentials("user or project disabled")
    roles = store.roles_on(user["id"], "project", project["id"])
    if not roles:
        raise InvalidCredentials("user has no role on the project")
    audit_id = new_audit_id()
    return AuthContext(user_id=user["id"], user_name=user["name"], user_domain_id=user["domain_id"],
                       project_id=project["id"], project_name=project["name"],
                       domain_id=project["domain_id"], roles=frozenset(r["name"] for r in roles),
                       expires_at=now + ttl, issued_at=now, audit_id=audit_id,
                       audit_ids=(audit_id,), methods=("password",))


def check_v1_credentials(account_user: str, key: str, data_dir: str | None = None,
                         ttl: float = V1_TOKEN_TTL) -> AuthContext:
    return check_credentials(_store(data_dir), account_user, key, ttl=ttl)


def issue_token(ctx: AuthContext, data_dir: str | None = None) -> str:
    """Seal ctx with the current primary key (the key set is read fresh; rotation is rare)."""
    data_dir = data_dir or _default_data_dir
    if data_dir is None:
        raise InvalidCredentials("identity.swift_auth is not configured with a data directory")
    return TokenCodec(keyrepo.load(keyrepo.key_dir_for(data_dir))).seal(ctx)
