"""A real blockserver process for the real clients (openstack CLI, openstacksdk) to drive.

Until identity is wired in, the clients use keystoneauth's `none` auth with the volume endpoint
given directly (`--os-auth-type none --os-endpoint http://127.0.0.1:PORT/v3/<project>`).
"""
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
import requests
from ports import free_block  # tests/ports.py

PORT_RANGE = range(24000, 24100)
OPENSTACK = os.path.join(os.path.dirname(sys.executable), "openstack")


def _free_port(taken=()):
    return free_block(PORT_RANGE.start, PORT_RANGE.stop, 1, taken)


@pytest.fixture(scope="module")
def volume_endpoint(tmp_path_factory):
    """(base url, project) of a running blockserver; stopped after the module."""
    tmp = tmp_path_factory.mktemp("blockserver-compat")
    port = _free_port()
    iscsi_port = _free_port({port})
    config = tmp / "strato.toml"
    config.write_text(f'[cluster]\ndata_dir = "{tmp / "var"}"\nlog_level = "warning"\n'
                      f'[blockserver]\nauth_strategy = "noauth"\nport = {port}\n[iscsi]\nport = {iscsi_port}\n')
    log = open(tmp / "blockserver.log", "ab")
    proc = subprocess.Popen([sys.executable, "-m", "strato", "serve", "blockserver",
                             "--config", str(config)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            requests.get(url + "/v3/", timeout=1)
            break
        except requests.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError((tmp / "blockserver.log").read_text()[-3000:])
            time.sleep(0.05)
    yield url, "compatproject"
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


@pytest.fixture
def openstack(volume_endpoint):
    """Run the real `openstack` command against the blockserver; returns CompletedProcess."""
    if not os.path.exists(OPENSTACK) and not shutil.which("openstack"):
        pytest.fail("python-openstackclient is not installed (pip install -e '.[test]')")
    url, project = volume_endpoint
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}

    def run(*args, check=True):
        done = subprocess.run([OPENSTACK if os.path.exists(OPENSTACK) else "openstack",
                               "--os-auth-type", "none", "--os-endpoint", f"{url}/v3/{project}",
                               *args], capture_output=True, text=True, env=env, timeout=60)
        if check and done.returncode != 0:
            raise AssertionError(f"openstack {' '.join(args)} failed ({done.returncode}):\n"
                                 f"{done.stdout}\n{done.stderr}")
        return done
    return run
