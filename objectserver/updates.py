"""Listings follow the data: object servers update containers, containers update accounts.

ContainerUpdates: after an object PUT/DELETE, send the row to every container replica named in
X-Container-Host/Device/Partition (waiting at most storage.update_timeout); a failed one is written
to <device>/async_pending/ and retried by the updater daemon until the container takes it. A
replica on this very node (its host is the address the object request came in on; the proxy pairs
each object replica with the container replica on its own node) is merged in process through the
container role's own row path (container_role.merge_row): no HTTP request, same outcome.
AccountReporter: containers report (put/delete timestamps, object count, bytes) to the account
replicas. Container PUT/DELETE report at once; object-row changes mark the container dirty and a
loop coalesces them (one report per container per flush). Everything is dirty at start-up, so a
crash loses no report.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
from urllib.parse import quote

from . import diskfile, layout
from .db import DBError
from .errors import HTTPError

log = logging.getLogger("objectserver.updates")
FLUSH_INTERVAL = 0.2


def _q(segment: str) -> str:
    return quote(segment, safe="")


def split_targets(headers, host_key: str, device_key: str, part_key: str) -> list[dict]:
    """[{host, device, partition}] from comma-separated X-*-Host/Device/Partition headers."""
    hosts = [h.strip() for h in headers.get(host_key, "").split(",") if h.strip()]
    devices = [d.strip() for d in headers.get(device_key, "").split(",") if d.strip()]
    parts = [p.strip() for p in headers.get(part_key, "").split(",") if p.strip()]
    if not hosts or not devices or not parts:
        return []
    if len(parts) == 1:
        parts = parts * len(hosts)
    return [{"host": h, "device": d, "partition": p} for h, d, p in zip(hosts, devices, parts)]


async def send(node, method: str, target: dict, path: str, headers: dict) -> bool:
    """One backend request; True when the peer accepted it (2xx)."""
    url = f"http://{target['host']}/{path}"
    try:
        async with asyncio.timeout(node.storage.node_timeout):
            async with node.session.request(method, url, headers=headers) as resp:
                await resp.read()
                return 200 <= resp.status < 300
    except (OSError, asyncio.TimeoutError, Exception) as exc:  # any failure means "retry later"
        log.debug("%s %s failed: %r", method, url, exc)
        return False


class ContainerUpdates:
    def __init__(self, node):
        self.node = node
        self._lanes: dict[tuple, _Lane] = {}

    async def after_write(self, request, target, name_hash: str, op: str, timestamp,
                          row_headers: dict) -> None:
        targets = split_targets(request.headers, "X-Container-Host", "X-Container-Device",
                                "X-Container-Partition")
        if not targets:
            return
        headers = dict(row_headers, **{"X-Timestamp": timestamp.internal})
        updates = [{"op": op, "account": target.account, "container": target.container,
                    "obj": target.obj, "headers": headers, "target": t} for t in targets]
        me = own_host(request)
        if len(updates) == 1:  # the usual case (one container replica per object replica):
            oks = [await self._deliver(updates[0], me)]  # awaited in place, no task per write
        else:
            oks = await asyncio.gather(*(self._deliver(u, me) for u in updates))
        failed = [u for u, ok in zip(updates, oks) if not ok]
        if failed:
            path = self.node.device_path(target.device)
            await self.node.io(target.device, save_pending, path, name_hash, timestamp.internal,
                               failed)

    async def _deliver(self, update: dict, me: str) -> bool:
        """One row to one container replica within update_timeout; False (the row then waits in
        async_pending) on a refusal, an error or the timeout."""
        try:
            async with asyncio.timeout(self.node.storage.update_timeout):
                if update["target"]["host"] == me:
                    return await self.merge_here(update)
                return await self.send_one(update)
        except Exception as exc:
            log.debug("container update of %s failed: %r", update["target"], exc)
            return False

    async def merge_here(self, update: dict) -> bool:
        """An update for a container replica served by this process: the row goes straight to
        the container role's merge (the group commit every row update shares). A row the batch
        format cannot carry goes over HTTP, so the container role judges it as before."""
        row = _row_of(update)
        if row is None:
            return await self.send_one(update)
        from .container_role import merge_row

        t = update["target"]
        try:
            return await merge_row(self.node, t["device"], update["account"],
                                   update["container"], row, writing=update["op"] != "DELETE")
        except (HTTPError, DBError) as exc:  # e.g. 507: kept in async_pending, as over HTTP
            log.debug("in-process update of %s failed: %r", t["device"], exc)
            return False

    async def send_one(self, update: dict) -> bool:
        """Send one row to its container replica. While a request to the same container replica
        is in flight, rows queue and then travel together in one replication request (the
        container merges them in one transaction): under load, one backend request carries many
        rows instead of one each. A lone row goes as the plain row PUT/DELETE."""
        t = update["target"]
        key = (t["host"], t["device"], str(t["partition"]), update["account"], update["container"])
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = _Lane()
        elif (row := _row_of(update)) is not None:
            future = asyncio.get_running_loop().create_future()
            lane.queue.append((row, future))
            return await future
        lane.users += 1
        try:
            return await self._send_row(update)
        finally:
            lane.users -= 1
            if lane.queue and lane.drain is None:
                lane.drain = asyncio.ensure_future(self._drain(key, lane, t))
            elif not lane.users and lane.drain is None:
                self._lanes.pop(key, None)

    async def _send_row(self, update: dict) -> bool:
        t = update["target"]
        path = "/".join(["container", _q(t["device"]), str(t["partition"]),
                         _q(update["account"]), _q(update["container"]), _q(update["obj"])])
        return await send(self.node, update["op"], t, path, update["headers"])

    async def _drain(self, key, lane: "_Lane", target: dict) -> None:
        """Send the queued rows in batches until none are left; every waiter learns its batch's
        outcome (a failed batch is kept row by row in async_pending by the waiters)."""
        try:
            while lane.queue:
                batch, lane.queue = lane.queue[:MAX_BATCH], lane.queue[MAX_BATCH:]
                ok = await self._send_rows(target, key[3], key[4], [row for row, _ in batch])
                for _, future in batch:
                    if not future.done():
                        future.set_result(ok)
        except BaseException:
            for _, future in lane.queue:
                if not future.done():
                    future.set_result(False)
            lane.queue = []
            raise
        finally:
            lane.drain = None
            if not lane.users and self._lanes.get(key) is lane:
                self._lanes.pop(key, None)

    async def _send_rows(self, t: dict, account: str, container: str, rows: list) -> bool:
        url = (f"http://{t['host']}/replicate/container/{_q(t['device'])}/{t['partition']}/"
               f"{_q(account)}/{_q(container)}")
        try:
            async with asyncio.timeout(self.node.storage.node_timeout):
                async with self.node.session.post(url, json={"record": None, "rows": rows}) as resp:
                    body = await resp.json() if resp.status == 200 else None
            # a null record means there is no such container: the rows were not kept
            return bool(body and body.get("record"))
        except Exception as exc:  # any failure means "retry later"
            log.debug("row batch to %s failed: %r", url, exc)
            return False


MAX_BATCH = 256  # rows per replication request (names up to 1 KiB: well under 1 MiB of JSON)


class _Lane:
    """Container updates to one container replica: requests in flight and rows waiting."""

    __slots__ = ("users", "queue", "drain")

    def __init__(self):
        self.users = 0
        self.queue: list[tuple[list, asyncio.Future]] = []
        self.drain: asyncio.Future | None = None


def _row_of(update: dict) -> list | None:
    """The listing row [name, timestamp, size, content_type, etag, deleted] an update carries, or
    None when it cannot travel in a batch (then it goes alone, and the container judges it)."""
    headers = update["headers"]
    try:
        if update["op"] == "DELETE":
            return [update["obj"], headers["X-Timestamp"], 0, "", "", 1]
        size = int(headers["X-Size"])
        if size < 0:
            return None
        return [update["obj"], headers["X-Timestamp"], size, headers["X-Content-Type"],
                headers["X-Etag"], 0]
    except (KeyError, ValueError, TypeError):
        return None


def own_host(request) -> str | None:
    """"ip:port" the request came in on (the address peers and the rings know this node by)."""
    transport = request.transport
    sockname = transport.get_extra_info("sockname") if transport is not None else None
    if not isinstance(sockname, tuple) or len(sockname) != 2:
        return None  # IPv6 or a UNIX socket: such updates simply go over HTTP
    return f"{sockname[0]}:{sockname[1]}"


def save_pending(device_path: str, name_hash: str, timestamp: str, updates: list[dict]) -> None:
    """One durable file per failed update, named so the newest of an object sorts last."""
    pending = os.path.join(layout.async_pending_dir(device_path), layout.suffix_of(name_hash))
    diskfile.makedirs_durable(pending)
    for update in updates:
        name = f"{name_hash}-{timestamp}-{secrets.token_hex(4)}"
        tmp = os.path.join(layout.tmp_dir(device_path), name)
        with open(tmp, "w") as f:
            json.dump(update, f)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(pending, name))
    diskfile.fsync_dir(pending)


def list_pending(device_path: str) -> list[str]:
    root = layout.async_pending_dir(device_path)
    found = []
    for suffix in diskfile.listdir(root):
        for name in diskfile.listdir(os.path.join(root, suffix)):
            found.append(os.path.join(root, suffix, name))
    return sorted(found)


def load_pending(path: str) -> dict | None:
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return None
    except ValueError:  # a torn file cannot come from save_pending (rename), but never loop on one
        os.unlink(path)
        return None


def remove_pending(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    try:
        os.rmdir(os.path.dirname(path))
    except OSError:
        pass


class AccountReporter:
    """Coalesced container → account reports."""

    def __init__(self, node):
        self.node = node
        self.dirty: dict[tuple[str, str, str], None] = {}
        self.wake = asyncio.Event()

    def mark(self, device: str, account: str, container: str) -> None:
        self.dirty[(device, account, container)] = None
        self.wake.set()

    async def report_now(self, device: str, account: str, container: str, record: dict) -> bool:
        targets = record.get("account_targets") or []
        if not targets:
            return True
        headers = {"X-Put-Timestamp": record["put_ts"], "X-Delete-Timestamp": record["delete_ts"],
                   "X-Object-Count": str(record["count"]), "X-Bytes-Used": str(record["bytes"]),
                   "X-Timestamp": record["stats_ts"],
                   "X-Backend-Storage-Policy-Index": str(record.get("policy", 0))}
        path_tail = f"{_q(account)}/{_q(container)}"
        results = await asyncio.gather(*(
            send(self.node, "PUT", t, f"account/{_q(t['device'])}/{t['partition']}/{path_tail}",
                 headers) for t in targets))
        return all(results)

    async def run(self) -> None:
        """Flush loop: every dirty container reported once per pass; failures stay dirty."""
        node = self.node
        for device in sorted(node.devices):  # start-up: every container is dirty
            if await node.io(device, os.path.isdir, layout.db_dir(node.device_path(device))):
                try:
                    handle = await node.db(device)
                    for account, container, _ in await node.io(device, handle.all_containers):
                        self.dirty[(device, account, container)] = None
                except Exception:
                    log.exception("%s: cannot read containers", device)
        backoff = FLUSH_INTERVAL
        while True:
            if not self.dirty:
                self.wake.clear()
                await self.wake.wait()
            await asyncio.sleep(FLUSH_INTERVAL)
            batch, self.dirty = list(self.dirty), {}
            failed = False
            for device, account, container in batch:
                try:
                    handle = await node.db(device)
                    record = await node.io(device, handle.container_info, account, container)
                    ok = record is None or await self.report_now(device, account, container,
                                                                 record)
                except Exception:
                    log.exception("account report for %s/%s failed", account, container)
                    ok = False
                if not ok:
                    self.dirty[(device, account, container)] = None
                    failed = True
            if failed:  # a down account server: back off up to the updater interval
                backoff = min(backoff * 2, node.storage.updater_interval)
                await asyncio.sleep(backoff)
            else:
                backoff = FLUSH_INTERVAL
