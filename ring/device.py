"""Device: one disk of the cluster as the ring sees it, and the validation of its fields."""
from __future__ import annotations

import dataclasses
import ipaddress
import math
import re

from ring.errors import RingError

MAX_DEVICE_ID = 0xFFFE  # 0xFFFF marks an unassigned slot in the uint16 part->device arrays
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                       r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
_DEVICE_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,255}$")


@dataclasses.dataclass(frozen=True)
class Device:
    """A device: where it is (region, zone, node ip:port), its directory name, and its weight."""

    id: int
    region: int
    zone: int
    ip: str
    port: int
    device: str
    weight: float
    meta: str = ""

    @property
    def node(self) -> tuple[str, int]:
        """The failure domain 'node': one storage-node process (ip:port)."""
        return (self.ip, self.port)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Device":
        """A device from its JSON form; any missing, extra or bad field raises RingError."""
        if not isinstance(data, dict):
            raise RingError(f"device entry must be an object, got {type(data).__name__}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        missing = names - set(data) - {"meta"}
        if unknown or missing:
            raise RingError(f"device entry has unknown fields {sorted(unknown)} "
                            f"or lacks {sorted(missing)}")
        return validated(**data)


def _int(name: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RingError(f"{name} must be an integer, got {value!r}")
    if not low <= value <= high:
        raise RingError(f"{name} must be between {low} and {high}, got {value}")
    return value


def check_weight(weight) -> float:
    if isinstance(weight, bool) or not isinstance(weight, (int, float)):
        raise RingError(f"weight must be a number, got {weight!r}")
    weight = float(weight)
    if not math.isfinite(weight) or weight < 0:
        raise RingError(f"weight must be a finite number >= 0, got {weight!r}")
    return weight


def check_ip(ip) -> str:
    """An IPv4/IPv6 address (normalised) or a host name."""
    if not isinstance(ip, str) or not ip:
        raise RingError(f"ip must be a non-empty string, got {ip!r}")
    try:
        return str(ipaddress.ip_address(ip.strip("[]")))
    except ValueError:
        pass
    if not _HOSTNAME.match(ip) or ip.replace(".", "").isdigit():
        raise RingError(f"ip must be an IP address or a host name, got {ip!r}")
    return ip.lower()


def validated(*, id, region, zone, ip, port, device, weight, meta="") -> Device:
    """A Device whose every field was checked; raises RingError naming the bad field."""
    if not isinstance(device, str) or not _DEVICE_NAME.match(device) or device in (".", ".."):
        raise RingError("device must be a directory name (letters, digits, _ . : -), "
                        f"got {device!r}")
    if not isinstance(meta, str):
        raise RingError(f"meta must be a string, got {meta!r}")
    return Device(id=_int("id", id, 0, MAX_DEVICE_ID), region=_int("region", region, 0, 2**31 - 1),
                  zone=_int("zone", zone, 0, 2**31 - 1), ip=check_ip(ip),
                  port=_int("port", port, 1, 65535), device=device, weight=check_weight(weight),
                  meta=meta)
