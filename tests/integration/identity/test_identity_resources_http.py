"""Domains, projects, users, roles, grants and EC2 credentials over HTTP; policy (admin, member,
reader) and project isolation; changes that must revoke tokens."""
import json

import pytest
import requests

from identity.validate import InvalidToken, TokenValidator, UnknownAccessKey

pytestmark = pytest.mark.timeout(120)


class Api:
    def __init__(self, base, token):
        self.base, self.headers = base, {"X-Auth-Token": token}

    def __getattr__(self, method):
        def call(path, **kw):
            return requests.request(method.upper(), self.base + path, headers=self.headers,
                                    timeout=30, **kw)
        return call


@pytest.fixture(scope="module")
def admin(identity_server, admin_token):
    return Api(identity_server.auth_url, admin_token)


@pytest.fixture(scope="module")
def roles(admin):
    return {r["name"]: r["id"] for r in admin.get("/roles").json()["roles"]}


def test_project_crud_and_filters(admin):
    r = admin.post("/projects", json={"project": {"name": "crud1", "description": "d"}})
    assert r.status_code == 201
    project = r.json()["project"]
    assert project["domain_id"] == "default" and project["enabled"] is True
    assert project["links"]["self"].endswith(f"/v3/projects/{project['id']}")
    assert admin.post("/projects", json={"project": {"name": "crud1"}}).status_code == 409
    assert [p["id"] for p in admin.get("/projects?name=crud1").json()["projects"]] == \
        [project["id"]]
    # openstacksdk's literal None for an unset domain is no filter.
    assert [p["id"] for p in admin.get("/projects?domain_id=None&name=crud1").json()[
        "projects"]] == [project["id"]]
    assert admin.get("/projects?domain_id=other&name=crud1").json()["projects"] == []
    r = admin.patch(f"/projects/{project['id']}", json={"project": {"description": "e"}})
    assert r.status_code == 200 and r.json()["project"]["description"] == "e"
    assert admin.get("/projects/crud1").status_code == 404  # names are not ids (SDK find_*)
    assert admin.delete(f"/projects/{project['id']}").status_code == 204
    assert admin.get(f"/projects/{project['id']}").status_code == 404


@pytest.mark.parametrize("body", [{}, {"project": []}, {"project": {"name": ""}},
                                  {"project": {"name": "x" * 300}},
                                  {"project": {"name": "ok", "enabled": "yes"}}])
def test_bad_project_bodies_are_400(admin, body):
    r = admin.post("/projects", json=body)
    assert r.status_code == 400 and r.json()["error"]["code"] == 400


def test_domain_must_be_disabled_before_delete(admin):
    domain = admin.post("/domains", json={"domain": {"name": "dom1"}}).json()["domain"]
    assert admin.delete(f"/domains/{domain['id']}").status_code == 403
    admin.patch(f"/domains/{domain['id']}", json={"domain": {"enabled": False}})
    assert admin.delete(f"/domains/{domain['id']}").status_code == 204


def _new_user(admin, roles, name, role, project="test"):
    pid = admin.get(f"/projects?name={project}").json()["projects"][0]["id"]
    r = admin.post("/users", json={"user": {"name": name, "password": f"{name}-pw",
                                            "default_project_id": pid}})
    assert r.status_code == 201, r.text
    user = r.json()["user"]
    assert "password" not in user and "password_hash" not in user
    assert admin.put(f"/projects/{pid}/users/{user['id']}/roles/{roles[role]}").status_code == 204
    return user, pid


def test_reader_cannot_create_and_member_sees_only_its_project(identity_server, admin, roles,
                                                              issue):
    user, pid = _new_user(admin, roles, "reader1", "reader")
    token, body = issue("reader1", "reader1-pw", "test")
    assert {r["name"] for r in body["token"]["roles"]} == {"reader"}
    reader = Api(identity_server.auth_url, token)
    r = reader.post("/projects", json={"project": {"name": "nope"}})
    assert r.status_code == 403 and r.json()["error"]["title"] == "Forbidden"
    r = reader.post(f"/users/{user['id']}/credentials/OS-EC2", json={"tenant_id": pid})
    assert r.status_code == 403
    member = Api(identity_server.auth_url,
                 issue("tester", identity_server.state["tester_password"], "test")[0])
    assert member.get("/projects").status_code == 403
    alt_pid = identity_server.state["accounts"]["alt"]["project_id"]
    assert member.get(f"/projects/{alt_pid}").status_code == 403
    assert member.get(f"/projects/{pid}").status_code == 200
    mine = member.get("/auth/projects").json()["projects"]
    assert [p["name"] for p in mine] == ["test"]


