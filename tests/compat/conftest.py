"""Shared by the compat tests that drive the real `openstack` command: the session all-in-one's
identity credentials (fixture `aio`, tests/conftest.py) and a runner for the command as one of
its users."""
import json
import os
import subprocess
import sys

import pytest

from identity.bootstrap import read_bootstrap

OPENSTACK = os.path.join(os.path.dirname(sys.executable), "openstack")


@pytest.fixture(scope="session")
def os_creds(aio):
    """who ("admin" of project admin, "tester" of project test) -> openstack.connect keywords."""
    state = read_bootstrap(aio["data_dir"])
    common = {"auth_url": aio["identity"]["auth_url"], "user_domain_name": "Default",
              "project_domain_name": "Default"}
    return {"admin": {**common, "username": "admin", "password": aio["identity"]["password"],
                      "project_name": "admin"},
            "tester": {**common, "username": "tester", "password": state["tester_password"],
                       "project_name": "test"}}


@pytest.fixture(scope="session")
def osc(os_creds):
    """osc(who, *args, ok=True, as_json=True, cwd=None) -> CompletedProcess (.data: the JSON)."""
    def run(who, *args, ok=True, as_json=True, cwd=None):
        creds = os_creds[who]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "ST_"))}
        env.update(OS_AUTH_URL=creds["auth_url"], OS_IDENTITY_API_VERSION="3",
                   OS_USERNAME=creds["username"], OS_PASSWORD=creds["password"],
                   OS_PROJECT_NAME=creds["project_name"], OS_USER_DOMAIN_NAME="Default",
                   OS_PROJECT_DOMAIN_NAME="Default")
        cmd = [OPENSTACK, *args] + (["-f", "json"] if as_json else [])
        done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True,
                              timeout=120)
        if ok:
            assert done.returncode == 0, (args, done.stderr)
        done.data = json.loads(done.stdout) if ok and as_json and done.stdout.strip() else None
        return done
    return run
