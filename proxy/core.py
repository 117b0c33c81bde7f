"""Swift semantics, reusable without aiohttp handlers: the proxy's internal API.

`SwiftCore` does account, container and object operations as a given storage account
("AUTH_test"): node fan-out, quorum, handoffs, container-update targets, account auto-creation,
info caching, expiring-object bookkeeping. Handlers (proxy/handlers/) and the S3 layer call it
after their own authentication; it does no authorization itself.

Every method returns a Result (status, client-visible headers, body) or, for object reads, a Result
whose `stream` yields the body and must be closed (`await result.close()`).
"""
from __future__ import annotations

import asyncio
import dataclasses
import email.utils
import functools
import time
from typing import AsyncIterator, Callable

from multidict import CIMultiDict

from proxy import headers as hdrs
from proxy import quorum
from proxy.backend import Backend, NodeResponse
from proxy.errors import SwiftError
from proxy.objver import writes as objver_writes
from proxy.rings import POLICY_HEADER, default_policy_index, object_ring_for, policy_index_of
from strato.timestamps import Timestamp

EXPIRING_ACCOUNT = ".expiring_objects"
EXPIRING_DIVISOR = 86400
EMPTY_ETAG = "d41d8cd98f00b204e9800998ecf8427e"


@dataclasses.dataclass
class Result:
    status: int
    headers: CIMultiDict
    body: bytes = b""
    stream: NodeResponse | None = None
    backend_headers: CIMultiDict | None = None  # the node's own headers (sysmeta included)
    body_iter: AsyncIterator[bytes] | None = None  # a body the proxy builds (large objects)

    async def iter_body(self, chunk: int = 65536) -> AsyncIterator[bytes]:
        if self.body_iter is not None:
            async for data in self.body_iter:
                yield data
            return
        if self.stream is None or self.stream.raw is None:
            if self.body:
                yield self.body
            return
        try:
            async for data in self.stream.raw.content.iter_chunked(chunk):
                yield data
        finally:
            self.stream.release()

    async def read(self) -> bytes:
        return b"".join([c async for c in self.iter_body()])

    def close(self) -> None:
        if self.stream is not None:
            self.stream.release()
        if self.body_iter is not None and hasattr(self.body_iter, "aclose"):
            # An unfinished generator still holds a segment's connection: let it go.
            asyncio.ensure_future(self.body_iter.aclose())
            self.body_iter = None


@dataclasses.dataclass(frozen=True)
class Info:
    """What a HEAD of an account or container told us (cached briefly)."""

    status: int
    headers: CIMultiDict

    @property
    def exists(self) -> bool:
        return 200 <= self.status < 300

    def get(self, name: str, default=None):
        return self.headers.get(name, default)

    def meta(self, kind: str) -> dict[str, str]:
        prefix = f"x-{kind}-meta-"
        return {k.lower()[len(prefix):]: v for k, v in self.headers.items()
                if k.lower().startswith(prefix)}

    def int(self, name: str) -> int:
        try:
            return int(self.headers.get(name, 0))
        except ValueError:
            return 0


