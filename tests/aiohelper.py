"""Start and stop a `strato aio` for tests (used by tests/conftest.py and the aio tests)."""
import json
import os
import signal
import subprocess
import sys
import time

from ports import all_free  # tests/ports.py
from strato import config

AIO_START_TIMEOUT = 120


def aio_ports(offset: int = 0) -> list[int]:
    """The ports an all-in-one on its defaults listens on, shifted by `offset`: every declared
    port field (strato/config.py), plus one per storage node after storage.base_port."""
    ports = [field.default + offset for section in config.schema().values()
             for field in section.fields.values() if field.port]
    storage = config.schema()["storage"].fields
    ports += [storage["base_port"].default + offset + i for i in range(1, storage["nodes"].default)]
    return ports


def free_offset(candidates):
    """The first port offset in candidates whose all-in-one ports are all free on loopback, so
    that tests with their own all-in-one run beside other engineers' (and other runs')."""
    for offset in candidates:
        if all_free(aio_ports(offset)):
            return offset
    raise RuntimeError(f"no free all-in-one port offset among {list(candidates)}")


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
