"""The rings the proxy routes by, each kept current by a ring.RingWatcher, and the policy table.

Rings live at <cluster.data_dir>/rings/{account,container,object}.ring, plus object-N.ring for
each further storage policy (built by the storage service's prepare() in the all-in-one).
Lookups are pure; the watchers reload changed files.
"""
from __future__ import annotations

import logging
import os

log = logging.getLogger("strato.proxy.rings")


class Rings:
    def __init__(self, ring_dir: str, hash_prefix: str, hash_suffix: str, interval: float,
                 policies=None):
        from ring import RingWatcher
        from ring.policies import PolicyTable, StoragePolicy

        self.policies = policies or PolicyTable([StoragePolicy(0, "Policy-0", default=True)])
        names = ["account", "container", *(p.ring_name for p in self.policies)]
        if "object" not in names:
            names.append("object")
        self._watchers = {}
        for name in names:
            path = os.path.join(ring_dir, f"{name}.ring")
            if name.startswith("object-") and not os.path.exists(path):
                # a policy whose ring was never built: its containers answer 503 (object_ring)
                log.warning("no ring file %s: storage policy %s is unavailable", path, name)
                continue
            self._watchers[name] = RingWatcher(path, hash_prefix, hash_suffix, interval)

    @classmethod
    def from_config(cls, config) -> "Rings":
        from ring.policies import from_config

        ring_dir = os.path.join(config.cluster.data_dir, "rings")
        return cls(ring_dir, config.cluster.hash_path_prefix, config.cluster.hash_path_suffix,
                   config.ring.reload_interval, from_config(config))

    @property
    def account(self):
        return self._watchers["account"].ring

    @property
    def container(self):
        return self._watchers["container"].ring

    @property
    def object(self):
        """Policy 0's object ring."""
        return self._watchers["object"].ring

    def object_ring(self, policy: int = 0):
        """The object ring of a storage policy; policy 0's for an index the table lacks (what a
        container written before policies, or by an older table, holds)."""
        found = self.policies.get_by_index(policy)
        watcher = self._watchers.get(found.ring_name if found else "object")
        if watcher is None:
            from proxy.errors import SwiftError

            raise SwiftError(503, f"No ring for storage policy {found.name}")
        return watcher.ring

    def close(self) -> None:
        for watcher in self._watchers.values():
            close = getattr(watcher, "close", None)
            if close is not None:
                close()


POLICY_HEADER = "X-Backend-Storage-Policy-Index"


def policy_index_of(headers) -> int:
    """The storage policy index a container's node answer carries (0 when it has none: a
    container that does not exist, or one written before policies)."""
    value = (headers.get(POLICY_HEADER) or "0").strip() if headers is not None else "0"
    return int(value) if value.isdigit() else 0


def object_ring_for(rings, policy: int):
    """The object ring of `policy`; rings without policies (a test's stand-in) have one."""
    pick = getattr(rings, "object_ring", None)
    return pick(policy) if pick is not None else rings.object


def policy_name(rings, headers) -> str:
    """The X-Storage-Policy a container answer shows: the name of its policy index."""
    policies = getattr(rings, "policies", None)
    index = policy_index_of(headers)
    found = policies.get_by_index(index) if policies is not None else None
    if found is None:
        return "Policy-0" if index == 0 else str(index)
    return found.name


def default_policy_index(rings) -> int:
    policies = getattr(rings, "policies", None)
    return policies.default.index if policies is not None else 0


def resolve_policy(rings, name: str):
    """The StoragePolicy a client's X-Storage-Policy names (case-insensitive, aliases too), or
    None when no policy has that name."""
    policies = getattr(rings, "policies", None)
    return policies.get_by_name(name) if policies is not None else None
