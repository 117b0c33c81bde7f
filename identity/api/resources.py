"""Domains, projects, users and roles: create, list (with the CLI's filters), show, update,
delete. Admins manage; a user may read itself and the projects it holds a role on."""
from __future__ import annotations

import uuid

from aiohttp import web

from identity import policy
from identity.api import common
from identity.errors import BadRequest, Forbidden, NotFound, Unauthorized
from identity.passwords import hash_password, verify_password
from identity.render import collection, resource

SINGULAR = {"domains": "domain", "projects": "project", "users": "user", "roles": "role"}
MAX_NAME = 255
# Fields a client may not set (they belong to identity).
READ_ONLY = {"id", "links", "password_hash", "is_domain"}
# Changes after which the subject's existing tokens must die.
_REVOKING = {"users": {"enabled", "password", "domain_id"}, "projects": {"enabled", "domain_id"},
             "domains": {"enabled"}}
_SUBJECT = {"users": "user", "projects": "project", "domains": "domain"}


def _validate(kind: str, fields: dict, creating: bool) -> dict:
    clean = {k: v for k, v in fields.items() if k not in READ_ONLY}
    if creating or "name" in clean:
        name = clean.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
            raise BadRequest(f"Invalid input for field 'name': a name of 1 to {MAX_NAME} "
                             f"characters is required.")
    if "enabled" in clean and not isinstance(clean["enabled"], bool):
        raise BadRequest("Invalid input for field 'enabled': expected a boolean.")
    for key in ("description", "email"):
        if key in clean and clean[key] is not None and not isinstance(clean[key], str):
            raise BadRequest(f"Invalid input for field '{key}': expected a string.")
    if "password" in clean and clean["password"] is not None \
            and not isinstance(clean["password"], str):
        raise BadRequest("Invalid input for field 'password': expected a string.")
    if kind == "domains" and clean.get("domain_id"):
        raise BadRequest("A domain cannot belong to a domain.")
    return clean


def _prepare_blocking(store, kind: str, record: dict, ctx, creating: bool) -> dict:
    """Defaults, references and the password hash (blocking: LMDB and argon2)."""
    if kind in ("projects", "users"):
        if creating and not record.get("domain_id"):
            # Keystone puts a new project or user in the caller's domain.
            record["domain_id"] = ctx.domain_id if ctx.project_id or ctx.domain_id else "default"
        if record.get("domain_id"):
            store.require("domains", record["domain_id"])
        if kind == "projects" and creating:
            parent = record.get("parent_id")
            if parent and parent != record["domain_id"]:
                store.require("projects", parent)
            record["parent_id"] = parent or record["domain_id"]
            record["is_domain"] = False
    if kind == "users":
        if record.get("default_project_id"):
            store.require("projects", record["default_project_id"])
        if "password" in record:
            password = record.pop("password")
            record["password_hash"] = hash_password(password) if password is not None else None
    if kind == "roles" and creating:
        record.setdefault("domain_id", None)
    if creating:
        if kind != "roles":
            record.setdefault("enabled", True)
        if kind != "users":
            record.setdefault("description", None)
        record.setdefault("options", {})
        if kind in ("projects", "domains"):
            record.setdefault("tags", [])
    return record


def _list_filters(kind: str, request: web.Request):
    q = request.query
    name = q.get("name")
    enabled = common.query_bool(q.get("enabled"))
    # openstacksdk sends the literal string "None" for an unset domain (GET /v3/projects?
    # domain_id=None&name=x): it means no filter, not a domain called None.
    domain_id = q.get("domain_id") if q.get("domain_id") != "None" else None
    parent_id = q.get("parent_id") if q.get("parent_id") != "None" else None

    def keep(record: dict) -> bool:
        if name is not None and record.get("name") != name:
            return False
        if domain_id is not None and kind in ("projects", "users") \
                and record.get("domain_id") != domain_id:
            return False
        if enabled is not None and record.get("enabled", True) != enabled:
            return False
        if parent_id is not None and record.get("parent_id") != parent_id:
            return False
        return True

    return keep


def _visible(store, kind: str, record: dict, ctx) -> bool:
    """What a non-admin may read: itself, its projects, its domain, the roles it holds."""
    if kind == "users":
        return record["id"] == ctx.user_id
    if kind == "projects":
        return bool(store.assignments(ctx.user_id, "project", record["id"]))
    if kind == "domains":
        return record["id"] in (ctx.domain_id, ctx.user_domain_id)
    if kind == "roles":
        return record["name"] in ctx.roles
    return False


