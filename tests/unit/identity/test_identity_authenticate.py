"""Bootstrap and POST /v3/auth/tokens' core over a real LMDB store (no sockets)."""
import os

import pytest

from identity import bootstrap
from identity.authenticate import authenticate
from identity.errors import BadRequest, Unauthorized
from identity.store import Store, db_path_for
from identity.tokens import InvalidToken


@pytest.fixture(scope="module")
def store(booted):
    config, _ = booted
    s = Store(db_path_for(config.cluster.data_dir))
    yield s
    s.close()


def password_body(user, password, scope=None):
    body = {"auth": {"identity": {"methods": ["password"],
                                  "password": {"user": {**user, "password": password}}}}}
    if scope is not None:
        body["auth"]["scope"] = scope
    return body


def run(store, body, validate=None):
    def refuse(token):
        raise InvalidToken("no")
    return authenticate(store, body, validate_token=validate or refuse, token_ttl=600, now=1000.0)


BY_NAME = {"name": "admin", "domain": {"name": "Default"}}


def test_bootstrap_is_idempotent_and_writes_openrc(booted):
    config, state = booted
    again = bootstrap.bootstrap(config)
    assert again["accounts"] == state["accounts"]
    assert set(state["accounts"]) == {"admin", "tester", "alt"}
    openrc = open(os.path.join(config.cluster.data_dir, "openrc")).read()
    for line in ("OS_AUTH_URL=http://127.0.0.1:5000/v3", "OS_USERNAME=admin",
                 "OS_PASSWORD=pw-admin", "OS_PROJECT_NAME=admin",
                 "OS_USER_DOMAIN_NAME=Default", "OS_PROJECT_DOMAIN_NAME=Default",
                 "OS_IDENTITY_API_VERSION=3", "OS_REGION_NAME=RegionOne"):
        assert f"export {line}\n" in openrc
    assert os.stat(bootstrap.secrets_path(config.cluster.data_dir)).st_mode & 0o077 == 0


def test_project_scoped_by_names(store):
    ctx, records = run(store, password_body(BY_NAME, "pw-admin",
                                            {"project": {"name": "admin",
                                                         "domain": {"name": "Default"}}}))
    assert ctx.project_name == "admin" and ctx.roles == {"admin"} and ctx.is_admin
    assert ctx.expires_at == 1600.0 and ctx.issued_at == 1000.0
    assert records["project"]["id"] == ctx.project_id


def test_by_ids(store, booted):
    acct = booted[1]["accounts"]["tester"]
    ctx, _ = run(store, password_body({"id": acct["user_id"]}, booted[1]["tester_password"],
                                      {"project": {"id": acct["project_id"]}}))
    assert ctx.user_name == "tester" and ctx.roles == {"member"}


def test_no_scope_falls_back_to_the_default_project(store):
    ctx, _ = run(store, password_body(BY_NAME, "pw-admin"))
    assert ctx.project_name == "admin"


def test_explicitly_unscoped(store):
    ctx, records = run(store, password_body(BY_NAME, "pw-admin", "unscoped"))
    assert ctx.project_id is None and not ctx.roles and not records["domain_scoped"]


@pytest.mark.parametrize("user,password", [
    (BY_NAME, "wrong"), ({"name": "nobody", "domain": {"name": "Default"}}, "pw-admin"),
    ({"name": "admin", "domain": {"name": "Nope"}}, "pw-admin"), ({"id": "nope"}, "x"),
    (BY_NAME, 42)])
def test_bad_credentials_are_one_401(store, user, password):
    with pytest.raises(Unauthorized) as info:
        run(store, password_body(user, password))
    assert info.value.message == "The request you have made requires authentication."


def test_no_role_on_project_is_401(store, booted):
    with pytest.raises(Unauthorized):
        run(store, password_body({"name": "alt", "domain": {"id": "default"}},
                                 booted[1]["alt_password"],
                                 {"project": {"name": "admin", "domain": {"id": "default"}}}))


@pytest.mark.parametrize("body", [{}, {"auth": []}, {"auth": {"identity": {}}},
                                  {"auth": {"identity": {"methods": "password"}}},
                                  password_body({"name": "admin"}, "x"),
                                  password_body(BY_NAME, "pw-admin", {"system": {"all": True}})])
def test_malformed_requests_are_400(store, body):
    with pytest.raises(BadRequest):
        run(store, body)


def test_token_method_rescopes_without_extending_life(store, booted):
    parent, _ = run(store, password_body(BY_NAME, "pw-admin", "unscoped"))
    body = {"auth": {"identity": {"methods": ["token"], "token": {"id": "T"}},
                     "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
    child, _ = authenticate(store, body, validate_token=lambda t: parent, token_ttl=99999,
                            now=1200.0)
    assert child.project_name == "admin" and child.expires_at == parent.expires_at
    assert child.audit_ids == (child.audit_id, parent.audit_id)
    with pytest.raises(Unauthorized):
        run(store, body)  # an invalid parent token


def test_openrc_quotes_what_the_shell_would_misread(booted, tmp_path):
    import subprocess

    from strato import config as config_mod

    config = config_mod.load(overrides={"cluster": {"data_dir": str(tmp_path)}}, environ={})
    tricky = "it's $HOME; `x` \"q\""
    path = bootstrap.write_openrc(config, tricky)
    out = subprocess.run(["bash", "-c", f"source {path} && printf %s \"$OS_PASSWORD\""],
                         capture_output=True, text=True, check=True).stdout
    assert out == tricky
