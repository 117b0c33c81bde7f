"""The replicator: keeps every partition's replicas equal, and moves handoff data home.

Objects (each storage policy's directory with its own object ring): for each batch of up to BATCH
partitions on a local device, ask each peer device for the suffix digests of all the batch's
partitions it holds in one request (`POST /replicate/object/{dev}` with {"partitions": [...]}),
and push the current files of every suffix that differs by replaying them as backend requests
marked `X-Backend-Replication: true` (PUT of the .data with its stored metadata and timestamp,
DELETE at a tombstone's timestamp, POST of a .meta). Newest-wins on the receiver makes a replay
of something it already has (or something older) harmless.
Containers and accounts: send the record and, when the peer's answer shows different rows, every
row in batches (`POST /replicate/container/...` / `.../account/...`, merged newest-wins).
A device that is not a primary of a partition (a handoff) pushes to all primaries and removes its
copy once every primary took it. Push-only: each node pushes what it has; peers do the same.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from urllib.parse import quote

from . import diskfile, layout
from .policy import HEADER as POLICY_HEADER

log = logging.getLogger("objectserver.replicator")
ROW_BATCH = 1000
# partitions per REPLICATE request (and per local batch): one answer stays small (~50 KiB at ten
# suffixes a partition) and a slow or dead peer holds up at most this many partitions
BATCH = 256
# A file lost or damaged outside the server changes no dirty set: each pass lists the partitions
# whose number is the pass number modulo RELIST_EVERY afresh (as Swift's replicator rotates its
# do_listdir), so such a loss shows within RELIST_EVERY passes, at a tenth of a full listing a pass.
RELIST_EVERY = 10
CHUNK = 1 << 20
_SYNC_FIELDS = ("put_ts", "delete_ts", "stats_ts", "count", "bytes", "containers")


def _q(text: str) -> str:
    return quote(text, safe="")


def _is_local(dev, node) -> bool:
    port = node.storage.base_port + node.node_index if node.port is None else node.port
    return dev.port == port and dev.ip in (node.storage.bind_ip, "127.0.0.1") and \
        dev.device in node.devices


async def _request(node, method: str, dev, path: str, headers=None, data=None):
    """(status, body bytes); status 0 when the peer could not be reached. No total deadline (a
    large object takes what it takes); the session's connect/read timeouts catch a stalled peer."""
    url = f"http://{dev.ip}:{dev.port}/{path}"
    try:
        async with node.session.request(method, url, headers=headers, data=data) as resp:
            return resp.status, await resp.read()
    except Exception as exc:  # unreachable peer: try again next pass
        log.debug("%s %s: %r", method, url, exc)
        return 0, b""


# ---- objects ---------------------------------------------------------------------------------

def _suffix_files(device_path: str, part: int, suffix: str,
                  policy: int = 0) -> list[tuple[str, list[str]]]:
    suffix_dir = os.path.join(layout.partition_dir(device_path, part, policy), suffix)
    out = []
    for name_hash in diskfile.listdir(suffix_dir):
        found = layout.choose(diskfile.listdir(os.path.join(suffix_dir, name_hash)))
        files = [n for n in (found.data, found.tombstone, found.meta) if n]
        if files:
            out.append((name_hash, files))
    return out


def _meta_headers(metadata: dict) -> dict:
    return {k: v for k, v in metadata.items() if k not in ("name", "xxh3", "Content-Length")}


