"""Helpers every S3 operation shares: bucket lookup, answers, headers, Swift-error translation.

S3 buckets are Swift containers of the owner's account; S3 metadata lives in Swift metadata:
x-amz-meta-* as X-Object-Meta-*, S3-only state (ACLs, tags, checksums, multipart ETags) as
X-Object-Sysmeta-S3-* / X-Container-Sysmeta-S3-*, which the Swift API never shows.
The bucket namespace is global, as in S3: a registry object per bucket (account AUTH_.s3,
container "buckets") names its owner so other accounts' requests (ACLs, policies) find it.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import re
from email.utils import formatdate

from aiohttp import web
from multidict import CIMultiDict

from proxy.backend import empty_body
from proxy.core import Info
from proxy.errors import SwiftError
from proxy.limits import RESELLER_PREFIX
from proxy.s3 import xmlio
from proxy.s3.errors import S3Error

REGISTRY_ACCOUNT = RESELLER_PREFIX + ".s3"
REGISTRY_CONTAINER = "buckets"
OBJ_SYSMETA = "X-Object-Sysmeta-S3-"
BUCKET_SYSMETA = "X-Container-Sysmeta-S3-"
# Object headers S3 stores and returns as they were given.
STORED_HEADERS = ("content-type", "content-disposition", "content-encoding", "content-language",
                  "cache-control", "expires", "x-robots-tag")
# AWS ignores user metadata whose name holds one of these (Swift's s3api does the same); "("
# is allowed.
IGNORED_META_CHARS = frozenset(' "),/;<=>?@[\\]{}')
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 token: a header name nodes take
ODD_META = OBJ_SYSMETA + "Odd-Meta"  # JSON {name: value} of user metadata named outside _TOKEN
POST_KEYS = ("Content-Disposition", "Content-Encoding", "Cache-Control", "Content-Language",
             "Expires", "Content-Type", "X-Delete-At", "X-Robots-Tag")


@dataclasses.dataclass(frozen=True)
class Bucket:
    name: str
    account: str          # storage account ("AUTH_test")
    info: Info

    @property
    def owner(self) -> str:
        return self.account[len(RESELLER_PREFIX):]

    def sysmeta(self, name: str, default: str | None = None) -> str | None:
        return self.info.get(BUCKET_SYSMETA + name, default)

    def json(self, name: str, default=None):
        value = self.sysmeta(name)
        if not value:
            return default
        try:
            return json.loads(value)
        except ValueError:
            return default


async def find_bucket(s3, name: str | None = None) -> Bucket:
    """The bucket the request names, in the caller's account or (via the registry) another's."""
    name = name or s3.bucket
    core = s3.core
    if s3.principal is not None:
        own = s3.principal.storage_account
        info = await core.container_info(own, name)
        if info.exists:
            return Bucket(name, own, info)
        if info.status >= 500:
            raise S3Error("ServiceUnavailable")
    owner = await registry_owner(core, name)
    if owner is not None:
        info = await core.container_info(owner, name)
        if info.exists:
            return Bucket(name, owner, info)
    raise S3Error("NoSuchBucket", BucketName=name)


async def registry_owner(core, name: str) -> str | None:
    head = await core.object_read("HEAD", REGISTRY_ACCOUNT, REGISTRY_CONTAINER, name)
    head.close()
    if head.status // 100 != 2:
        return None
    return (head.backend_headers or {}).get("X-Object-Meta-Owner")


async def ensure_registry(core) -> None:
    info = await core.container_info(REGISTRY_ACCOUNT, REGISTRY_CONTAINER)
    if not info.exists:
        result = await core.container_write("PUT", REGISTRY_ACCOUNT, REGISTRY_CONTAINER, {})
        if result.status // 100 != 2:
            raise S3Error("ServiceUnavailable")


async def register(core, name: str, account: str) -> None:
    await ensure_registry(core)

    await core.object_put(REGISTRY_ACCOUNT, REGISTRY_CONTAINER, name,
                          {"X-Object-Meta-Owner": account, "Content-Type": "text/plain"},
                          empty_body(), 0)


async def unregister(core, name: str) -> None:
    try:
        await core.object_write("DELETE", REGISTRY_ACCOUNT, REGISTRY_CONTAINER, name, {})
    except SwiftError:
        pass


def xml_response(element, status: int = 200, headers: dict | None = None) -> web.Response:
    return web.Response(status=status, body=xmlio.render(element), headers=headers,
                        content_type="application/xml")


def empty(status: int = 200, headers: dict | None = None) -> web.Response:
    """A bodiless answer. It still names a type, the one Swift's s3api sends (some clients
    and Swift's functional tests look for it on UploadPart, Abort, DeleteObject...)."""
    headers = CIMultiDict(headers or {})
    headers.setdefault("Content-Type", "text/html; charset=UTF-8")
    return web.Response(status=status, headers=headers)


