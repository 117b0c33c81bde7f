"""One storage process per device: a second one would sweep the first one's unfinished temp files
(its in-flight PUTs then fail) and race it on hash directories, whose commit locks are per process.
Node.start takes an exclusive flock on each served device and refuses a device already held."""
import os
import threading
import time

import pytest

from objectserver import diskfile, layout
from objectserver.app import Node
from strato import config as config_mod

pytestmark = pytest.mark.timeout(30)


def _node(root):
    config = config_mod.load(overrides={"cluster": {"data_dir": str(root)},
                                        "storage": {"fallocate_reserve_mb": 0}}, environ={})
    return Node(config, str(root), ["d0"])


async def test_a_second_node_on_a_served_device_is_refused_and_sweeps_nothing(tmp_path,
                                                                             monkeypatch):
    monkeypatch.setattr(diskfile, "DEVICE_LOCK_WAIT", 0.3)
    (tmp_path / "d0").mkdir()
    first, second = _node(tmp_path), _node(tmp_path)
    await first.start(None)
    try:
        writer = diskfile.Writer(first.device_path("d0"), 1, "a" * 32)  # a PUT in flight
        writer.write(b"in flight")
        with pytest.raises(diskfile.DeviceInUseError):
            await second.start(None)
        assert os.path.exists(writer._tmp)  # the refused node did not sweep it
        writer.abort()
    finally:
        await second.stop()
        await first.stop()
    third = _node(tmp_path)  # the lock goes with the node that held it
    await third.start(None)
    await third.stop()
    assert os.listdir(layout.tmp_dir(str(tmp_path / "d0"))) == []


def test_a_lock_released_while_waiting_is_taken(tmp_path, monkeypatch):
    """A node restarting while its previous process still shuts down waits for the lock."""
    monkeypatch.setattr(diskfile, "DEVICE_LOCK_WAIT", 5.0)
    held = diskfile.lock_device(str(tmp_path))
    threading.Timer(0.3, os.close, (held,)).start()
    started = time.monotonic()
    fd = diskfile.lock_device(str(tmp_path))
    os.close(fd)
    assert 0.2 < time.monotonic() - started < 5.0
