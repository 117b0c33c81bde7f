"""Virt drivers: what actually runs a server. `fake` runs nothing (Nova has the same named driver
for tests and API work); `qemu` boots the server from its iSCSI boot volume
(compute/drivers/qemu.py).

A driver gets plain values (the server record and Disk entries with Cinder connection info) and
never touches the store or the other services: compute/manager.py does that around it.
"""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Disk:
    volume_id: str
    device: str             # /dev/vda, /dev/vdb, ...
    connection_info: dict   # Cinder's {"driver_volume_type": "iscsi", "data": {...}}


class DriverError(Exception):
    """The driver could not do what was asked; the message goes into the server's fault."""


def load(config):
    name = config.compute.driver
    if name == "fake":
        from compute.drivers.fake import FakeDriver
        return FakeDriver()
    if name == "qemu":
        from compute.drivers.qemu import QemuDriver
        return QemuDriver(config)
    raise ValueError(f"unknown compute driver {name!r}")
