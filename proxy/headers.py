"""Which headers cross the proxy, in each direction: pure filters over header mappings.

Clients may not set system metadata (X-*-Sysmeta-*) or backend headers; nodes' internal headers
(X-Backend-*, sysmeta) are not shown to clients. X-Remove-<Type>-Meta-Foo becomes an empty
X-<Type>-Meta-Foo (which deletes the key), as Swift's proxy translates it.
"""
from __future__ import annotations

import functools
import mimetypes
import posixpath

from multidict import CIMultiDict

from proxy import account_acl

# Request headers passed through to object nodes on PUT/POST (besides the metadata prefixes).
# Besides content-type and etag: Swift's object server default allowed_headers (x-robots-tag too).
OBJECT_PASSTHROUGH = ("content-type", "etag", "content-disposition", "content-encoding",
                      "x-delete-at", "x-object-manifest", "content-language", "cache-control",
                      "expires", "x-static-large-object", "x-robots-tag")
OBJECT_READ_PASSTHROUGH = ("range", "if-match", "if-none-match", "if-modified-since",
                           "if-unmodified-since")
CONTAINER_PASSTHROUGH = ("x-container-read", "x-container-write", "x-versions-location",
                         "x-history-location", "x-container-sync-to", "x-container-sync-key")
HIDDEN_RESPONSE_PREFIXES = ("x-backend-", "x-object-sysmeta-", "x-container-sysmeta-",
                            "x-account-sysmeta-", "x-object-transient-sysmeta-")
HOP_BY_HOP = ("connection", "keep-alive", "transfer-encoding", "server", "date",
              "content-length")


def translate_removes(headers, kind: str) -> CIMultiDict:
    """Copy `headers` turning X-Remove-<kind>-Meta-* (and X-Remove-<acl headers>) into blanks."""
    out = CIMultiDict()
    remove = f"x-remove-{kind}-"
    for name, value in headers.items():
        lname = name.lower()
        if lname.startswith(remove):
            out[f"x-{kind}-" + lname[len(remove):]] = ""
        elif lname.startswith("x-remove-versions-location"):
            out["x-versions-location"] = ""
        elif lname.startswith("x-remove-history-location"):
            out["x-history-location"] = ""
        else:
            out.add(name, value)
    return out


def user_metadata(headers, kind: str) -> dict[str, str]:
    prefix = f"x-{kind}-meta-"
    return {k: v for k, v in headers.items() if k.lower().startswith(prefix)}


def for_object_write(headers) -> dict[str, str]:
    """The client's object PUT/POST headers that nodes store."""
    out = {}
    for name, value in translate_removes(headers, "object").items():
        lname = name.lower()
        if lname in OBJECT_PASSTHROUGH or lname.startswith("x-object-meta-"):
            out[name] = value
    out.pop("X-Static-Large-Object", None)  # only the SLO code path may set this
    out.pop("x-static-large-object", None)
    return out


def for_container_write(headers) -> dict[str, str]:
    out = {}
    for name, value in translate_removes(headers, "container").items():
        lname = name.lower()
        if lname in CONTAINER_PASSTHROUGH or lname.startswith("x-container-meta-"):
            out[name] = value
    return out


def for_account_write(headers) -> dict[str, str]:
    return {k: v for k, v in translate_removes(headers, "account").items()
            if k.lower().startswith("x-account-meta-")}


def for_read(headers) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() in OBJECT_READ_PASSTHROUGH}


# Content-Encoding describes the stored object, not the proxy->node transfer; an HTTP server
# on the node could otherwise try to decode the body (aiohttp does by default). It travels to
# the nodes as this sysmeta and comes back as Content-Encoding.
STORED_ENCODING = "X-Object-Sysmeta-Content-Encoding"


def encoding_to_node(headers: dict) -> dict:
    for name in [k for k in headers if k.lower() == "content-encoding"]:
        headers[STORED_ENCODING] = headers.pop(name)
    return headers


def to_client(headers) -> CIMultiDict:
    """A node's response headers minus the internal ones (and hop-by-hop ones)."""
    out = CIMultiDict()
    for name, value in headers.items():
        lname = name.lower()
        if lname == "x-object-sysmeta-content-encoding":
            if value:
                out["Content-Encoding"] = value
            continue
        if lname == "x-account-sysmeta-core-access-control":
            acl = account_acl.to_client(value)  # owners only: handlers/common.py
            if acl is not None:
                out["X-Account-Access-Control"] = acl
            continue
        if lname.endswith("-sysmeta-rfc-compliant-etags"):  # proxy/etag_quoter.py
            out[name[:-len("-sysmeta-rfc-compliant-etags")] + "-Rfc-Compliant-Etags"] = value
            continue
        if lname.startswith("x-account-sysmeta-quota-"):
            out["X-Account-Quota-" + name[len("x-account-sysmeta-quota-"):].title()] = value
            continue
        if lname.startswith(HIDDEN_RESPONSE_PREFIXES) or lname in HOP_BY_HOP:
            continue
        out.add(name, value)
    return out


def guess_content_type(obj: str) -> str:
    """The type mimetypes guesses from the name's last two suffixes (".tar.gz" counts as one
    type with an encoding; nothing before them matters), cached per suffix pair: a PUT without
    Content-Type paid a full mimetypes.guess_type per request. The name is a name, never a URL:
    an object called "data:text/html,x" is not a data: URL (Swift guesses from the path)."""
    root, last = posixpath.splitext(obj.rpartition("/")[2])  # as mimetypes splits it
    if not last:
        return "application/octet-stream"
    return _guess_by_suffixes(posixpath.splitext(root)[1] + last)


@functools.lru_cache(maxsize=4096)
def _guess_by_suffixes(suffixes: str) -> str:
    guessed, _ = mimetypes.guess_type("x" + suffixes, strict=False)
    return guessed or "application/octet-stream"
