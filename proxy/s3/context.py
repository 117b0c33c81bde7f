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


@dataclasses.dataclass(frozen=True, init=False)
class S3Request:
    """The authenticated request every operation receives (immutable: dataclasses.replace())."""

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

    def __init__(self, request, core, settings, max_file_size, principal, signed, signing_key,
                 headers, query, bucket, key, request_id, plan):
        # One dict update instead of the frozen __init__'s object.__setattr__ per field
        # (13 fields: 1.0 -> 0.4 us a request); the class stays frozen for everyone else.
        self.__dict__.update(request=request, core=core, settings=settings,
                             max_file_size=max_file_size, principal=principal, signed=signed,
                             signing_key=signing_key, headers=headers, query=query, bucket=bucket,
                             key=key, request_id=request_id, plan=plan)

    @property
    def method(self) -> str:
        return self.request.method


def lower_headers(request: web.Request) -> dict[str, str]:
    """Lower-cased names; a repeated header's values joined with "," (as SigV4 signs them)."""
    raw = request.headers
    out = {name.lower(): value for name, value in raw.items()}
    if len(out) == len(raw):  # (no name twice: the common case, one pass)
        return out
    out = {}
    for name, value in raw.items():
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
                 now: dt.datetime | None = None, target: str | None = None):
    """(principal, signed, signing_key), or (None, None, None) for an anonymous request.
    target: raw_target(request) when the caller already has it."""
    query = request.query
    auth = headers.get("authorization")
    # SigV2 only when the request names it (sigv2.parse answers None otherwise): most requests
    # are SigV4 and need no dict of the query for it.
    if (auth is not None and auth.startswith("AWS ")) or \
            ("AWSAccessKeyId" in query and "Signature" in query):
        pairs = list(query.items())
        v2 = sigv2.parse(headers, dict(pairs))
        principal = await credentials.lookup(v2.access_key)
        raw_path = (target or raw_target(request)).split("?", 1)[0]
        prefix = ""
        named = addressing.target(raw_path, headers.get("host"), settings.domain)
        if named.bucket is not None and not raw_path.lstrip("/").startswith(named.bucket):
            prefix = "/" + named.bucket  # virtual-host style: the bucket is signed in the path
        sigv2.verify(v2, principal.secret, request.method, headers, raw_path, dict(pairs),
                     now or dt.datetime.now(dt.timezone.utc), settings.max_clock_skew, prefix)
        return principal, None, None
    pairs = list(query.items()) if query else []
    signed = sigv4.parse(request.method, headers, pairs)
    if signed is None:
        return None, None, None
    if request.method in ("GET", "HEAD", "DELETE") and not signed.presigned:
        sigv4.check_payload_hash(signed.payload_hash)  # bodies (PUT/POST) report a mismatch
    principal = await credentials.lookup(signed.credential.access_key)
    sigv4.check_time(signed, now, settings.max_clock_skew)  # (now None: the current time)
    raw_path = (target or raw_target(request)).split("?", 1)[0]
    key = sigv4.verify(signed, principal.secret, request.method, raw_path, pairs, headers)
    return principal, signed, key


async def build(request: web.Request, core: SwiftCore, settings, max_file_size: int,
                credentials: Credentials, request_id: str) -> S3Request:
    """settings: config.s3, max_file_size: config.proxy.max_file_size (the handler reads them
    once, not per request)."""
    headers = lower_headers(request)
    target = raw_target(request)
    principal, signed, key = await authenticate(request, headers, credentials, settings,
                                                target=target)
    raw_query = request.query
    plan = payload.check_request(  # S3 checks these before the body
        request.method, headers, raw_query, signed is not None and not signed.presigned)
    named = addressing.target(target, headers.get("host"), settings.domain)
    query = {k: v for k, v in reversed(list(raw_query.items()))} if raw_query else {}
    return S3Request(request, core, settings, max_file_size, principal, signed, key,
                     headers, query, named.bucket, named.key,
                     request_id, plan)
