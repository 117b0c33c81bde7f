"""A 200 MiB object streams through a real storage-node process with its RSS under 150 MiB."""
import hashlib
import os
import threading
import time

import psutil
import pytest
import requests

from strato.timestamps import Timestamp

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]
SIZE = 200 << 20
LIMIT = 150 << 20


def _load_helpers():
    import importlib.util

    path = os.path.join(os.path.dirname(__file__), "test_cluster_storage_crash.py")
    spec = importlib.util.spec_from_file_location("storage_crash_helpers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_200mib_put_and_get_stay_under_150mib_rss(tmp_path):
    proc = _load_helpers().StorageProcess(tmp_path)
    proc.start()
    peak = [0]
    stop = threading.Event()

    def watch():
        ps = psutil.Process(proc.process.pid)
        while not stop.is_set():
            peak[0] = max(peak[0], ps.memory_info().rss)
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        block = os.urandom(1 << 20)
        md5 = hashlib.md5()

        class Body:  # file-like, so requests streams it with our Content-Length
            sent = 0

            def __len__(self):
                return SIZE

            def read(self, size=-1):
                if self.sent >= SIZE:
                    return b""
                self.sent += len(block)
                md5.update(block)
                return block

        started = time.monotonic()
        resp = requests.put(proc.url("/object/n0d0/1/a/c/big"), data=Body(),
                            headers={"X-Timestamp": Timestamp.now().internal,
                                     "Content-Length": str(SIZE)})
        put_seconds = time.monotonic() - started
        assert resp.status_code == 201
        assert resp.headers["ETag"] == md5.hexdigest()
        started = time.monotonic()
        got = hashlib.md5()
        received = 0
        with requests.get(proc.url("/object/n0d0/1/a/c/big"), stream=True) as resp:
            assert resp.status_code == 200
            for chunk in resp.iter_content(1 << 20):
                got.update(chunk)
                received += len(chunk)
        get_seconds = time.monotonic() - started
        assert received == SIZE and got.hexdigest() == md5.hexdigest()
    finally:
        stop.set()
        watcher.join()
        proc.stop()
    print(f"PUT {SIZE / put_seconds / 2**20:.0f} MiB/s, GET {SIZE / get_seconds / 2**20:.0f} MiB/s, "
          f"peak RSS {peak[0] / 2**20:.1f} MiB")
    assert peak[0] < LIMIT
