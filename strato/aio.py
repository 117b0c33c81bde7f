"""`strato aio`: run every built service on one machine under one supervisor.

On first start it creates the data directory and generates the cluster's secrets and test
credentials (kept in <data>/generated.toml so restarts keep them); each service's prepare() then
builds what it needs (rings, device directories, bootstrap records). Children run as
`python -m strato serve NAME --instance I` with the resolved configuration; a child that dies is
restarted with back-off. Once every service answers, the endpoints and credentials are printed and
written to <data>/aio.json (removed again on a clean stop). Ctrl-C or SIGTERM stops every child.
"""
from __future__ import annotations

import fcntl
import functools
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import tomllib

import tomli_w

from strato import config as config_mod
from strato import services
from strato.generated_secrets import cli_safe_token
from strato.runtime import die_with_parent

READY_TIMEOUT = 90.0
STOP_TIMEOUT = 10.0
MAX_BACKOFF = 30.0
STABLE_SECONDS = 60.0  # a child up this long has recovered: its back-off starts again at 1 s

# The accounts, users and keys OpenStack Swift's functional suite expects (its saio-test.conf):
# account:user:key:groups, and S3 "access secret account user".
SWIFT_TEST_USERS = [
    "test:tester:testing:.admin",
    "test:tester2:testing2:.admin",
    "test:tester3:testing3",
    "test2:tester2:testing2:.admin",
    "test5:tester5:testing5:service",
    "admin:admin:admin:.admin,.reseller_admin",
]
SWIFT_TEST_S3_KEYS = [
    "test:tester testing test tester",
    "test:tester2 testing2 test tester2",
    "test:tester3 testing3 test tester3",
]


class AioError(RuntimeError):
    pass


def generated_settings(test_users: bool) -> dict:
    """Secrets and credentials for a new all-in-one (written once to <data>/generated.toml)."""
    tester_key = cli_safe_token(12)
    alt_key = cli_safe_token(12)
    users = [f"test:tester:{tester_key}:.admin", f"alt:alt:{alt_key}:.admin"]
    s3 = [f"{secrets.token_hex(10).upper()} {cli_safe_token(30)} test tester",
          f"{secrets.token_hex(10).upper()} {cli_safe_token(30)} alt alt"]
    if test_users:
        # The functional suite's fixed secrets replace the random test:tester key.
        users = SWIFT_TEST_USERS + [f"alt:alt:{alt_key}:.admin"]
        s3 = s3 + SWIFT_TEST_S3_KEYS
    return {
        "cluster": {"hash_path_prefix": secrets.token_hex(16), "hash_path_suffix": secrets.token_hex(16)},
        "proxy": {"users": users},
        "s3": {"credentials": s3},
        "identity": {"admin_password": cli_safe_token(16)},
    }


