"""The auditor: re-hashes every current .data file at a bounded rate and quarantines mismatches.

Rate: storage.auditor_bytes_per_second and auditor_files_per_second per device (Swift's two
limits: the sleep after each chunk keeps the byte average under the first, the sleep before each
file keeps the file average under the second), so auditing never starves client I/O; without the
file limit a device of small objects was audited as fast as its executor could open files. A quarantined file disappears from its hash
directory; the replicator then restores a good copy from another replica.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time

import xxhash

from . import diskfile, layout, metafile

log = logging.getLogger("objectserver.auditor")
CHUNK = 1 << 20


def _policies(device_path: str) -> list[int]:
    """Storage policy indexes with an objects[-N] directory on the device (every policy's
    objects are audited, whether or not this node's configuration still names the policy)."""
    found = (layout.policy_of_dir(name) for name in diskfile.listdir(device_path))
    return sorted(index for index in found if index is not None)


def _partitions(device_path: str, policy: int = 0) -> list[str]:
    return diskfile.listdir(layout.objects_dir(device_path, policy))


def _data_files(device_path: str, part: str, policy: int = 0) -> list[tuple[str, str]]:
    """(hash, path) of every current .data file in one partition (one partition at a time keeps
    the listing small however many objects the device holds)."""
    out = []
    part_dir = os.path.join(layout.objects_dir(device_path, policy), part)
    for suffix in diskfile.listdir(part_dir):
        suffix_dir = os.path.join(part_dir, suffix)
        for name_hash in diskfile.listdir(suffix_dir):
            hash_dir = os.path.join(suffix_dir, name_hash)
            found = layout.choose(diskfile.listdir(hash_dir))
            if found.data:
                out.append((name_hash, os.path.join(hash_dir, found.data)))
    return out


def _hash_chunk(fd: int, hasher, offset: int, size: int) -> int:
    data = os.pread(fd, size, offset)
    hasher.update(data)
    return len(data)


async def audit_file(node, device: str, name_hash: str, path: str, rate: float,
                     part: int | None = None, policy: int = 0) -> bool:
    """True when the file is good (or gone); False when it was quarantined."""
    device_path = node.device_path(device)
    try:
        # under a shared flock: the file is not recycled (diskfile.SparePool) while it is read
        fd, metadata, length, body = await node.io(device, diskfile.open_file, path)
    except FileNotFoundError:
        return True
    except metafile.MetadataError:
        await node.io(device, diskfile.quarantine, device_path, name_hash, path)
        if part is not None:
            node.suffixes.invalidate(device, part, name_hash, policy)
        log.error("quarantined %s: unreadable metadata", path)
        return False
    hasher = xxhash.xxh3_64()
    offset = 0
    if body is not None:  # a small file came back whole
        hasher.update(body)
        offset = len(body)
    try:
        while offset < length:
            started = time.monotonic()
            got = await node.io(device, _hash_chunk, fd, hasher, offset, min(CHUNK, length - offset))
            if got == 0:
                break
            offset += got
            pause = got / rate - (time.monotonic() - started)
            if pause > 0:
                await asyncio.sleep(pause)
    finally:
        if fd >= 0:
            await node.io(device, os.close, fd)
    if offset == length and hasher.hexdigest() == metadata.get("xxh3"):
        return True
    await node.io(device, diskfile.quarantine, device_path, name_hash, path)
    if part is not None:
        node.suffixes.invalidate(device, part, name_hash, policy)
    log.error("quarantined %s: body does not match its xxh3", path)
    return False


async def audit_device(node, device: str) -> tuple[int, int]:
    """One pass over a device, every storage policy: (files checked, files quarantined)."""
    rate = float(node.storage.auditor_bytes_per_second)
    files_rate = float(node.storage.auditor_files_per_second)
    device_path = node.device_path(device)
    checked = bad = 0
    started = time.monotonic()
    for policy in await node.io(device, _policies, device_path):
        for part in await node.io(device, _partitions, device_path, policy):
            for name_hash, path in await node.io(device, _data_files, device_path, part, policy):
                ahead = checked / files_rate - (time.monotonic() - started)
                if ahead > 0:  # the n-th file of a pass starts no sooner than n / files_rate
                    await asyncio.sleep(ahead)
                checked += 1
                if not await audit_file(node, device, name_hash, path, rate,
                                        int(part) if part.isdigit() else None, policy):
                    bad += 1
    return checked, bad


async def run(node) -> None:
    while True:
        for device in sorted(node.devices):
            try:
                checked, bad = await audit_device(node, device)
                if bad:
                    log.warning("%s: audited %d objects, quarantined %d", device, checked, bad)
            except Exception:
                log.exception("%s: audit pass failed", device)
        await asyncio.sleep(node.storage.auditor_interval)
