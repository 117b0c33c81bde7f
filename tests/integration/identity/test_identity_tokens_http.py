"""Tokens over HTTP against a real identity process: discovery, issue, validate, revoke,
expiry, tampering, rescoping, /auth/v1.0, and validation by another process's TokenValidator."""
import time

import pytest
import requests

from identity import keys
from identity.tokens import AuthContext, TokenCodec
from identity.validate import InvalidToken, TokenValidator

pytestmark = pytest.mark.timeout(120)


def test_discovery(identity_server):
    r = requests.get(identity_server.base_url + "/", timeout=10)
    assert r.status_code == 300
    (version,) = r.json()["versions"]["values"]
    assert version["id"] == "v3.14" and version["status"] == "stable"
    assert version["links"][0] == {"rel": "self", "href": identity_server.auth_url + "/"}
    r = requests.get(identity_server.auth_url, timeout=10)
    assert r.status_code == 200 and r.json()["version"]["id"] == "v3.14"


def test_issue_project_scoped_token(identity_server, issue):
    token, body = issue("admin", identity_server.admin_password, "admin")
    t = body["token"]
    assert t["methods"] == ["password"]
    assert t["user"]["name"] == "admin" and t["user"]["domain"] == {"id": "default",
                                                                     "name": "Default"}
    assert t["project"]["name"] == "admin" and t["project"]["id"]
    assert {r["name"] for r in t["roles"]} == {"admin"} and all(r["id"] for r in t["roles"])
    assert len(t["audit_ids"][0]) == 22
    types = {s["type"] for s in t["catalog"]}
    assert {"identity", "object-store", "block-storage", "volumev3", "compute",
            "network"} <= types
    swift = [s for s in t["catalog"] if s["type"] == "object-store"][0]
    assert swift["endpoints"][0]["url"].endswith(f"/v1/AUTH_{t['project']['id']}")
    expires = time.mktime(time.strptime(t["expires_at"], "%Y-%m-%dT%H:%M:%S.%fZ")) - time.timezone
    assert 3000 < expires - time.time() <= 3601


def test_bad_credentials(identity_server):
    body = {"auth": {"identity": {"methods": ["password"], "password": {
        "user": {"name": "admin", "domain": {"name": "Default"}, "password": "nope"}}}}}
    r = requests.post(identity_server.auth_url + "/auth/tokens", json=body, timeout=30)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == 401 and r.json()["error"]["title"] == "Unauthorized"
    r = requests.post(identity_server.auth_url + "/auth/tokens", data=b"{nope", timeout=30)
    assert r.status_code == 400 and r.json()["error"]["code"] == 400


def test_validate_head_and_nocatalog(identity_server, issue, admin_token):
    token, _ = issue("tester", identity_server.state["tester_password"], "test")
    url = identity_server.auth_url + "/auth/tokens"
    r = requests.get(url, headers={"X-Auth-Token": admin_token, "X-Subject-Token": token},
                     timeout=10)
    assert r.status_code == 200
    assert r.json()["token"]["project"]["name"] == "test" and r.json()["token"]["catalog"]
    r = requests.get(url + "?nocatalog", headers={"X-Auth-Token": token,
                                                  "X-Subject-Token": token}, timeout=10)
    assert r.status_code == 200 and "catalog" not in r.json()["token"]
    r = requests.head(url, headers={"X-Auth-Token": admin_token, "X-Subject-Token": token},
                      timeout=10)
    assert r.status_code == 200
    # Someone else's token is an admin's business.
    alt, _ = issue("alt", identity_server.state["alt_password"], "alt")
    r = requests.get(url, headers={"X-Auth-Token": alt, "X-Subject-Token": token}, timeout=10)
    assert r.status_code == 403


