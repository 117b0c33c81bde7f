"""The object role: streamed PUT, verified GET/HEAD with ranges, DELETE (tombstone), POST (.meta).

Bodies move in bounded chunks through the device's executor (write + MD5/xxh3 in one call), so
memory stays flat whatever the object size.

A full GET is always verified against the xxh3 stored with the object, and a mismatch quarantines
the file (the replicator restores a good copy). Small objects come back with their metadata in
one read and go out from memory. Larger ones go out with sendfile(2) in windows of
SENDFILE_WINDOW bytes: the executor reads a window through the page cache into a reused buffer,
hashing it (the first window in the same executor call that opens the file, so a GET costs one
thread hop), then the loop hands the same, now cached, pages to sendfile (no copy through Python,
no disk I/O on the loop). So the bytes sent are the bytes just hashed, and an object of at most
one window (every object up to 8 MiB) is verified before its first byte leaves: a corrupt one is
a 503 and the proxy reads another replica. For a longer object the whole-body hash is known
before the last window goes out; on a mismatch the connection is cut short there, so a client can
never take corrupt data for a complete object. Considered and rejected: hashing after sending
(corrupt bytes would already be out), teeing into an AF_ALG socket as Swift does for MD5 (the
kernel has no xxh3, and hashing twice per GET costs more than one pread from the page cache).
uvloop has no loop.sendfile, so the socket's descriptor is duplicated and waited on with
add_writer (a transport's own descriptor cannot be); TLS or a transport with unsent bytes left
falls back to read + write. Measured: benchmarks/RESULTS.md.
Ranged reads are not verified (that needs the whole body); the auditor covers them.
"""
from __future__ import annotations

import asyncio
import email.utils
import errno
import functools
import json
import logging
import math
import os
import secrets
import time

import aiohttp
import aiohttp.http_exceptions
import xxhash
from aiohttp import web

from native import chunkio
from strato import put_footer
from strato.timestamps import Timestamp

from . import diskfile, layout, listings, ranges
from .app import PARTITIONS_IN_BODY, Node, Target, require_timestamp
from .errors import HTTPError
from .policy import policy_index

log = logging.getLogger("objectserver.object")
CHUNK = 1 << 20
SENDFILE_WINDOW = 8 << 20  # verified per executor call, then sent from the page cache
SMALL_BODY = 1 << 20  # below this a PUT skips the early conflict check (commit checks anyway)

# Request headers stored with the object (besides Content-Type), as Swift's object server keeps.
STORED_HEADERS = ("Content-Disposition", "Content-Encoding", "X-Delete-At", "X-Object-Manifest",
                  "X-Static-Large-Object", "Cache-Control", "Content-Language", "Expires",
                  "X-Robots-Tag")
STORED_PREFIXES = ("X-Object-Meta-", "X-Object-Sysmeta-", "X-Object-Transient-Sysmeta-",
                   "X-Symlink-Target")
INTERNAL_KEYS = ("name", "xxh3", "Content-Length", "X-Timestamp")

# A test-only switch that makes this node behave like a release before the PUT footer: it neither
# advertises the feature nor understands X-Backend-Obj-Footer (tests of a mixed cluster set it in
# one node's environment). Never set it in production.
EMULATE_NO_PUT_FOOTER = os.environ.get("STRATO_TEST_EMULATE_NO_PUT_FOOTER", "") == "1"
# Sent on every object-role answer, errors included, so that a proxy learns what this node
# understands (objectserver/app.py adds them as each answer is prepared).
FEATURES = {} if EMULATE_NO_PUT_FOOTER else {put_footer.FEATURES_HEADER: put_footer.FEATURE}


@functools.lru_cache(maxsize=4096)  # the same few header names arrive on every request
def _title(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))


def stored_headers(request: web.Request, keys=STORED_HEADERS, prefixes=STORED_PREFIXES) -> dict:
    """The request headers an object keeps. An empty user-metadata value means "not set" (that is
    how the proxy sends X-Remove-Object-Meta-*), so it is not stored."""
    out = {}
    for name, value in request.headers.items():
        title = _title(name)
        if title in keys or title.startswith(prefixes):
            if value == "" and title.startswith(("X-Object-Meta-", "X-Object-Transient-Sysmeta-")):
                continue
            out[title] = value
    return out


def _object_name(target: Target) -> str:
    return f"/{target.account}/{target.container}/{target.obj}"


