"""Writes into a container with versioning enabled (called by SwiftCore.object_put/object_write).

A PUT stores the data as a new version in the hidden versions container, then points the object's
name at it with a static link (X-Object-Sysmeta-Versions-Symlink). A DELETE writes a zero-byte
delete marker version and removes the link. An object written before versioning was enabled (a
"null" version, not a link) is first copied into the versions container, as Swift does.
Hooking SwiftCore means every writer (Swift PUT/COPY/SLO, bulk delete, S3) versions alike.
"""
from __future__ import annotations

from urllib.parse import unquote

from multidict import CIMultiDict

from proxy.backend import empty_body, piece_parts
from proxy.errors import SwiftError
from proxy.objver import names
from strato.timestamps import Timestamp

# Headers of the client's PUT that describe the data, not the link (Swift's list).
NOT_FOR_LINK = ("etag", "x-if-delete-at", "x-symlink-target-account", "x-object-manifest",
                "x-static-large-object", "x-object-sysmeta-slo-etag", "x-object-sysmeta-slo-size")
EXPIRY = ("x-delete-at", "x-delete-after")
# What a stored object's headers carry into its copy in the versions container.
KEPT = ("content-type", "content-disposition", "content-language", "cache-control", "expires",
        "x-object-manifest", "x-static-large-object", "x-symlink-target",
        "x-symlink-target-account", "x-symlink-target-etag", "x-symlink-target-bytes")
KEPT_PREFIXES = ("x-object-meta-", "x-object-sysmeta-", "x-object-transient-sysmeta-")
NO_VERSIONS = ("The versions container does not exist. You may want to re-enable object "
               "versioning.")


def versions_of(info) -> str:
    """The versions container a container's info names ('' when never versioned)."""
    value = info.get(names.SYSMETA_CONTAINER) if info.exists else None
    return unquote(value).split("/")[0] if value else ""


def is_enabled(info) -> bool:
    return bool(versions_of(info)) and names.enabled(info.get(names.SYSMETA_ENABLED))


async def _counted(body, counter: list):
    async for chunk in body:
        counter[0] += sum(map(len, piece_parts(chunk)))
        yield chunk


def _no_versions_container() -> SwiftError:
    return SwiftError(500, NO_VERSIONS, {"Content-Type": "text/plain"})


def _check(status: int) -> None:
    """Swift's _check_response_error: a missing container is 412, other client errors as they
    are, anything else 503 (the data could not be versioned)."""
    if status // 100 == 2:
        return
    if status == 404:
        raise SwiftError(412, "Precondition Failed")
    if 400 <= status < 500:
        raise SwiftError(status)
    raise SwiftError(503, "Service Unavailable")


async def copy_current(core, account: str, container: str, obj: str, versions: str) -> None:
    """Keep an object written before versioning (not a version link) as a version of its own."""
    current = await core.object_read("GET", account, container, obj)
    if current.status == 404:
        current.close()
        return
    if current.status // 100 != 2:
        current.close()
        _check(current.status)
    backend = current.backend_headers or {}
    if names.is_version_link(backend):
        current.close()
        return
    stamp = backend.get("X-Timestamp") or Timestamp.now().internal
    headers = {k: v for k, v in backend.items()
               if k.lower() in KEPT or k.lower().startswith(KEPT_PREFIXES)}
    length = current.headers.get("Content-Length")
    try:
        await core.object_put(account, versions, names.version_name(obj, names.version_id(stamp)),
                              headers, current.iter_body(),
                              int(length) if length and length.isdigit() else None)
    except SwiftError as exc:
        if exc.status == 404:
            raise _no_versions_container() from None
        _check(exc.status)
    finally:
        current.close()


async def versions_bytes(core, account: str, versions: str) -> int:
    """The bytes a versions container holds (0 when it is missing)."""
    head = await core.container_read("HEAD", account, versions)
    if head.status // 100 != 2:
        return 0
    try:
        return int(head.headers.get("X-Container-Bytes-Used", 0))
    except ValueError:
        return 0


async def _check_quota(core, account: str, versions: str, info, length: int | None) -> None:
    """X-Container-Meta-Quota-Bytes counts the versions too (they are the container's data)."""
    quota = info.meta("container").get("quota-bytes")
    if not quota or not quota.isdigit():
        return
    kept = await versions_bytes(core, account, versions)
    if info.int("X-Container-Bytes-Used") + kept + (length or 0) > int(quota):
        raise SwiftError(413, "Upload exceeds quota.")


def link_headers(headers: dict, versions: str, vname: str, etag: str, size, content_type: str,
                 slo_etag: str | None = None) -> dict:
    """The headers of the link that makes `vname` the object's current version."""
    out = {k: v for k, v in headers.items()
           if k.lower() not in NOT_FOR_LINK and k.lower() != "content-length"
           and not k.lower().startswith("x-object-sysmeta-container-update-override-")
           and not k.lower().startswith("x-symlink-target")}
    for name in [k for k in out if k.lower() == "content-type"]:
        out.pop(name)
    out.update({"X-Symlink-Target": names.link_target(versions, vname),
                "X-Symlink-Target-Etag": etag.strip('"'), "X-Symlink-Target-Bytes": str(size),
                "Content-Type": content_type, names.SYSMETA_LINK: "true"})
    if slo_etag:
        # the listing row of an SLO's link still says slo_etag, as Swift's does
        out["X-Object-Sysmeta-Container-Update-Override-Etag"] = \
            f"{etag.strip(chr(34))}; slo_etag={slo_etag.strip(chr(34))}"
    return out