def _write_toml(path: str, data: dict) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as f:
        tomli_w.dump(data, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _known_sections(data: dict) -> dict:
    """Drop sections whose service package is absent (their keys would be unknown)."""
    known = config_mod.schema()
    return {name: body for name, body in data.items() if name in known}


def resolve_config(data_dir: str, user_config: str | None, port_offset: int, test_users: bool):
    """Create <data> and its generated secrets if new; return the resolved configuration."""
    os.makedirs(data_dir, exist_ok=True)
    generated_path = os.path.join(data_dir, "generated.toml")
    if not os.path.exists(generated_path):
        _write_toml(generated_path, generated_settings(test_users))
    with open(generated_path, "rb") as f:
        generated = tomllib.load(f)
    if test_users and "test:tester:testing:.admin" not in generated.get("proxy", {}).get("users", []):
        # An existing data dir started without --test-users: add the suite's users once.
        generated.setdefault("proxy", {}).setdefault("users", [])
        generated["proxy"]["users"] = [u for u in generated["proxy"]["users"]
                                       if not u.startswith("test:tester:")] + SWIFT_TEST_USERS
        generated.setdefault("s3", {}).setdefault("credentials", []).extend(SWIFT_TEST_S3_KEYS)
        _write_toml(generated_path, generated)
    layered = os.path.join(data_dir, "run", "generated-known.toml")
    os.makedirs(os.path.dirname(layered), exist_ok=True)
    _write_toml(layered, _known_sections(generated))
    paths = [layered] + ([user_config] if user_config else [])
    return config_mod.load(paths, overrides={"cluster": {"data_dir": data_dir}},
                           port_offset=port_offset)


class Child:
    def __init__(self, name: str, instance: int, argv: list[str], log_path: str):
        self.name, self.instance, self.argv, self.log_path = name, instance, argv, log_path
        self.process: subprocess.Popen | None = None
        self.restarts = 0
        self.next_start = 0.0
        self.started_at = 0.0

    @property
    def label(self) -> str:
        return f"{self.name}-{self.instance}"

    def start(self) -> None:
        self.started_at = time.monotonic()
        log = open(self.log_path, "ab")
        try:
            self.process = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL,
                                            preexec_fn=functools.partial(die_with_parent, os.getpid()))
        finally:
            log.close()

    def backoff(self, now: float) -> float:
        """Seconds to wait before restarting after an exit: doubling per quick death, capped; a
        child that had been up for STABLE_SECONDS starts again at 1 s."""
        if now - self.started_at > STABLE_SECONDS:
            self.restarts = 0
        return min(MAX_BACKOFF, 2.0 ** min(self.restarts, 5))

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def wait_ready(endpoints: list[tuple[str, int]], children: list[Child], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = list(endpoints)
    while pending:
        for child in children:
            if not child.running():
                raise AioError(f"{child.label} exited with status {child.process.returncode} during "
                               f"start-up; see {child.log_path}")
        host, port = pending[0]
        try:
            with socket.create_connection((host, port), timeout=0.5):
                pending.pop(0)
                continue
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AioError(f"{host}:{port} did not answer within {timeout:.0f} s")
        time.sleep(0.1)


def _lock_data_dir(data_dir: str):
    lock = open(os.path.join(data_dir, "aio.lock"), "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise AioError(f"another strato aio is already running on {data_dir}") from None
    return lock


def describe(info: dict) -> str:
    lines = [f"strato aio is running (pid {info['pid']}, data in {info['data_dir']})"]
    for section, body in info.items():
        if isinstance(body, dict):
            lines.append(f"  {section}:")
            lines.extend(f"    {key}: {value}" for key, value in body.items())
    return "\n".join(lines)


def main(args) -> int:
    data_dir = os.path.abspath(args.data or "var")
    try:
        os.makedirs(data_dir, exist_ok=True)
        lock = _lock_data_dir(data_dir)
        config = resolve_config(data_dir, args.config, args.port_offset, args.test_users)
        return Supervisor(config, data_dir).run()
    except (AioError, config_mod.ConfigError) as exc:
        print(f"strato aio: {exc}", file=sys.stderr)
        return 1
    finally:
        if "lock" in locals():
            lock.close()


class Supervisor:
    def __init__(self, config, data_dir: str):
        self.config, self.data_dir = config, data_dir
        self.info_path = os.path.join(data_dir, "aio.json")
        self.children: list[Child] = []
        self.stopping = False

    def _handle_signal(self, signum, frame) -> None:
        self.stopping = True

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._handle_signal)
        signal.signal(signal.SIGINT, self._handle_signal)
        disabled = set(self.config.cluster.disable)
        modules = {n: m for n, m in services.available().items() if n not in disabled}
        if not modules:
            raise AioError("no service is built yet (see `strato services`)")
        for module in modules.values():
            prepare = getattr(module, "prepare", None)
            if prepare:
                prepare(self.config)
        run_dir = os.path.join(self.data_dir, "run")
        logs_dir = os.path.join(self.data_dir, "logs")
        os.makedirs(logs_dir, exist_ok=True)
        config_path = os.path.join(run_dir, "strato.toml")
        config_mod.dump(self.config, config_path)

        endpoints = []
        for name, module in modules.items():
            for instance in range(services.instances(module, self.config)):
                argv = [sys.executable, "-m", "strato", "serve", name, "--config", config_path,
                        "--instance", str(instance)]
                self.children.append(Child(name, instance, argv,
                                           os.path.join(logs_dir, f"{name}-{instance}.log")))
            endpoints.extend(module.ports(self.config))
        try:
            for child in self.children:
                child.start()
            wait_ready(endpoints, self.children, READY_TIMEOUT)
            info = {"pid": os.getpid(), "data_dir": self.data_dir}
            for module in modules.values():
                info.update(module.aio_entry(self.config))
            tmp = f"{self.info_path}.tmp"
            with open(tmp, "w") as f:
                json.dump(info, f, indent=2)
            os.replace(tmp, self.info_path)
            print(describe(info), flush=True)
            print(f"  (written to {self.info_path}; logs in {logs_dir}; Ctrl-C stops)", flush=True)
            self._watch()
        finally:
            self._stop_children()
            try:
                os.unlink(self.info_path)
            except FileNotFoundError:
                pass
        return 0

    def _watch(self) -> None:
        while not self.stopping:
            now = time.monotonic()
            for child in self.children:
                if child.running() or self.stopping:
                    continue
                if child.next_start == 0.0:
                    backoff = child.backoff(now)
                    child.next_start = now + backoff
                    print(f"strato aio: {child.label} exited ({child.process.returncode}); "
                          f"restarting in {backoff:.0f} s", file=sys.stderr, flush=True)
                elif now >= child.next_start:
                    child.restarts += 1
                    child.next_start = 0.0
                    child.start()
            time.sleep(0.2)

    def _stop_children(self) -> None:
        for child in self.children:
            if child.running():
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for child in self.children:
            if child.process is None:
                continue
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
