"""context_from_request: both strategies, with identity's real AuthContext (no sockets)."""
import time

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from blockserver.api.auth import AUTH, Authenticator, context_from_request
from blockserver.errors import ApiError
from identity.tokens import AuthContext, InvalidToken


class TokenTable:
    """Stands in for identity's TokenValidator (which needs a Fernet key repository): a fixed
    token -> AuthContext table with the same interface and exception."""

    def __init__(self, **tokens):
        self.tokens = tokens

    def validate(self, token):
        try:
            return self.tokens[token]
        except KeyError:
            raise InvalidToken("unknown token") from None

    def close(self):
        pass


def auth_ctx(project, *roles):
    return AuthContext(user_id="u-" + project, user_name="n", project_id=project,
                       project_name=project, domain_id="default", roles=frozenset(roles),
                       expires_at=time.time() + 60, audit_id="a")


def request(strategy, method="GET", path="/v3/p1/volumes", token=None, validator=None):
    app = web.Application()
    auth = Authenticator("noauth")
    auth.strategy = strategy
    auth.validator = validator
    app[AUTH] = auth
    headers = {"X-Auth-Token": token} if token else {}
    req = make_mocked_request(method, path, headers=headers, app=app)
    parts = path.split("/")
    if len(parts) > 3 and parts[2] not in ("volumes", "snapshots", "attachments"):
        req.match_info.update({"project_id": parts[2]})  # what the router would fill in
    return req


TABLE = TokenTable(member=auth_ctx("p1", "member"), reader=auth_ctx("p1", "reader"),
                   admin=auth_ctx("p9", "admin", "member"), none=auth_ctx("p1"),
                   unscoped=AuthContext("u", "n", None, None, "default", frozenset(), 0, "a"))


def test_keystone_member_of_the_url_project():
    ctx = context_from_request(request("keystone", token="member", validator=TABLE))
    assert (ctx.project_id, ctx.user_id, ctx.is_admin) == ("p1", "u-p1", False)


@pytest.mark.parametrize("token, method, path, status", [
    (None, "GET", "/v3/p1/volumes", 401),
    ("bogus", "GET", "/v3/p1/volumes", 401),
    ("member", "GET", "/v3/p2/volumes", 403),      # another project
    ("reader", "POST", "/v3/p1/volumes", 403),     # readers only read
    ("none", "GET", "/v3/p1/volumes", 403),        # no role at all
    ("unscoped", "GET", "/v3/p1/volumes", 403),
])
def test_keystone_refusals(token, method, path, status):
    with pytest.raises(ApiError) as info:
        context_from_request(request("keystone", method, path, token, TABLE))
    assert info.value.status == status


def test_keystone_reader_reads_and_admin_crosses_projects():
    assert context_from_request(request("keystone", token="reader", validator=TABLE))
    ctx = context_from_request(request("keystone", path="/v3/p1/volumes", token="admin",
                                       validator=TABLE))
    assert ctx.is_admin and ctx.project_id == "p1"
    ctx = context_from_request(request("keystone", path="/v3/volumes", token="admin",
                                       validator=TABLE))
    assert ctx.project_id == "p9"  # project-less URL: the token's project


def test_noauth_forms():
    ctx = context_from_request(request("noauth"))
    assert ctx.is_admin and ctx.project_id == "p1"
    ctx = context_from_request(request("noauth", token="bob:p1"))
    assert (ctx.user_id, ctx.is_admin) == ("bob", False)
    with pytest.raises(ApiError) as info:
        context_from_request(request("noauth", token="bob:p2"))
    assert info.value.status == 403
    assert context_from_request(request("noauth", path="/v3/volumes", token="x:y")).project_id == "y"
