"""The real `openstack` command (python-openstackclient) against identity, with the openrc env:
the issue's acceptance list, plus expired/tampered/revoked tokens and a reader's refusal."""
import time

import pytest

from identity import keys
from identity.tokens import AuthContext, TokenCodec
from identity.validate import TokenValidator

pytestmark = [pytest.mark.compat, pytest.mark.timeout(300)]


def test_token_issue_and_catalog(identity_server, openstack):
    token = openstack("token", "issue").data
    ctx = TokenValidator(identity_server.data_dir).validate(token["id"])
    assert ctx.user_id == token["user_id"] and ctx.project_id == token["project_id"]
    assert ctx.is_admin
    catalog = {entry["Type"] for entry in openstack("catalog", "list").data}
    assert {"identity", "object-store", "block-storage", "volumev3", "compute",
            "network"} <= catalog


def test_projects_users_roles_and_ec2(identity_server, openstack):
    created = openstack("project", "create", "cliproj", "--description", "from the CLI").data
    assert created["name"] == "cliproj" and created["domain_id"] == "default"
    names = {p["Name"] for p in openstack("project", "list").data}
    assert {"admin", "test", "alt", "cliproj"} <= names
    user = openstack("user", "create", "--password", "cli-pw", "--project", "cliproj",
                     "cliuser").data
    assert user["name"] == "cliuser" and user["default_project_id"] == created["id"]
    openstack("role", "add", "--project", "cliproj", "--user", "cliuser", "member",
              as_json=False)
    as_user = {"OS_USERNAME": "cliuser", "OS_PASSWORD": "cli-pw", "OS_PROJECT_NAME": "cliproj"}
    token = openstack("token", "issue", env=as_user).data
    assert token["project_id"] == created["id"]
    cred = openstack("ec2", "credentials", "create", env=as_user).data
    secret, user_id, project_id = TokenValidator(identity_server.data_dir).ec2_secret_for(
        cred["access"])
    assert (secret, user_id, project_id) == (cred["secret"], user["id"], created["id"])


# The same refusals are checked over HTTP in tests/integration/identity (not slow); these drive
# them through the CLI, several seconds per `openstack` run on a loaded machine.
@pytest.mark.slow
def test_reader_cannot_create(identity_server, openstack):
    openstack("user", "create", "--password", "rd-pw", "--project", "test", "clireader")
    openstack("role", "add", "--project", "test", "--user", "clireader", "reader",
              as_json=False)
    done = openstack("project", "create", "readers-project", ok=False,
                     env={"OS_USERNAME": "clireader", "OS_PASSWORD": "rd-pw",
                          "OS_PROJECT_NAME": "test"})
    assert done.returncode != 0 and "403" in done.stderr


def _with_token(token):
    # keystoneauth's v3token plugin rescopes the given token (POST /v3/auth/tokens, token method).
    return {"OS_AUTH_TYPE": "v3token", "OS_TOKEN": token, "OS_USERNAME": None,
            "OS_PASSWORD": None, "OS_USER_DOMAIN_NAME": None}


@pytest.mark.slow
def test_revoked_expired_and_tampered_tokens_are_refused(identity_server, openstack):
    token = openstack("token", "issue").data["id"]
    assert openstack("project", "show", "admin", env=_with_token(token)).data["name"] == "admin"
    openstack("token", "revoke", token, as_json=False)
    done = openstack("project", "show", "admin", env=_with_token(token), ok=False)
    assert done.returncode != 0 and "401" in done.stderr
    now = time.time()
    expired = TokenCodec(keys.load(keys.key_dir_for(identity_server.data_dir))).seal(AuthContext(
        user_id="someone", user_name="someone", project_id=None, project_name=None,
        domain_id="default", roles=frozenset(), expires_at=now - 1, issued_at=now - 100,
        audit_id="E" * 22, audit_ids=("E" * 22,)))
    fresh = openstack("token", "issue").data["id"]
    tampered = fresh[:30] + ("A" if fresh[30] != "A" else "B") + fresh[31:]
    for bad in (expired, tampered):
        done = openstack("project", "list", env=_with_token(bad), ok=False)
        assert done.returncode != 0 and "401" in done.stderr, done.stderr
