"""The three rings the proxy routes by, each kept current by a ring.RingWatcher.

Rings live at <cluster.data_dir>/rings/{account,container,object}.ring (built by the storage
service's prepare() in the all-in-one). Lookups are pure; the watchers reload changed files.
"""
from __future__ import annotations

import os


class Rings:
    def __init__(self, ring_dir: str, hash_prefix: str, hash_suffix: str, interval: float):
        from ring import RingWatcher

        self._watchers = {name: RingWatcher(os.path.join(ring_dir, f"{name}.ring"), hash_prefix,
                                            hash_suffix, interval)
                          for name in ("account", "container", "object")}

    @classmethod
    def from_config(cls, config) -> "Rings":
        ring_dir = os.path.join(config.cluster.data_dir, "rings")
        return cls(ring_dir, config.cluster.hash_path_prefix, config.cluster.hash_path_suffix,
                   config.ring.reload_interval)

    @property
    def account(self):
        return self._watchers["account"].ring

    @property
    def container(self):
        return self._watchers["container"].ring

    @property
    def object(self):
        return self._watchers["object"].ring

    def close(self) -> None:
        for watcher in self._watchers.values():
            close = getattr(watcher, "close", None)
            if close is not None:
                close()
