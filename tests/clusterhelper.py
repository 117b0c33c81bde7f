"""A real cluster on loopback for integration tests: storage nodes and a proxy started as
`python -m strato serve storage|proxy` processes from one generated TOML file, rings built by the
storage service's prepare(). Each test folder's conftest.py picks the settings and the ports."""
import os
import signal
import socket
import subprocess
import sys
import time

import requests
import tomli_w


def wait_port(port, proc=None, timeout=30.0):
    """Return once 127.0.0.1:port accepts; fail early if `proc` died meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"port {port} never answered")


class ServeCluster:
    """`settings` is the whole TOML document; its [proxy] port and [storage] base_port/nodes
    say where the processes listen."""

    def __init__(self, root, settings):
        self.root = str(root)
        self.proxy_port = settings["proxy"]["port"]
        self.node_base = settings["storage"]["base_port"]
        self.nodes = settings["storage"]["nodes"]
        self.procs = {}
        self.conf = os.path.join(self.root, "strato.toml")
        with open(self.conf, "wb") as f:
            tomli_w.dump(settings, f)
        from objectserver import service as storage_service
        from strato import config as config_mod

        self.config = config_mod.load(self.conf, environ={})
        storage_service.prepare(self.config)

    def _spawn(self, name, port, *args):
        with open(os.path.join(self.root, f"{name}.log"), "ab") as log:
            proc = subprocess.Popen([sys.executable, "-m", "strato", "serve", *args, "--config",
                                     self.conf], stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
        self.procs[name] = proc
        wait_port(port, proc)
        return proc

    def start_node(self, i):
        self._spawn(f"node{i}", self.node_base + i, "storage", "--instance", str(i))

    def stop_node(self, i, sig=signal.SIGKILL):
        proc = self.procs.pop(f"node{i}")
        proc.send_signal(sig)
        proc.wait(timeout=20)

    def start(self):
        for i in range(self.nodes):
            self.start_node(i)
        self._spawn("proxy", self.proxy_port, "proxy")
        return self

    def stop(self):
        for proc in self.procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs.clear()

    @property
    def base(self):
        return f"http://127.0.0.1:{self.proxy_port}"

    @property
    def auth_url(self):
        return self.base + "/auth/v1.0"

    def login(self, user="test:tester", key="testing"):
        resp = requests.get(self.auth_url, headers={"X-Auth-User": user, "X-Auth-Key": key},
                            timeout=10)
        resp.raise_for_status()
        return resp.headers["X-Storage-Url"], resp.headers["X-Auth-Token"]

    def log(self, name):
        with open(os.path.join(self.root, f"{name}.log"), errors="replace") as f:
            return f.read()
