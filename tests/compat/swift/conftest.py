"""python-swiftclient (library and `swift` command) against the all-in-one's Swift endpoint."""
import os
import subprocess
import sys
import uuid

import pytest
import swiftclient


@pytest.fixture(scope="session")
def swift_info(aio):
    return aio["swift"]


@pytest.fixture
def conn(swift_info):
    c = swiftclient.Connection(authurl=swift_info["auth_url"], user=swift_info["user"],
                               key=swift_info["key"], retries=0)
    yield c
    c.close()


@pytest.fixture
def container(conn):
    name = f"compat-{uuid.uuid4().hex[:10]}"
    conn.put_container(name)
    return name


@pytest.fixture
def swift_cli(swift_info, tmp_path):
    """Run the real `swift` command with the test user's credentials; returns CompletedProcess."""
    exe = os.path.join(os.path.dirname(sys.executable), "swift")

    def run(*args, check=True, timeout=600):
        cmd = [exe, "-A", swift_info["auth_url"], "-U", swift_info["user"], "-K", swift_info["key"],
               *args]
        proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed: {proc.stdout}\n{proc.stderr}")
        return proc

    return run
