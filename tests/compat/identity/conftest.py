"""A real identity process for the CLI tests, and a runner for the real `openstack` command."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from identity.testing import running_identity


@pytest.fixture(scope="session")
def identity_server(tmp_path_factory):
    with running_identity(tmp_path_factory.mktemp("identity-compat")) as server:
        yield server


def _openstack_bin():
    found = os.path.join(os.path.dirname(sys.executable), "openstack")
    return found if os.path.exists(found) else shutil.which("openstack")


@pytest.fixture(scope="session")
def openstack(identity_server):
    """openstack(*args, env_overrides=None, ok=True) -> CompletedProcess (JSON parsed in .data)."""
    binary = _openstack_bin()
    if binary is None:
        pytest.fail("the openstack command is not installed (pip install python-openstackclient)")

    def run(*args, env=None, ok=True, as_json=True):
        full_env = identity_server.openrc_env()
        for key, value in (env or {}).items():
            if value is None:
                full_env.pop(key, None)  # None removes an openrc variable
            else:
                full_env[key] = value
        cmd = [binary, *args] + (["-f", "json"] if as_json else [])
        done = subprocess.run(cmd, env=full_env, capture_output=True, text=True, timeout=120)
        if ok:
            assert done.returncode == 0, f"{args}: {done.stderr}"
        done.data = json.loads(done.stdout) if ok and as_json and done.stdout.strip() else None
        return done

    return run
