"""Who is calling: the one place a request becomes a RequestContext.

auth_strategy = "keystone" (the default): X-Auth-Token must be a valid project-scoped token of
Strato's identity service, checked locally by identity.validate.TokenValidator (Fernet keys and the
revocation list under <data_dir>; no call to identity per request). Missing or bad -> 401; a
token for another project -> 403 unless it has the admin role; a reader may only read.

auth_strategy = "noauth" (tests, standalone use, like Cinder's noauth): any X-Auth-Token or none is
accepted. A token of the form `user:project` names the caller (admin only when user is "admin");
any other token, or none, is an admin of the project in the URL. Project-less URLs (/v3/volumes,
the post-3.67 form) take the project from the token, else "admin".
"""
from __future__ import annotations

from aiohttp import web

from blockserver.context import RequestContext
from blockserver.errors import ApiError, forbidden

DEFAULT_PROJECT = "admin"
READ_METHODS = ("GET", "HEAD")


class Authenticator:
    """Owns the token validator (if any) for one application."""

    def __init__(self, strategy: str, data_dir: str | None = None):
        self.strategy = strategy
        self.validator = None
        if strategy == "keystone":
            from identity.validate import TokenValidator

            self.validator = TokenValidator(data_dir)

    def close(self) -> None:
        if self.validator is not None:
            self.validator.close()


AUTH = web.AppKey("auth", Authenticator)


def context_from_request(request: web.Request) -> RequestContext:
    auth = request.app[AUTH]
    if auth.strategy == "keystone":
        return _keystone(request, auth.validator)
    return _noauth(request)


def _keystone(request: web.Request, validator) -> RequestContext:
    from identity.validate import InvalidToken

    token = request.headers.get("X-Auth-Token")
    if not token:
        raise ApiError(401, "The request you have made requires authentication.")
    try:
        # Cheap and cached (a dict lookup and a stat on a hit), so it stays on the event loop.
        auth = validator.validate(token)
    except InvalidToken as exc:
        raise ApiError(401, f"The request you have made requires authentication ({exc}).") from None
    if auth.project_id is None:
        raise forbidden("A project-scoped token is required.")
    url_project = request.match_info.get("project_id")
    if url_project is not None and url_project != auth.project_id and not auth.is_admin:
        raise forbidden()
    if request.method not in READ_METHODS and not auth.can_write:
        raise forbidden()
    if not auth.can_read:
        raise forbidden()
    return RequestContext(project_id=url_project or auth.project_id, user_id=auth.user_id,
                          roles=tuple(sorted(auth.roles)), is_admin=auth.is_admin)


def _noauth(request: web.Request) -> RequestContext:
    url_project = request.match_info.get("project_id")
    token = request.headers.get("X-Auth-Token", "")
    user, sep, project = token.partition(":")
    if sep and user and project and ":" not in project:
        is_admin = user == "admin"
        if url_project is not None and url_project != project and not is_admin:
            raise forbidden()
        return RequestContext(project_id=url_project or project, user_id=user, is_admin=is_admin,
                              roles=("admin", "member") if is_admin else ("member",))
    return RequestContext(project_id=url_project or DEFAULT_PROJECT, user_id="noauth",
                          roles=("admin", "member"), is_admin=True)
