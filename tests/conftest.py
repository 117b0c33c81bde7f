"""Fixtures every tier shares: a running all-in-one, found through <data>/aio.json.

`aio` starts `strato aio --test-users` once per test session on ports shifted by AIO_PORT_OFFSET
(default 10000, so a developer's own `make run` on the default ports is left alone) in a temporary
data directory, and stops it at the end. Set STRATO_AIO_JSON=/path/to/aio.json to run the tests
against an all-in-one that is already running instead.
"""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

AIO_PORT_OFFSET = int(os.environ.get("STRATO_TEST_PORT_OFFSET", "10000"))
AIO_START_TIMEOUT = 120


def start_aio(data_dir, port_offset, *extra):
    """Start `strato aio` in data_dir; return (process, aio.json contents) once it is ready."""
    info_path = os.path.join(data_dir, "aio.json")
    log = open(os.path.join(data_dir, "aio-supervisor.log"), "ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "strato", "aio", "--data", str(data_dir),
         "--port-offset", str(port_offset), *extra],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    log.close()
    deadline = time.monotonic() + AIO_START_TIMEOUT
    while not os.path.exists(info_path):
        if process.poll() is not None:
            raise RuntimeError(f"strato aio exited with {process.returncode}: "
                               + open(os.path.join(data_dir, "aio-supervisor.log")).read()[-3000:])
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("strato aio did not become ready")
        time.sleep(0.2)
    with open(info_path) as f:
        return process, json.load(f)


def stop_aio(process, timeout=30):
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


@pytest.fixture(scope="session")
def aio(tmp_path_factory):
    """The running all-in-one's aio.json (dict), with `data_dir` pointing at its data."""
    existing = os.environ.get("STRATO_AIO_JSON")
    if existing:
        with open(existing) as f:
            yield json.load(f)
        return
    data_dir = tmp_path_factory.mktemp("aio")
    process, info = start_aio(data_dir, AIO_PORT_OFFSET, "--test-users")
    try:
        yield info
    finally:
        stop_aio(process)
