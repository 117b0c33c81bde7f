"""Volume exports over the iSCSI target: the bridge between attachments and the TargetRegistry.

One target per attachment: FileBacking on the backend's path, a LogicalUnit at LUN 0 whose serial
and NAA device id derive from the volume id (so an initiator sees the same disk identity on every
attachment), and the attachment's own CHAP user and secret. Removing the target ends its sessions.
The files are opened on the disk executor, never on the event loop.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import uuid

from blockserver.device_backing import open_backing
from blockserver.errors import ApiError
from blockserver.iscsi import TargetRegistry
from blockserver.scsi import LogicalUnit

log = logging.getLogger("blockserver.exports")
DRAIN_TIMEOUT = 30.0  # seconds to let a removed target's running commands finish


def device_identity(volume_id: str) -> tuple[str, bytes]:
    """(unit serial, 16-byte NAA-6 device id) of a volume."""
    raw = uuid.UUID(volume_id).bytes
    return raw.hex()[:16], bytes([0x60 | (raw[0] & 0x0F)]) + raw[1:]


class IscsiExports:
    def __init__(self, registry: TargetRegistry, portal: str,
                 executor: concurrent.futures.Executor, *, thin: bool = True):
        self.registry = registry
        self.iqn_prefix = registry.iqn_prefix
        self.portal = portal
        self._executor = executor
        self._thin = thin
        self._units: dict[str, LogicalUnit] = {}

    async def add(self, iqn: str, path: str, *, chap_user: str, chap_secret: str, volume_id: str,
                  read_only: bool = False) -> None:
        """Export `path` as target `iqn`; exporting the same IQN again is a no-op."""
        iqn = iqn.lower()
        if iqn in self.registry:
            return
        loop = asyncio.get_running_loop()
        try:
            backing = await loop.run_in_executor(
                self._executor, lambda: open_backing(path, self._executor, read_only=read_only))
        except OSError as exc:
            raise ApiError(500, f"Cannot open the volume for export: {exc.strerror}.") from exc
        serial, device_id = device_identity(volume_id)
        unit = LogicalUnit(backing, serial=serial, device_id=device_id, thin=self._thin,
                           read_only=read_only)
        self.registry.add(iqn, unit, chap_user=chap_user, chap_secret=chap_secret,
                          alias=f"volume-{volume_id}")
        self._units[iqn] = unit
        log.info("exported %s as %s", path, iqn)

    async def remove(self, iqn: str) -> None:
        iqn = iqn.lower()
        self.registry.remove(iqn)  # ends the target's sessions first
        unit = self._units.pop(iqn, None)
        if unit is None:
            return
        # Running commands finish and the disk threads let go of the descriptor before it is
        # closed, so a recycled descriptor number can never carry I/O to another volume.
        await unit.close(timeout=DRAIN_TIMEOUT)
        log.info("ended export %s", iqn)

    async def capacity_changed(self, iqn: str) -> None:
        """After an extend: re-read the size and raise CAPACITY DATA HAS CHANGED."""
        unit = self._units.get(iqn.lower())
        if unit is not None:
            await unit.backing.refresh()
            unit.capacity_changed()

    async def close(self) -> None:
        for iqn in list(self._units):
            await self.remove(iqn)
