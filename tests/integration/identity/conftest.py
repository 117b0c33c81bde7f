"""A real identity process on loopback (ports 25000-25099), shared by this folder's tests."""
import pytest
import requests

from identity.testing import running_identity


@pytest.fixture(scope="session")
def identity_server(tmp_path_factory):
    with running_identity(tmp_path_factory.mktemp("identity-it")) as server:
        yield server


def password_auth(name, password, project=None, domain="Default"):
    body = {"auth": {"identity": {"methods": ["password"], "password": {
        "user": {"name": name, "domain": {"name": domain}, "password": password}}}}}
    if project:
        body["auth"]["scope"] = {"project": {"name": project, "domain": {"name": domain}}}
    return body


@pytest.fixture(scope="session")
def issue(identity_server):
    """issue(name, password, project) -> (token, body); asserts 201."""
    def issue(name, password, project=None):
        r = requests.post(f"{identity_server.auth_url}/auth/tokens",
                          json=password_auth(name, password, project), timeout=30)
        assert r.status_code == 201, r.text
        return r.headers["X-Subject-Token"], r.json()
    return issue


@pytest.fixture(scope="session")
def admin_token(identity_server, issue):
    return issue("admin", identity_server.admin_password, "admin")[0]
