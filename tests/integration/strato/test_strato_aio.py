"""The all-in-one supervisor: start, aio.json, restart of a dead child, second start refused, clean stop."""
import json
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from strato import services

from aiohelper import start_aio, stop_aio  # tests/ is on sys.path via tests/conftest.py

PORT_OFFSET = 11000


def children_of(pid):
    return psutil.Process(pid).children(recursive=False)


@pytest.mark.timeout(240)
def test_aio_lifecycle(tmp_path):
    if not services.available():
        pytest.fail("no service is built: strato aio has nothing to run")
    process, info = start_aio(tmp_path, PORT_OFFSET)
    try:
        assert info["pid"] == process.pid
        assert info["data_dir"] == str(tmp_path)
        built = services.available()
        if "proxy" in built:
            assert info["swift"]["auth_url"] == f"http://127.0.0.1:{8080 + PORT_OFFSET}/auth/v1.0"
            assert info["swift"]["user"] == "test:tester" and info["swift"]["key"]
        if "identity" in built:
            assert info["identity"]["auth_url"] == f"http://127.0.0.1:{5000 + PORT_OFFSET}/v3"
        if "blockserver" in built:
            assert info["volume"]["endpoint"] == f"http://127.0.0.1:{8776 + PORT_OFFSET}/v3"

        # secrets persist: a second supervisor on the same data dir is refused
        second = subprocess.run([sys.executable, "-m", "strato", "aio", "--data", str(tmp_path),
                                 "--port-offset", str(PORT_OFFSET + 100)],
                                capture_output=True, text=True, timeout=60)
        assert second.returncode == 1
        assert "already running" in second.stderr

        # a child that dies is restarted
        kids = children_of(process.pid)
        assert kids, "the supervisor has no children"
        victim = kids[0]
        victim_cmd = victim.cmdline()
        victim.kill()
        victim.wait(timeout=10)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if any(k.pid != victim.pid and k.cmdline() == victim_cmd for k in children_of(process.pid)):
                break
            time.sleep(0.2)
        else:
            pytest.fail(f"{victim_cmd} was not restarted")
        kids = children_of(process.pid)
    finally:
        code = stop_aio(process)
    assert code == 0
    assert not os.path.exists(tmp_path / "aio.json")
    for kid in kids:
        assert not kid.is_running() or kid.status() == psutil.STATUS_ZOMBIE


def test_generated_secrets_are_kept_across_starts(tmp_path):
    from strato import aio

    first = aio.resolve_config(str(tmp_path), None, 0, False)
    second = aio.resolve_config(str(tmp_path), None, 0, False)
    assert first.cluster.hash_path_prefix == second.cluster.hash_path_prefix
    assert len(first.cluster.hash_path_prefix) == 32
    assert first.proxy.users[0].startswith("test:tester:")
    with_tests = aio.resolve_config(str(tmp_path), None, 0, True)
    assert "test:tester:testing:.admin" in with_tests.proxy.users
    assert with_tests.cluster.hash_path_suffix == first.cluster.hash_path_suffix


def test_user_config_errors_stop_start_up(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[proxy]\nport = -1\n")
    result = subprocess.run([sys.executable, "-m", "strato", "aio", "--data", str(tmp_path / "d"),
                             "--config", str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "proxy.port" in result.stderr and "below the minimum" in result.stderr


def test_restart_backoff_doubles_and_resets_after_a_stable_run():
    from strato.aio import MAX_BACKOFF, STABLE_SECONDS, Child

    child = Child("svc", 0, ["true"], "/dev/null")
    child.started_at = 100.0
    waits = []
    for _ in range(7):
        waits.append(child.backoff(now=101.0))
        child.restarts += 1
    assert waits == [1, 2, 4, 8, 16, MAX_BACKOFF, MAX_BACKOFF]
    child.started_at = 200.0
    assert child.backoff(now=200.0 + STABLE_SECONDS + 1) == 1
