"""The Fernet key repository on disk, laid out like Keystone's `fernet-keys/` directory.

Files are named by integers: `0` is the staged key (the next primary, already known to every
validator so a rotation never breaks a token in flight), the highest number is the primary (it
encrypts), everything in between is secondary (still decrypts until purged). Only identity
rotates; validators in other processes only read. Rotation keeps `max_active` keys in total.
"""
from __future__ import annotations

import fcntl
import math
import os

from cryptography.fernet import Fernet

KEY_DIR_MODE = 0o700
KEY_FILE_MODE = 0o600
MIN_ACTIVE_KEYS = 3


def key_dir_for(data_dir: str) -> str:
    return os.path.join(data_dir, "identity", "fernet-keys")


def max_active_keys(token_ttl: float, rotation_hours: float) -> int:
    """Keys to keep so a token lives out its TTL across rotations (Keystone's rule: ttl/period + 2)."""
    return max(MIN_ACTIVE_KEYS, math.ceil(token_ttl / (rotation_hours * 3600.0)) + 2)


def _indexes(key_dir: str) -> list[int]:
    found = []
    for name in os.listdir(key_dir):
        if name.isdigit():
            found.append(int(name))
    return sorted(found)


def _write_key(key_dir: str, index: int, key: bytes) -> None:
    # Durable write: temp file, fsync, rename, fsync the directory, so a reader sees a whole key.
    path = os.path.join(key_dir, str(index))
    tmp = os.path.join(key_dir, f".{index}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, KEY_FILE_MODE)
    try:
        os.write(fd, key)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    _fsync_dir(key_dir)


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _Lock:
    """An flock on the repository so two rotations (or set-up and rotation) never interleave."""

    def __init__(self, key_dir: str):
        self._path = os.path.join(key_dir, ".lock")

    def __enter__(self):
        self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, KEY_FILE_MODE)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)


def setup(key_dir: str) -> None:
    """Create the repository with a staged key 0 and a primary key 1, unless it already has keys."""
    os.makedirs(key_dir, mode=KEY_DIR_MODE, exist_ok=True)
    with _Lock(key_dir):
        indexes = _indexes(key_dir)
        if 0 not in indexes:
            _write_key(key_dir, 0, Fernet.generate_key())
        if not [i for i in indexes if i > 0]:
            _write_key(key_dir, 1, Fernet.generate_key())


def rotate(key_dir: str, max_active: int = MIN_ACTIVE_KEYS) -> int:
    """Promote the staged key to primary, stage a new key, purge the oldest beyond max_active.

    Returns the new primary's index.
    """
    if max_active < MIN_ACTIVE_KEYS:
        raise ValueError(f"max_active must be at least {MIN_ACTIVE_KEYS}")
    with _Lock(key_dir):
        indexes = _indexes(key_dir)
        new_primary = (indexes[-1] if indexes else 0) + 1
        if 0 in indexes:
            promoted = os.path.join(key_dir, str(new_primary))
            os.replace(os.path.join(key_dir, "0"), promoted)
            os.utime(promoted)  # its mtime dates the promotion (primary_age reads it)
        else:
            _write_key(key_dir, new_primary, Fernet.generate_key())
        _write_key(key_dir, 0, Fernet.generate_key())
        # Staged + primary + secondaries: drop the oldest secondaries beyond the limit.
        secondaries = [i for i in _indexes(key_dir) if 0 < i < new_primary]
        excess = len(secondaries) + 2 - max_active
        for index in secondaries[:max(0, excess)]:
            os.unlink(os.path.join(key_dir, str(index)))
        _fsync_dir(key_dir)
        return new_primary


def load(key_dir: str) -> list[bytes]:
    """The keys in MultiFernet order: primary first, then secondaries newest first, staged last."""
    indexes = _indexes(key_dir)
    if not indexes:
        raise FileNotFoundError(f"no Fernet keys in {key_dir}")
    ordered = sorted((i for i in indexes if i > 0), reverse=True) + ([0] if 0 in indexes else [])
    keys = []
    for index in ordered:
        with open(os.path.join(key_dir, str(index)), "rb") as f:
            key = f.read().strip()
        if key:
            keys.append(key)
    return keys


def primary_age(key_dir: str, now: float) -> float:
    """Seconds since the primary key was promoted (its file's mtime), for the rotation schedule."""
    indexes = [i for i in _indexes(key_dir) if i > 0]
    if not indexes:
        return math.inf
    return now - os.stat(os.path.join(key_dir, str(indexes[-1]))).st_mtime