async def push_hash_dir(node, device: str, part: int, name_hash: str, files: list[str],
                        peer, policy: int = 0) -> bool:
    """Replay one object's current files to a peer; True when the peer has them (or newer)."""
    path = node.device_path(device)
    hash_dir = layout.hash_dir(path, part, name_hash, policy)
    for name in files:  # .data (or .ts) sorts before a newer .meta of the same object
        file_path = os.path.join(hash_dir, name)
        timestamp, ext = layout.parse_filename(name)
        try:
            metadata, data_length = await node.io(device, diskfile.read_file_metadata, file_path)
        except FileNotFoundError:
            return False  # replaced meanwhile; the next pass sees the new state
        except Exception:
            await node.io(device, diskfile.quarantine, path, name_hash, file_path)
            node.suffixes.invalidate(device, part, name_hash, policy)
            return False
        account, container, obj = metadata["name"].lstrip("/").split("/", 2)
        remote = (f"object/{_q(peer.device)}/{part}/{_q(account)}/{_q(container)}/{_q(obj)}")
        headers = _meta_headers(metadata)
        headers.update({"X-Timestamp": timestamp.internal, "X-Backend-Replication": "true",
                        POLICY_HEADER: str(policy)})
        if ext == layout.TOMBSTONE:
            status, _ = await _request(node, "DELETE", peer, remote, headers)
            ok = status in (204, 404, 409)
        elif ext == layout.META:
            status, _ = await _request(node, "POST", peer, remote, headers)
            ok = status in (202, 409)
        else:
            headers["Content-Length"] = str(data_length)
            status, _ = await _request(node, "PUT", peer, remote, headers,
                                       _file_body(node, device, file_path, data_length))
            ok = status in (201, 409)
        if not ok:
            return False
    return True


async def _file_body(node, device: str, file_path: str, length: int):
    # under a shared flock: the file is not recycled (diskfile.SparePool) while it is sent
    fd, _, _, body = await node.io(device, diskfile.open_file, file_path)
    if body is not None:  # a small file came back whole
        yield body[:length]
        return
    try:
        offset = 0
        while offset < length:
            data = await node.io(device, os.pread, fd, min(CHUNK, length - offset), offset)
            if not data:
                raise IOError("file shrank while replicating")
            offset += len(data)
            yield data
    finally:
        await node.io(device, os.close, fd)


def _partition_files(device_path: str, part: int, suffixes, policy: int = 0
                     ) -> dict[str, list[tuple[str, list[str]]]]:
    """{suffix: [(hash, current files)]} of several suffixes of one partition (one executor hop)."""
    return {suffix: _suffix_files(device_path, part, suffix, policy) for suffix in suffixes}


def _handoff_snapshot(device_path: str, local: dict[int, dict[str, str]], policy: int = 0
                      ) -> dict[int, dict[str, list[tuple[str, list[str]]]]]:
    return {part: _partition_files(device_path, part, hashes, policy)
            for part, hashes in local.items()}


def _peer_key(dev) -> tuple[str, int, str]:
    return dev.ip, dev.port, dev.device


async def _ask_peer(node, peer, parts: list[int], policy: int) -> dict | None:
    """The peer device's {"partition": {suffix: digest}} for parts (one request), None when it
    could not answer."""
    status, body = await _request(node, "POST", peer, f"replicate/object/{_q(peer.device)}",
                                  {POLICY_HEADER: str(policy), "Content-Type": "application/json"},
                                  json.dumps({"partitions": parts}))
    if status != 200:
        return None
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None


async def replicate_partitions(node, ring, device: str, parts: list[int], policy: int = 0,
                               relist=()) -> dict[int, bool]:
    """Sync local partitions (of one storage policy, placed by that policy's object ring) with
    their primaries: one REPLICATE per peer device for the whole batch (so len(parts) should stay
    within BATCH). relist: partitions whose digests are recomputed in full first.
    {partition: True when all its primaries answered in sync}."""
    path = node.device_path(device)
    if relist:
        await node.suffixes.get_many(device, list(relist), policy, relist=set(relist))
    peers_of: dict[int, list] = {}
    handoffs = []
    groups: dict[tuple[str, int, str], tuple[object, list[int]]] = {}
    for part in parts:
        primaries = ring.get_part_nodes(part)
        peers = [dev for dev in primaries if not (_is_local(dev, node) and dev.device == device)]
        peers_of[part] = peers
        if len(peers) == len(primaries):
            handoffs.append(part)
        for dev in peers:
            groups.setdefault(_peer_key(dev), (dev, []))[1].append(part)
    # a handoff remembers exactly which files it handed over, so it deletes only those
    snapshot = {}
    if handoffs:
        snapshot = await node.io(device, _handoff_snapshot, path,
                                 await node.suffixes.get_many(device, handoffs, policy), policy)
    synced = dict.fromkeys(parts, True)
    for peer, group in groups.values():
        # our digests just before asking (writes keep landing on both of us while we push)
        local = await node.suffixes.get_many(device, group, policy)
        remote = await _ask_peer(node, peer, group, policy)
        if remote is None:
            for part in group:
                synced[part] = False
            continue
        differ = {}
        for part in group:
            theirs = remote.get(str(part))
            if not isinstance(theirs, dict):
                synced[part] = False
            elif any(theirs.get(s) != digest for s, digest in local[part].items()):
                differ[part] = theirs
        if differ:
            # the peer hashed after us: writes that reached both of us in between differ only
            # until we look again (a cheap look: only what changed since is rehashed)
            local = await node.suffixes.get_many(device, list(differ), policy)
        for part, theirs in differ.items():
            differ_suffixes = [s for s, digest in local[part].items() if theirs.get(s) != digest]
            if not differ_suffixes:
                continue
            try:
                if not await _push_suffixes(node, device, part, differ_suffixes,
                                            snapshot.get(part, {}), peer, policy):
                    synced[part] = False
            except Exception:  # one partition's trouble (a disk error, say) spares the rest
                log.exception("%s: pushing partition %d to %s failed", device, part, peer.device)
                synced[part] = False
    for part in handoffs:
        if synced[part] and peers_of[part]:
            await _hand_back(node, device, part, snapshot[part], policy)
    return synced


