"""Who is calling: the one place a request becomes a RequestContext, so identity can plug in here.

Today (auth_strategy = "noauth", like Cinder's noauth middleware): any X-Auth-Token or none is
accepted. A token of the form `user:project` names the caller (admin only when user is "admin");
any other token, or none, is an admin of the project in the URL. Project-less URLs (/v3/volumes,
the post-3.67 form) take the project from the token, else "admin".
A non-admin may only use URLs of its own project (403 otherwise).
"""
from __future__ import annotations

from aiohttp import web

from blockserver.context import RequestContext
from blockserver.errors import ApiError, forbidden

DEFAULT_PROJECT = "admin"


def context_from_request(request: web.Request, *, strategy: str = "noauth") -> RequestContext:
    if strategy != "noauth":
        raise ApiError(500, f"auth_strategy {strategy!r} is not available in this build.")
    url_project = request.match_info.get("project_id")
    token = request.headers.get("X-Auth-Token", "")
    user, sep, project = token.partition(":")
    if sep and user and project and ":" not in project:
        is_admin = user == "admin"
        ctx = RequestContext(project_id=project, user_id=user, is_admin=is_admin,
                             roles=("admin", "member") if is_admin else ("member",))
        if url_project is not None and url_project != project and not is_admin:
            raise forbidden()
        if url_project is not None:
            ctx = RequestContext(url_project, ctx.user_id, ctx.roles, ctx.is_admin)
        return ctx
    return RequestContext(project_id=url_project or DEFAULT_PROJECT, user_id="noauth",
                          roles=("admin", "member"), is_admin=True)
