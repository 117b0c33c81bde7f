"""FileBacking for block devices (the lvm backend's /dev/<vg>/volume-<id> thin LVs).

A block device reports st_size 0, so its size comes from lseek(SEEK_END) instead, both when it is
opened and on refresh() after an lvextend. Everything else is FileBacking's: Linux (4.9+) accepts
fallocate(PUNCH_HOLE) on a block device as discard-and-zero, which is what UNMAP and WRITE SAME
need on a thin LV. A device has no SEEK_DATA/SEEK_HOLE (EINVAL), so GET LBA STATUS reports every
block as mapped, which SBC allows when the provisioning state is not known.
"""
from __future__ import annotations

import os
import stat

from blockserver.backing import FileBacking


def device_size(fd: int) -> int:
    return os.lseek(fd, 0, os.SEEK_END)


class DeviceBacking(FileBacking):
    def __init__(self, path: str, executor, *, read_only: bool = False):
        super().__init__(path, executor, read_only=read_only)
        self.size = device_size(self._fd)

    async def refresh(self) -> int:
        self.size = await self._run(device_size, self._fd)
        return self.size

    async def mapped_extents(self, offset: int, length: int) -> list[tuple[int, int, bool]]:
        end = min(offset + length, self.size)
        return [(offset, end - offset, True)] if end > offset else []


def open_backing(path: str, executor, *, read_only: bool = False) -> FileBacking:
    """The right backing for what the volume backend's path_for() names (blocking: opens it)."""
    if stat.S_ISBLK(os.stat(path).st_mode):
        return DeviceBacking(path, executor, read_only=read_only)
    return FileBacking(path, executor, read_only=read_only)
