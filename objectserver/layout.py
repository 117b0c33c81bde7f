"""Where things live on a device, and which files of an object's hash directory are current.

    <device>/objects/<partition>/<suffix>/<hash>/<timestamp>.data|.ts|.meta   (storage policy 0)
    <device>/objects-N/...                                                  (storage policy N)
    <device>/tmp/            in-flight writes (swept when the node starts)
    <device>/async_pending/  container updates that failed, retried by the updater
    <device>/quarantined/objects[-N]/<hash>-<file>   files that failed their checksum
    <device>/db/             the device's LMDB environment (container and account roles)

Pure functions only (names and choices); diskfile.py does the I/O.
"""
from __future__ import annotations

import dataclasses
import operator
import posixpath

import xxhash

from strato.timestamps import Timestamp

DATA, TOMBSTONE, META = ".data", ".ts", ".meta"
EXTENSIONS = (DATA, TOMBSTONE, META)
_EXT_OF = {ext[1:]: ext for ext in EXTENSIONS}  # "data" -> ".data", without building strings
SUFFIX_LEN = 3


def policy_dir_name(policy: int = 0) -> str:
    """objects (policy 0, where objects always lived) or objects-N, as Swift names them."""
    return "objects" if not policy else f"objects-{policy}"


def policy_of_dir(name: str) -> int | None:
    """The policy index of a device's objects[-N] directory name, None for anything else."""
    if name == "objects":
        return 0
    if name.startswith("objects-") and name[8:].isdigit() and name[8:] == str(int(name[8:])):
        return int(name[8:])
    return None


def objects_dir(device_path: str, policy: int = 0) -> str:
    return posixpath.join(device_path, policy_dir_name(policy))


def partition_dir(device_path: str, part: int, policy: int = 0) -> str:
    return posixpath.join(device_path, policy_dir_name(policy), str(part))


def suffix_of(name_hash: str) -> str:
    return name_hash[-SUFFIX_LEN:]


def hash_dir(device_path: str, part: int, name_hash: str, policy: int = 0) -> str:
    return posixpath.join(device_path, policy_dir_name(policy), str(part), suffix_of(name_hash),
                          name_hash)


def tmp_dir(device_path: str) -> str:
    return posixpath.join(device_path, "tmp")


def async_pending_dir(device_path: str) -> str:
    return posixpath.join(device_path, "async_pending")


def quarantine_dir(device_path: str, policy: int = 0) -> str:
    return posixpath.join(device_path, "quarantined", policy_dir_name(policy))


def db_dir(device_path: str) -> str:
    return posixpath.join(device_path, "db")


def filename(timestamp: Timestamp, ext: str) -> str:
    return f"{timestamp.internal}{ext}"


def parse_filename(name: str) -> tuple[Timestamp, str] | None:
    """(timestamp, extension) of an object file name, or None for anything else."""
    stem, dot, ext = name.rpartition(".")
    ext = _EXT_OF.get(ext) if dot else None
    if ext is None:
        return None
    try:
        return Timestamp(stem), ext
    except (TypeError, ValueError):
        return None


@dataclasses.dataclass(frozen=True)
class FileSet:
    """The current files of one hash directory, and the ones a newer file made obsolete."""

    data: str | None = None       # newest .data, when it is newer than any tombstone
    tombstone: str | None = None  # newest .ts, when it is the newest data-or-delete
    meta: str | None = None       # newest .meta newer than the data file
    obsolete: tuple[str, ...] = ()

    # The winners' timestamps: choose() passes the ones it parsed its names into; a FileSet built
    # from names alone parses them here. Not part of equality (which files are current is).
    timestamp: Timestamp | None = dataclasses.field(default=None, compare=False)  # .data or .ts
    meta_timestamp: Timestamp | None = dataclasses.field(default=None, compare=False)

    def __post_init__(self):
        winner = self.data or self.tombstone
        if winner and self.timestamp is None:
            object.__setattr__(self, "timestamp", parse_filename(winner)[0])
        if self.meta and self.meta_timestamp is None:
            object.__setattr__(self, "meta_timestamp", parse_filename(self.meta)[0])


_ORDER = operator.itemgetter(0)


def choose(names) -> FileSet:
    """Newest .data or .ts wins; a .meta counts only when newer than the winning .data."""
    parsed = []
    for n in names:
        p = parse_filename(n)
        if p is not None:
            ts = p[0]
            parsed.append(((ts.ticks, ts.offset), ts, p[1], n))
    # ordered by (ticks, offset) tuples: compared in C, where Timestamps would call Python
    # methods; stable, so equal timestamps keep the listing's order, as they always did
    parsed.sort(key=_ORDER, reverse=True)
    winner = None
    meta = None
    obsolete = []
    for _key, ts, ext, name in parsed:
        if winner is None and ext in (DATA, TOMBSTONE):
            winner = (ts, ext, name)
        elif winner is None and ext == META and meta is None:
            meta = (ts, ext, name)
        else:
            obsolete.append(name)
    if meta is not None and (winner is None or winner[1] != DATA):
        obsolete.append(meta[2])  # metadata of an object that is deleted or absent
        meta = None
    if winner is None:
        return FileSet(obsolete=tuple(obsolete))
    if winner[1] == DATA:
        return FileSet(data=winner[2], meta=meta[2] if meta else None, obsolete=tuple(obsolete),
                       timestamp=winner[0], meta_timestamp=meta[0] if meta else None)
    return FileSet(tombstone=winner[2], obsolete=tuple(obsolete), timestamp=winner[0])


def suffix_hash(entries) -> str:
    """Digest of one suffix directory: sorted (hash dir, current file names). Equal on two nodes
    exactly when they hold the same current versions, which is all the replicator compares."""
    h = xxhash.xxh3_64()
    for name_hash, files in sorted(entries):
        h.update(name_hash.encode())
        for name in sorted(files):
            h.update(b"\0" + name.encode())
        h.update(b"\n")
    return h.hexdigest()
