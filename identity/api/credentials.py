"""EC2-style credentials: the OS-EC2 extension and /v3/credentials (type "ec2" and others).
One record per credential; an ec2 credential's id is the SHA-256 of its access key, as in
Keystone, so both views and the S3 lookup (identity/ec2.py) find the same record."""
from __future__ import annotations

import json
import uuid

from aiohttp import web

from identity import policy
from identity.api import common
from identity.ec2 import credential_id
from identity.errors import BadRequest, Forbidden, NotFound
from identity.render import ec2_credential

MAX_BLOB = 8192


def _blob(cred: dict) -> dict:
    try:
        blob = json.loads(cred.get("blob") or "{}")
    except ValueError:
        return {}
    return blob if isinstance(blob, dict) else {}


def _show(cred: dict, base_url: str) -> dict:
    return {**cred, "links": {"self": f"{base_url}/v3/credentials/{cred['id']}"}}


# -- OS-EC2 -------------------------------------------------------------------------------------
async def ec2_create(request: web.Request) -> web.Response:
    user_id = request.match_info["user"]
    ctx = policy.require_self_writer_or_admin(common.ctx_of(request), user_id,
                                              "identity:ec2_create_credential")
    body = await common.read_json(request)
    project_id = body.get("tenant_id") or body.get("project_id") or ctx.project_id
    if not isinstance(project_id, str) or not project_id:
        raise BadRequest("Invalid input for field 'tenant_id'.")
    store = request.app[common.STORE]

    def work():
        store.require("users", user_id)
        store.require("projects", project_id)
        if not store.assignments(user_id, "project", project_id):
            raise Forbidden(f"User {user_id} has no role on project {project_id}.")
        access, secret = uuid.uuid4().hex, uuid.uuid4().hex
        blob = {"access": access, "secret": secret, "trust_id": None}
        cred = {"id": credential_id(access), "type": "ec2", "user_id": user_id,
                "project_id": project_id, "blob": json.dumps(blob)}
        store.create("credentials", cred)
        return cred, blob

    cred, blob = await common.run(request, work)
    return common.json_response(
        {"credential": ec2_credential(cred, blob, request.app[common.BASE_URL])}, 201)


async def ec2_list(request: web.Request) -> web.Response:
    user_id = request.match_info["user"]
    policy.require_self_or_admin(common.ctx_of(request), user_id, "identity:ec2_list_credentials")
    store = request.app[common.STORE]

    def work():
        store.require("users", user_id)
        return [c for c in store.all("credentials")
                if c.get("type") == "ec2" and c["user_id"] == user_id]

    creds = await common.run(request, work)
    base = request.app[common.BASE_URL]
    return common.json_response({"credentials": [ec2_credential(c, _blob(c), base) for c in creds],
                                 "links": {"self": str(request.url), "next": None,
                                           "previous": None}})


async def _ec2_one(request: web.Request, write: bool) -> dict:
    user_id = request.match_info["user"]
    ctx = common.ctx_of(request)
    if write:
        policy.require_self_writer_or_admin(ctx, user_id, "identity:ec2_delete_credential")
    else:
        policy.require_self_or_admin(ctx, user_id, "identity:ec2_get_credential")
    access = request.match_info["access"]
    cred = await common.run(request, request.app[common.STORE].get, "credentials",
                            credential_id(access))
    if cred is None or cred.get("type") != "ec2" or cred["user_id"] != user_id:
        raise NotFound.of("credential", access)
    return cred


async def ec2_show(request: web.Request) -> web.Response:
    cred = await _ec2_one(request, write=False)
    return common.json_response(
        {"credential": ec2_credential(cred, _blob(cred), request.app[common.BASE_URL])})


async def ec2_delete(request: web.Request) -> web.Response:
    cred = await _ec2_one(request, write=True)
    await common.run(request, request.app[common.STORE].delete, "credentials", cred["id"])
    return web.Response(status=204)