def _expired(metadata: dict) -> bool:
    delete_at = metadata.get("X-Delete-At")
    if not delete_at:
        return False
    try:
        return int(float(delete_at)) <= time.time()
    except ValueError:
        return False


def _http_date(timestamp: Timestamp) -> str:
    return email.utils.formatdate(math.ceil(timestamp.seconds), usegmt=True)


def _not_found(found: layout.FileSet) -> HTTPError:
    headers = {}
    if found.tombstone:
        headers["X-Backend-Timestamp"] = found.timestamp.internal
    return HTTPError(404, headers=headers)


# ---- PUT ----------------------------------------------------------------------------------

def _finish(writer: diskfile.Writer, data, metadata: dict, client_etag: str | None,
            timestamp: Timestamp, footer: tuple[str, str] | None = None) -> dict:
    """The PUT's last disk step: what is left of the body is written with the trailer (one
    pwritev for a small object, in the same step as its create, fsync and rename), once the
    body's checksums agree with what the client or the proxy said."""
    writer.hold(data)
    xxh3 = writer.hasher.xxh3_hexdigest()
    if footer is not None:  # the proxy hashed the body: check the transfer, keep its MD5
        etag, sent_xxh3 = footer
        if sent_xxh3 != xxh3:
            raise HTTPError(422, "Unprocessable Entity: body does not match the footer")
    else:
        etag = writer.hasher.md5_hexdigest()
    if client_etag is not None and client_etag.strip('"').lower() != etag:
        raise HTTPError(422, "Unprocessable Entity: ETag does not match the body")
    metadata.update({"ETag": etag, "xxh3": xxh3, "Content-Length": str(writer.length)})
    writer.commit(metadata, timestamp, layout.DATA)
    return metadata


OVERRIDE_PREFIXES = ("X-Object-Sysmeta-Container-Update-Override-",
                     "X-Backend-Container-Update-Override-")


def container_overrides(headers) -> dict:
    """Swift's container-update overrides: X-(Object-Sysmeta|Backend)-Container-Update-Override-
    Etag/Size/Content-Type replace what the listing row says (SLO manifests, symlinks...)."""
    out = {}
    for prefix in OVERRIDE_PREFIXES:  # the backend form wins, as in Swift
        for name, value in headers.items():
            title = _title(name)
            if title.startswith(prefix):
                out["X-" + title[len(prefix):]] = value
    return out