def http_date(seconds: float) -> str:
    return formatdate(int(seconds), usegmt=True)


def iso8601(seconds: float) -> str:
    # Whole seconds, as Swift's s3api writes them (clients parse ".000Z" literally), rounded up
    # so that a listing never looks older than the write (`aws s3 sync` compares mtimes).
    when = dt.datetime.fromtimestamp(math.ceil(seconds), dt.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def timestamp_of(headers) -> float:
    try:
        return float((headers.get("X-Timestamp") or "0").split("_")[0])
    except ValueError:
        return 0.0


def user_meta_to_swift(headers: dict) -> dict[str, str]:
    """X-Object-Meta-* for the request's x-amz-meta-*. Names with a character S3 ignores are
    dropped; names that are not HTTP tokens otherwise ('x-amz-meta-(') cannot travel to the
    storage nodes as headers, so they are kept as JSON in ODD_META."""
    out, odd = {}, {}
    size = 0
    for name, value in headers.items():
        if name.startswith("x-amz-meta-"):
            suffix = name[11:]
            if any(c in IGNORED_META_CHARS for c in suffix):
                continue
            if _TOKEN.fullmatch(suffix):
                out["X-Object-Meta-" + suffix] = value
            else:
                odd[suffix] = value
            size += len(name) + len(value)
    if size > 2048:
        raise S3Error("MetadataTooLarge", MaxSizeAllowed=2048, Size=size)
    if odd:
        out[ODD_META] = json.dumps(odd)
    return out


def swift_meta_to_s3(headers, backend_headers=None) -> CIMultiDict:
    out = CIMultiDict()
    for name, value in headers.items():
        if name.lower().startswith("x-object-meta-"):
            out["x-amz-meta-" + name[14:].lower()] = value
    stored = (backend_headers or {}).get(ODD_META)
    if not stored:
        return out
    try:
        odd = json.loads(stored)
    except ValueError:
        odd = {}
    for suffix, value in odd.items():
        out["x-amz-meta-" + suffix] = value
    return out


def swift_error(exc: SwiftError, s3, what: str = "key") -> S3Error:
    """The S3 error for a Swift-level failure of an operation on a bucket or key."""
    status = exc.status
    if status == 404:
        if what == "bucket":
            return S3Error("NoSuchBucket", BucketName=s3.bucket)
        return S3Error("NoSuchKey", Key=s3.key)
    if status == 412:
        return S3Error("PreconditionFailed", Condition="If-Match")
    if status == 416:
        return S3Error("InvalidRange")
    if status == 413:
        return S3Error("EntityTooLarge")
    if status in (408, 499):
        return S3Error("IncompleteBody")
    if status == 409:
        return S3Error("InvalidRequest", "Conflict")
    if status == 400:
        return S3Error("InvalidArgument", exc.body.decode("utf-8", "replace")
                       if isinstance(exc.body, bytes) else None)
    if status == 403 or status == 401:
        return S3Error("AccessDenied")
    return S3Error("ServiceUnavailable")


def truthy(value: str | None) -> bool:
    return (value or "").lower() == "true"