# -- /v3/credentials ----------------------------------------------------------------------------
def _checked(fields: dict) -> dict:
    cred_type, blob = fields.get("type"), fields.get("blob")
    if not isinstance(cred_type, str) or not cred_type:
        raise BadRequest("Invalid input for field 'type'.")
    if not isinstance(blob, str) or len(blob) > MAX_BLOB:
        raise BadRequest("Invalid input for field 'blob': a string is required.")
    if not isinstance(fields.get("user_id"), str):
        raise BadRequest("Invalid input for field 'user_id'.")
    if cred_type == "ec2":
        try:
            parsed = json.loads(blob)
        except ValueError:
            raise BadRequest("Invalid blob in credential: not JSON.") from None
        if not isinstance(parsed, dict) or not isinstance(parsed.get("access"), str) \
                or not isinstance(parsed.get("secret"), str):
            raise BadRequest("An ec2 credential's blob needs 'access' and 'secret'.")
        if not fields.get("project_id"):
            raise BadRequest("Invalid input for field 'project_id': ec2 credentials need one.")
    return {k: fields.get(k) for k in ("type", "blob", "user_id", "project_id")}


async def cred_create(request: web.Request) -> web.Response:
    fields = _checked(common.member(await common.read_json(request), "credential"))
    ctx = policy.require_self_writer_or_admin(common.ctx_of(request), fields["user_id"],
                                              "identity:create_credential")
    store = request.app[common.STORE]

    def work():
        store.require("users", fields["user_id"])
        if fields["project_id"]:
            store.require("projects", fields["project_id"])
            if not ctx.is_admin and not store.assignments(fields["user_id"], "project",
                                                          fields["project_id"]):
                raise Forbidden("The user has no role on that project.")
        ident = credential_id(json.loads(fields["blob"])["access"]) \
            if fields["type"] == "ec2" else uuid.uuid4().hex
        return store.create("credentials", {"id": ident, **fields})

    cred = await common.run(request, work)
    return common.json_response({"credential": _show(cred, request.app[common.BASE_URL])}, 201)


async def cred_list(request: web.Request) -> web.Response:
    ctx = policy.require_token(common.ctx_of(request))
    q = request.query
    user_id = q.get("user_id")
    if not ctx.is_admin:
        user_id = ctx.user_id  # a user sees only its own credentials
    store = request.app[common.STORE]

    def work():
        return [c for c in store.all("credentials")
                if (user_id is None or c["user_id"] == user_id)
                and (q.get("type") is None or c.get("type") == q["type"])]

    creds = await common.run(request, work)
    base = request.app[common.BASE_URL]
    return common.json_response({"credentials": [_show(c, base) for c in creds],
                                 "links": {"self": str(request.url), "next": None,
                                           "previous": None}})


async def _cred_one(request: web.Request, write: bool) -> dict:
    ctx = policy.require_token(common.ctx_of(request))
    ident = request.match_info["id"]
    cred = await common.run(request, request.app[common.STORE].get, "credentials", ident)
    if cred is None or (not ctx.is_admin and cred["user_id"] != ctx.user_id):
        raise NotFound.of("credential", ident)
    if write:
        policy.require_self_writer_or_admin(ctx, cred["user_id"], "identity:update_credential")
    return cred


async def cred_show(request: web.Request) -> web.Response:
    cred = await _cred_one(request, write=False)
    return common.json_response({"credential": _show(cred, request.app[common.BASE_URL])})


async def cred_update(request: web.Request) -> web.Response:
    cred = await _cred_one(request, write=True)
    changes = common.member(await common.read_json(request), "credential")
    merged = _checked({**cred, **{k: v for k, v in changes.items() if k != "id"}})
    if merged["type"] == "ec2" and credential_id(json.loads(merged["blob"])["access"]) != cred["id"]:
        raise BadRequest("An ec2 credential's access key cannot change.")
    new = await common.run(request, request.app[common.STORE].update, "credentials", cred["id"],
                           merged)
    return common.json_response({"credential": _show(new, request.app[common.BASE_URL])})


async def cred_delete(request: web.Request) -> web.Response:
    cred = await _cred_one(request, write=True)
    await common.run(request, request.app[common.STORE].delete, "credentials", cred["id"])
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    r = app.router
    base = "/v3/users/{user}/credentials/OS-EC2"
    r.add_post(base, ec2_create)
    r.add_get(base, ec2_list)
    r.add_get(base + "/{access}", ec2_show)
    r.add_delete(base + "/{access}", ec2_delete)
    r.add_post("/v3/credentials", cred_create)
    r.add_get("/v3/credentials", cred_list)
    r.add_get("/v3/credentials/{id}", cred_show)
    r.add_patch("/v3/credentials/{id}", cred_update)
    r.add_delete("/v3/credentials/{id}", cred_delete)