async def _push_suffixes(node, device: str, part: int, suffixes: list[str], known: dict, peer,
                         policy: int) -> bool:
    """Push the files of suffixes (a handoff's from its snapshot, else as they are now)."""
    missing = [s for s in suffixes if s not in known]
    read = await node.io(device, _partition_files, node.device_path(device), part, missing,
                         policy) if missing else {}
    ok = True
    for suffix in suffixes:
        for name_hash, files in known[suffix] if suffix in known else read[suffix]:
            ok &= await push_hash_dir(node, device, part, name_hash, files, peer, policy)
    return ok


async def _hand_back(node, device: str, part: int, entries_by_suffix: dict, policy: int) -> None:
    # file by file, under the hash-directory lock: a write that landed on this handoff
    # while we were pushing is newer than the snapshot and stays for the next pass
    path = node.device_path(device)
    for entries in entries_by_suffix.values():
        for name_hash, files in entries:
            await node.io(device, diskfile.remove_if_current, path, part, name_hash, files, policy)
    await node.io(device, diskfile.prune_partition, path, part, policy)
    node.suffixes.forget(device, part, policy)
    log.info("%s: handoff partition %d handed back to its primaries", device, part)


async def replicate_partition(node, ring, device: str, part: int, policy: int = 0) -> bool:
    """Sync one local partition with its primaries (the batch of one); True when all in sync."""
    return (await replicate_partitions(node, ring, device, [part], policy))[part]


async def replicate_objects(node, ring, policy: int = 0, cycle: int = 0) -> None:
    """One pass over every local partition; cycle (the pass number) picks which get relisted."""
    for device in sorted(node.devices):
        parts = await node.io(device, diskfile.listdir,
                              layout.objects_dir(node.device_path(device), policy))
        parts = sorted(int(p) for p in parts if p.isdigit())
        for start in range(0, len(parts), BATCH):
            batch = parts[start:start + BATCH]
            try:
                await replicate_partitions(
                    node, ring, device, batch, policy,
                    relist=[p for p in batch if p % RELIST_EVERY == cycle % RELIST_EVERY])
            except Exception:
                log.exception("%s: replicating partitions %d-%d failed", device, batch[0],
                              batch[-1])


# ---- containers and accounts -----------------------------------------------------------------

def _in_sync(mine: dict, theirs: dict | None) -> bool:
    if theirs is None:
        return False
    return all(mine.get(f) == theirs.get(f) for f in _SYNC_FIELDS)


