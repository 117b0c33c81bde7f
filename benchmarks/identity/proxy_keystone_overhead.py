"""4 KiB GETs through the real proxy: Keystone (Fernet) tokens against a config-user token.

Starts `strato aio --test-users` in a temporary data dir (or uses a running one with
--aio-json) and reads one 4 KiB object with three tokens, rotating wrk runs (-t1 -c16, same
client) among them so load changes on the shared box hit all alike:
  tempauth        config user test:tester's /auth/v1.0 token, its object in AUTH_test;
  keystone-admin  identity's cloud admin (reseller admin) reading THE SAME object: only the
                  token check differs;
  keystone-member identity's tester (member of "test") reading its own AUTH_<project_id>.
Reports, per mode, the median over rounds of requests/s and of the proxy's CPU time per
request, and the median of per-round ratios against tempauth (runs of one round are seconds
apart, so the ratio cancels most of the load drift).

    .venv/bin/python benchmarks/identity/proxy_keystone_overhead.py [--seconds 5] [--rounds 6]
        [--port-offset 19500] [--aio-json /path/to/aio.json]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BODY = os.urandom(4096)


def _proxy_pids(port: int) -> list[int]:
    """The proxy worker processes listening on its port (root may see every socket)."""
    import psutil

    pids = {c.pid for c in psutil.net_connections("tcp")
            if c.status == psutil.CONN_LISTEN and c.laddr.port == port and c.pid}
    return sorted(pids)


def _cpu(pids: list[int]) -> float:
    import psutil

    total = 0.0
    for pid in pids:
        t = psutil.Process(pid).cpu_times()
        total += t.user + t.system
    return total


def wrk(url: str, token: str, seconds: int, pids: list[int]) -> tuple[float, float]:
    before = _cpu(pids)
    done = subprocess.run(["wrk", "-t1", "-c16", f"-d{seconds}s", "-H", f"X-Auth-Token: {token}",
                           url], capture_output=True, text=True, check=True)
    after = _cpu(pids)
    if "Non-2xx" in done.stdout:
        raise RuntimeError(f"errors during the run:\n{done.stdout}")
    count = int(re.search(r"(\d+) requests in", done.stdout).group(1))
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))
    return rate, (after - before) / count * 1e6


def _setup(info: dict) -> dict[str, tuple[str, str]]:
    """{mode: (url, token)}, each URL a 4 KiB object (see the module docstring)."""
    import requests

    from identity.bootstrap import read_bootstrap

    swift = info["swift"]
    r = requests.get(swift["auth_url"], headers={"X-Auth-User": swift["user"],
                                                 "X-Auth-Key": swift["key"]}, timeout=30)
    r.raise_for_status()
    temp = (r.headers["X-Storage-Url"], r.headers["X-Auth-Token"])
    state = read_bootstrap(info["data_dir"])
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "tester", "domain": {"name": "Default"}, "password": state["tester_password"]}}},
        "scope": {"project": {"name": "test", "domain": {"name": "Default"}}}}}
    r = requests.post(info["identity"]["auth_url"].rstrip("/") + "/auth/tokens", json=body,
                      timeout=60)
    r.raise_for_status()
    proxy = swift["auth_url"].rsplit("/auth/", 1)[0]
    member = (f"{proxy}/v1/AUTH_{state['accounts']['tester']['project_id']}",
              r.headers["X-Subject-Token"])
    user = body["auth"]["identity"]["password"]["user"]
    user.update(name="admin", password=state["admin_password"])
    body["auth"]["scope"]["project"]["name"] = "admin"
    r = requests.post(info["identity"]["auth_url"].rstrip("/") + "/auth/tokens", json=body,
                      timeout=60)
    r.raise_for_status()
    admin = (temp[0], r.headers["X-Subject-Token"])
    out = {}
    for name, (account_url, token) in (("tempauth", temp), ("keystone-member", member),
                                       ("keystone-admin", admin)):
        headers = {"X-Auth-Token": token}
        requests.put(f"{account_url}/bench", headers=headers, timeout=30).raise_for_status()
        url = f"{account_url}/bench/obj4k"
        requests.put(url, data=BODY, headers=headers, timeout=30).raise_for_status()
        got = requests.get(url, headers=headers, timeout=30)
        assert got.status_code == 200 and got.content == BODY
        out[name] = (url, token)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--port-offset", type=int, default=19500)
    parser.add_argument("--aio-json")
    args = parser.parse_args()
    sys.path.insert(0, ROOT)
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    from aiohelper import start_aio, stop_aio

    process = None
    if args.aio_json:
        with open(args.aio_json) as f:
            info = json.load(f)
    else:
        process, info = start_aio(tempfile.mkdtemp(prefix="proxy-keystone-"), args.port_offset,
                                  "--test-users")
    try:
        targets = _setup(info)
        port = int(targets["tempauth"][0].split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
        pids = _proxy_pids(port)
        if not pids:
            raise RuntimeError(f"no process listens on the proxy port {port}")
        modes = list(targets)
        results = {mode: [] for mode in modes}
        for i in range(args.rounds):
            # Rotate which goes first too, so a trend in the load favours none.
            for mode in modes[i % 3:] + modes[:i % 3]:
                url, token = targets[mode]
                results[mode].append(wrk(url, token, args.seconds, pids))
        print(f"proxy pids {pids}; loadavg {os.getloadavg()}")
        for i, what in ((0, "req/s"), (1, "proxy CPU us/request")):
            base = results["tempauth"]
            for mode in modes:
                runs = results[mode]
                ratio = statistics.median(r[i] / b[i] for r, b in zip(runs, base))
                print(f"{what:>20} {mode:>15}: median {statistics.median(r[i] for r in runs):8.1f}"
                      f"  paired vs tempauth {100 * (ratio - 1):+5.1f}%"
                      f"  runs {[round(r[i]) for r in runs]}")
    finally:
        if process is not None:
            stop_aio(process)
    return 0


if __name__ == "__main__":
    sys.exit(main())
