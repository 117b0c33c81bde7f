"""Bulk upload (Swift's bulk middleware, extract-archive): one PUT of a tar archive creates its
files as objects.

    PUT /v1/<account>[/<container>[/<prefix>]]?extract-archive=tar|tar.gz|tar.bz2

Each regular file in the archive becomes <container>/<object> (its path, after the URL's own
container and prefix); files that would land at the account's top level are skipped, missing
containers are created. Every container creation and object PUT is authorized as the same request
would be on its own (owner, account ACL, container write ACL). The answer is HTTP 200 with Swift's
summary (Number Files Created, Response Status, Response Body, Errors) as text, JSON or XML.

The archive is read as a stream: tarfile runs on a worker thread and pulls the request body
from the event loop, so neither the archive nor a member is ever held whole in memory.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import io
import json
import logging
import tarfile
import time
import zlib
from urllib.parse import quote
from xml.sax.saxutils import escape

from aiohttp import web

from proxy import limits
from proxy.errors import SwiftError, reason
from strato.truth import is_true

log = logging.getLogger("strato.proxy.bulk")

FORMATS = {"tar": "", "tar.gz": "gz", "tar.bz2": "bz2"}  # ?extract-archive= -> tarfile mode
MAX_CONTAINERS = 10000      # Swift's max_containers_per_extraction
MAX_FAILED = 1000           # Swift's max_failed_extractions
MAX_PATH_LENGTH = 1024 + 256 + 2
CHUNK = 65536
READ_TIMEOUT = 60.0         # seconds one read of the request body may wait


class BodyTimeout(OSError):
    """The client stopped sending the archive."""


class _BodyFile(io.RawIOBase):
    """The request body as a blocking file for tarfile on a worker thread (reads are served by
    the event loop; the thread waits, the loop does not)."""

    def __init__(self, content, loop: asyncio.AbstractEventLoop):
        self.content = content
        self.loop = loop

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        future = asyncio.run_coroutine_threadsafe(self.content.read(len(buffer)), self.loop)
        try:
            # Bounded: a stalled client (or a loop shutting down) must not hold the thread.
            data = future.result(timeout=READ_TIMEOUT)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise BodyTimeout(f"no request body for {READ_TIMEOUT:g} s") from None
        buffer[:len(data)] = data
        return len(data)


def out_format(accept: str | None) -> str:
    """text/plain unless Accept asks for JSON or XML (Swift's ACCEPTABLE_FORMATS)."""
    accept = (accept or "").lower()
    for fmt in ("application/json", "application/xml", "text/xml"):
        if fmt in accept:
            return fmt
    return "text/plain"


def render(fmt: str, summary: dict, errors: list[tuple[str, str]], root: str = "extract") -> bytes:
    """Swift's get_heartbeat_response_body: sorted keys, then the failed paths."""
    if fmt == "application/json":
        return json.dumps({**summary, "Errors": [list(e) for e in errors]}).encode()
    if fmt.endswith("/xml"):
        out = [f"<{root}>\n"]
        for key in sorted(summary):
            tag = key.replace(" ", "_").lower()
            out.append(f"<{tag}>{escape(str(summary[key]))}</{tag}>\n")
        out.append("<errors>\n")
        out += [f"<object><name>{escape(n)}</name><status>{escape(s)}</status></object>\n"
                for n, s in errors]
        out.append(f"</errors>\n</{root}>\n")
        return "".join(out).encode()
    lines = [f"{key}: {summary[key]}\n" for key in sorted(summary)]
    lines.append("Errors:\n")
    lines += [f"{n}, {s}\n" for n, s in errors]
    return "".join(lines).encode()


def member_path(name: str, base: str) -> tuple[str, str] | None:
    """(container, object) of an archive member under the URL's base; None when it would sit
    at the account's top level (skipped, as Swift does)."""
    if name.startswith("./"):
        name = name[2:]
    path = name.lstrip("/")
    if base:
        path = f"{base}/{path}"
    container, sep, obj = path.partition("/")
    if not sep or not container or not obj:
        return None
    return container, obj


def _status(code: int) -> str:
    return f"{code} {reason(code)}"


def _quoted(path: str) -> str:
    return quote(path[:MAX_PATH_LENGTH], safe="/")


class Extraction:
    """One extract-archive request: the archive's members PUT one by one."""

    def __init__(self, ctx, object_headers: dict, check_quotas):
        self.ctx = ctx
        self.core = ctx.core
        self.object_headers = object_headers
        self.check_quotas = check_quotas
        self.loop = asyncio.get_running_loop()
        self.created = 0
        self.new_containers = 0
        self.failed: list[tuple[str, str]] = []
        self.failed_status = 400
        self.accessed: set[str] = set()

    async def _thread(self, fn, *args):
        return await self.loop.run_in_executor(None, fn, *args)

    async def run(self, mode: str) -> None:
        body = io.BufferedReader(_BodyFile(self.ctx.request.content, self.loop), CHUNK)
        tar = await self._thread(lambda: tarfile.open(mode=f"r|{mode}", fileobj=body))
        base = "/".join(p for p in (self.ctx.container, self.ctx.obj) if p).rstrip("/")
        while len(self.failed) < MAX_FAILED:
            member = await self._thread(tar.next)
            if member is None:
                break
            if not member.isfile():
                continue
            where = member_path(member.name, base)
            if where is not None:
                await self._member(tar, member, *where)

    async def _member(self, tar, member, container: str, obj: str) -> None:
        path = f"{container}/{obj}"
        if member.size > self.ctx.max_file_size:
            self.failed.append((_quoted(path), _status(413)))
            return
        try:
            limits.check_names(self.ctx.account, container, obj)
        except SwiftError as err:
            self.failed.append((_quoted(path), _status(err.status)))
            return
        container_failure = None
        if container not in self.accessed:
            container_failure = await self._ensure_container(container)
        self.accessed.add(container)
        try:
            await self._put(tar, member, container, obj)
            self.created += 1
        except SwiftError as err:
            if container_failure:
                self.failed.append(container_failure)
            self.failed.append((_quoted(path), _status(err.status)))
            if err.status == 401:
                raise
            if err.status >= 500:
                self.failed_status = 502

    async def _ensure_container(self, container: str) -> tuple[str, str] | None:
        """Create a missing container (the object PUT may still pass by ACL if this fails)."""
        ctx = self.ctx
        info = await self.core.container_info(ctx.account, container)
        if info.exists:
            return None
        try:
            ctx.auth.authorize(ctx.identity, ctx.account, container, None, "PUT")
            result = await self.core.container_write("PUT", ctx.account, container, {})
            if result.status // 100 != 2:
                raise SwiftError(result.status)
        except SwiftError as err:
            if err.status == 401:
                raise
            return _quoted(f"/{ctx.version}/{ctx.account}/{container}"), _status(err.status)
        self.new_containers += 1
        if self.new_containers > MAX_CONTAINERS:
            raise SwiftError(400, f"More than {MAX_CONTAINERS} containers to create from tar.")
        return None

    async def _put(self, tar, member, container: str, obj: str) -> None:
        ctx = self.ctx
        acl = None
        if not ctx.owner:
            acl = (await self.core.container_info(ctx.account, container)).get("X-Container-Write")
        ctx.auth.authorize(ctx.identity, ctx.account, container, obj, "PUT", acl,
                           ctx.headers.get("Referer"))
        await self.check_quotas(ctx, member.size, account=ctx.account, container=container)
        data = tar.extractfile(member)

        async def chunks():
            while True:
                chunk = await self._thread(data.read, CHUNK)
                if not chunk:
                    return
                yield chunk

        await self.core.object_put(ctx.account, container, obj, dict(self.object_headers),
                                   chunks(), member.size)


def object_headers(headers, now: float) -> dict[str, str]:
    """What every extracted object is stored with: the request's user metadata, expiry and, unless
    X-Detect-Content-Type says to guess, its Content-Type (as Swift's bulk passes them on)."""
    out = {k: v for k, v in headers.items() if k.lower().startswith("x-object-meta-")}
    detect = is_true(headers.get("X-Detect-Content-Type"))
    if headers.get("Content-Type") and not detect:
        out["Content-Type"] = headers["Content-Type"]
    delete_at = limits.delete_at_header(headers, now)  # the object PUT's own rules and 400s
    if delete_at is not None:
        out["X-Delete-At"] = delete_at
    return out


async def extract(ctx, check_quotas) -> web.Response:
    """The extract-archive request (see the module docstring); `check_quotas(ctx, size,
    account=, container=)` is the object PUT's quota check (proxy/handlers/obj.py)."""
    kind = ctx.query.get("extract-archive", "").lower().strip(".")
    if kind not in FORMATS:
        raise SwiftError(400, "Unsupported archive format")
    if ctx.identity is None:
        ctx.authorize()  # anonymous: the 401 tempauth gives
    fmt = out_format(ctx.headers.get("Accept"))
    summary = {"Response Status": _status(201), "Response Body": "", "Number Files Created": 0}
    if ctx.request.content_length is None and \
            ctx.headers.get("Transfer-Encoding", "").lower() != "chunked":
        raise SwiftError(411, "Length Required")
    headers = object_headers(ctx.headers, time.time())
    job = Extraction(ctx, headers, check_quotas)
    try:
        await job.run(FORMATS[kind])
        if job.failed:
            summary["Response Status"] = _status(job.failed_status)
        elif not job.created:
            summary["Response Status"] = _status(400)
            summary["Response Body"] = "Invalid Tar File: No Valid Files"
    except SwiftError as err:
        summary["Response Status"] = _status(err.status)
        summary["Response Body"] = err.body.decode("utf-8", "replace")
    except BodyTimeout as exc:
        summary["Response Status"] = _status(408)
        summary["Response Body"] = str(exc)
    except (tarfile.TarError, zlib.error, EOFError) as exc:
        summary["Response Status"] = _status(400)
        summary["Response Body"] = f"Invalid Tar File: {exc}"
    except Exception:  # noqa: BLE001 - the summary is the answer; log the cause once
        log.exception("extract-archive failed")
        summary["Response Status"] = _status(500)
    summary["Number Files Created"] = job.created
    return web.Response(status=200, body=render(fmt, summary, job.failed),
                        content_type=fmt, charset="utf-8")