class SwiftCore:
    def __init__(self, backend: Backend, rings, *, autocreate: bool = True,
                 info_ttl: float = 5.0):
        self.backend = backend
        self.rings = rings
        self.autocreate = autocreate
        self.info_ttl = info_ttl
        # account -> {container (None: the account itself) -> (expiry, Info)}: dropping an
        # account's entries on an account or container write is one pop, not a scan of the cache.
        self._info: dict[str, dict[str | None, tuple[float, Info]]] = {}
        self._info_entries = 0
        # Lookups in flight: when an entry expires, every request that arrives before the
        # answer waits for the same HEAD instead of sending its own (under load that was one
        # container HEAD per concurrent request, and as many account HEADs, every info_ttl).
        self._inflight: dict[tuple, asyncio.Future] = {}
        self._known_containers: set[tuple[str, str]] = set()

    # -- info cache -------------------------------------------------------------------------------
    def invalidate(self, account: str, container: str | None = None) -> None:
        # A lookup already in flight may predate the change: later callers start a new one.
        self._inflight.pop((account, container), None)
        if container is not None:
            entries = self._info.get(account)
            if entries is not None and entries.pop(container, None) is not None:
                self._info_entries -= 1
            return
        self._info_entries -= len(self._info.pop(account, ()))
        # only lookups in flight right now (bounded by concurrency) are scanned
        for key in [k for k in self._inflight if k[0] == account]:
            self._inflight.pop(key, None)

    def _cached_entry(self, account: str, container: str | None):
        return self._info.get(account, {}).get(container)

    def _cache_entry(self, account: str, container: str | None, entry: tuple) -> None:
        entries = self._info.setdefault(account, {})
        if container not in entries:
            if self._info_entries >= 100_000:
                self._info.clear()
                self._info_entries = 0
                entries = self._info.setdefault(account, {})
            self._info_entries += 1
        entries[container] = entry

    async def account_info(self, account: str) -> Info:
        return await self._cached_info(account, None)

    async def container_info(self, account: str, container: str) -> Info:
        return await self._cached_info(account, container)

    async def _cached_info(self, account: str, container: str | None) -> Info:
        key = (account, container)
        now = time.monotonic()
        hit = self._cached_entry(account, container)
        if hit is not None and hit[0] > now:
            return hit[1]
        pending = self._inflight.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._fetch_info(key, now))
            self._inflight[key] = pending
            pending.add_done_callback(lambda done: self._inflight.pop(key, None)
                                      if self._inflight.get(key) is done else None)
        # shield: a caller that goes away (client disconnect) does not cancel the others' answer.
        return await asyncio.shield(pending)

    async def _fetch_info(self, key: tuple, now: float) -> Info:
        account, container = key
        role, ring = ("container", self.rings.container) if container else ("account", self.rings.account)
        resp = await self.backend.read("HEAD", ring, role, account, container)
        info = Info(resp.status, CIMultiDict(resp.headers))
        # Not cached when invalidate() dropped this lookup meanwhile: its answer may be stale.
        if resp.status < 500 and self._inflight.get(key) is asyncio.current_task():
            self._cache_entry(account, container, (now + self.info_ttl, info))
        return info

    # -- accounts ---------------------------------------------------------------------------------
    async def account_read(self, method: str, account: str, query: dict | None = None,
                           headers: dict | None = None) -> Result:
        resp = await self.backend.read(method, self.rings.account, "account", account,
                                       headers=headers, query=query)
        if resp.status == 404 and self.autocreate:
            return self._fake_account(method, account, (query or {}).get("format", "plain"))
        return Result(resp.status, _with_last_modified(hdrs.to_client(resp.headers)), resp.body)

    def _fake_account(self, method: str, account: str, fmt: str) -> Result:
        """An account nobody wrote to yet reads as empty (Swift's account_autocreate)."""
        headers = CIMultiDict({"X-Account-Container-Count": "0", "X-Account-Object-Count": "0",
                               "X-Account-Bytes-Used": "0",
                               "X-Timestamp": Timestamp.now().normal,
                               "X-Put-Timestamp": Timestamp.now().normal})
        if fmt == "json":
            headers["Content-Type"] = "application/json; charset=utf-8"
            # A HEAD has no body: 204, as Swift answers every account HEAD.
            return Result(200, headers, b"[]") if method == "GET" else Result(204, headers)
        if fmt == "xml":
            headers["Content-Type"] = "application/xml; charset=utf-8"
            from xml.sax.saxutils import quoteattr
            body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<account name={quoteattr(account)}>'
                    f'</account>').encode()
            return Result(200, headers, body) if method == "GET" else Result(204, headers)
        headers["Content-Type"] = "text/plain; charset=utf-8"
        return Result(204, headers)

    async def account_write(self, method: str, account: str, headers: dict) -> Result:
        headers = dict(headers)
        headers["X-Timestamp"] = Timestamp.now().internal
        answers = await self.backend.replicated(method, self.rings.account, "account", account,
                                                headers_for=lambda i: headers)
        self.invalidate(account)
        status = quorum.best_status([a.status for a in answers], len(answers))
        if method == "POST" and status == 404 and self.autocreate:
            created = await self.account_write("PUT", account, headers)
            if created.status // 100 == 2:
                return Result(204, CIMultiDict())
            return created
        return Result(status, CIMultiDict())

    async def ensure_account(self, account: str) -> None:
        """Create the account if a HEAD says it does not exist (autocreate on first write)."""
        info = await self.account_info(account)
        if info.status == 404:
            result = await self.account_write("PUT", account, {})
            if result.status // 100 != 2:
                raise SwiftError(503, "Could not create account")

    # -- containers -------------------------------------------------------------------------------
    def _account_targets(self, account: str, count: int) -> list[dict]:
        """X-Account-Host/Device/Partition for each of `count` container replicas."""
        part, nodes = self.rings.account.get_nodes(account)
        return _spread(part, nodes, count, "Account")

    async def container_read(self, method: str, account: str, container: str,
                             query: dict | None = None, headers: dict | None = None) -> Result:
        resp = await self.backend.read(method, self.rings.container, "container", account,
                                       container, headers=headers, query=query)
        return Result(resp.status, _with_last_modified(hdrs.to_client(resp.headers)), resp.body,
                      backend_headers=CIMultiDict(resp.headers))

    async def container_write(self, method: str, account: str, container: str,
                              headers: dict) -> Result:
        if method == "PUT" and self.autocreate:
            await self.ensure_account(account)
        elif method in ("POST", "PUT"):
            info = await self.account_info(account)
            if info.status == 404:
                raise SwiftError(404, "Not Found")
        timestamp = Timestamp.now().internal
        replicas = len(self.rings.container.get_nodes(account, container)[1])
        targets = self._account_targets(account, replicas)

        def headers_for(i):
            out = dict(headers)
            out["X-Timestamp"] = timestamp
            if method == "PUT":  # a new container without X-Storage-Policy gets the default
                out.setdefault("X-Backend-Storage-Policy-Default",
                               str(default_policy_index(self.rings)))
            if method in ("PUT", "DELETE"):
                out.update(targets[i % len(targets)] if targets else {})
            return out

        answers = await self.backend.replicated(method, self.rings.container, "container", account,
                                                container, headers_for=headers_for)
        self.invalidate(account, container)
        self.invalidate(account)
        self._known_containers.discard((account, container))
        status = quorum.best_status([a.status for a in answers], len(answers))
        return Result(status, CIMultiDict())

    # -- objects ----------------------------------------------------------------------------------
    def _object_placement(self, info: Info, account: str, container: str, obj: str,
                          node_headers: dict) -> tuple:
        """(object ring, container-update targets) of a write: the container's storage policy
        picks the ring (and its index goes into node_headers), one target per replica."""
        policy = policy_index_of(info.headers)
        node_headers[POLICY_HEADER] = str(policy)
        ring = object_ring_for(self.rings, policy)
        primaries = ring.get_nodes(account, container, obj)[1]
        part, nodes = self.rings.container.get_nodes(account, container)
        return ring, _spread(part, nodes, len(primaries), "Container", primaries)

    async def object_read(self, method: str, account: str, container: str, obj: str,
                          headers: dict | None = None) -> Result:
        """GET/HEAD one object from one healthy replica (a stream for GET: close it)."""
        now = time.time()

        def live(resp: NodeResponse) -> bool:
            return not _expired(resp.headers, now)

        policy = policy_index_of((await self.container_info(account, container)).headers)
        headers = {**(headers or {}), POLICY_HEADER: str(policy)}
        resp = await self.backend.read(method, object_ring_for(self.rings, policy), "object",
                                       account, container, obj, headers=headers,
                                       stream=(method == "GET"), accept=live)
        out = hdrs.to_client(resp.headers)
        if "Content-Length" in resp.headers:
            out["Content-Length"] = resp.headers["Content-Length"]
        raw = CIMultiDict(resp.headers)
        if resp.raw is None and resp.status >= 300:
            return Result(resp.status, out, resp.body, backend_headers=raw)
        return Result(resp.status, out, resp.body, stream=resp if resp.raw is not None else None,
                      backend_headers=raw)

    async def object_put(self, account: str, container: str, obj: str, headers: dict,
                         body: AsyncIterator[bytes], content_length: int | None,
                         timestamp: Timestamp | None = None, versioned: bool = True,
                         sha256_check: Callable[[str], None] | None = None) -> Result:
        """Stream a new object to its replicas; 201 once a quorum fsynced identical bytes.
        In a container with object versioning enabled, the data becomes a new version (and the
        name a link to it) unless versioned=False (proxy/objver/writes.py). sha256_check: see
        Backend.put_stream (S3's payload hash, checked before anything is committed)."""
        info = await self.container_info(account, container)
        if not info.exists:
            raise SwiftError(404 if info.status == 404 else 503)
        if versioned and objver_writes.is_enabled(info):
            return await objver_writes.put(self, account, container, obj, headers, body,
                                           content_length, timestamp, info, sha256_check)
        timestamp = timestamp or Timestamp.now()
        node_headers = hdrs.encoding_to_node(dict(headers))
        node_headers["X-Timestamp"] = timestamp.internal
        node_headers.setdefault("Content-Type", hdrs.guess_content_type(obj))
        if content_length is not None:
            node_headers["Content-Length"] = str(content_length)
        ring, targets = self._object_placement(info, account, container, obj, node_headers)

        def headers_for(i):
            out = dict(node_headers)
            if targets:
                out.update(targets[i % len(targets)])
            return out

        answers, replicas = await self.backend.put_stream(
            ring, account, container, obj, headers_for, body, content_length, sha256_check)
        statuses = [a.status for a in answers]
        etags = [a.headers.get("ETag") for a in answers]
        status = quorum.write_outcome(statuses, etags, replicas)
        if status == 500:
            raise SwiftError(500, "Object servers returned mismatched etags")
        if status == 409:
            # The nodes hold a newer write of this name (a concurrent PUT or DELETE got a later
            # timestamp): this one lost the race and stores nothing, which is not the client's
            # error. Swift's proxy answers it 202 Accepted (s3api passes that on as a success).
            return Result(202, CIMultiDict({"X-Timestamp": timestamp.normal}))
        if status // 100 != 2:
            if status == 503 and any(s in (408, 499) for s in statuses):
                status = 499
            raise SwiftError(status)
        etag = next((e for s, e in zip(statuses, etags) if 200 <= s < 300 and e), None)
        out = CIMultiDict({"Last-Modified": _http_date(timestamp.seconds),
                           "X-Timestamp": timestamp.normal})
        if etag:
            out["ETag"] = etag.strip('"')
        if "X-Delete-At" in node_headers:
            await self._note_expiring(account, container, obj, node_headers["X-Delete-At"],
                                      timestamp)
        self._count_put(account, container, content_length)
        return Result(201, out)

    def _count_put(self, account: str, container: str, size: int | None) -> None:
        """Keep the cached container info, with the new object counted, so the next PUT into the
        container does not pay a container HEAD. Counting an overwrite twice errs towards a quota
        413 only until the entry's TTL runs out, as Swift's own cached container info does."""
        hit = self._cached_entry(account, container)
        if hit is None or size is None:
            self.invalidate(account, container)
            return
        headers = hit[1].headers.copy()
        headers["X-Container-Object-Count"] = str(hit[1].int("X-Container-Object-Count") + 1)
        headers["X-Container-Bytes-Used"] = str(hit[1].int("X-Container-Bytes-Used") + size)
        self._cache_entry(account, container, (hit[0], Info(hit[1].status, headers)))

    async def object_write(self, method: str, account: str, container: str, obj: str,
                           headers: dict, timestamp: Timestamp | None = None,
                           versioned: bool = True) -> Result:
        """POST (metadata) or DELETE one object on every replica; the quorum decides. A DELETE
        in a versioned container leaves a delete marker unless versioned=False."""
        info = await self.container_info(account, container)
        if not info.exists:
            raise SwiftError(404 if info.status == 404 else 503)
        if versioned and method == "DELETE" and objver_writes.is_enabled(info):
            return await objver_writes.delete(self, account, container, obj, headers, timestamp,
                                              info)
        timestamp = timestamp or Timestamp.now()
        node_headers = hdrs.encoding_to_node(dict(headers))
        node_headers["X-Timestamp"] = timestamp.internal
        ring, targets = self._object_placement(info, account, container, obj, node_headers)

        def headers_for(i):
            out = dict(node_headers)
            if targets:
                out.update(targets[i % len(targets)])
            return out

        answers = await self.backend.replicated(method, ring, "object", account,
                                                container, obj, headers_for=headers_for)
        status = quorum.best_status([a.status for a in answers], len(answers))
        if method == "POST" and 200 <= status < 300 and "X-Delete-At" in node_headers:
            await self._note_expiring(account, container, obj, node_headers["X-Delete-At"],
                                      timestamp)
        self.invalidate(account, container)
        body = next((a.body for a in answers if a.status == status), b"")
        return Result(status, CIMultiDict(), body if status >= 400 else b"")

    # -- expiring objects -------------------------------------------------------------------------
    async def _note_expiring(self, account: str, container: str, obj: str, delete_at: str,
                             timestamp: Timestamp) -> None:
        """Index the object under .expiring_objects/<day>/<delete_at>-<account>/<container>/<obj>.

        The expirer (proxy/expirer.py) lists that hidden account and deletes what is due.
        """
        try:
            at = int(delete_at)
        except ValueError:
            return
        bucket = str(at // EXPIRING_DIVISOR * EXPIRING_DIVISOR)
        name = f"{at:010d}-{account}/{container}/{obj}"
        await self.ensure_container(EXPIRING_ACCOUNT, bucket)
        await self.container_row("PUT", EXPIRING_ACCOUNT, bucket, name, timestamp)

    async def ensure_container(self, account: str, container: str) -> None:
        if (account, container) in self._known_containers:
            return
        info = await self.container_info(account, container)
        if not info.exists:
            result = await self.container_write("PUT", account, container, {})
            if result.status // 100 != 2:
                raise SwiftError(503, "Could not create container")
        self._known_containers.add((account, container))

    async def container_row(self, method: str, account: str, container: str, obj: str,
                            timestamp: Timestamp) -> int:
        """Put or delete one listing row directly on the container replicas (no object data)."""
        headers = {"X-Timestamp": timestamp.internal, "X-Size": "0",
                   "X-Content-Type": "text/plain", "X-Etag": EMPTY_ETAG}
        answers = await self.backend.replicated(method, self.rings.container, "container", account,
                                                container, obj, headers_for=lambda i: headers)
        return quorum.best_status([a.status for a in answers], len(answers))


def _spread(part: int, nodes: list, count: int, kind: str,
            writers: list | None = None) -> list[dict]:
    """Give each of `count` writers a share of the `nodes` to update (all nodes get covered).

    With `writers` (writer i's own ring device, e.g. the object primaries), writer i first takes
    the node on its own ip:port: the storage node applies that update in process instead of
    sending an HTTP request to another node (objectserver/updates.py). The other nodes go, in
    ring order, to the writer holding the fewest so far (without writers: node i to writer i)."""
    if not nodes or count <= 0:
        return []
    shares: list[list] = [[] for _ in range(count)]
    rest = list(nodes)
    for i, writer in enumerate((writers or [])[:count]):
        same = next((n for n in rest if (n.ip, n.port) == (writer.ip, writer.port)), None)
        if same is not None:
            shares[i].append(same)
            rest.remove(same)
    for node in rest:
        fewest = min(range(count), key=lambda i: len(shares[i]))
        shares[fewest].append(node)
    for i in range(count):
        if not shares[i]:
            shares[i].append(nodes[i % len(nodes)])
    return [{f"X-{kind}-Host": ",".join(f"{n.ip}:{n.port}" for n in share),
             f"X-{kind}-Device": ",".join(n.device for n in share),
             f"X-{kind}-Partition": str(part)} for share in shares]


def _expired(headers, now: float) -> bool:
    value = headers.get("X-Delete-At")
    if not value:
        return False
    try:
        return int(value) <= now
    except ValueError:
        return False


def _with_last_modified(headers: CIMultiDict) -> CIMultiDict:
    """Account and container answers carry Last-Modified (their PUT time), as Swift's do."""
    put = headers.get("X-PUT-Timestamp") or headers.get("X-Put-Timestamp")
    if put and "Last-Modified" not in headers:
        try:
            headers["Last-Modified"] = _http_date(Timestamp(put).seconds)
        except ValueError:
            pass
    return headers


def _http_date(seconds: float) -> str:
    return _http_date_of(int(seconds) + (1 if seconds % 1 else 0))


@functools.lru_cache(maxsize=16)
def _http_date_of(whole_seconds: int) -> str:
    # formatdate costs ~10 us; every PUT in the same second shares one answer.
    return email.utils.formatdate(whole_seconds, usegmt=True)
