"""The storage node's aiohttp application: one process, several device directories, three roles.

    /{object|container|account}/{device}/{partition}/{account}[/{container}[/{object}]]

create_app() builds it; Node holds what the handlers share (devices, executors, LMDB environments,
the HTTP client for updates) and owns their lifetime through the app's cleanup context. Errors are
HTTPError (errors.py), turned into answers by one middleware.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import time
from urllib.parse import unquote

import aiohttp
from aiohttp import web

from ring import hash_path
from strato.executors import DeviceExecutors
from strato.timestamps import Timestamp

from . import db as dbmod
from . import diskfile, layout
from .errors import HTTPError

log = logging.getLogger("objectserver")

ROLES = ("object", "container", "account")
FREE_SPACE_TTL = 1.0  # seconds a device's free-space reading is trusted


@dataclasses.dataclass(frozen=True)
class Target:
    """What a request's path names."""

    role: str
    device: str
    partition: int
    account: str
    container: str | None = None
    obj: str | None = None


PARTITIONS_IN_BODY = -1  # Target.partition of a batched REPLICATE: the partitions are in its body


def parse_path(raw_path: str, method: str = "GET") -> Target:
    """Split the raw (still percent-encoded) path so that %2F stays inside its segment.
    `/replicate/object/{device}/{partition}` and `/replicate/object/{device}` (its partitions in
    the body: Target.partition is PARTITIONS_IN_BODY) are the paths without an account."""
    parts = raw_path.split("?", 1)[0].lstrip("/").split("/", 5)
    if method == "REPLICATE" and parts[0] == "object" and len(parts) in (2, 3) and parts[1]:
        if len(parts) == 2:
            return Target("object", unquote(parts[1]), PARTITIONS_IN_BODY, "")
        if parts[2].isdigit():
            return Target("object", unquote(parts[1]), int(parts[2]), "")
    if len(parts) < 4 or parts[0] not in ROLES:
        raise HTTPError(400, "Invalid path")
    try:
        segments = [unquote(p, errors="strict") for p in parts]
    except UnicodeDecodeError:
        raise HTTPError(400, "Invalid UTF8") from None
    role, device, part = segments[:3]
    if not part.isdigit():
        raise HTTPError(400, "Invalid partition")
    names = segments[3:]
    # A NUL is allowed: Swift's reserved namespace ("\x00versions\x00<container>", object
    # versions) is named with it; the proxy refuses it in every client's path.
    if any(not n for n in names):
        raise HTTPError(400, "Invalid path")
    if not device or "/" in device or device in (".", ".."):
        raise HTTPError(400, "Invalid device")
    depth = {"object": 3, "container": (1, 2, 3), "account": (1, 2)}[role]
    if (role == "object" and len(names) != 3) or (role != "object" and len(names) not in depth):
        raise HTTPError(400, "Invalid path")
    return Target(role, device, int(part), names[0], names[1] if len(names) > 1 else None,
                  names[2] if len(names) > 2 else None)


def require_timestamp(request: web.Request) -> Timestamp:
    value = request.headers.get("X-Timestamp")
    if value is None:
        raise HTTPError(400, "Missing X-Timestamp header")
    try:
        return Timestamp.parse(value)
    except ValueError:
        raise HTTPError(400, f"X-Timestamp should be a UNIX timestamp float value; was {value!r}")


class Node:
    """Shared state of one storage-node process."""

    def __init__(self, config, devices_root: str, devices, *, node_index: int = 0):
        storage = config.storage
        self.config = config
        self.storage = storage
        self.node_index = node_index
        self.devices_root = os.path.abspath(devices_root)
        self.devices = set(devices)
        self.prefix = config.cluster.hash_path_prefix
        self.suffix = config.cluster.hash_path_suffix
        self.executors = DeviceExecutors(storage.disk_threads)
        self.reserve = storage.fallocate_reserve_mb * 1024 * 1024
        self._free: dict[str, tuple[float, bool]] = {}
        self._dbs: dict[str, dbmod.DeviceDB] = {}
        self._db_locks: dict[str, asyncio.Lock] = {}
        self._row_committers: dict = {}
        self.session: aiohttp.ClientSession | None = None
        self.updates = None    # updates.ContainerUpdates, set by create_app
        self.reporter = None   # updates.AccountReporter
        self.tasks: list[asyncio.Task] = []
        self._device_locks: list[int] = []  # fds holding each served device's flock
        self.rings_loader = None  # () -> {"object"|"container"|"account": Ring} or None
        from .suffixcache import SuffixHashes

        self.suffixes = SuffixHashes(self)
        self.port: int | None = None  # the port this node listens on, when not base_port + index
        from .policy import known_policies

        self.policies = known_policies(config)  # {storage policy index: name} of this cluster

    def object_hash(self, account: str, container: str | None = None, obj: str | None = None) -> str:
        return hash_path(account, container, obj, prefix=self.prefix, suffix=self.suffix)

    def device_path(self, device: str) -> str:
        return os.path.join(self.devices_root, device)

    async def io(self, device: str, fn, *args, **kwargs):
        return await self.executors.run(device, fn, *args, **kwargs)

    async def check_device(self, device: str, writing: bool = False) -> str:
        """The device's path, or 507 when it is not ours, missing, or (for writes) too full."""
        if device not in self.devices:
            raise HTTPError(507, f"{device} is not a device of this node")
        now = time.monotonic()
        cached = self._free.get(device)
        if cached is None or now - cached[0] > FREE_SPACE_TTL:
            cached = (now, *await self.io(device, _device_state, self.device_path(device),
                                          self.reserve))
            self._free[device] = cached
        _, present, roomy = cached
        if not present or (writing and not roomy):
            raise HTTPError(507, f"{device} is unmounted or full")
        return self.device_path(device)

    def rows(self, device: str):
        """The device's group committer of object rows (groupcommit.py)."""
        committer = self._row_committers.get(device)
        if committer is None:
            from .groupcommit import RowCommitter

            committer = self._row_committers[device] = RowCommitter(self, device)
        return committer

    async def db(self, device: str) -> dbmod.DeviceDB:
        found = self._dbs.get(device)
        if found is not None:
            return found
        lock = self._db_locks.setdefault(device, asyncio.Lock())
        async with lock:
            if device not in self._dbs:
                path = layout.db_dir(self.device_path(device))
                size = self.storage.lmdb_map_size_mb * 1024 * 1024
                self._dbs[device] = await self.io(device, _open_db, path, size)
        return self._dbs[device]

    async def start(self, app: web.Application) -> None:
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self.storage.node_timeout,
                                        sock_read=self.storage.node_timeout)
        self.session = aiohttp.ClientSession(timeout=timeout, auto_decompress=False,
                                             connector=aiohttp.TCPConnector(limit=256))
        for device in sorted(self.devices):
            path = self.device_path(device)
            if await self.io(device, os.path.isdir, path):
                self._device_locks.append(await self.io(device, diskfile.lock_device, path))
                await self.io(device, diskfile.ensure_device_dirs, path)
                swept = await self.io(device, diskfile.sweep_tmp, path)
                if swept:
                    log.info("%s: removed %d unfinished temp files", device, swept)

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        self.tasks.clear()
        if self.session is not None:
            await self.session.close()
        for device, handle in list(self._dbs.items()):
            await self.io(device, handle.close)
        self._dbs.clear()
        self.executors.close()
        for fd in self._device_locks:
            os.close(fd)
        self._device_locks.clear()


