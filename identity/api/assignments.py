"""Role grants on projects and domains, and GET /v3/role_assignments with the CLI's filters."""
from __future__ import annotations

from aiohttp import web

from identity import policy
from identity.api import common
from identity.errors import BadRequest, NotFound
from identity.render import assignment, resource

TARGETS = {"projects": "project", "domains": "domain"}


def _refs(store, request):
    """(target kind, target id, user id, role id or None) after checking that they exist."""
    info = request.match_info
    target_kind = TARGETS[info["targets"]]
    store.require(info["targets"], info["target"])
    store.require("users", info["user"])
    role_id = info.get("role")
    if role_id is not None:
        store.require("roles", role_id)
    return target_kind, info["target"], info["user"], role_id


async def grant(request: web.Request) -> web.Response:
    policy.require_admin(common.ctx_of(request), "identity:create_grant")
    store = request.app[common.STORE]

    def work():
        target_kind, target, user, role = _refs(store, request)
        store.grant(user, target_kind, target, role)

    await common.run(request, work)
    return web.Response(status=204)


async def check_grant(request: web.Request) -> web.Response:
    policy.require_admin(common.ctx_of(request), "identity:check_grant")
    store = request.app[common.STORE]

    def work():
        target_kind, target, user, role = _refs(store, request)
        if not store.has_grant(user, target_kind, target, role):
            raise NotFound(f"Could not find role assignment with role: {role}, user: {user}.")

    await common.run(request, work)
    return web.Response(status=204)


async def revoke_grant(request: web.Request) -> web.Response:
    policy.require_admin(common.ctx_of(request), "identity:revoke_grant")
    store = request.app[common.STORE]
    tokens = request.app[common.TOKENS]

    def work():
        target_kind, target, user, role = _refs(store, request)
        if not store.revoke(user, target_kind, target, role):
            raise NotFound(f"Could not find role assignment with role: {role}, user: {user}.")
        # The user's tokens carry the role; they must not outlive the grant.
        tokens.revoke_subject("user", user)

    await common.run(request, work)
    return web.Response(status=204)


async def list_grants(request: web.Request) -> web.Response:
    ctx = policy.require_token(common.ctx_of(request))
    if ctx.user_id != request.match_info["user"]:
        policy.require_admin(ctx, "identity:list_grants")
    store = request.app[common.STORE]

    def work():
        target_kind, target, user, _ = _refs(store, request)
        return store.roles_on(user, target_kind, target)

    roles = await common.run(request, work)
    base = request.app[common.BASE_URL]
    return common.json_response({"roles": [resource("roles", r, base) for r in roles],
                                 "links": {"self": str(request.url), "next": None,
                                           "previous": None}})


async def role_assignments(request: web.Request) -> web.Response:
    ctx = policy.require_token(common.ctx_of(request))
    q = request.query
    if q.get("group.id"):
        raise BadRequest("Groups are not supported.")
    user_id = q.get("user.id")
    target_kind = target_id = None
    if q.get("scope.project.id"):
        target_kind, target_id = "project", q["scope.project.id"]
    elif q.get("scope.domain.id"):
        target_kind, target_id = "domain", q["scope.domain.id"]
    # A user may list its own assignments; everything else is an admin's view.
    if not ctx.is_admin and user_id != ctx.user_id:
        policy.require_admin(ctx, "identity:list_role_assignments")
    include_names = common.query_bool(q.get("include_names")) or False
    store = request.app[common.STORE]

    def work():
        rows = store.assignments(user_id, target_kind, target_id, q.get("role.id"))
        names = {}
        if include_names:
            for user, kind, target, role in rows:
                for key in (("users", user), (kind + "s", target), ("roles", role)):
                    if key not in names:
                        names[key] = store.get(*key)
                        domain_id = (names[key] or {}).get("domain_id")
                        if domain_id and ("domains", domain_id) not in names:
                            names[("domains", domain_id)] = store.get("domains", domain_id)
        return rows, names

    rows, names = await common.run(request, work)
    base = request.app[common.BASE_URL]
    return common.json_response({"role_assignments": [assignment(r, base, names) for r in rows],
                                 "links": {"self": str(request.url), "next": None,
                                           "previous": None}})


def add_routes(app: web.Application) -> None:
    r = app.router
    for targets in TARGETS:
        path = f"/v3/{{targets:{targets}}}/{{target}}/users/{{user}}/roles"
        r.add_get(path, list_grants)
        r.add_put(path + "/{role}", grant)
        r.add_get(path + "/{role}", check_grant)
        r.add_delete(path + "/{role}", revoke_grant)
    r.add_get("/v3/role_assignments", role_assignments)
