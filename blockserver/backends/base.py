"""The one interface every volume backend implements.

Methods are blocking (they touch disks or run commands); the manager calls them on its bounded
backend executor, never on the event loop. Sizes are whole GiB, as in the Cinder API. Every
method is idempotent where Cinder retries: deleting something already gone succeeds.
"""
from __future__ import annotations

import abc

GIB = 1 << 30


class Backend(abc.ABC):
    name: str = "base"
    # True when the exported device honours UNMAP/WRITE SAME(unmap) by releasing space.
    supports_unmap: bool = False

    def check_setup(self) -> None:
        """Raise BackendError when the backend cannot work on this host (called at start-up)."""

    def capacity(self) -> dict:
        """Cinder's pool capacity keys (total/free GiB); "unknown" when the backend cannot tell."""
        return {"total_capacity_gb": "unknown", "free_capacity_gb": "unknown"}

    @abc.abstractmethod
    def create(self, volume_id: str, size_gb: int) -> None:
        """A new, zero-filled volume of size_gb GiB."""

    @abc.abstractmethod
    def delete(self, volume_id: str) -> None:
        ...

    @abc.abstractmethod
    def extend(self, volume_id: str, new_size_gb: int) -> None:
        """Grow the volume; existing data stays, the new tail reads as zeros."""

    @abc.abstractmethod
    def create_snapshot(self, snapshot_id: str, volume_id: str) -> None:
        """A point-in-time copy of the volume."""

    @abc.abstractmethod
    def delete_snapshot(self, snapshot_id: str) -> None:
        ...

    @abc.abstractmethod
    def clone_from_volume(self, volume_id: str, source_volume_id: str, size_gb: int) -> None:
        """A new volume holding the source's data, grown to size_gb (>= the source's size)."""

    @abc.abstractmethod
    def clone_from_snapshot(self, volume_id: str, snapshot_id: str, size_gb: int) -> None:
        """A new volume holding the snapshot's data, grown to size_gb (>= the snapshot's size)."""

    @abc.abstractmethod
    def path_for(self, volume_id: str) -> str:
        """The file or block device FileBacking opens to export the volume."""

    @abc.abstractmethod
    def exists(self, volume_id: str) -> bool:
        ...


def build(config, runner=None) -> Backend:
    """The backend config.blockserver.backend names."""
    import os

    section = config.blockserver
    if section.backend == "lvm":
        from blockserver.backends.lvm import LvmBackend, SubprocessRunner

        return LvmBackend(section.lvm_volume_group, section.lvm_thin_pool,
                          runner or SubprocessRunner())
    from blockserver.backends.file import FileBackend

    volume_dir = section.volume_dir or os.path.join(config.cluster.data_dir, "volumes")
    return FileBackend(volume_dir)