async def put_link(core, account: str, container: str, obj: str, headers: dict,
                   timestamp: Timestamp):
    return await core.object_put(account, container, obj, headers, empty_body(), 0,
                                 Timestamp(timestamp, offset=1), versioned=False)


async def put(core, account: str, container: str, obj: str, headers: dict, body,
              content_length: int | None, timestamp: Timestamp | None, info, sha256_check=None):
    """A PUT into a container with versioning enabled (see the module docstring); sha256_check
    as core.object_put's."""
    from proxy import headers as hdrs
    versions = versions_of(info)
    await _check_quota(core, account, versions, info, content_length)
    await copy_current(core, account, container, obj, versions)
    timestamp = timestamp or Timestamp.now()
    timestamp = Timestamp(names.version_id(timestamp))
    vid = names.version_id(timestamp)
    vname = names.version_name(obj, vid)
    data_headers = {k: v for k, v in headers.items() if k.lower() not in EXPIRY}
    if not any(k.lower() == "content-type" for k in data_headers):
        data_headers["Content-Type"] = hdrs.guess_content_type(obj)
    counter = [0]
    try:
        stored = await core.object_put(account, versions, vname, data_headers,
                                       _counted(body, counter), content_length, timestamp,
                                       sha256_check=sha256_check)
    except SwiftError as exc:
        if exc.status == 404:
            raise _no_versions_container() from None
        raise
    etag = stored.headers.get("ETag", "")
    lower = {k.lower(): v for k, v in data_headers.items()}
    size = lower.get("x-object-sysmeta-slo-size") or counter[0]
    content_type = lower["content-type"].split(";")[0].strip()
    link = link_headers(headers, versions, vname, etag, size, content_type,
                        lower.get("x-object-sysmeta-slo-etag"))
    result = await put_link(core, account, container, obj, link, timestamp)
    result.headers["ETag"] = etag.strip('"')
    result.headers["X-Object-Version-Id"] = vid
    return result


async def delete(core, account: str, container: str, obj: str, headers: dict,
                 timestamp: Timestamp | None, info):
    """A DELETE with versioning enabled: a delete marker version, then the link goes."""
    versions = versions_of(info)
    await copy_current(core, account, container, obj, versions)
    timestamp = Timestamp(names.version_id(timestamp or Timestamp.now()))
    vid = names.version_id(timestamp)
    marker = {"Content-Type": names.DELETE_MARKER}
    try:
        await core.object_put(account, versions, names.version_name(obj, vid), marker, empty_body(),
                              0, timestamp)
    except SwiftError as exc:
        _check(exc.status)
    result = await core.object_write("DELETE", account, container, obj, headers, timestamp,
                                     versioned=False)
    if result.status // 100 == 2 or result.status == 404:
        result.headers = CIMultiDict(result.headers)
        result.headers["X-Object-Version-Id"] = vid
    return result


async def current_link(core, account: str, container: str, obj: str) -> tuple[bool, str | None]:
    """(the object is gone, the X-Symlink-Target of its version link or None)."""
    head = await core.object_read("HEAD", account, container, obj)
    head.close()
    if head.status == 404:
        return True, None
    _check(head.status)
    backend = head.backend_headers or {}
    if names.is_version_link(backend):
        return False, backend.get("X-Symlink-Target")
    return False, None


async def delete_version(core, account: str, container: str, obj: str, vid: str,
                         versions: str, delete=None, tell_marker: bool = False):
    """DELETE ?version-id=<vid> (not 'null'): that version goes, and the link too when it named
    it. Returns (Result of the version's delete, the id now current or 'null', whether the
    version was a delete marker: only found out, with a HEAD, when `tell_marker`).
    `delete(container, name)` overrides the version's delete."""
    gone, link = await current_link(core, account, container, obj)
    vname = names.version_name(obj, vid)
    current = "null"
    if not gone and link and names.parse_link_target(link) == (versions, vname):
        result = await core.object_write("DELETE", account, container, obj, {}, versioned=False)
        _check(result.status)
    elif not gone and link:
        current = names.parse_version_name(names.parse_link_target(link)[1])[1] or "null"
    marker = False
    if tell_marker:  # the S3 API answers x-amz-delete-marker; Swift's DELETE has no use for it
        head = await core.object_read("HEAD", account, versions, vname)
        head.close()
        marker = head.status // 100 == 2 and \
            head.headers.get("Content-Type") == names.DELETE_MARKER
    if delete is not None:
        return await delete(versions, vname), current, marker
    result = await core.object_write("DELETE", account, versions, vname, {})
    return result, current, marker