def handlers(kind: str):
    singular = SINGULAR[kind]

    async def create(request: web.Request) -> web.Response:
        ctx = policy.require_admin(common.ctx_of(request), f"identity:create_{singular}")
        fields = _validate(kind, common.member(await common.read_json(request), singular), True)
        store = request.app[common.STORE]

        def work():
            record = _prepare_blocking(store, kind, dict(fields), ctx, True)
            record["id"] = uuid.uuid4().hex
            return store.create(kind, record)

        record = await common.run(request, work)
        return common.json_response({singular: resource(kind, record,
                                                        request.app[common.BASE_URL])}, 201)

    async def listing(request: web.Request) -> web.Response:
        ctx = policy.require_token(common.ctx_of(request))
        keep = _list_filters(kind, request)
        store = request.app[common.STORE]

        def work():
            found = [r for r in store.all(kind) if keep(r)]
            if not ctx.is_admin:
                if kind in ("projects", "users", "domains") and not request.query.get("name"):
                    raise Forbidden(f"You are not authorized to perform the requested action: "
                                    f"identity:list_{kind}.")
                found = [r for r in found if _visible(store, kind, r, ctx)]
            return sorted(found, key=lambda r: (r.get("name") or "", r["id"]))

        records = await common.run(request, work)
        return common.json_response(collection(kind, records, request.app[common.BASE_URL],
                                               str(request.url)))

    async def show(request: web.Request) -> web.Response:
        ctx = policy.require_token(common.ctx_of(request))
        ident = request.match_info["id"]
        store = request.app[common.STORE]

        def work():
            record = store.require(kind, ident)
            if not ctx.is_admin and not _visible(store, kind, record, ctx):
                # Keystone answers 403 here; the name-or-id lookup of the SDK accepts that.
                raise Forbidden(f"You are not authorized to perform the requested action: "
                                f"identity:get_{singular}.")
            return record

        record = await common.run(request, work)
        return common.json_response({singular: resource(kind, record,
                                                        request.app[common.BASE_URL])})

    async def update(request: web.Request) -> web.Response:
        ctx = policy.require_admin(common.ctx_of(request), f"identity:update_{singular}")
        ident = request.match_info["id"]
        fields = _validate(kind, common.member(await common.read_json(request), singular), False)
        store = request.app[common.STORE]
        tokens = request.app[common.TOKENS]

        def work():
            store.require(kind, ident)
            changes = _prepare_blocking(store, kind, dict(fields), ctx, False)
            record = store.update(kind, ident, changes)
            if kind in _REVOKING and _REVOKING[kind] & set(fields):
                tokens.revoke_subject(_SUBJECT[kind], ident)
            return record

        record = await common.run(request, work)
        return common.json_response({singular: resource(kind, record,
                                                        request.app[common.BASE_URL])})

    async def delete(request: web.Request) -> web.Response:
        policy.require_admin(common.ctx_of(request), f"identity:delete_{singular}")
        ident = request.match_info["id"]
        store = request.app[common.STORE]
        tokens = request.app[common.TOKENS]

        def work():
            record = store.require(kind, ident)
            if kind == "domains" and record.get("enabled", True):
                raise Forbidden("Cannot delete a domain that is enabled, please disable it first.")
            holders = {row[0] for row in store.assignments(role_id=ident)} \
                if kind == "roles" else set()
            store.delete(kind, ident)
            if kind in _SUBJECT:
                tokens.revoke_subject(_SUBJECT[kind], ident)
            for user_id in holders:
                tokens.revoke_subject("user", user_id)

        await common.run(request, work)
        return web.Response(status=204)

    return create, listing, show, update, delete


async def user_projects(request: web.Request) -> web.Response:
    user_id = request.match_info["id"]
    policy.require_self_or_admin(common.ctx_of(request), user_id, "identity:list_user_projects")
    store = request.app[common.STORE]

    def work():
        store.require("users", user_id)
        ids = sorted({row[2] for row in store.assignments(user_id, "project")})
        return [p for p in (store.get("projects", i) for i in ids) if p is not None]

    projects = await common.run(request, work)
    return common.json_response(collection("projects", projects, request.app[common.BASE_URL],
                                           str(request.url)))


async def change_password(request: web.Request) -> web.Response:
    """POST /v3/users/{id}/password: a user changes its own password (needs the old one)."""
    user_id = request.match_info["id"]
    ctx = policy.require_token(common.ctx_of(request))
    if ctx.user_id != user_id:
        raise Forbidden("You can only change your own password.")
    body = common.member(await common.read_json(request), "user")
    old, new = body.get("original_password"), body.get("password")
    if not isinstance(old, str) or not isinstance(new, str):
        raise BadRequest("'original_password' and 'password' are required.")
    store = request.app[common.STORE]
    tokens = request.app[common.TOKENS]

    def work():
        user = store.get("users", user_id)
        if user is None:
            raise NotFound.of("user", user_id)
        if not verify_password(user.get("password_hash"), old):
            raise Unauthorized("The request you have made requires authentication.")
        store.update("users", user_id, {"password_hash": hash_password(new)})
        tokens.revoke_subject("user", user_id)

    await common.run(request, work)
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/v3/users/{id}/projects", user_projects)
    r.add_post("/v3/users/{id}/password", change_password)
    for kind in SINGULAR:
        create, listing, show, update, delete = handlers(kind)
        r.add_post(f"/v3/{kind}", create)
        r.add_get(f"/v3/{kind}", listing)
        r.add_get(f"/v3/{kind}/{{id}}", show)
        r.add_patch(f"/v3/{kind}/{{id}}", update)
        r.add_delete(f"/v3/{kind}/{{id}}", delete)