async def _push_db(node, device: str, dev, remote_path: str, record: dict, rows_since) -> bool:
    status, body = await _request(node, "POST", dev, f"replicate/{remote_path}",
                                  {"Content-Type": "application/json"},
                                  json.dumps({"record": record, "rows": []}))
    if status != 200:
        return False
    if _in_sync(record, json.loads(body).get("record")):
        return True
    after = ""
    while True:
        rows = await node.io(device, rows_since, after, ROW_BATCH)
        if not rows:
            return True
        status, _ = await _request(node, "POST", dev, f"replicate/{remote_path}",
                                   {"Content-Type": "application/json"},
                                   json.dumps({"record": record, "rows": rows}))
        if status != 200:
            return False
        after = rows[-1][0]


async def replicate_containers(node, ring) -> None:
    for device in sorted(node.devices):
        if not await node.io(device, os.path.isdir, layout.db_dir(node.device_path(device))):
            continue
        db = await node.db(device)
        for account, container, record in await node.io(device, db.all_containers):
            part = record.get("part", 0)
            primaries = ring.get_part_nodes(part)
            peers = [d for d in primaries if not (_is_local(d, node) and d.device == device)]
            am_primary = len(peers) < len(primaries)
            remote = f"{_q(account)}/{_q(container)}"
            ok = True
            for dev in peers:
                rows_since = _bind(db.object_rows_since, account, container)
                ok &= await _push_db(node, device, dev, f"container/{_q(dev.device)}/{part}/{remote}",
                                     record, rows_since)
            if not am_primary and ok and peers:
                await node.io(device, db.drop_container, account, container)


async def replicate_accounts(node, ring) -> None:
    for device in sorted(node.devices):
        if not await node.io(device, os.path.isdir, layout.db_dir(node.device_path(device))):
            continue
        db = await node.db(device)
        for account, record in await node.io(device, db.all_accounts):
            part = record.get("part", 0)
            primaries = ring.get_part_nodes(part)
            peers = [d for d in primaries if not (_is_local(d, node) and d.device == device)]
            am_primary = len(peers) < len(primaries)
            ok = True
            for dev in peers:
                rows_since = _bind(db.container_rows_since, account)
                ok &= await _push_db(node, device, dev, f"account/{_q(dev.device)}/{part}/{_q(account)}",
                                     record, rows_since)
            if not am_primary and ok and peers:
                await node.io(device, db.drop_account, account)


def policy_rings(rings: dict) -> list[tuple[int, object]]:
    """(policy index, object ring) of every storage policy whose ring is loaded: "object" is
    policy 0, "object-N" policy N (Swift's ring names)."""
    out = []
    for name, ring in rings.items():
        index = layout.policy_of_dir(name.replace("object", "objects", 1))
        if name.startswith("object") and index is not None:
            out.append((index, ring))
    return sorted(out, key=lambda item: item[0])


def _bind(fn, *args):
    return lambda after, limit: fn(*args, after, limit)


async def replicate_once(node, cycle: int = 0) -> bool:
    """One full pass (objects, containers, accounts). False when there are no rings. cycle: the
    pass number (which partitions are listed afresh, see RELIST_EVERY)."""
    rings = node.rings_loader() if node.rings_loader else None
    if not rings:
        return False
    for name, ring in policy_rings(rings):
        await replicate_objects(node, ring, name, cycle)
    await replicate_containers(node, rings["container"])
    await replicate_accounts(node, rings["account"])
    return True


RECLAIM_EVERY = 3600.0  # seconds between scans for listing tombstones past reclaim_age


async def reclaim_listings(node) -> int:
    from strato.timestamps import Timestamp

    before = Timestamp(time.time() - node.storage.reclaim_age).internal
    removed = 0
    for device in sorted(node.devices):
        if await node.io(device, os.path.isdir, layout.db_dir(node.device_path(device))):
            db = await node.db(device)
            removed += await node.io(device, db.reclaim, before)
    return removed


async def run(node) -> None:
    last_reclaim = 0.0
    cycle = 0
    while True:
        await asyncio.sleep(node.storage.replicator_interval)
        try:
            started = time.monotonic()
            cycle += 1
            if await replicate_once(node, cycle):
                log.debug("replication pass took %.2fs", time.monotonic() - started)
            if started - last_reclaim >= RECLAIM_EVERY:
                last_reclaim = started
                removed = await reclaim_listings(node)
                if removed:
                    log.info("reclaimed %d listing tombstones", removed)
        except Exception:
            log.exception("replication pass failed")
