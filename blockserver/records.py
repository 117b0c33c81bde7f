"""The persistent records of the volume service: frozen dataclasses with a JSON codec.

Stored as JSON (never pickled) so a record written by one version reads in the next; unknown keys
are ignored on read and missing ones take their defaults.
"""
from __future__ import annotations

import dataclasses
import datetime
import json
from typing import Any, TypeVar


def now_iso() -> str:
    """Cinder's timestamp form: UTC, microseconds, no zone suffix ("2026-11-21T04:20:59.497318")."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None).isoformat(
        timespec="microseconds")


@dataclasses.dataclass(frozen=True)
class Volume:
    id: str
    project_id: str
    user_id: str
    size: int
    status: str
    name: str | None = None
    description: str | None = None
    metadata: dict = dataclasses.field(default_factory=dict)
    volume_type: str = "__DEFAULT__"
    availability_zone: str = "nova"
    snapshot_id: str | None = None
    source_volid: str | None = None
    bootable: bool = False
    created_at: str = ""
    updated_at: str | None = None


@dataclasses.dataclass(frozen=True)
class Snapshot:
    id: str
    project_id: str
    user_id: str
    volume_id: str
    size: int
    status: str
    name: str | None = None
    description: str | None = None
    metadata: dict = dataclasses.field(default_factory=dict)
    created_at: str = ""
    updated_at: str | None = None


@dataclasses.dataclass(frozen=True)
class Attachment:
    """One attachment of a volume; its export (own IQN and CHAP secret) lives and dies with it."""

    id: str
    volume_id: str
    project_id: str
    status: str
    instance_uuid: str | None = None
    host_name: str | None = None
    mountpoint: str | None = None
    attach_mode: str = "rw"
    connector: dict | None = None
    # Set once exported; kept so a restarted service can export the same target again.
    target_iqn: str | None = None
    chap_user: str | None = None
    chap_secret: str | None = None
    attached_at: str | None = None
    detached_at: str | None = None
    created_at: str = ""


@dataclasses.dataclass(frozen=True)
class Quota:
    """Per-project limits that differ from the configured defaults (None: use the default)."""

    project_id: str
    volumes: int | None = None
    gigabytes: int | None = None
    snapshots: int | None = None


R = TypeVar("R")


def encode(record: Any) -> bytes:
    return json.dumps(dataclasses.asdict(record), separators=(",", ":"), sort_keys=True).encode()


def decode(kind: type[R], data: bytes) -> R:
    raw = json.loads(data)
    names = {f.name for f in dataclasses.fields(kind)}
    return kind(**{k: v for k, v in raw.items() if k in names})
