"""The session all-in-one's credentials (fixture `aio`, tests/conftest.py) and a runner for the
real `openstack` command as admin or tester, for the compute CLI tests."""
import json
import os
import subprocess
import sys

import pytest

from identity.bootstrap import read_bootstrap

OPENSTACK = os.path.join(os.path.dirname(sys.executable), "openstack")


@pytest.fixture(scope="session")
def compute_creds(aio):
    for needed in ("compute", "network", "volume"):
        if needed not in aio:
            pytest.fail(f"the all-in-one has no {needed} service (aio.json lacks '{needed}')")
    state = read_bootstrap(aio["data_dir"])
    common = {"auth_url": aio["identity"]["auth_url"]}
    return {"admin": {**common, "username": "admin", "password": aio["identity"]["password"],
                      "project_name": "admin"},
            "tester": {**common, "username": "tester", "password": state["tester_password"],
                       "project_name": "test"}}


@pytest.fixture(scope="session")
def nova_cli(compute_creds):
    """nova_cli(who, *args, ok=True, as_json=True) -> CompletedProcess (.data: parsed JSON)."""
    def run(who, *args, ok=True, as_json=True):
        creds = compute_creds[who]
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env.update(OS_AUTH_URL=creds["auth_url"], OS_IDENTITY_API_VERSION="3",
                   OS_USERNAME=creds["username"], OS_PASSWORD=creds["password"],
                   OS_PROJECT_NAME=creds["project_name"], OS_USER_DOMAIN_NAME="Default",
                   OS_PROJECT_DOMAIN_NAME="Default")
        cmd = [OPENSTACK, *args] + (["-f", "json"] if as_json else [])
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        if ok:
            assert done.returncode == 0, (args, done.stderr)
        done.data = json.loads(done.stdout) if ok and as_json and done.stdout.strip() else None
        return done
    return run
