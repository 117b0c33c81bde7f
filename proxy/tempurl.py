"""TempURL signatures (Swift's tempurl middleware): pure validation of temp_url_* parameters.

signature = HMAC(key, "<METHOD>\\n<expires>\\n<path>") with SHA1, SHA256 or SHA512, given as hex or
as "<digest>:<base64url>"; path is the object path, or "prefix:/v1/a/c/<prefix>" when
temp_url_prefix is used. Keys are the account's X-Account-Meta-Temp-URL-Key(-2) and the
container's X-Container-Meta-Temp-URL-Key(-2). HEAD is allowed with a GET, PUT or POST signature.
"""
from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
import hmac
import time

from proxy.errors import SwiftError

METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE")
DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}
HEX_LENGTHS = {40: "sha1", 64: "sha256", 128: "sha512"}


def invalid() -> SwiftError:
    return SwiftError(401, "Temp URL invalid", {"Www-Authenticate": 'Swift realm="unknown"'})


def parse_expires(value: str | None) -> int:
    if not value:
        raise invalid()
    if value.isdigit():
        return int(value)
    try:  # ISO 8601 ("2030-01-01T00:00:00Z") as newer Swift accepts
        return calendar.timegm(time.strptime(value, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        raise invalid() from None


def split_signature(sig: str) -> tuple[str, bytes]:
    """(digest name, raw signature bytes) from hex or '<digest>:<base64>' forms."""
    if ":" in sig:
        name, _, b64 = sig.partition(":")
        if name not in DIGESTS:
            raise invalid()
        try:
            raw = base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4))
        except (binascii.Error, ValueError):
            raise invalid() from None
        return name, raw
    name = HEX_LENGTHS.get(len(sig))
    if name is None:
        raise invalid()
    try:
        return name, bytes.fromhex(sig)
    except ValueError:
        raise invalid() from None


def sign(key: str, method: str, expires: int, path: str, digest: str = "sha256") -> str:
    return hmac.new(key.encode(), f"{method}\n{expires}\n{path}".encode(),
                    DIGESTS[digest]).hexdigest()


def applies(query, method: str, container: str | None, obj: str | None) -> bool:
    """Whether a request is to be authorized by its TempURL signature: an object request, or
    (for staticweb listings) a GET/HEAD of the container root signed for the empty prefix."""
    if "temp_url_sig" not in query or container is None or method == "OPTIONS":
        return False
    return obj is not None or (method in ("GET", "HEAD") and query.get("temp_url_prefix") == "")


def listing_query(query) -> str:
    """The TempURL parameters a staticweb listing puts on its links (HTML-escaped '&'), so a
    prefix TempURL browses the site: Swift's staticweb tempurl_qs."""
    from urllib.parse import quote
    if query.get("temp_url_prefix") is None:
        return ""
    parts = [f"temp_url_prefix={quote(query['temp_url_prefix'])}",
             f"temp_url_expires={quote(str(query.get('temp_url_expires', '')))}",
             f"temp_url_sig={query.get('temp_url_sig', '')}"]
    if query.get("temp_url_ip_range"):
        parts.append(f"temp_url_ip_range={quote(query['temp_url_ip_range'])}")
    if "inline" in query:
        parts.append("inline")
    return "?" + "&amp;".join(parts)


def check(query, method: str, account: str, container: str, obj: str | None, keys: list[str],
          now: float | None = None, allowed_digests=("sha1", "sha256", "sha512")) -> str:
    """The key that signed this request; 401 unless temp_url_sig is valid and unexpired."""
    sig = query.get("temp_url_sig")
    if not sig or method not in METHODS:
        raise invalid()
    expires = parse_expires(query.get("temp_url_expires"))
    if expires < (time.time() if now is None else now):
        raise invalid()
    digest, given = split_signature(sig)
    if digest not in allowed_digests:
        raise invalid()
    prefix = query.get("temp_url_prefix")
    obj = obj or ""  # the container root (a staticweb listing), signed for the empty prefix
    if prefix is not None:
        if not obj.startswith(prefix):
            raise invalid()
        path = f"prefix:/v1/{account}/{container}/{prefix}"
    else:
        path = f"/v1/{account}/{container}/{obj}"
    methods = [method] + (["GET", "PUT", "POST"] if method == "HEAD" else [])
    for key in keys:
        for signed_method in methods:
            wanted = hmac.new(key.encode(), f"{signed_method}\n{expires}\n{path}".encode(),
                              DIGESTS[digest]).digest()
            if hmac.compare_digest(wanted, given):
                return key
    raise invalid()


def disposition(query, obj: str) -> str | None:
    """Content-Disposition for a TempURL GET: attachment with a filename unless inline."""
    from urllib.parse import quote
    filename = query.get("filename")
    if "inline" in query:
        return f'inline; filename="{filename}"' if filename else "inline"
    name = filename or obj.rsplit("/", 1)[-1]
    return f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"
