"""Edges of the HTTP layer (oversized bodies, bad tokens on open routes, domain scope) and key
rotation by the running server."""
import os
import time

import pytest
import requests

from identity import keys
from identity.testing import running_identity
from identity.tokens import TokenCodec
from identity.validate import TokenValidator

pytestmark = pytest.mark.timeout(180)


def test_oversized_body_is_413(identity_server):
    r = requests.post(identity_server.auth_url + "/auth/tokens", data=b"{" + b" " * 70000 + b"}",
                      headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 413 and r.json()["error"]["code"] == 413


def test_bad_token_does_not_block_discovery_or_login(identity_server, issue):
    bad = {"X-Auth-Token": "not-a-token"}
    assert requests.get(identity_server.auth_url, headers=bad, timeout=10).status_code == 200
    r = requests.post(identity_server.auth_url + "/auth/tokens", headers=bad, timeout=30, json={
        "auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "tester", "domain": {"id": "default"},
            "password": identity_server.state["tester_password"]}}}}})
    assert r.status_code == 201


def test_domain_scoped_token(identity_server, admin_token, issue):
    h = {"X-Auth-Token": admin_token}
    base = identity_server.auth_url
    admin_role = [r for r in requests.get(base + "/roles?name=admin", headers=h,
                                          timeout=10).json()["roles"]][0]
    user_id = identity_server.state["accounts"]["admin"]["user_id"]
    r = requests.put(f"{base}/domains/default/users/{user_id}/roles/{admin_role['id']}",
                     headers=h, timeout=10)
    assert r.status_code == 204
    r = requests.post(base + "/auth/tokens", timeout=30, json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"name": "Default"},
            "password": identity_server.admin_password}}},
        "scope": {"domain": {"name": "Default"}}}})
    assert r.status_code == 201
    token = r.json()["token"]
    assert token["domain"] == {"id": "default", "name": "Default"} and "project" not in token
    assert [x["name"] for x in token["roles"]] == ["admin"]
    ctx = TokenValidator(identity_server.data_dir).validate(r.headers["X-Subject-Token"])
    assert ctx.project_id is None and ctx.domain_id == "default" and ctx.is_admin


@pytest.mark.slow
def test_running_server_rotates_keys(tmp_path):
    """With key_rotation_hours at its minimum (36 s) the server promotes the staged key; tokens
    issued before the rotation keep validating and new ones use the new primary."""
    with running_identity(tmp_path, overrides={"identity": {"key_rotation_hours": 0.01}}) as server:
        key_dir = keys.key_dir_for(server.data_dir)
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "tester", "domain": {"id": "default"},
            "password": server.state["tester_password"]}}}}}
        before = requests.post(server.auth_url + "/auth/tokens", json=body, timeout=30)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and "2" not in os.listdir(key_dir):
            time.sleep(1)
        assert "2" in os.listdir(key_dir)
        after = requests.post(server.auth_url + "/auth/tokens", json=body, timeout=30)
        validator = TokenValidator(server.data_dir)
        for r in (before, after):
            assert validator.validate(r.headers["X-Subject-Token"]).user_name == "tester"
        newest = keys.load(key_dir)[:1]  # the primary alone
        assert TokenCodec(newest).open(after.headers["X-Subject-Token"]).user_name == "tester"
