"""Swift's domain_remap: the account (and container) named by the Host header instead of the path.

  Host: AUTH_test.example.com             GET /c/o  ->  /v1/AUTH_test/c/o
  Host: c.AUTH-test.example.com           GET /o    ->  /v1/AUTH_test/c/o
A reseller prefix may be written with '-' instead of '_' (DNS names have no '_'). Hosts outside
the storage domains, and S3-signed requests (S3 has its own virtual-host addressing), are untouched.
"""
from __future__ import annotations

from aiohttp import web
from yarl import URL

from proxy.app import s3_signed  # the S3 router's own test of a signed request
from proxy.context import CONFIG
from proxy.staticweb import ORIGINAL_PATH

RESELLER_PREFIXES = ("AUTH",)


def remap(host: str, raw_path: str, storage_domains, reseller_prefixes=RESELLER_PREFIXES):
    """The /v1/... path a Host names, or None when the Host is not under a storage domain."""
    host = host.split(":", 1)[0].rstrip(".")
    for domain in storage_domains:
        domain = domain.lower().strip(".")
        if not domain or not host.lower().endswith("." + domain):
            continue
        labels = host[:-len(domain) - 1].split(".")
        if len(labels) > 2 or not all(labels):
            return None  # deeper names are not ours to guess (Swift answers them unchanged too)
        # The labels keep their case (container names are case-sensitive); the prefix is matched
        # case-insensitively and written in its own case.
        account = labels[-1]
        for prefix in reseller_prefixes:
            if account.upper().startswith(prefix.upper() + "-"):
                account = prefix + "_" + account[len(prefix) + 1:]
                break
            if account.upper().startswith(prefix.upper() + "_"):
                account = prefix + account[len(prefix):]
                break
        else:
            return None
        parts = ["", "v1", account] + labels[:-1]
        return "/".join(parts) + (raw_path if raw_path.startswith("/") else "/" + raw_path)
    return None


@web.middleware
async def domain_remap_middleware(request: web.Request, handler):
    domains = request.app[CONFIG].proxy.storage_domain
    if domains and not s3_signed(request.headers, request.query):
        path = remap(request.headers.get("Host", ""), request.raw_path, domains)
        if path is not None:
            original = request.raw_path.split("?", 1)[0]
            request = request.clone(rel_url=URL(path, encoded=True))
            request[ORIGINAL_PATH] = original  # staticweb redirects name the client's own path
    return await handler(request)
