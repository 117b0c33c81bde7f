"""Typed application keys and the per-request context handed to Swift handlers."""
from __future__ import annotations

import dataclasses
from typing import Awaitable, Callable

from aiohttp import web

from proxy.auth import Identity, TempAuth
from proxy.core import SwiftCore

CONFIG = web.AppKey("config", object)
CORE = web.AppKey("core", SwiftCore)
AUTH = web.AppKey("auth", TempAuth)
# The S3 extension point: a coroutine handler(request) -> web.StreamResponse, set by the S3 layer
# (proxy/s3/) when it is built. None: S3-looking requests get a 501 NotImplemented XML error.
S3_HANDLER = web.AppKey("s3_handler", object)
BACKGROUND = web.AppKey("background", list)

S3Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclasses.dataclass(frozen=True)
class Ctx:
    """One Swift API request, parsed: who asks, for what, with which core."""

    request: web.Request
    core: SwiftCore
    auth: TempAuth
    identity: Identity | None
    version: str
    account: str
    container: str | None
    obj: str | None
    max_file_size: int
    tempurl: bool = False   # authorized by a TempURL signature, not a token
    body: object = None     # an object PUT's body when it is not this request's (form POST)

    @property
    def method(self) -> str:
        return self.request.method

    @property
    def headers(self):
        return self.request.headers

    @property
    def query(self):
        return self.request.query

    @property
    def owner(self) -> bool:
        return self.identity is not None and self.identity.owns(self.account)

    def authorize(self, acl: str | None = None, method: str | None = None) -> None:
        self.auth.authorize(self.identity, self.account, self.container, self.obj,
                            method or self.method, acl, self.request.headers.get("Referer"))
