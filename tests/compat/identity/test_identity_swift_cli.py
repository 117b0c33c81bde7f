"""The real `swift` command authenticates against identity, with Keystone v3 (through
keystoneclient) and with /auth/v1.0; the proxy's part (upload/list) is the proxy's tests."""
import os
import subprocess
import sys

import pytest

from identity.validate import TokenValidator

pytestmark = [pytest.mark.compat, pytest.mark.timeout(120)]

SWIFT = os.path.join(os.path.dirname(sys.executable), "swift")


def _exports(stdout):
    pairs = (line.removeprefix("export ").split("=", 1) for line in stdout.splitlines()
             if line.startswith("export "))
    return dict(pairs)


def test_swift_auth_version_3(identity_server):
    done = subprocess.run([SWIFT, "--auth-version", "3", "auth"], env=identity_server.openrc_env(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = _exports(done.stdout)
    admin_project = identity_server.state["accounts"]["admin"]["project_id"]
    assert out["OS_STORAGE_URL"].endswith(f"/v1/AUTH_{admin_project}")
    assert TokenValidator(identity_server.data_dir).validate(out["OS_AUTH_TOKEN"]).is_admin


def test_swift_auth_v1(identity_server):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "ST_"))}
    done = subprocess.run([SWIFT, "-A", identity_server.base_url + "/auth/v1.0", "-U",
                           "test:tester", "-K", identity_server.state["tester_password"], "auth"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = _exports(done.stdout)
    assert "OS_AUTH_TOKEN" in out, (done.stdout, done.stderr)
    ctx = TokenValidator(identity_server.data_dir).validate(out["OS_AUTH_TOKEN"])
    assert out["OS_STORAGE_URL"].endswith(f"/v1/AUTH_{ctx.project_id}")
    assert ctx.project_name == "test" and ctx.user_name == "tester"
    done = subprocess.run([SWIFT, "-A", identity_server.base_url + "/auth/v1.0", "-U",
                           "test:tester", "-K", "wrong", "auth"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode != 0 and "401" in done.stderr, (done.returncode, done.stderr)
