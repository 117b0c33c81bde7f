"""Discovery, tokens (issue, validate, revoke), the token's projects/catalog, and /auth/v1.0."""
from __future__ import annotations

import time

from aiohttp import web

from identity import policy, swift_auth
from identity.api import common
from identity.authenticate import authenticate
from identity.catalog import build_catalog, storage_url
from identity.errors import IdentityError, NotFound, Unauthorized
from identity.render import collection, iso, token_body
from identity.tokens import InvalidToken

UPDATED = "2020-04-07T00:00:00Z"
OPEN_PATHS = {"/", "/v3", "/v3/", "/auth/v1.0", "/auth/v1.0/", "/v1.0", "/v1.0/"}


def is_open(request: web.Request) -> bool:
    """Routes that work without a (valid) token."""
    return request.path in OPEN_PATHS or (request.path == "/v3/auth/tokens"
                                          and request.method == "POST")


def _version(base_url: str) -> dict:
    return {"id": "v3.14", "status": "stable", "updated": UPDATED,
            "links": [{"rel": "self", "href": f"{base_url}/v3/"}],
            "media-types": [{"base": "application/json",
                             "type": "application/vnd.openstack.identity-v3+json"}]}


async def versions(request: web.Request) -> web.Response:
    body = {"versions": {"values": [_version(request.app[common.BASE_URL])]}}
    return common.json_response(body, status=300)


async def version(request: web.Request) -> web.Response:
    return common.json_response({"version": _version(request.app[common.BASE_URL])})


def _render_blocking(app, ctx, domain_scoped: bool, with_catalog: bool) -> dict:
    """Token JSON for a context (blocking: looks up domain names and role ids)."""
    store = app[common.STORE]
    role_ids = {}
    for name in ctx.roles:
        role = store.find_by_name("roles", name)
        if role is not None:
            role_ids[name] = role["id"]
    catalog = build_catalog(app[common.CONFIG], ctx.project_id) if with_catalog else None
    return token_body(ctx, user_domain=store.get("domains", ctx.user_domain_id),
                      project_domain=store.get("domains", ctx.domain_id),
                      role_ids=role_ids, catalog=catalog, domain_scoped=domain_scoped)


async def issue(request: web.Request) -> web.Response:
    body = await common.read_json(request)
    app = request.app
    tokens = app[common.TOKENS]
    validator = app[common.VALIDATOR]

    def work():
        ctx, records = authenticate(app[common.STORE], body, validate_token=validator.validate,
                                    token_ttl=tokens.token_ttl)
        token = tokens.seal(ctx)
        nocatalog = "nocatalog" in request.query
        return token, _render_blocking(app, ctx, records["domain_scoped"], not nocatalog)

    token, rendered = await common.run(request, work)
    return common.json_response(rendered, status=201, headers={"X-Subject-Token": token})


async def _subject(request: web.Request):
    """(caller, subject) for GET/HEAD/DELETE /v3/auth/tokens; 404 for a bad subject token."""
    caller = policy.require_token(common.ctx_of(request))
    subject_token = request.headers.get("X-Subject-Token")
    if not subject_token:
        raise NotFound("Could not find token: (no X-Subject-Token).")
    try:
        subject = request.app[common.VALIDATOR].validate(subject_token)
    except InvalidToken as exc:
        raise NotFound(f"Could not find token: {exc}.") from None
    # A user may check or revoke their own tokens; checking others' is an admin's job.
    if subject.user_id != caller.user_id:
        policy.require_admin(caller, "identity:validate_token")
    return caller, subject


async def check(request: web.Request) -> web.Response:
    _, subject = await _subject(request)
    if request.method == "HEAD":
        return web.Response(status=200)
    with_catalog = "nocatalog" not in request.query
    domain_scoped = subject.project_id is None and bool(subject.roles)
    rendered = await common.run(request, _render_blocking, request.app, subject, domain_scoped,
                                with_catalog)
    return common.json_response(rendered, headers={"X-Subject-Token":
                                                   request.headers["X-Subject-Token"]})


async def revoke(request: web.Request) -> web.Response:
    _, subject = await _subject(request)
    await common.run(request, request.app[common.TOKENS].revoke_token, subject)
    return web.Response(status=204)


async def auth_projects(request: web.Request) -> web.Response:
    ctx = policy.require_token(common.ctx_of(request))
    store = request.app[common.STORE]

    def work():
        ids = {row[2] for row in store.assignments(ctx.user_id, "project")}
        return [p for p in (store.get("projects", i) for i in sorted(ids))
                if p is not None and p.get("enabled", True)]

    projects = await common.run(request, work)
    return common.json_response(collection("projects", projects, request.app[common.BASE_URL],
                                           str(request.url)))


async def auth_domains(request: web.Request) -> web.Response:
    ctx = policy.require_token(common.ctx_of(request))
    store = request.app[common.STORE]

    def work():
        ids = {row[2] for row in store.assignments(ctx.user_id, "domain")}
        return [d for d in (store.get("domains", i) for i in sorted(ids)) if d is not None]

    domains = await common.run(request, work)
    return common.json_response(collection("domains", domains, request.app[common.BASE_URL],
                                           str(request.url)))


async def auth_catalog(request: web.Request) -> web.Response:
    ctx = policy.require_token(common.ctx_of(request))
    if not ctx.project_id:
        raise IdentityError("The catalog needs a project-scoped token.", status=403)
    return common.json_response({"catalog": build_catalog(request.app[common.CONFIG],
                                                          ctx.project_id),
                                 "links": {"self": str(request.url)}})


async def swift_v1(request: web.Request) -> web.Response:
    """Swift's TempAuth-style login against identity's users (account = project name)."""
    user = request.headers.get("X-Auth-User") or request.headers.get("X-Storage-User")
    key = request.headers.get("X-Auth-Key") or request.headers.get("X-Storage-Pass")
    if not user or key is None:
        raise Unauthorized("X-Auth-User and X-Auth-Key are required.")
    app = request.app
    tokens = app[common.TOKENS]

    def work():
        try:
            ctx = swift_auth.check_credentials(app[common.STORE], user, key,
                                               ttl=tokens.token_ttl)
        except swift_auth.InvalidCredentials:
            raise Unauthorized("Invalid credentials.") from None
        return ctx, tokens.seal(ctx)

    ctx, token = await common.run(request, work)
    url = storage_url(app[common.CONFIG], ctx.project_id)
    return web.Response(status=200, headers={
        "X-Auth-Token": token, "X-Storage-Token": token, "X-Storage-Url": url,
        "X-Auth-Token-Expires": str(int(ctx.expires_at - time.time())),
        "X-Auth-Token-Expires-At": iso(ctx.expires_at)})


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/", versions)
    r.add_get("/v3", version)
    r.add_get("/v3/", version)
    r.add_post("/v3/auth/tokens", issue)
    r.add_get("/v3/auth/tokens", check)  # aiohttp adds HEAD for GET routes
    r.add_delete("/v3/auth/tokens", revoke)
    r.add_get("/v3/auth/projects", auth_projects)
    r.add_get("/v3/auth/domains", auth_domains)
    r.add_get("/v3/auth/catalog", auth_catalog)
    for path in ("/auth/v1.0", "/auth/v1.0/", "/v1.0", "/v1.0/"):
        r.add_get(path, swift_v1)
