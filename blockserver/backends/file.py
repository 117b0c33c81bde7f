"""The `file` backend: each volume is a sparse file `<volume_dir>/volume-<id>`.

Creating is a truncate (no blocks allocated), extending truncates up, snapshots and clones copy
only allocated extents (or reflink). New files are built under a temporary name and renamed into
place, then the directory is fsynced, so a crash never leaves a half-copied volume under its name.
UNMAP is served by the exporting FileBacking punching holes, hence supports_unmap.
"""
from __future__ import annotations

import os
import uuid

from blockserver.backends.base import GIB, Backend
from blockserver.backends.sparse import copy_sparse
from blockserver.errors import BackendError


TMP_PREFIX = ".tmp-"


class FileBackend(Backend):
    name = "file"
    supports_unmap = True

    def __init__(self, volume_dir: str, *, reflink: bool = True):
        self.volume_dir = os.path.abspath(volume_dir)
        self.reflink = reflink
        os.makedirs(self.volume_dir, exist_ok=True)

    def check_setup(self) -> None:
        """At start-up, before any work: refuse an unwritable directory and remove the
        temporary files of copies a crash interrupted (they were never renamed into place)."""
        if not os.access(self.volume_dir, os.W_OK):
            raise BackendError(f"volume directory {self.volume_dir} is not writable")
        for name in os.listdir(self.volume_dir):
            if name.startswith(TMP_PREFIX):
                os.unlink(os.path.join(self.volume_dir, name))

    def capacity(self) -> dict:
        st = os.statvfs(self.volume_dir)
        return {"total_capacity_gb": round(st.f_blocks * st.f_frsize / GIB, 2),
                "free_capacity_gb": round(st.f_bavail * st.f_frsize / GIB, 2)}

    def path_for(self, volume_id: str) -> str:
        return os.path.join(self.volume_dir, f"volume-{_safe(volume_id)}")

    def snapshot_path(self, snapshot_id: str) -> str:
        return os.path.join(self.volume_dir, f"snapshot-{_safe(snapshot_id)}")

    def exists(self, volume_id: str) -> bool:
        return os.path.exists(self.path_for(volume_id))

    def create(self, volume_id: str, size_gb: int) -> None:
        def build(tmp: str) -> None:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.ftruncate(fd, size_gb * GIB)
                os.fsync(fd)
            finally:
                os.close(fd)
        self._publish(self.path_for(volume_id), build)

    def delete(self, volume_id: str) -> None:
        self._remove(self.path_for(volume_id))

    def extend(self, volume_id: str, new_size_gb: int) -> None:
        path = self.path_for(volume_id)
        try:
            fd = os.open(path, os.O_WRONLY)
        except FileNotFoundError:
            raise BackendError(f"volume file {path} is missing") from None
        try:
            if os.fstat(fd).st_size > new_size_gb * GIB:
                raise BackendError("a volume can only grow")
            os.ftruncate(fd, new_size_gb * GIB)
            os.fsync(fd)
        finally:
            os.close(fd)

    def create_snapshot(self, snapshot_id: str, volume_id: str) -> None:
        source = self._existing(self.path_for(volume_id))
        self._publish(self.snapshot_path(snapshot_id),
                      lambda tmp: copy_sparse(source, tmp, reflink=self.reflink))

    def delete_snapshot(self, snapshot_id: str) -> None:
        self._remove(self.snapshot_path(snapshot_id))

    def clone_from_volume(self, volume_id: str, source_volume_id: str, size_gb: int) -> None:
        source = self._existing(self.path_for(source_volume_id))
        self._publish(self.path_for(volume_id),
                      lambda tmp: copy_sparse(source, tmp, size=size_gb * GIB, reflink=self.reflink))

    def clone_from_snapshot(self, volume_id: str, snapshot_id: str, size_gb: int) -> None:
        source = self._existing(self.snapshot_path(snapshot_id))
        self._publish(self.path_for(volume_id),
                      lambda tmp: copy_sparse(source, tmp, size=size_gb * GIB, reflink=self.reflink))

    # -- helpers -------------------------------------------------------------------------------
    def _existing(self, path: str) -> str:
        if not os.path.exists(path):
            raise BackendError(f"{os.path.basename(path)} does not exist")
        return path

    def _publish(self, final: str, build) -> None:
        """Build the file under a temporary name, then rename it to `final` (never overwriting)."""
        if os.path.exists(final):
            raise BackendError(f"{os.path.basename(final)} already exists")
        tmp = os.path.join(self.volume_dir, f"{TMP_PREFIX}{uuid.uuid4().hex}")
        try:
            build(tmp)
            os.rename(tmp, final)
        except OSError as exc:
            raise BackendError(f"cannot create {os.path.basename(final)}: {exc}") from exc
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        self._sync_dir()

    def _remove(self, path: str) -> None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            return
        self._sync_dir()

    def _sync_dir(self) -> None:
        fd = os.open(self.volume_dir, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _safe(identifier: str) -> str:
    # Ids are UUIDs we generate; refuse anything that could escape the directory.
    if not identifier or "/" in identifier or identifier.startswith("."):
        raise BackendError(f"bad identifier {identifier!r}")
    return identifier
