"""Which bucket and key an S3 request names: path-style or virtual-host-style, and name rules.

Virtual-host style is on when [s3] domain is set: `Host: <bucket>.<domain>[:port]`. Bucket names
follow S3's rules (3-63 characters of lower-case letters, digits, dots and hyphens, starting and
ending with a letter or digit, not an IP address); keys are at most 1024 bytes of UTF-8.
"""
from __future__ import annotations

import dataclasses
import functools
import ipaddress
import re
from urllib.parse import unquote

from proxy.s3.errors import S3Error

MAX_KEY_BYTES = 1024
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# Buckets created through the Swift API may hold characters S3 forbids; reading them is allowed.
_LEGACY_BUCKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]$")


@dataclasses.dataclass(frozen=True)
class Target:
    bucket: str | None
    key: str | None


@functools.lru_cache(maxsize=1024)  # every request names its bucket; a client uses a few
def valid_bucket_name(name: str, strict: bool = True) -> bool:
    if strict:
        if not _BUCKET.match(name) or ".." in name or ".-" in name or "-." in name:
            return False
        try:
            ipaddress.ip_address(name)
            return False
        except ValueError:
            return True
    return bool(_LEGACY_BUCKET.match(name))


def check_bucket_name(name: str, strict: bool = True) -> None:
    if not valid_bucket_name(name, strict):
        raise S3Error("InvalidBucketName", BucketName=name)


def check_key(key: str) -> None:
    if len(key) <= MAX_KEY_BYTES // 4:  # (UTF-8 takes at most 4 bytes a character)
        return
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise S3Error("KeyTooLongError", Size=len(key.encode("utf-8")), MaxSizeAllowed=MAX_KEY_BYTES)


def target(raw_path: str, host: str | None, domain: str) -> Target:
    """Split the request's raw (percent-encoded) path into bucket and key."""
    decoded = path = raw_path.partition("?")[0]
    if "%" in path:  # (most keys are sent as they are: nothing to decode)
        try:
            decoded = unquote(path, errors="strict")
        except UnicodeDecodeError:
            raise S3Error("InvalidURI") from None
    if "\x00" in decoded:
        raise S3Error("InvalidURI")
    bucket = None
    if domain and host:
        hostname = host.rsplit(":", 1)[0] if not host.startswith("[") else host
        suffix = "." + domain
        if hostname.endswith(suffix) and len(hostname) > len(suffix):
            bucket = hostname[:-len(suffix)]
    if bucket is None:
        parts = decoded.lstrip("/").split("/", 1)
        if not parts[0]:
            return Target(None, None)
        bucket = parts[0]
        key = parts[1] if len(parts) > 1 else None
    else:
        key = decoded[1:] if len(decoded) > 1 else None
    if key == "":
        key = None
    if key is not None:
        check_key(key)
    return Target(bucket, key)
