"""One S3 request, authenticated: the S3Request every operation receives.

authenticate() checks SigV4 (header or presigned) against the key's secret and the clock; an
unsigned request is anonymous (principal None) and can only do what ACLs or a policy allow.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from aiohttp import web

from proxy.core import SwiftCore
from proxy.s3 import addressing, payload, sigv2, sigv4
from proxy.s3.credentials import Credentials, Principal


@dataclasses.dataclass(frozen=True)
class S3Request:
    request: web.Request
    core: SwiftCore
    settings: object                 # config.s3
    max_file_size: int
    principal: Principal | None
    signed: sigv4.SignedRequest | None
    signing_key: bytes | None
    headers: dict                    # lower-cased names
    query: dict                      # decoded, first value wins
    bucket: str | None
    key: str | None
    request_id: str
    plan: payload.Plan               # the body rules, checked before the body is read

    @property
    def method(self) -> str:
        return self.request.method


def lower_headers(request: web.Request) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in request.headers.items():
        lname = name.lower()
        out[lname] = f"{out[lname]},{value}" if lname in out else value
    return out


def raw_target(request: web.Request) -> str:
    """The path and query as sent. An absolute-form target ("PUT http://host:port/b?x", RFC 9112
    3.2.2, which some clients and proxies send) is signed by its path: drop scheme and authority."""
    raw = request.raw_path
    if raw.startswith("/"):
        return raw
    _, sep, rest = raw.partition("://")
    if not sep:
        return raw
    cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    tail = rest[cut:]
    return tail if tail.startswith("/") else "/" + tail


async def authenticate(request: web.Request, headers: dict, credentials: Credentials, settings,
                 now: dt.datetime | None = None):
    """(principal, signed, signing_key), or (None, None, None) for an anonymous request."""
    pairs = list(request.query.items())
    v2 = sigv2.parse(headers, dict(pairs))
    if v2 is not None:
        principal = await credentials.lookup(v2.access_key)
        raw_path = raw_target(request).split("?", 1)[0]
        prefix = ""
        target = addressing.target(raw_path, headers.get("host"), settings.domain)
        if target.bucket is not None and not raw_path.lstrip("/").startswith(target.bucket):
            prefix = "/" + target.bucket  # virtual-host style: the bucket is signed in the path
        sigv2.verify(v2, principal.secret, request.method, headers, raw_path, dict(pairs),
                     now or dt.datetime.now(dt.timezone.utc), settings.max_clock_skew, prefix)
        return principal, None, None
    signed = sigv4.parse(request.method, headers, pairs)
    if signed is None:
        return None, None, None
    if request.method in ("GET", "HEAD", "DELETE") and not signed.presigned:
        sigv4.check_payload_hash(signed.payload_hash)  # bodies (PUT/POST) report a mismatch
    principal = await credentials.lookup(signed.credential.access_key)
    sigv4.check_time(signed, now or dt.datetime.now(dt.timezone.utc), settings.max_clock_skew)
    raw_path = raw_target(request).split("?", 1)[0]
    key = sigv4.verify(signed, principal.secret, request.method, raw_path, pairs, headers)
    return principal, signed, key


async def build(request: web.Request, core: SwiftCore, config, credentials: Credentials,
                request_id: str) -> S3Request:
    headers = lower_headers(request)
    settings = config.s3
    principal, signed, key = await authenticate(request, headers, credentials, settings)
    raw_query = request.query
    plan = payload.check_request(  # S3 checks these before the body
        request.method, headers, raw_query, signed is not None and not signed.presigned)
    target = addressing.target(raw_target(request), headers.get("host"), settings.domain)
    query = {k: v for k, v in reversed(list(raw_query.items()))} if raw_query else {}
    return S3Request(request, core, settings, config.proxy.max_file_size, principal, signed, key,
                     headers, query, target.bucket, target.key,
                     request_id, plan)
