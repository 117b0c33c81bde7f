"""Per-project quotas as arithmetic: usage from the records, limits from config + overrides.

Pure functions; the manager runs `check()` inside the same LMDB write transaction that inserts the
new record, so two concurrent creates cannot both squeeze under a limit. -1 means unlimited.
Snapshot sizes count against `gigabytes`, as in Cinder.
"""
from __future__ import annotations

import dataclasses
from typing import Iterable

from blockserver.errors import over_limit
from blockserver.records import Quota, Snapshot, Volume

RESOURCES = ("volumes", "gigabytes", "snapshots")
UNLIMITED = -1


@dataclasses.dataclass(frozen=True)
class Amounts:
    volumes: int = 0
    gigabytes: int = 0
    snapshots: int = 0


def defaults_from_config(config) -> Amounts:
    section = config.blockserver
    return Amounts(section.quota_volumes, section.quota_gigabytes, section.quota_snapshots)


def limits_for(defaults: Amounts, override: Quota | None) -> Amounts:
    if override is None:
        return defaults
    return Amounts(*(getattr(defaults, r) if getattr(override, r) is None else getattr(override, r)
                     for r in RESOURCES))


def usage_of(volumes: Iterable[Volume], snapshots: Iterable[Snapshot]) -> Amounts:
    vols = list(volumes)
    snaps = list(snapshots)
    return Amounts(volumes=len(vols), snapshots=len(snaps),
                   gigabytes=sum(v.size for v in vols) + sum(s.size for s in snaps))


def check(limits: Amounts, usage: Amounts, delta: Amounts) -> None:
    """Raise 413 overLimit (Cinder's wording) if adding delta to usage passes a limit."""
    for resource in ("volumes", "snapshots"):
        limit = getattr(limits, resource)
        wanted = getattr(delta, resource)
        if wanted > 0 and limit != UNLIMITED and getattr(usage, resource) + wanted > limit:
            kind = "Volume" if resource == "volumes" else "Snapshot"
            raise over_limit(f"{kind}LimitExceeded: Maximum number of {resource} allowed "
                             f"({limit}) exceeded for quota '{resource}'.")
    if delta.gigabytes > 0 and limits.gigabytes != UNLIMITED \
            and usage.gigabytes + delta.gigabytes > limits.gigabytes:
        raise over_limit(
            "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed "
            f"gigabytes quota. Requested {delta.gigabytes}G, quota is {limits.gigabytes}G and "
            f"{usage.gigabytes}G has been consumed.")
