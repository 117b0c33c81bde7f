"""One `strato serve NAME` process for the tests of a thin service (network, compute...): started
on its configured port (its service's prepare() run first, as `strato aio` would), stopped with
SIGTERM as the supervisor stops it; and the project-scoped token their callers use."""
import importlib
import signal
import socket
import subprocess
import sys
import time

import requests


class ServeProcess:
    def __init__(self, name, config_path, port, log_path, config=None):
        """config: the loaded configuration, for the service's prepare() (skipped without)."""
        self.name, self.config, self.config_path = name, config, config_path
        self.port, self.log_path = port, log_path
        self.url = f"http://127.0.0.1:{port}"
        self.process = None

    def start(self, timeout=20.0):
        prepare = getattr(importlib.import_module(f"{self.name}.service"), "prepare", None)
        if prepare and self.config is not None:
            prepare(self.config)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "strato", "serve", self.name, "--config",
                 self.config_path], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                raise RuntimeError(open(self.log_path).read()[-3000:])
            time.sleep(0.05)

    def stop(self):
        """The exit status (0: a clean SIGTERM exit); None when it was not running."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def restart(self):
        self.stop()
        self.start()


def token(auth_url, user, password, project):
    """A Keystone v3 token of `user` scoped to `project` (both in the Default domain)."""
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"name": "Default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"name": "Default"}}}}}
    answer = requests.post(f"{auth_url}/auth/tokens", json=body, timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.headers["X-Subject-Token"]
