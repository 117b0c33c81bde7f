"""Start a real identity process on loopback for tests (ours, and other areas' that need tokens).

    with running_identity(tmp_path, port) as server:
        server.auth_url, server.admin_password, server.state["accounts"]["tester"]["secret"]
The process is `strato serve identity --config <file>`, after the same prepare() `strato aio` runs.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import subprocess
import sys
import time

import tomli_w

from strato import config as config_mod

TEST_PORTS = range(25000, 25100)


def free_port(candidates=TEST_PORTS) -> int:
    """A port from the range that nothing listens on right now."""
    for port in candidates:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free test port")


@dataclasses.dataclass
class RunningIdentity:
    config: object
    config_path: str
    data_dir: str
    process: subprocess.Popen
    state: dict

    @property
    def port(self) -> int:
        return self.config.identity.port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def auth_url(self) -> str:
        return f"{self.base_url}/v3"

    @property
    def admin_password(self) -> str:
        return self.state["admin_password"]

    def openrc_env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env.update(OS_AUTH_URL=self.auth_url, OS_USERNAME="admin", OS_PASSWORD=self.admin_password,
                   OS_PROJECT_NAME="admin", OS_USER_DOMAIN_NAME="Default",
                   OS_PROJECT_DOMAIN_NAME="Default", OS_IDENTITY_API_VERSION="3",
                   OS_REGION_NAME=self.config.identity.region)
        return env


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"identity exited with {process.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"identity did not listen on {port} within {timeout}s")


@contextlib.contextmanager
def running_identity(data_dir: str, port: int | None = None, overrides: dict | None = None,
                     timeout: float = 30.0):
    from identity import bootstrap

    port = port or free_port()
    values = {"cluster": {"data_dir": str(data_dir), "log_level": "warning"},
              "identity": {"port": port, "admin_password": "admin-secret-for-tests"}}
    for section, body in (overrides or {}).items():
        values.setdefault(section, {}).update(body)
    config_path = os.path.join(str(data_dir), "identity-test.toml")
    with open(config_path, "wb") as f:
        tomli_w.dump(values, f)
    config = config_mod.load(config_path)
    state = bootstrap.bootstrap(config)
    log_path = os.path.join(str(data_dir), "identity.log")
    with open(log_path, "ab") as log:
        process = subprocess.Popen([sys.executable, "-m", "strato", "serve", "identity",
                                    "--config", config_path], stdout=log, stderr=log)
    try:
        _wait_for_port(port, process, timeout)
        yield RunningIdentity(config, config_path, str(data_dir), process, state)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
