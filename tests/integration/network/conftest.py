"""A real identity process and a real network process (`strato serve network`) on loopback, and
tokens of four callers: admin, tester (member of test), alt (member of alt), viewer (reader of
test, made from a [proxy] users entry without a group)."""
import pytest
import requests
from ports import free_block  # tests/ports.py
from serveprocess import ServeProcess, token  # tests/serveprocess.py

from identity.testing import running_identity

PORT_RANGE = (26900, 27000)  # the network tests' own range
VIEWER_PASSWORD = "viewer-secret-for-tests"


class Cloud:
    """The running pair, with a small client: cloud.call("POST", "/v2.0/networks", "tester",
    json=...) -> requests.Response."""

    def __init__(self, ident, network, tokens):
        self.ident, self.network, self.tokens = ident, network, tokens
        self.session = requests.Session()

    @property
    def url(self):
        return self.network.url

    def call(self, method, path, who="tester", **kwargs):
        headers = kwargs.pop("headers", {})
        if who is not None:
            headers.setdefault("X-Auth-Token", self.tokens[who])
        return self.session.request(method, self.url + path, headers=headers, timeout=10,
                                    **kwargs)

    def fresh_token(self, who):
        """A new token of tester/alt (not the shared one), e.g. to revoke it."""
        project = {"tester": "test", "alt": "alt"}[who]
        return token(self.ident.auth_url, who, self.ident.state[f"{who}_password"], project)

    def project(self, who):
        return self.ident.state["accounts"][who]["project_id"]


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    data = tmp_path_factory.mktemp("network-cloud")
    ident_port = free_block(*PORT_RANGE)
    net_port = free_block(*PORT_RANGE, taken={ident_port})
    overrides = {"network": {"port": net_port},
                 "proxy": {"users": [f"test:viewer:{VIEWER_PASSWORD}"]}}
    with running_identity(data, port=ident_port, overrides=overrides) as ident:
        network = ServeProcess("network", ident.config_path, net_port, str(data / "network.log"))
        network.start()
        try:
            state = ident.state
            tokens = {"admin": token(ident.auth_url, "admin", ident.admin_password, "admin"),
                      "tester": token(ident.auth_url, "tester", state["tester_password"], "test"),
                      "alt": token(ident.auth_url, "alt", state["alt_password"], "alt"),
                      "viewer": token(ident.auth_url, "viewer", VIEWER_PASSWORD, "test")}
            yield Cloud(ident, network, tokens)
        finally:
            network.stop()
