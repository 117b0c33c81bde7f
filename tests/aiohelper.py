"""Start and stop a `strato aio` for tests (used by tests/conftest.py and the aio tests)."""
import json
import os
import signal
import socket
import subprocess
import sys
import time

AIO_START_TIMEOUT = 120
# The default ports of an all-in-one's listeners (identity, storage nodes 0-2, proxy, compute,
# volume API, network, iSCSI portal): an offset is usable when all of them are free.
AIO_BASE_PORTS = (5000, 6200, 6201, 6202, 8080, 8774, 8776, 9696, 3260)


def free_offset(candidates):
    """The first port offset in candidates whose all-in-one ports are all free on loopback, so
    that tests with their own all-in-one run beside other engineers' (and other runs')."""
    for offset in candidates:
        socks = []
        try:
            for port in AIO_BASE_PORTS:
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", port + offset))
            return offset
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
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
