"""The `openstack` CLI the way users run it: password auth against Strato's identity, whose catalog
points at the blockserver, which checks the Keystone tokens itself (auth_strategy = "keystone")."""
import json
import signal
import subprocess
import sys
import time

import pytest
import requests

from identity.testing import running_identity

pytestmark = [pytest.mark.compat, pytest.mark.timeout(180)]


def _port(taken):
    import socket
    for port in range(24000, 24100):
        if port in taken:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 24000-24099")


@pytest.fixture(scope="module")
def keystone_cloud(tmp_path_factory):
    data = tmp_path_factory.mktemp("keystone-cloud")
    ports = []
    for _ in range(3):
        ports.append(_port(set(ports)))
    identity_port, api_port, iscsi_port = ports
    overrides = {"blockserver": {"port": api_port, "auth_strategy": "keystone"},
                 "iscsi": {"port": iscsi_port}}
    with running_identity(data, port=identity_port, overrides=overrides) as ident:
        log = open(data / "blockserver.log", "ab")
        proc = subprocess.Popen([sys.executable, "-m", "strato", "serve", "blockserver",
                                 "--config", ident.config_path], stdout=log,
                                stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{api_port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(url + "/v3/", timeout=1)
                break
            except requests.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    raise RuntimeError((data / "blockserver.log").read_text()[-3000:])
                time.sleep(0.05)
        try:
            yield ident, url
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()


def admin_token(ident):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"name": "Default"}, "password": ident.admin_password}}},
        "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}
    r = requests.post(ident.auth_url + "/auth/tokens", json=body, timeout=10)
    assert r.status_code == 201, r.text
    return r.headers["X-Subject-Token"], r.json()["token"]["project"]["id"]


def test_tokens_are_required_and_checked(keystone_cloud):
    ident, url = keystone_cloud
    token, project = admin_token(ident)
    assert requests.get(f"{url}/v3/{project}/volumes").status_code == 401
    r = requests.get(f"{url}/v3/{project}/volumes", headers={"X-Auth-Token": "garbage"})
    assert r.status_code == 401 and "unauthorized" in r.json()
    r = requests.get(f"{url}/v3/{project}/volumes", headers={"X-Auth-Token": token})
    assert r.status_code == 200 and r.json() == {"volumes": []}
    assert requests.get(f"{url}/v3/").status_code == 200  # discovery needs no token


def test_openstack_cli_with_password_auth(keystone_cloud):
    ident, url = keystone_cloud
    env = ident.openrc_env()
    openstack = [sys.executable.rsplit("/", 1)[0] + "/openstack"]

    def run(*args):
        done = subprocess.run(openstack + list(args), capture_output=True, text=True, env=env,
                              timeout=60)
        assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
        return done.stdout

    created = json.loads(run("volume", "create", "--size", "1", "ks-v1", "-f", "json"))
    token, project = admin_token(ident)
    assert created["os-vol-tenant-attr:tenant_id"] == project
    headers = {"X-Auth-Token": token}
    deadline = time.monotonic() + 30
    while requests.get(f"{url}/v3/{project}/volumes/{created['id']}", headers=headers
                       ).json()["volume"]["status"] != "available":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert [v["Name"] for v in json.loads(run("volume", "list", "-f", "json"))] == ["ks-v1"]
    run("volume", "delete", "ks-v1")
