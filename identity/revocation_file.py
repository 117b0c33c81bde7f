"""The revocation list on disk (`<data_dir>/identity/revoked.json`), shared by every validator.

Identity is the only writer (temp file, fsync, rename), so readers see a whole list or the old
one. Readers stat the file and re-parse it only when its identity (inode, mtime, size) changed,
which costs about a microsecond per check.
"""
from __future__ import annotations

import logging
import os

from identity.revocation import RevocationList

log = logging.getLogger(__name__)


def path_for(data_dir: str) -> str:
    return os.path.join(data_dir, "identity", "revoked.json")


def write(path: str, revocations: RevocationList) -> None:
    tmp = f"{path}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, revocations.to_bytes())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def read(path: str) -> RevocationList:
    try:
        with open(path, "rb") as f:
            return RevocationList.from_bytes(f.read())
    except FileNotFoundError:
        return RevocationList()


class RevocationWatcher:
    """The latest revocation list in the file, re-read only when the file changed."""

    def __init__(self, path: str):
        self.path = path
        self._stamp = None
        self._list = RevocationList()

    def current(self) -> RevocationList:
        try:
            st = os.stat(self.path)
            stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stamp = None
        if stamp != self._stamp:
            try:
                self._list = read(self.path)
                self._stamp = stamp
            except ValueError as exc:
                # Keep the last good list rather than letting revoked tokens back in.
                log.error("ignoring unreadable revocation list %s: %s", self.path, exc)
        return self._list
