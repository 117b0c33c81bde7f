"""Keystone v3 JSON shapes for tokens and resources. No I/O: plain dicts in, plain dicts out."""
from __future__ import annotations

import datetime

from identity.tokens import AuthContext

# Fields identity keeps for itself and never shows.
_HIDDEN = {"password_hash"}


def iso(ts: float) -> str:
    """Keystone's timestamp form: 2026-11-21T05:20:55.000000Z."""
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")


def domain_ref(domain: dict | None, domain_id: str) -> dict:
    return {"id": domain_id, "name": domain["name"] if domain else domain_id}


def token_body(ctx: AuthContext, *, user_domain: dict | None, project_domain: dict | None,
               role_ids: dict, catalog: list | None, domain_scoped: bool = False) -> dict:
    """The `{"token": ...}` document of POST and GET /v3/auth/tokens."""
    token = {
        "methods": list(ctx.methods),
        "user": {"id": ctx.user_id, "name": ctx.user_name,
                 "domain": domain_ref(user_domain, ctx.user_domain_id),
                 "password_expires_at": None},
        "audit_ids": list(ctx.audit_ids or (ctx.audit_id,)),
        "expires_at": iso(ctx.expires_at),
        "issued_at": iso(ctx.issued_at),
        "is_domain": False,
    }
    if ctx.project_id:
        token["project"] = {"id": ctx.project_id, "name": ctx.project_name,
                            "domain": domain_ref(project_domain, ctx.domain_id)}
    elif domain_scoped:
        token["domain"] = domain_ref(project_domain, ctx.domain_id)
    if ctx.project_id or domain_scoped:
        token["roles"] = [{"id": role_ids.get(name, name), "name": name}
                          for name in sorted(ctx.roles)]
        if catalog is not None:
            token["catalog"] = catalog
    elif catalog is not None:
        token["catalog"] = []
    return {"token": token}


def resource(kind: str, record: dict, base_url: str) -> dict:
    """One domain/project/user/role/credential as Keystone shows it, with its self link."""
    shown = {k: v for k, v in record.items() if k not in _HIDDEN}
    if kind == "users":
        shown.setdefault("password_expires_at", None)
        shown.setdefault("options", {})
    elif kind == "projects":
        shown.setdefault("is_domain", False)
        shown.setdefault("parent_id", shown.get("domain_id"))
        shown.setdefault("tags", [])
        shown.setdefault("options", {})
    elif kind == "domains":
        shown.setdefault("tags", [])
        shown.setdefault("options", {})
    elif kind == "roles":
        shown.setdefault("domain_id", None)
        shown.setdefault("options", {})
    shown["links"] = {"self": f"{base_url}/v3/{kind}/{record['id']}"}
    return shown


def collection(kind: str, records: list, base_url: str, self_url: str) -> dict:
    return {kind: [resource(kind, r, base_url) for r in records],
            "links": {"self": self_url, "next": None, "previous": None}}


def assignment(row: tuple, base_url: str, names: dict | None = None) -> dict:
    """One role assignment row (user, target kind, target id, role id), optionally with names."""
    user_id, target_kind, target_id, role_id = row
    names = names or {}
    role = {"id": role_id}
    user = {"id": user_id}
    target = {"id": target_id}
    if names:
        for ref, key in ((role, ("roles", role_id)), (user, ("users", user_id)),
                         (target, (target_kind + "s", target_id))):
            record = names.get(key)
            if record is not None:
                ref["name"] = record["name"]
                if record.get("domain_id") and key[0] != "roles":
                    domain = names.get(("domains", record["domain_id"]))
                    ref["domain"] = domain_ref(domain, record["domain_id"])
    collection_name = "projects" if target_kind == "project" else "domains"
    return {"role": role, "user": user, "scope": {target_kind: target},
            "links": {"assignment": f"{base_url}/v3/{collection_name}/{target_id}/users/"
                                    f"{user_id}/roles/{role_id}"}}


def ec2_credential(cred: dict, blob: dict, base_url: str) -> dict:
    """The OS-EC2 view of an ec2 credential."""
    return {"access": blob.get("access"), "secret": blob.get("secret"),
            "user_id": cred["user_id"], "tenant_id": cred.get("project_id"),
            "trust_id": blob.get("trust_id"),
            "links": {"self": f"{base_url}/v3/users/{cred['user_id']}/credentials/OS-EC2/"
                              f"{blob.get('access')}"}}
