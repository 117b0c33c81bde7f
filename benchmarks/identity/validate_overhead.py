"""What Fernet token validation adds to a small GET served by aiohttp (wrk on loopback).

Until the proxy is wired to identity, this stands in for the issue's acceptance check ("token
validation in the proxy adds at most 5% to 4 KiB GET ops/s against a config-user run"): one
uvloop aiohttp process answers GET with 4 KiB from memory after an auth check that is either a
dict lookup of a static token (what a config-user proxy does) or TokenValidator.validate.
Runs alternate between the two modes; medians of throughput and of the server's CPU time per
request are reported (the latter is what a busy shared machine disturbs least).

    .venv/bin/python benchmarks/identity/validate_overhead.py [--seconds 8] [--rounds 3]
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

BODY = b"x" * 4096


def serve(mode: str, data_dir: str, port: int, token: str) -> None:
    import asyncio

    import uvloop
    from aiohttp import web

    from identity.validate import InvalidToken, TokenValidator

    validator = TokenValidator(data_dir)
    static = {token: ("tester", "test")}

    async def get(request):
        got = request.headers.get("X-Auth-Token", "")
        if mode == "fernet":
            try:
                ctx = validator.validate(got)
            except InvalidToken:
                return web.Response(status=401)
            if ctx.project_id is None:
                return web.Response(status=403)
        elif got not in static:
            return web.Response(status=401)
        return web.Response(body=BODY)

    app = web.Application()
    app.router.add_get("/obj", get)
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def wrk(port: int, token: str, seconds: int, pid: int) -> tuple[float, float]:
    """(requests/s, server CPU microseconds per request). CPU per request is the steadier
    number on a shared machine: other load changes throughput far more than it changes it."""
    import psutil

    server = psutil.Process(pid)
    before = server.cpu_times()
    done = subprocess.run(["wrk", "-t1", "-c16", f"-d{seconds}s", "-H", f"X-Auth-Token: {token}",
                           f"http://127.0.0.1:{port}/obj"], capture_output=True, text=True,
                          check=True)
    after = server.cpu_times()
    if "Non-2xx" in done.stdout:
        raise RuntimeError(f"errors during the run:\n{done.stdout}")
    requests = int(re.search(r"(\d+) requests in", done.stdout).group(1))
    cpu = (after.user + after.system) - (before.user + before.system)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))
    return rate, cpu / requests * 1e6


def _wait_listening(port: int, timeout: float = 30.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"benchmark server did not listen on {port}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        mode, data_dir, port, token = args.serve
        serve(mode, data_dir, int(port), token)
        return 0

    from identity import bootstrap
    from identity.testing import free_port
    from identity.token_service import TokenService
    from identity.store import Store, db_path_for
    from identity.swift_auth import check_credentials
    from strato import config as config_mod

    data_dir = tempfile.mkdtemp(prefix="identity-overhead-")
    config = config_mod.load(overrides={"cluster": {"data_dir": data_dir},
                                        "identity": {"admin_password": "bench"}}, environ={})
    state = bootstrap.bootstrap(config)
    store = Store(db_path_for(data_dir))
    ctx = check_credentials(store, "test:tester", state["tester_password"])
    store.close()
    token = TokenService(data_dir, 3600, 24).seal(ctx)
    results = {"static": [], "fernet": []}
    for _ in range(args.rounds):
        for mode in ("static", "fernet"):
            port = free_port()
            proc = subprocess.Popen([sys.executable, __file__, "--serve", mode, data_dir,
                                     str(port), token])
            try:
                _wait_listening(port)
                results[mode].append(wrk(port, token, args.seconds, proc.pid))
            finally:
                proc.terminate()
                proc.wait()
    for i, what in ((0, "req/s"), (1, "server CPU us/request")):
        static, fernet = (statistics.median(r[i] for r in results[m]) for m in ("static", "fernet"))
        print(f"{what}: static token {static:9.1f}  Fernet {fernet:9.1f}  "
              f"change {100 * (fernet - static) / static:+.1f}% (medians)")
        best = max if i == 0 else min  # the least disturbed run of each mode
        static, fernet = (best(r[i] for r in results[m]) for m in ("static", "fernet"))
        print(f"{'':{len(what)}}  static token {static:9.1f}  Fernet {fernet:9.1f}  "
              f"change {100 * (fernet - static) / static:+.1f}% (best runs)")
        print(f"   runs: static {[round(r[i], 1) for r in results['static']]}")
        print(f"         Fernet {[round(r[i], 1) for r in results['fernet']]}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    sys.exit(main())