def _disk_error(request: web.Request, exc: OSError) -> HTTPError:
    """A full disk is the device's condition (507); anything else is ours to log (500)."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return HTTPError(507, "device is full")
    log.error("PUT %s failed: %r", request.path, exc)
    return HTTPError(500)


async def put(node: Node, request: web.Request, target: Target) -> web.StreamResponse:
    timestamp = require_timestamp(request)
    length_header = request.headers.get("Content-Length")
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    length = None
    if length_header is not None and not chunked:
        if not length_header.isdigit():
            raise HTTPError(400, "Invalid Content-Length")
        length = int(length_header)
    elif not chunked:
        raise HTTPError(411)
    splitter = None
    footer_kind = None if EMULATE_NO_PUT_FOOTER else request.headers.get(put_footer.HEADER)
    if footer_kind is not None:  # the proxy sends the body's MD5 + xxh3 after it
        if footer_kind != put_footer.VERSION:
            raise HTTPError(400, "Invalid " + put_footer.HEADER)
        try:
            splitter = put_footer.BodySplitter(length)
        except put_footer.FooterError as exc:
            raise HTTPError(400, str(exc)) from None
        length = splitter.body_length  # the object's own bytes from here on
    if length is not None and length > node.storage.max_object_size:
        raise HTTPError(413)
    policy = policy_index(node, request)
    path = await node.check_device(target.device, writing=True)
    name_hash = node.object_hash(target.account, target.container, target.obj)
    if_none_match = request.headers.get("If-None-Match")
    if length is None or length > SMALL_BODY or if_none_match:
        found = await node.io(target.device, diskfile.current, path, target.partition, name_hash,
                              policy)
        if found.timestamp is not None and found.timestamp >= timestamp:
            raise HTTPError(409, headers={"X-Backend-Timestamp": found.timestamp.internal})
        if if_none_match == "*" and found.data:
            raise HTTPError(412)

    metadata = stored_headers(request)
    metadata.update({"name": _object_name(target), "X-Timestamp": timestamp.internal,
                     "Content-Type": request.headers.get("Content-Type",
                                                         "application/octet-stream")})
    # (no file yet: the first write() or the commit makes it, on the device's executor)
    writer = diskfile.Writer(path, target.partition, name_hash, policy, md5=splitter is None,
                             expected_size=length)  # a body of several writes is reserved
    committed = False
    try:
        received = 0
        parts: list[bytes] = []  # chunks as received, written with one pwritev (no joins)
        pending = 0
        limit = node.storage.max_object_size
        stall = node.storage.client_timeout
        content = request.content
        loop = asyncio.get_running_loop()
        try:
            # One stall timer for the whole body: it moves 1.5 stall ahead of the last progress
            # (a received piece or a finished disk write), at most twice per stall period, so a
            # body is cut after stall to 1.5 stall seconds of silence. readchunk hands over each
            # received piece as it is (readany joined them into a new copy) and does not suspend
            # while something is buffered.
            async with asyncio.timeout(stall) as deadline:
                while True:
                    try:
                        chunk, chunk_end = await content.readchunk()
                    except (aiohttp.ClientError, ConnectionError, asyncio.IncompleteReadError,
                            aiohttp.http_exceptions.HttpProcessingError):
                        # the client went away or broke the framing: nothing of it is kept
                        raise HTTPError(499) from None
                    if not chunk:
                        # (b"", True) is a chunked body's chunk boundary; aiohttp's reader of
                        # an empty body answers it forever, hence at_eof
                        if chunk_end and not content.at_eof():
                            continue
                        break
                    if splitter is None:
                        size = len(chunk)
                        parts.append(chunk)
                    else:
                        try:
                            pieces = splitter.feed(chunk)
                        except put_footer.FooterError as exc:
                            raise HTTPError(400, str(exc)) from None
                        size = sum(map(len, pieces))
                        parts.extend(pieces)
                    received += size
                    if received > limit:
                        raise HTTPError(413)
                    pending += size
                    # A body that has fully arrived waits for finish(): one disk hop (create,
                    # write, fsync, rename) instead of a write hop and then a commit hop.
                    if pending >= CHUNK and (length is None or received < length):
                        data, parts, pending = parts, [], 0
                        try:
                            await node.io(target.device, writer.write, data)
                        except OSError as exc:
                            raise _disk_error(request, exc) from None
                    now = loop.time()
                    if deadline.when() - now < stall:
                        deadline.reschedule(now + 1.5 * stall)
        except TimeoutError:
            raise HTTPError(408) from None
        footer = None
        if splitter is not None:
            if splitter.body_length:
                raise HTTPError(499, "body shorter than Content-Length")
            try:
                footer = splitter.footer()
            except put_footer.FooterError as exc:
                raise HTTPError(400, str(exc)) from None
        elif length is not None and received != length:
            raise HTTPError(499, "body shorter than Content-Length")
        client_etag = request.headers.get("ETag")
        if footer is not None and client_etag == put_footer.ETAG_SENTINEL:
            client_etag = None  # there only to make a node without the footer refuse the PUT
        try:
            metadata = await node.io(target.device, _finish, writer, parts, metadata,
                                     client_etag, timestamp, footer)
        except diskfile.ConflictError as exc:
            raise HTTPError(409, headers={"X-Backend-Timestamp": exc.existing.internal}) from None
        except OSError as exc:
            raise _disk_error(request, exc) from None
        committed = True
    finally:
        if not committed and writer.has_temp_file:  # a PUT refused early made no file
            await node.io(target.device, writer.abort)
    node.suffixes.invalidate(target.device, target.partition, name_hash, policy)
    row = {"X-Size": metadata["Content-Length"], "X-Content-Type": metadata["Content-Type"],
           "X-Etag": metadata["ETag"]}
    row.update(container_overrides(request.headers))
    row["X-Etag"] = listings.row_etag(row["X-Etag"], metadata)
    await node.updates.after_write(request, target, name_hash, "PUT", timestamp, row)
    return web.Response(status=201, headers={"ETag": metadata["ETag"],
                                             "X-Backend-Timestamp": timestamp.internal})


# ---- GET / HEAD ---------------------------------------------------------------------------

# A GET with none of these is a full read: its first window is verified with the open.
_PARTIAL_OR_CONDITIONAL = ("Range", "If-Match", "If-None-Match", "If-Modified-Since",
                           "If-Unmodified-Since", "X-Backend-Etag-Is-At")


async def _open(node: Node, request: web.Request, target: Target):
    policy = policy_index(node, request)
    path = await node.check_device(target.device)
    name_hash = node.object_hash(target.account, target.container, target.obj)
    if request.method == "GET" and not any(h in request.headers for h in _PARTIAL_OR_CONDITIONAL):
        opened, found, hasher, got = await node.io(target.device, diskfile.open_verifying, path,
                                                   target.partition, name_hash, policy,
                                                   SENDFILE_WINDOW)
        if opened is not None and hasher is not None:
            opened.verified = (hasher, got)
    else:
        opened, found = await node.io(target.device, diskfile.open_object, path,
                                      target.partition, name_hash, policy)
    if opened is None:
        node.suffixes.invalidate(target.device, target.partition, name_hash,  # may be quarantined
                                 policy)
        raise _not_found(found)
    if _expired(opened.metadata) and "X-Backend-Replication" not in request.headers:
        await _close(node, target.device, opened)
        raise HTTPError(404)
    return path, name_hash, opened


def _response_headers(opened: diskfile.OpenObject) -> dict:
    meta = opened.metadata
    headers = {k: v for k, v in meta.items() if k not in INTERNAL_KEYS}
    headers.update({
        "Content-Type": meta.get("Content-Type", "application/octet-stream"),
        "X-Timestamp": opened.timestamp.normal,
        "X-Backend-Timestamp": opened.timestamp.internal,
        "X-Backend-Data-Timestamp": opened.data_timestamp.internal,
        "Last-Modified": _http_date(opened.timestamp),
        "Accept-Ranges": "bytes",
    })
    return headers


def _etag_list(value: str) -> list[str]:
    return [v.strip().strip('"') for v in value.split(",") if v.strip()]


def _conditional(request: web.Request, opened: diskfile.OpenObject, headers: dict) -> int | None:
    """304 or 412 when a conditional header says so, else None (Swift's rules)."""
    etag = opened.metadata.get("ETag", "")
    for key in _etag_list(request.headers.get("X-Backend-Etag-Is-At", "")):
        if key in opened.metadata:
            etag = opened.metadata[key]
            break
    if_match = request.headers.get("If-Match")
    if if_match is not None:
        tags = _etag_list(if_match)
        if "*" not in tags and etag not in tags:
            return 412
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = _etag_list(if_none_match)
        if "*" in tags or etag in tags:
            return 304
    last_modified = math.ceil(opened.timestamp.seconds)
    since = _parse_date(request.headers.get("If-Unmodified-Since"))
    if since is not None and last_modified > since:
        return 412
    since = _parse_date(request.headers.get("If-Modified-Since"))
    if since is not None and if_none_match is None and last_modified <= since:
        return 304
    return None


def _parse_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.timestamp() if parsed else None


async def _close(node, device: str, opened: diskfile.OpenObject) -> None:
    # close(2) of a file opened read-only on a local file system never waits on the disk, and
    # a thread hop for it cost more than the call (a third of a sendfile GET's hops)
    opened.close()


async def _read_async(node, device, opened, offset, size, hasher, close: bool) -> bytes:
    """A chunk of the body; no executor hop when the body was prefetched with the metadata."""
    if opened.prefetched is not None:
        data = opened.read(offset, size)
        if hasher is not None:
            hasher.update(data)
        return data
    return await node.io(device, _read, opened, offset, size, hasher, close)


def _read(opened: diskfile.OpenObject, offset: int, size: int, hasher, close: bool) -> bytes:
    try:
        data = opened.read(offset, size)
        if hasher is not None:
            hasher.update(data)
        return data
    finally:
        if close:
            opened.close()


async def get(node: Node, request: web.Request, target: Target) -> web.StreamResponse:
    path, name_hash, opened = await _open(node, request, target)
    closed = False
    try:
        headers = _response_headers(opened)
        status = _conditional(request, opened, headers)
        if status is not None:  # Swift's 304/412 keep the object's headers (ETag, metadata...)
            return web.Response(status=status, headers=headers)
        length = opened.data_length
        wanted = ranges.parse(request.headers.get("Range"), length)
        if wanted == []:  # so does its 416 (the functional suite checks ETag and Accept-Ranges)
            headers.pop("Content-Type", None)
            headers["Content-Range"] = f"bytes */{length}"
            return web.Response(status=416, headers=headers)
        if request.method == "HEAD":
            response = web.StreamResponse(status=200, headers=headers)
            response.content_length = length
            await response.prepare(request)
            await response.write_eof()
            return response
        if wanted is None:
            closed = True
            return await _send_verified(node, request, target, path, name_hash, opened, headers)
        content_type = headers["Content-Type"]
        if len(wanted) == 1:
            start, stop = wanted[0]
            headers["Content-Range"] = ranges.content_range(start, stop, length)
            response = web.StreamResponse(status=206, headers=headers)
            response.content_length = stop - start
            await response.prepare(request)
            closed = True
            await _send_range(node, target, opened, response, start, stop, close=True)
            await response.write_eof()
            return response
        boundary = secrets.token_hex(16)
        headers["Content-Type"] = f"multipart/byteranges;boundary={boundary}"
        response = web.StreamResponse(status=206, headers=headers)
        response.content_length = ranges.multipart_length(boundary, content_type, wanted, length)
        await response.prepare(request)
        for index, (start, stop) in enumerate(wanted):
            await response.write(ranges.part_header(boundary, content_type, start, stop, length))
            last = index == len(wanted) - 1
            closed = closed or last
            await _send_range(node, target, opened, response, start, stop, close=last)
            await response.write(ranges.PART_END)
        await response.write(ranges.closing(boundary))
        await response.write_eof()
        return response
    finally:
        if not closed:
            await _close(node, target.device, opened)


async def _send_range(node, target, opened, response, start, stop, close: bool) -> None:
    """Stream [start, stop) of the data region; close the file after the last read if asked."""
    offset = start
    try:
        while offset < stop:
            size = min(CHUNK, stop - offset)
            last = offset + size >= stop
            data = await _read_async(node, target.device, opened, offset, size, None,
                                     close and last)
            if len(data) != size:
                raise ConnectionResetError("object file shorter than its metadata says")
            await response.write(data)
            offset += size
    finally:
        if close:
            await _close(node, target.device, opened)


async def _send_verified(node, request, target, path, name_hash, opened, headers):
    if opened.prefetched is None and opened.data_length > 0:
        sock_fd = _socket_fd(request)
        if sock_fd is not None:
            return await _sendfile_verified(node, request, target, path, name_hash, opened,
                                            headers, sock_fd)
    length = opened.data_length
    expected = opened.metadata.get("xxh3")
    hasher = xxhash.xxh3_64()
    response = web.StreamResponse(status=200, headers=headers)
    response.content_length = length
    held = b""
    offset = 0
    try:
        if length == 0:
            await _close(node, target.device, opened)
        while offset < length:
            size = min(CHUNK, length - offset)
            data = await _read_async(node, target.device, opened, offset, size, hasher,
                                     offset + size >= length)
            if len(data) != size:
                break
            offset += size
            if not response.prepared:
                await response.prepare(request)
            if held:
                await response.write(held)
            held = data
    finally:
        await _close(node, target.device, opened)
    if offset != length or (expected and hasher.hexdigest() != expected):
        return await _reject_corrupt(node, request, target, path, name_hash, opened, response)
    if not response.prepared:
        await response.prepare(request)
    if held:
        await response.write(held)
    await response.write_eof()
    return response


async def _reject_corrupt(node, request, target, path, name_hash, opened, response):
    await node.io(target.device, diskfile.quarantine, path, name_hash, opened.path)
    node.suffixes.invalidate(target.device, target.partition, name_hash,
                             policy_index(node, request))
    log.error("quarantined %s: body does not match its xxh3", opened.path)
    if not response.prepared:
        raise HTTPError(503, "object failed its checksum")
    # cut the connection before the last bytes: the client sees a short read, never bad data
    if request.transport is not None:
        request.transport.abort()
    return response


def _socket_fd(request: web.Request) -> int | None:
    """The plain TCP socket under the response, or None where sendfile cannot be used."""
    transport = request.transport
    if transport is None or transport.is_closing():
        return None
    if transport.get_extra_info("sslcontext") is not None:
        return None
    sock = transport.get_extra_info("socket")
    return sock.fileno() if sock is not None else None


async def _sendfile_verified(node, request, target, path, name_hash, opened, headers, sock_fd):
    """The full body with sendfile(2), one verified window at a time (see the module docstring)."""
    length = opened.data_length
    expected = opened.metadata.get("xxh3")
    hasher, first = opened.verified or (xxhash.xxh3_64(), None)
    response = web.StreamResponse(status=200, headers=headers)
    response.content_length = length
    offset = 0
    sender = None
    try:
        while offset < length:
            size = min(SENDFILE_WINDOW, length - offset)
            if offset == 0 and first is not None:  # verified with the open (_open)
                got = first
            else:
                got = await node.io(target.device, diskfile.verify_window, opened, offset,
                                    size, hasher)
            if got != size:
                break
            if offset + size >= length and expected and hasher.hexdigest() != expected:
                break
            if sender is None:
                await response.prepare(request)
                await response.write(b"")  # the headers go out now, ahead of the file
                sender = _SocketSender(request.transport, sock_fd,
                                       node.storage.client_timeout)
                await sender.drained()
            await sender.send(opened.fd, offset, size)
            offset += size
    except BaseException:
        if sender is not None:  # part of a body went out: the connection cannot be reused
            request.transport.abort()
        raise
    finally:
        if sender is not None:
            sender.close()
        await _close(node, target.device, opened)
    if offset != length:
        return await _reject_corrupt(node, request, target, path, name_hash, opened, response)
    await response.write_eof()
    return response


class _SocketSender:
    """sendfile(2) into a transport's non-blocking socket, waiting on a duplicate descriptor
    (uvloop and asyncio refuse add_writer on the transport's own). Only used while the transport
    has nothing of its own to send, so the two never interleave bytes."""

    def __init__(self, transport, sock_fd: int, stall: float):
        self.transport = transport
        self.fd = os.dup(sock_fd)
        self.stall = stall
        self.loop = asyncio.get_running_loop()

    async def _writable(self) -> None:
        future = self.loop.create_future()

        def ready():
            if not future.done():
                future.set_result(None)

        self.loop.add_writer(self.fd, ready)
        try:
            async with asyncio.timeout(self.stall):
                await future
        except TimeoutError:
            raise ConnectionResetError("client stopped reading") from None
        finally:
            self.loop.remove_writer(self.fd)

    async def drained(self) -> None:
        """Wait until the transport flushed what it holds (normally nothing: the headers went
        straight into the socket)."""
        while self.transport.get_write_buffer_size():
            if self.transport.is_closing():
                raise ConnectionResetError("client went away")
            await self._writable()
            await asyncio.sleep(0)  # let the transport's own write callback run first

    async def send(self, in_fd: int, offset: int, count: int) -> None:
        while count > 0:
            try:
                sent = chunkio.sendfile(self.fd, in_fd, offset, count)
            except BlockingIOError:
                await self._writable()
                continue
            if sent == 0:
                raise ConnectionResetError("object file shorter than its metadata says")
            offset += sent
            count -= sent

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


# ---- DELETE / POST ------------------------------------------------------------------------

async def delete(node: Node, request: web.Request, target: Target) -> web.StreamResponse:
    timestamp = require_timestamp(request)
    policy = policy_index(node, request)
    path = await node.check_device(target.device, writing=True)
    name_hash = node.object_hash(target.account, target.container, target.obj)
    opened, found = await node.io(target.device, diskfile.open_object, path, target.partition,
                                  name_hash, policy)
    existed = opened is not None
    newest = found.timestamp
    if opened is not None:
        newest = opened.timestamp
        metadata = opened.metadata
        await _close(node, target.device, opened)
        if_delete_at = request.headers.get("X-If-Delete-At")
        if if_delete_at is not None:
            try:
                wanted = int(if_delete_at)
                stored = int(metadata["X-Delete-At"]) if metadata.get("X-Delete-At") else None
            except ValueError:
                raise HTTPError(400, "Bad X-If-Delete-At header value") from None
            if stored != wanted:
                raise HTTPError(412)
        existed = not _expired(metadata)
    elif request.headers.get("X-If-Delete-At") is not None:
        raise HTTPError(412)
    if newest is not None and newest >= timestamp:
        raise HTTPError(409, headers={"X-Backend-Timestamp": newest.internal})
    try:
        await node.io(target.device, diskfile.write_empty, path, target.partition, name_hash,
                      {"name": _object_name(target), "X-Timestamp": timestamp.internal},
                      timestamp, layout.TOMBSTONE, policy)
    except diskfile.ConflictError as exc:
        raise HTTPError(409, headers={"X-Backend-Timestamp": exc.existing.internal}) from None
    node.suffixes.invalidate(target.device, target.partition, name_hash, policy)
    await node.updates.after_write(request, target, name_hash, "DELETE", timestamp, {})
    status = 204 if existed else 404
    return web.Response(status=status, headers={"X-Backend-Timestamp": timestamp.internal})


POST_HEADERS = diskfile.POST_KEYS + ("Content-Type",)
POST_PREFIXES = ("X-Object-Meta-", "X-Object-Transient-Sysmeta-", "X-Object-Sysmeta-")


async def post(node: Node, request: web.Request, target: Target) -> web.StreamResponse:
    timestamp = require_timestamp(request)
    path, name_hash, opened = await _open(node, request, target)
    newest = opened.timestamp
    await _close(node, target.device, opened)
    if newest >= timestamp:
        raise HTTPError(409, headers={"X-Backend-Timestamp": newest.internal})
    metadata = stored_headers(request, POST_HEADERS, POST_PREFIXES)
    new_type = "Content-Type" in metadata
    if not new_type and "Content-Type" in opened.metadata:
        # as Swift's: a POST without Content-Type keeps the type an earlier POST set (the new
        # .meta replaces the old one, so the current type travels with it)
        metadata["Content-Type"] = opened.metadata["Content-Type"]
    metadata.update({"name": _object_name(target), "X-Timestamp": timestamp.internal})
    policy = policy_index(node, request)
    try:
        await node.io(target.device, diskfile.write_empty, path, target.partition, name_hash,
                      metadata, timestamp, layout.META, policy)
    except diskfile.ConflictError as exc:
        raise HTTPError(409, headers={"X-Backend-Timestamp": exc.existing.internal}) from None
    except diskfile.NoObjectError:
        raise HTTPError(404) from None
    node.suffixes.invalidate(target.device, target.partition, name_hash, policy)
    if new_type:  # the listing shows the new type (row at the POST's time)
        row = {"X-Size": str(opened.data_length), "X-Content-Type": metadata["Content-Type"],
               "X-Etag": opened.metadata.get("ETag", "")}
        overrides = container_overrides(opened.metadata)
        overrides.pop("X-Content-Type", None)
        row.update(overrides)
        row["X-Etag"] = listings.row_etag(row["X-Etag"], opened.metadata)
        await node.updates.after_write(request, target, name_hash, "PUT", timestamp, row)
    return web.Response(status=202, headers={"X-Backend-Timestamp": timestamp.internal})


MAX_REPLICATE_PARTITIONS = 1024  # per batched REPLICATE (the replicator sends up to 256)


async def replicate(node: Node, request: web.Request, target: Target) -> web.StreamResponse:
    """POST /replicate/object/{device}/{partition}: {suffix: digest} of the partition's current files
    (obsolete files and tombstones older than storage.reclaim_age are cleaned on the way).
    POST /replicate/object/{device} with {"partitions": [p, ...]}: {"p": {suffix: digest}, ...},
    all of them rehashed in one executor call. The single form is the batch of one."""
    if target.account:
        raise HTTPError(400, "Invalid path")
    policy = policy_index(node, request)
    batch = target.partition == PARTITIONS_IN_BODY
    parts = _replicate_partitions(await request.read()) if batch else [target.partition]
    await node.check_device(target.device)
    hashes = await node.suffixes.get_many(target.device, parts, policy)
    if batch:
        return web.json_response({str(part): found for part, found in hashes.items()})
    return web.json_response(hashes[target.partition])


def _replicate_partitions(body: bytes) -> list[int]:
    try:
        parts = json.loads(body)["partitions"]
    except (ValueError, TypeError, KeyError):
        raise HTTPError(400, 'Body must be {"partitions": [partition, ...]}') from None
    if not isinstance(parts, list) or not 0 < len(parts) <= MAX_REPLICATE_PARTITIONS or \
            not all(type(p) is int and 0 <= p < 1 << 32 for p in parts):
        raise HTTPError(400, f"partitions: 1 to {MAX_REPLICATE_PARTITIONS} partition numbers")
    return parts


HANDLERS = {"PUT": put, "GET": get, "HEAD": get, "DELETE": delete, "POST": post,
            "REPLICATE": replicate}
