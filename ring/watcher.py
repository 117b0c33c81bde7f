"""RingWatcher: keeps `.ring` current while a ring file is replaced underneath a running service.

Every `interval` seconds it stats the file; when mtime, size or inode changed it reads the file,
and only if the content differs parses it and swaps `.ring` (one reference assignment, so a
lookup in flight keeps the Ring it started with and never waits). A bad new file is logged once
and the old ring kept. By default a daemon thread starts with the watcher (autostart=True;
close() stops it). With autostart=False, start()/stop() or `with` run the thread, or `async with`
runs an asyncio task instead, whose file reads go to a worker thread so the event loop never
touches the disk. A thread does not survive fork(): create watchers in the process that uses them.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import threading

from ring.errors import RingError
from ring.lookup import Ring
from ring.ringfile import parse

log = logging.getLogger("strato.ring")


class RingWatcher:
    def __init__(self, path: str, hash_prefix: str = "", hash_suffix: str = "",
                 interval: float = 15.0, *, autostart: bool = True):
        if not interval > 0:
            raise RingError(f"interval must be > 0, got {interval!r}")
        self.path = path
        self.hash_prefix = hash_prefix
        self.hash_suffix = hash_suffix
        self.interval = interval
        self.reloads = 0
        self._lock = threading.Lock()
        self._stat = self._stat_key()
        data = self._read()
        self._digest = hashlib.sha256(data).digest()
        self._ring = Ring(parse(data, f"ring file {path}"), hash_prefix, hash_suffix)
        self._bad_stat = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._task: asyncio.Task | None = None
        if autostart:
            self.start()

    @property
    def ring(self) -> Ring:
        """The current ring (never blocks)."""
        return self._ring

    def _stat_key(self):
        try:
            st = os.stat(self.path)
        except OSError as exc:
            raise RingError(f"cannot stat ring file {self.path}: {exc.strerror}") from None
        return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_dev)

    def _read(self) -> bytes:
        try:
            with open(self.path, "rb") as f:
                return f.read()
        except OSError as exc:
            raise RingError(f"cannot read ring file {self.path}: {exc.strerror}") from None

    def check(self) -> bool:
        """Reload now if the file changed; True when a new ring was swapped in. Blocking I/O."""
        with self._lock:
            key = None  # a missing file: logged once as well
            try:
                key = self._stat_key()
                if key == self._stat or key == self._bad_stat:
                    return False
                data = self._read()
                digest = hashlib.sha256(data).digest()
                if digest == self._digest:
                    self._stat = key
                    return False
                ring = Ring(parse(data, f"ring file {self.path}"), self.hash_prefix,
                            self.hash_suffix)
            except RingError as exc:
                if key != self._bad_stat:
                    log.warning("keeping the current ring: %s", exc)
                    self._bad_stat = key
                return False
            self._ring = ring
            self._stat, self._digest, self._bad_stat = key, digest, None
            self.reloads += 1
            log.info("reloaded ring %s (%d partitions, %d replicas)", self.path,
                     ring.partition_count, ring.replica_count)
            return True

    # -- thread mode -----------------------------------------------------------------------------
    def start(self) -> "RingWatcher":
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=f"ring-watch:{self.path}",
                                            daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception:  # a watcher must outlive any surprise; the old ring stays
                log.exception("ring watcher for %s failed a check", self.path)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    close = stop

    def __enter__(self) -> "RingWatcher":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- asyncio mode ----------------------------------------------------------------------------
    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await asyncio.to_thread(self.check)
            except Exception:
                log.exception("ring watcher for %s failed a check", self.path)

    async def __aenter__(self) -> "RingWatcher":
        if self._task is None and self._thread is None:
            self._task = asyncio.get_running_loop().create_task(self._watch())
        return self

    async def __aexit__(self, *exc) -> None:
        self.stop()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
