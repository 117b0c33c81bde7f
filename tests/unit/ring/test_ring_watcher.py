"""RingWatcher: swaps in a changed ring file, keeps the old ring on a bad one, never blocks."""
import asyncio
import logging
import os
import threading
import time

import pytest

from ring import RingError, RingWatcher

pytestmark = pytest.mark.timeout(30)


def write(builder, path):
    builder.write_ring(str(path))


@pytest.fixture
def ring_path(tmp_path, golden_builder):
    path = tmp_path / "object.ring"
    write(golden_builder, path)
    return path


def bump(path):
    """Make sure the stat signature changes even on coarse-mtime file systems."""
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def test_check_reloads_changed_content_only(ring_path, golden_builder):
    w = RingWatcher(str(ring_path), "p", "s", interval=60, autostart=False)
    first = w.ring
    assert w.check() is False
    bump(ring_path)  # new mtime, same content: no swap
    assert w.check() is False and w.ring is first
    golden_builder.remove_device(0)
    golden_builder.rebalance()
    write(golden_builder, ring_path)
    bump(ring_path)
    assert w.check() is True
    assert w.ring is not first and w.ring.devices[0] is None
    assert w.reloads == 1


def test_bad_new_file_keeps_old_ring_and_logs_once(ring_path, caplog):
    w = RingWatcher(str(ring_path), interval=60, autostart=False)
    good = w.ring
    ring_path.write_bytes(b"garbage")
    with caplog.at_level(logging.WARNING, logger="strato.ring"):
        assert w.check() is False
        assert w.check() is False
    assert w.ring is good
    assert sum("keeping the current ring" in r.getMessage() for r in caplog.records) == 1
    os.unlink(ring_path)
    assert w.check() is False and w.ring is good


def test_first_load_must_succeed(tmp_path):
    with pytest.raises(RingError):
        RingWatcher(str(tmp_path / "missing.ring"), autostart=False)
    (tmp_path / "bad.ring").write_bytes(b"x")
    with pytest.raises(RingError):
        RingWatcher(str(tmp_path / "bad.ring"), autostart=False)


def _wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_background_thread_swaps_while_lookups_run(ring_path, golden_builder):
    w = RingWatcher(str(ring_path), interval=0.05)  # autostart: a daemon thread
    try:
        first = w.ring
        stop = threading.Event()
        errors = []
        lookups = [0]

        def lookup_loop():
            while not stop.is_set():
                try:
                    part, nodes = w.ring.get_nodes("a", "c", "o")
                    assert len(nodes) == 3
                    lookups[0] += 1
                except Exception as exc:  # pragma: no cover - reported below
                    errors.append(exc)
        t = threading.Thread(target=lookup_loop)
        t.start()
        golden_builder.set_weight(1, 300)
        golden_builder.rebalance()
        write(golden_builder, ring_path)
        bump(ring_path)
        assert _wait_for(lambda: w.ring is not first)
        stop.set()
        t.join()
        assert not errors and lookups[0] > 0
    finally:
        w.close()
    assert w._thread is None


async def test_async_context_manager_reloads(ring_path, golden_builder):
    w = RingWatcher(str(ring_path), interval=0.05, autostart=False)
    first = w.ring
    async with w:
        golden_builder.set_weight(2, 300)
        golden_builder.rebalance()
        await asyncio.to_thread(write, golden_builder, ring_path)
        bump(ring_path)
        for _ in range(200):
            if w.ring is not first:
                break
            await asyncio.sleep(0.02)
        assert w.ring is not first
    assert w._task is None
