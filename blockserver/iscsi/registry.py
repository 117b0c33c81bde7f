"""The targets this portal exports: one IQN per volume attachment, each with one LU at LUN 0.

Plain in-memory state (sans-I/O): the volume service adds and removes targets; servers subscribe
with on_remove() so that removing a target also ends its sessions.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Target:
    iqn: str
    lun_unit: Any                      # a blockserver.scsi.LogicalUnit (LUN 0)
    chap_user: str | None = None
    chap_secret: str | None = None
    mutual_user: str | None = None
    mutual_secret: str | None = None
    alias: str | None = None

    @property
    def needs_chap(self) -> bool:
        return self.chap_user is not None


class TargetRegistry:
    def __init__(self, iqn_prefix: str = "iqn.2026-11.org.strato"):
        self.iqn_prefix = iqn_prefix
        self._targets: dict[str, Target] = {}
        self._remove_listeners: list[Callable[[Target], None]] = []

    def make_iqn(self, name: str) -> str:
        """The IQN for a volume or attachment name: <prefix>:<name>."""
        return f"{self.iqn_prefix}:{name}".lower()

    def add(self, iqn: str, lun_unit, *, chap_user: str | None = None,
            chap_secret: str | None = None, mutual_user: str | None = None,
            mutual_secret: str | None = None, alias: str | None = None) -> Target:
        """Export lun_unit as LUN 0 of target `iqn`. CHAP is required when chap_user is set."""
        if (chap_user is None) != (chap_secret is None):
            raise ValueError("chap_user and chap_secret go together")
        if (mutual_user is None) != (mutual_secret is None):
            raise ValueError("mutual_user and mutual_secret go together")
        if mutual_user is not None and chap_user is None:
            raise ValueError("mutual CHAP needs one-way CHAP too")
        if not iqn or len(iqn) > 223 or any(c.isspace() for c in iqn):
            raise ValueError(f"bad iSCSI name {iqn!r}")
        key = iqn.lower()
        if key in self._targets:
            raise ValueError(f"target {iqn} already exists")
        target = Target(key, lun_unit, chap_user, chap_secret, mutual_user, mutual_secret, alias)
        self._targets[key] = target
        return target

    def remove(self, iqn: str) -> Target | None:
        """Stop exporting `iqn` and end its sessions (through the servers' listeners)."""
        target = self._targets.pop(iqn.lower(), None)
        if target is not None:
            for listener in list(self._remove_listeners):
                listener(target)
        return target

    def get(self, iqn: str) -> Target | None:
        return self._targets.get(iqn.lower())

    def targets(self) -> list[Target]:
        return sorted(self._targets.values(), key=lambda t: t.iqn)

    def __contains__(self, iqn: str) -> bool:
        return iqn.lower() in self._targets

    def __len__(self) -> int:
        return len(self._targets)

    def on_remove(self, listener: Callable[[Target], None]) -> Callable[[], None]:
        """Call listener(target) when a target is removed; returns the unsubscribe function."""
        self._remove_listeners.append(listener)
        return lambda: self._remove_listeners.remove(listener)
