"""Three storage-node processes built by objectserver.service; one is killed (-9) while writes
go to the other two; once it is back, its replicas are restored by replication alone."""
import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from strato import config as config_mod
from strato.timestamps import Timestamp
from clusterhelper import wait_port  # tests/clusterhelper.py
from ports import free_block  # tests/ports.py

pytestmark = pytest.mark.timeout(120)


def free_base(count):
    return free_block(26220, 26250, count)


def test_killed_node_catches_up_through_replication(tmp_path):
    pytest.importorskip("ring.aio")
    from objectserver import service

    base = free_base(3)
    path = tmp_path / "strato.toml"
    path.write_text(
        f'[cluster]\ndata_dir = "{tmp_path / "data"}"\nhash_path_prefix = "p"\n'
        f'hash_path_suffix = "s"\nlog_level = "warning"\n[storage]\nbase_port = {base}\n'
        f'nodes = 3\ndevices_per_node = 1\nfallocate_reserve_mb = 0\nreplicator_interval = 0.5\n'
        f'[ring]\npart_power = 3\n')
    config = config_mod.load(str(path), environ={})
    service.prepare(config)
    rings = service.load_rings(config)

    def start(i):
        return subprocess.Popen([sys.executable, "-m", "strato", "serve", "storage", "--config",
                                 str(path), "--instance", str(i)], stdin=subprocess.DEVNULL)

    procs = [start(i) for i in range(3)]
    try:
        for proc, (_, port) in zip(procs, service.ports(config)):
            wait_port(port, proc)
        os.kill(procs[2].pid, signal.SIGKILL)
        procs[2].wait()
        written = {}
        for i in range(20):
            name = f"obj{i}"
            part, devs = rings["object"].get_nodes("a", "c", name)
            body = os.urandom(1000 + i)
            stamp = Timestamp.now().internal
            ok, answers = 0, []
            for dev in devs:
                try:
                    resp = requests.put(f"http://{dev.ip}:{dev.port}/object/{dev.device}/{part}/a/c/{name}",
                                        data=body, headers={"X-Timestamp": stamp}, timeout=5)
                    ok += resp.status_code == 201
                    answers.append((dev.port, resp.status_code, resp.text[:200]))
                except requests.ConnectionError as exc:
                    answers.append((dev.port, type(exc).__name__))
            # every object has the dead node as one of its three primaries
            assert ok == 2, answers
            written[name] = (part, body)
        procs[2] = start(2)
        wait_port(base + 2, procs[2])
        down = [d for d in service.device_specs(config) if d["port"] == base + 2][0]["device"]
        deadline = time.monotonic() + 60
        missing = dict(written)
        while missing and time.monotonic() < deadline:
            for name, (part, body) in list(missing.items()):
                resp = requests.get(f"http://127.0.0.1:{base + 2}/object/{down}/{part}/a/c/{name}")
                if resp.status_code == 200:
                    assert resp.content == body
                    del missing[name]
            time.sleep(0.3)
        assert not missing, f"{len(missing)} objects never reached the restarted node"
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            proc.wait(timeout=10)