def _device_state(path: str, reserve: int) -> tuple[bool, bool]:
    try:
        stat = os.statvfs(path)
    except OSError:
        return False, False
    if not os.path.isdir(os.path.join(path, "objects")):
        return False, False
    return True, stat.f_bavail * stat.f_frsize >= reserve


def _open_db(path: str, size: int) -> dbmod.DeviceDB:
    os.makedirs(path, exist_ok=True)
    return dbmod.DeviceDB(path, map_size=size)


NODE = web.AppKey("node", Node)
REPLICATE_PREFIX = "/replicate/"


@web.middleware
async def errors_middleware(request: web.Request, handler):
    try:
        return await handler(request)
    except HTTPError as exc:
        if exc.status >= 500:
            log.warning("%s %s: %s", request.method, request.path, exc)
        return web.Response(status=exc.status, text=exc.body, headers=exc.headers)
    except dbmod.DBError as exc:
        return web.Response(status=exc.status, text=exc.body or "", headers=exc.headers)


async def dispatch(request: web.Request) -> web.StreamResponse:
    from . import account_role, container_role, object_role

    node = request.app[NODE]
    method = request.method
    raw_path = request.raw_path
    if raw_path.startswith(REPLICATE_PREFIX):
        # replication: POST /replicate/{role}/... (HTTP parsers refuse Swift's REPLICATE verb)
        if method != "POST":
            raise HTTPError(405, headers={"Allow": "POST"})
        method, raw_path = "REPLICATE", raw_path[len(REPLICATE_PREFIX) - 1:]
    target = parse_path(raw_path, method)
    handlers = {"object": object_role.HANDLERS, "container": container_role.HANDLERS,
                "account": account_role.HANDLERS}[target.role]
    handler = handlers.get(method)
    if handler is None:
        allowed = sorted(m for m in handlers if m != "REPLICATE")
        raise HTTPError(405, headers={"Allow": ", ".join(allowed)})
    return await handler(node, request, target)


def create_app(config, devices_root: str, devices, *, node_index: int = 0,
               daemons: bool = True, rings_loader=None) -> web.Application:
    """The node serving `devices` (directory names under devices_root). daemons=False leaves the
    replicator, auditor and updater out (tests that drive them by hand). rings_loader() returns
    {"object"|"container"|"account": Ring} (or None) for the replicator."""
    from .updates import AccountReporter, ContainerUpdates

    node = Node(config, devices_root, devices, node_index=node_index)
    node.rings_loader = rings_loader
    node.updates = ContainerUpdates(node)
    node.reporter = AccountReporter(node)
    # auto_decompress=False: bodies are stored as sent (a `Content-Encoding: gzip` object keeps its
    # compressed bytes and their ETag, as Swift's); set on the app so every runner honours it
    app = web.Application(middlewares=[errors_middleware], client_max_size=1 << 20,
                          handler_args={"auto_decompress": False})
    app[NODE] = node

    async def lifetime(app):
        await node.start(app)
        node.tasks.append(asyncio.create_task(node.reporter.run(), name="account-reporter"))
        if daemons:
            from . import daemons as daemon_mod

            node.tasks.extend(daemon_mod.start(node))
        yield
        await node.stop()

    app.cleanup_ctx.append(lifetime)
    # [\s\S]: object and container names may hold newlines (percent-encoded on the wire); the
    # router matches the decoded path, where ".*" stops at a newline and answers a bare 404.
    app.router.add_route("*", r"/{tail:[\s\S]*}", dispatch)
    from .object_role import FEATURES
    if FEATURES:
        async def advertise(request: web.Request, response: web.StreamResponse) -> None:
            if request.raw_path.startswith(OBJECT_PREFIXES):  # streamed or not, errors too
                response.headers.update(FEATURES)

        app.on_response_prepare.append(advertise)
    return app


OBJECT_PREFIXES = ("/object/", "/replicate/object/")  # the object role's answers
