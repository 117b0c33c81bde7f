"""POST /v3/auth/tokens: turn an auth request body into an AuthContext. Blocking (LMDB reads and
argon2), so the server runs it on its executor.

Supports the password and token methods, scopes to a project or a domain by id or by name plus
domain, falls back to the user's default project when no scope is given, and otherwise issues an
unscoped token. Every failure to prove identity is the same 401, so callers learn nothing about
which part was wrong.
"""
from __future__ import annotations

import time

from identity.errors import BadRequest, Unauthorized
from identity.passwords import verify_password
from identity.store import Store
from identity.tokens import AuthContext, InvalidToken, new_audit_id

_FAILED = "The request you have made requires authentication."


def _dict(value, what: str) -> dict:
    if not isinstance(value, dict):
        raise BadRequest(f"Invalid input for field '{what}': expected an object.")
    return value


def _domain_ref(store: Store, ref) -> dict | None:
    ref = _dict(ref, "domain")
    if "id" in ref:
        return store.get("domains", str(ref["id"]))
    if "name" in ref:
        return store.find_by_name("domains", str(ref["name"]))
    raise BadRequest("Invalid input for field 'domain': 'id' or 'name' is required.")


def _named(store: Store, kind: str, ref, what: str) -> dict | None:
    """A user or project given as {"id"} or {"name", "domain": {"id"|"name"}}."""
    ref = _dict(ref, what)
    if "id" in ref:
        return store.get(kind, str(ref["id"]))
    if "name" not in ref:
        raise BadRequest(f"Invalid input for field '{what}': 'id' or 'name' is required.")
    if "domain" not in ref:
        raise BadRequest(f"Invalid input for field '{what}': a name needs a domain.")
    domain = _domain_ref(store, ref["domain"])
    if domain is None:
        return None
    return store.find_by_name(kind, str(ref["name"]), domain["id"])


def _enabled_domain(store: Store, domain_id: str) -> dict | None:
    domain = store.get("domains", domain_id)
    return domain if domain is not None and domain.get("enabled", True) else None


def authenticate(store: Store, body, *, validate_token, token_ttl: float,
                 now: float | None = None) -> tuple[AuthContext, dict]:
    """(context of the new token, records used to render it: user, project, domain, roles).

    validate_token(token) -> AuthContext serves the token method (it raises InvalidToken).
    """
    now = time.time() if now is None else now
    auth = _dict(_dict(body, "body").get("auth"), "auth")
    identity = _dict(auth.get("identity"), "identity")
    methods = identity.get("methods")
    if not isinstance(methods, list) or not methods:
        raise BadRequest("Invalid input for field 'identity/methods'.")
    expires_at = now + token_ttl
    parent_audit = None
    if "password" in methods:
        password = _dict(identity.get("password"), "password")
        user_ref = _dict(password.get("user"), "user")
        user = _named(store, "users", user_ref, "user")
        secret = user_ref.get("password")
        if user is None or not isinstance(secret, str):
            raise Unauthorized(_FAILED)
        if not verify_password(user.get("password_hash"), secret):
            raise Unauthorized(_FAILED)
        methods_used = ["password"]
    elif "token" in methods:
        token_ref = _dict(identity.get("token"), "token")
        try:
            parent = validate_token(str(token_ref.get("id", "")))
        except InvalidToken:
            raise Unauthorized(_FAILED) from None
        user = store.get("users", parent.user_id)
        if user is None:
            raise Unauthorized(_FAILED)
        # Keystone's rule: rescoping never extends a token's life, and keeps its audit chain.
        expires_at = parent.expires_at
        parent_audit = parent.audit_ids[-1]
        methods_used = list(parent.methods)
    else:
        raise Unauthorized(f"Unsupported authentication method: {', '.join(map(str, methods))}.")
    if not user.get("enabled", True):
        raise Unauthorized(_FAILED)
    user_domain = _enabled_domain(store, user["domain_id"])
    if user_domain is None:
        raise Unauthorized(_FAILED)

    scope = auth.get("scope")
    project = domain = None
    if scope is None and user.get("default_project_id"):
        candidate = store.get("projects", user["default_project_id"])
        if candidate is not None and store.roles_on(user["id"], "project", candidate["id"]):
            project = candidate
    elif scope is not None and scope != "unscoped":
        scope = _dict(scope, "scope")
        if "project" in scope:
            project = _named(store, "projects", scope["project"], "project")
            if project is None:
                raise Unauthorized("Could not find the project to scope to.")
        elif "domain" in scope:
            domain = _domain_ref(store, scope["domain"])
            if domain is None:
                raise Unauthorized("Could not find the domain to scope to.")
        else:
            raise BadRequest("Only project and domain scopes are supported.")

    roles: list[dict] = []
    if project is not None:
        domain = _enabled_domain(store, project["domain_id"])
        if not project.get("enabled", True) or domain is None:
            raise Unauthorized(f"Project {project['id']} is disabled.")
        roles = store.roles_on(user["id"], "project", project["id"])
        if not roles:
            raise Unauthorized(f"User {user['id']} has no access to project {project['id']}.")
    elif domain is not None:
        if not domain.get("enabled", True):
            raise Unauthorized(f"Domain {domain['id']} is disabled.")
        roles = store.roles_on(user["id"], "domain", domain["id"])
        if not roles:
            raise Unauthorized(f"User {user['id']} has no access to domain {domain['id']}.")

    audit_id = new_audit_id()
    audit_ids = (audit_id, parent_audit) if parent_audit else (audit_id,)
    ctx = AuthContext(
        user_id=user["id"], user_name=user["name"], user_domain_id=user["domain_id"],
        project_id=project["id"] if project else None,
        project_name=project["name"] if project else None,
        domain_id=domain["id"] if domain else user["domain_id"],
        roles=frozenset(r["name"] for r in roles), expires_at=expires_at, issued_at=now,
        audit_id=audit_id, audit_ids=audit_ids, methods=tuple(methods_used))
    records = {"user": user, "user_domain": user_domain, "project": project,
               "domain": domain, "roles": roles, "domain_scoped": project is None and domain is not None}
    return ctx, records