def test_revoked_token_stops_working_here_and_in_other_processes(identity_server, issue):
    token, _ = issue("tester", identity_server.state["tester_password"], "test")
    # Another process's view, checking the shared list at the default interval (0.1 s).
    validator = TokenValidator.from_config(identity_server.config)
    assert validator.validate(token).user_name == "tester"
    r = requests.delete(identity_server.auth_url + "/auth/tokens",
                        headers={"X-Auth-Token": token, "X-Subject-Token": token}, timeout=10)
    assert r.status_code == 204
    time.sleep(identity_server.config.identity.revocation_check_seconds + 0.05)
    with pytest.raises(InvalidToken):
        validator.validate(token)
    r = requests.get(identity_server.auth_url + "/auth/projects",
                     headers={"X-Auth-Token": token}, timeout=10)
    assert r.status_code == 401


def _forge(identity_server, **changes):
    """A token sealed with identity's real keys (what a leaked key could make)."""
    now = time.time()
    fields = dict(user_id="x", user_name="x", project_id=None, project_name=None,
                  domain_id="default", roles=frozenset(), expires_at=now + 600,
                  audit_id="Z" * 22, audit_ids=("Z" * 22,), issued_at=now)
    fields.update(changes)
    codec = TokenCodec(keys.load(keys.key_dir_for(identity_server.data_dir)))
    return codec.seal(AuthContext(**fields))


def test_expired_and_tampered_tokens_are_401(identity_server, issue):
    token, body = issue("tester", identity_server.state["tester_password"], "test")
    t = body["token"]
    expired = _forge(identity_server, user_id=t["user"]["id"], user_name="tester",
                     project_id=t["project"]["id"], project_name="test",
                     roles=frozenset({"member"}), expires_at=time.time() - 1)
    tampered = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    for bad in (expired, tampered, "garbage"):
        r = requests.get(identity_server.auth_url + "/auth/projects",
                         headers={"X-Auth-Token": bad}, timeout=10)
        assert r.status_code == 401, bad
        assert r.json()["error"]["code"] == 401


def test_rescope_with_the_token_method(identity_server, issue):
    unscoped, body = issue("tester", identity_server.state["tester_password"])
    assert body["token"]["project"]["name"] == "test"  # default project
    r = requests.post(identity_server.auth_url + "/auth/tokens", json={"auth": {
        "identity": {"methods": ["token"], "token": {"id": unscoped}},
        "scope": {"project": {"name": "test", "domain": {"id": "default"}}}}}, timeout=30)
    assert r.status_code == 201
    child = r.json()["token"]
    assert child["expires_at"] == body["token"]["expires_at"]
    assert child["audit_ids"][1] == body["token"]["audit_ids"][0]
    # Revoking the parent kills the child too.
    requests.delete(identity_server.auth_url + "/auth/tokens",
                    headers={"X-Auth-Token": unscoped, "X-Subject-Token": unscoped}, timeout=10)
    r = requests.get(identity_server.auth_url + "/auth/projects",
                     headers={"X-Auth-Token": r.headers["X-Subject-Token"]}, timeout=10)
    assert r.status_code == 401


def test_swift_v1_auth(identity_server):
    state = identity_server.state
    r = requests.get(identity_server.base_url + "/auth/v1.0",
                     headers={"X-Auth-User": "test:tester", "X-Auth-Key": state["tester_password"]},
                     timeout=30)
    assert r.status_code == 200
    assert r.headers["X-Storage-Url"].endswith(f"/v1/AUTH_{state['accounts']['tester']['project_id']}")
    ctx = TokenValidator(identity_server.data_dir).validate(r.headers["X-Auth-Token"])
    assert ctx.project_name == "test" and ctx.user_name == "tester"
    r = requests.get(identity_server.base_url + "/auth/v1.0",
                     headers={"X-Auth-User": "test:tester", "X-Auth-Key": "wrong"}, timeout=30)
    assert r.status_code == 401


def test_auth_catalog_and_unknown_paths(identity_server, admin_token):
    h = {"X-Auth-Token": admin_token}
    r = requests.get(identity_server.auth_url + "/auth/catalog", headers=h, timeout=10)
    assert r.status_code == 200 and r.json()["catalog"]
    r = requests.get(identity_server.auth_url + "/nothing-here", headers=h, timeout=10)
    assert r.status_code == 404 and r.json()["error"]["title"] == "Not Found"
