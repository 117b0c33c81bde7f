"""Keystone tokens against the all-in-one's proxy: token helpers over the real identity API.

Uses the session `aio` fixture (tests/conftest.py); run with STRATO_TEST_PORT_OFFSET set to a
free offset (e.g. 19000) so it does not meet other suites' all-in-ones.
"""
import uuid

import pytest
import requests

from identity.bootstrap import read_bootstrap


class Keystone:
    """The aio's identity (tokens, users, grants) and its proxy, by plain HTTP."""

    def __init__(self, aio):
        self.aio = aio
        self.auth_url = aio["identity"]["auth_url"].rstrip("/")
        self.state = read_bootstrap(aio["data_dir"])
        self.proxy = aio["swift"]["auth_url"].rsplit("/auth/", 1)[0]
        self._admin = None

    def project_id(self, user: str) -> str:
        return self.state["accounts"][user]["project_id"]

    def user_id(self, user: str) -> str:
        return self.state["accounts"][user]["user_id"]

    def token(self, user: str, password: str | None = None, project: str | None = None) -> str:
        if password is None:
            password = self.state[{"admin": "admin_password", "tester": "tester_password",
                                   "alt": "alt_password"}[user]]
        if project is None:
            project = {"admin": "admin", "tester": "test", "alt": "alt"}[user]
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"name": "Default"}, "password": password}}},
            "scope": {"project": {"name": project, "domain": {"name": "Default"}}}}}
        r = requests.post(self.auth_url + "/auth/tokens", json=body, timeout=30)
        assert r.status_code == 201, r.text
        return r.headers["X-Subject-Token"]

    def admin(self) -> dict:
        if self._admin is None:
            self._admin = {"X-Auth-Token": self.token("admin")}
        return self._admin

    def new_user(self, project: str, role: str) -> tuple[str, str]:
        """A fresh user with `role` on `project` (name): (name, password)."""
        name, password = f"u-{uuid.uuid4().hex[:10]}", uuid.uuid4().hex
        r = requests.post(self.auth_url + "/users", headers=self.admin(), timeout=30, json={
            "user": {"name": name, "password": password, "domain_id": "default"}})
        assert r.status_code == 201, r.text
        user_id = r.json()["user"]["id"]
        r = requests.get(self.auth_url + "/roles", params={"name": role}, headers=self.admin(),
                         timeout=30)
        role_id = r.json()["roles"][0]["id"]
        r = requests.get(self.auth_url + "/projects", params={"name": project},
                         headers=self.admin(), timeout=30)
        project_id = r.json()["projects"][0]["id"]
        r = requests.put(f"{self.auth_url}/projects/{project_id}/users/{user_id}/roles/{role_id}",
                         headers=self.admin(), timeout=30)
        assert r.status_code == 204, r.text
        return name, password

    def revoke(self, token: str) -> None:
        r = requests.delete(self.auth_url + "/auth/tokens", timeout=30,
                            headers={**self.admin(), "X-Subject-Token": token})
        assert r.status_code == 204, r.text

    def url(self, user: str, *parts: str) -> str:
        return "/".join([f"{self.proxy}/v1/AUTH_{self.project_id(user)}", *parts])


@pytest.fixture(scope="session")
def ks(aio):
    return Keystone(aio)
