"""The proxy as a service of the all-in-one (contract: strato/services.py).

serve() runs config.proxy.workers processes on one port (SO_REUSEPORT when more than one); worker 0
also runs the object expirer. Tokens are HMAC-signed, so any worker accepts any worker's token.
"""
from __future__ import annotations

import os
import signal

from strato.runtime import die_with_parent


def ports(config) -> list[tuple[str, int]]:
    return [(config.proxy.bind_ip, config.proxy.port)]


def aio_entry(config) -> dict:
    host = config.proxy.bind_ip
    base = f"http://{host}:{config.proxy.port}"
    entry = {"auth_url": f"{base}/auth/v1.0"}
    if config.proxy.users:
        account, user, key = config.proxy.users[0].split(":", 3)[:3]
        entry.update({"user": f"{account}:{user}", "key": key,
                      "storage_url": f"{base}/v1/AUTH_{account}"})
    out = {"swift": entry}
    s3 = _s3_entry(config, base)
    if s3:
        out["s3"] = s3
    return out


def _s3_entry(config, base: str) -> dict:
    """The S3 endpoint and the first two config key pairs (owner and 'alt'), for tests and tools."""
    section = getattr(config, "s3", None)
    creds = [c.split() for c in (section.credentials if section else [])]
    if not creds:
        return {}
    entry = {"endpoint": base, "region": section.region,
             "access_key": creds[0][0], "secret_key": creds[0][1]}
    alt = next((c for c in creds[1:] if c[2] != creds[0][2]), None)
    if alt is not None:
        entry.update({"alt_access_key": alt[0], "alt_secret_key": alt[1]})
    return entry


def _run_worker(config, index: int, reuse_port: bool) -> None:
    from strato import runtime

    from proxy.app import create_app
    from proxy.httpserver import SwiftAppRunner  # Swift/S3 answers llhttp alone would not give

    runtime.setup_logging(config, f"proxy[{index}]")

    async def main():
        app = create_app(config, run_expirer=(index == 0))
        await runtime.serve_aiohttp(app, config.proxy.bind_ip, config.proxy.port,
                                    reuse_port=reuse_port, runner_class=SwiftAppRunner)

    runtime.run(main, config)


def serve(config, instance: int = 0) -> None:
    workers = config.proxy.workers
    if workers <= 1:
        _run_worker(config, 0, reuse_port=False)
        return
    children = []
    master = os.getpid()
    for index in range(1, workers):
        pid = os.fork()
        if pid == 0:
            try:
                die_with_parent(master)  # a master killed before its finally ran
                _run_worker(config, index, reuse_port=True)
            finally:
                os._exit(0)
        children.append(pid)
    try:
        _run_worker(config, 0, reuse_port=True)
    finally:
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for pid in children:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