def test_grant_check_list_and_revoke(identity_server, admin, roles, issue):
    user, pid = _new_user(admin, roles, "granted1", "member")
    grant = f"/projects/{pid}/users/{user['id']}/roles/{roles['member']}"
    assert admin.get(grant).status_code == 204
    listed = admin.get(f"/role_assignments?user.id={user['id']}&include_names=1").json()
    (row,) = listed["role_assignments"]
    assert row["role"]["name"] == "member" and row["scope"]["project"]["name"] == "test"
    token, _ = issue("granted1", "granted1-pw", "test")
    assert TokenValidator(identity_server.data_dir).validate(token).roles == {"member"}
    assert admin.delete(grant).status_code == 204
    assert admin.delete(grant).status_code == 404
    # The token carried the role: removing the grant revoked it.
    with pytest.raises(InvalidToken):
        TokenValidator(identity_server.data_dir).validate(token)
    r = requests.post(identity_server.auth_url + "/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "id": user["id"], "password": "granted1-pw"}}},
        "scope": {"project": {"id": pid}}}}, timeout=30)
    assert r.status_code == 401


def test_disabling_a_user_revokes_its_tokens(identity_server, admin, roles, issue):
    user, _ = _new_user(admin, roles, "disabled1", "member")
    token, _ = issue("disabled1", "disabled1-pw", "test")
    api = Api(identity_server.auth_url, token)
    assert api.get("/auth/projects").status_code == 200
    admin.patch(f"/users/{user['id']}", json={"user": {"enabled": False}})
    assert api.get("/auth/projects").status_code == 401


def test_ec2_credentials_reach_the_validator(identity_server, admin, roles, issue):
    user, pid = _new_user(admin, roles, "s3user", "member")
    token, _ = issue("s3user", "s3user-pw", "test")
    me = Api(identity_server.auth_url, token)
    r = me.post(f"/users/{user['id']}/credentials/OS-EC2", json={"tenant_id": pid})
    assert r.status_code == 201
    cred = r.json()["credential"]
    assert cred["tenant_id"] == pid and cred["user_id"] == user["id"]
    validator = TokenValidator(identity_server.data_dir, ec2_cache_seconds=0)
    assert validator.ec2_secret_for(cred["access"]) == (cred["secret"], user["id"], pid)
    assert validator.ec2_context(cred["access"]).roles == {"member"}
    listed = me.get(f"/users/{user['id']}/credentials/OS-EC2").json()["credentials"]
    assert [c["access"] for c in listed] == [cred["access"]]
    # Another user can neither see nor delete it.
    alt = Api(identity_server.auth_url,
              issue("alt", identity_server.state["alt_password"], "alt")[0])
    assert alt.get(f"/users/{user['id']}/credentials/OS-EC2").status_code == 403
    assert me.delete(f"/users/{user['id']}/credentials/OS-EC2/{cred['access']}").status_code == 204
    with pytest.raises(UnknownAccessKey):
        validator.ec2_secret_for(cred["access"])


def test_v3_credentials_with_type_ec2(identity_server, admin):
    tester = identity_server.state["accounts"]["tester"]
    blob = json.dumps({"access": "AKIAEXAMPLE1", "secret": "s3cr3t"})
    r = admin.post("/credentials", json={"credential": {
        "type": "ec2", "user_id": tester["user_id"], "project_id": tester["project_id"],
        "blob": blob}})
    assert r.status_code == 201
    cred = r.json()["credential"]
    validator = TokenValidator(identity_server.data_dir, ec2_cache_seconds=0)
    assert validator.ec2_secret_for("AKIAEXAMPLE1")[0] == "s3cr3t"
    assert admin.get(f"/credentials/{cred['id']}").json()["credential"]["blob"] == blob
    assert admin.post("/credentials", json={"credential": {
        "type": "ec2", "user_id": tester["user_id"], "blob": "not json"}}).status_code == 400
    assert admin.delete(f"/credentials/{cred['id']}").status_code == 204
    with pytest.raises(UnknownAccessKey):
        validator.ec2_secret_for("AKIAEXAMPLE1")


def test_no_token_is_401(identity_server):
    r = requests.get(identity_server.auth_url + "/projects", timeout=10)
    assert r.status_code == 401 and r.json()["error"]["code"] == 401
