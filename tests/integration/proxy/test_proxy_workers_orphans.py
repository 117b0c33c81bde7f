"""A proxy with several workers forks them from worker 0 (proxy/service.py). If worker 0 dies
without running its clean-up (SIGKILL, or a default-action SIGTERM while it is still starting),
the forked workers must not live on as orphans holding the proxy's port: the next start (or the
next `strato aio`) would find the port taken. They get SIGTERM when their parent dies."""
import os
import signal
import time

import pytest

from clusterhelper import ServeCluster  # tests/clusterhelper.py
from ports import free_block  # tests/ports.py


def _children(pid: int) -> list[int]:
    path = f"/proc/{pid}/task/{pid}/children"
    with open(path) as f:
        return [int(p) for p in f.read().split()]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.timeout(90)
def test_forked_workers_die_with_a_killed_master(tmp_path):
    base = free_block(28040, 28100, 2)
    cluster = ServeCluster(tmp_path, {
        "cluster": {"data_dir": str(tmp_path / "data"), "hash_path_prefix": "pp",
                    "hash_path_suffix": "ss", "log_level": "warning"},
        "ring": {"part_power": 4, "replicas": 1},
        "storage": {"base_port": base + 1, "nodes": 1, "devices_per_node": 1,
                    "fallocate_reserve_mb": 0},
        "proxy": {"port": base, "workers": 2, "users": ["test:tester:testing:.admin"]},
    })
    cluster.start()
    try:
        master = cluster.procs["proxy"]
        workers = []
        deadline = time.monotonic() + 20
        while not _children(master.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        workers = _children(master.pid)
        assert len(workers) == 1, workers
        assert cluster.login()  # the cluster serves
        master.send_signal(signal.SIGKILL)
        master.wait(timeout=10)
        deadline = time.monotonic() + 10
        while _alive(workers[0]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(workers[0]), "the forked proxy worker outlived its master"
    finally:
        for pid in workers:  # never leave one behind when the test fails
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        cluster.stop()
