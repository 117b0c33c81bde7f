"""S3 bucket versioning on Swift's object versioning (proxy/objver/), as Swift's s3api maps it.

PutBucketVersioning Enabled/Suspended is X-Versions-Enabled true/false; a version id is the
Swift version id; a delete marker is a version whose type is the delete-marker type. Reads of a
key (and ?versionId=) go to the version its link names; DELETE in an enabled bucket leaves a
delete marker (x-amz-delete-marker); DELETE ?versionId= removes that version and, when no current
version is left but older ones are, makes the newest of them current (s3api's restore).
"""
from __future__ import annotations

import dataclasses

from proxy.errors import SwiftError
from proxy.objver import container as objver_container
from proxy.objver import listing as objver_listing
from proxy.objver import names, writes
from proxy.s3 import access, common, xmlio
from proxy.s3.errors import S3Error

# (partNumber is not one: a part of a given version is read like the version itself.)
OBJECT_SUBRESOURCES = ("uploadId", "tagging", "acl", "retention", "legal-hold", "attributes",
                       "torrent", "restore", "select", "uploads")


# -- bucket configuration ------------------------------------------------------------------------
def get_config(bucket):
    root = xmlio.document("VersioningConfiguration")
    enabled = bucket.info.get(names.SYSMETA_ENABLED)
    if enabled:
        xmlio.add(root, "Status", "Enabled" if names.enabled(enabled) else "Suspended")
    return common.xml_response(root)


async def put_config(s3, bucket, body: bytes):
    root = xmlio.parse(body, "VersioningConfiguration")
    status = xmlio.text(root, "Status")
    if status not in ("Enabled", "Suspended"):
        raise S3Error("MalformedXML")
    try:
        await objver_container.set_versioning(s3.core, bucket.account, bucket.name,
                                              status == "Enabled")
    except SwiftError as exc:
        raise common.swift_error(exc, s3, "bucket") from None
    return common.empty(200)


async def before_bucket_delete(s3, bucket) -> None:
    try:
        await objver_container.drop_versions_container(s3.core, bucket.account, bucket.name)
    except SwiftError as exc:
        if exc.status == 409:
            raise S3Error("BucketNotEmpty", "The bucket you tried to delete is not empty. You "
                          "must delete all versions in the bucket.", BucketName=bucket.name)
        raise S3Error("ServiceUnavailable") from None


# -- objects -------------------------------------------------------------------------------------
class _VersionRead:
    """The core as a read of one key sees it: that key's reads go to the chosen version."""

    def __init__(self, core, account: str, container: str, key: str, target: tuple[str, str]):
        self._core = core
        self._key = (account, container, key)
        self._target = target

    def __getattr__(self, name):
        return getattr(self._core, name)

    async def object_read(self, method, account, container, obj, *args, **kwargs):
        if (account, container, obj) == self._key:
            container, obj = self._target
        return await self._core.object_read(method, account, container, obj, *args, **kwargs)


def _check_id(vid: str, argument: str) -> None:
    """A version id other than 'null' must be a Swift timestamp (InvalidArgument)."""
    try:
        names.check_version(vid, allow_null=False)
    except names.InvalidVersion:
        raise S3Error("InvalidArgument", "Invalid version id specified",
                      ArgumentName=argument, ArgumentValue=vid) from None


async def _current(core, account: str, container: str, key: str, versions: str):
    """(gone, link, (container, name) of the version the link names or None, its id)."""
    gone, link = await writes.current_link(core, account, container, key)
    target = names.parse_link_target(link) if link is not None else None
    if target is None or target[0] != versions:
        return gone, link, None, None
    return gone, link, target, names.parse_version_name(target[1])[1]


async def _version(core, account: str, versions: str, key: str, vid: str):
    """((container, name) of version `vid` of `key`, whether it is a delete marker);
    NoSuchVersion when there is no such version."""
    target = (versions, names.version_name(key, vid))
    head = await core.object_read("HEAD", account, *target)
    head.close()
    if head.status == 404:
        raise S3Error("NoSuchVersion", Key=key, VersionId=vid)
    return target, head.status // 100 == 2 and \
        head.headers.get("Content-Type") == names.DELETE_MARKER


def put_headers(result) -> dict:
    """x-amz-version-id of a write, when the bucket versioned it."""
    vid = result.headers.get("X-Object-Version-Id")
    return {"x-amz-version-id": vid} if vid else {}


async def object_request(s3, method: str, q):
    """GET/HEAD/DELETE of a key in a versioned bucket or with ?versionId: (answer, bucket).
    answer None: not ours; bucket: the one looked up on the way (None if none was), which the
    plain GET/HEAD then uses instead of looking it up again."""
    vid = q.get("versionId")
    if method not in ("GET", "HEAD", "DELETE") or (q and any(k in q for k in OBJECT_SUBRESOURCES)):
        if vid not in (None, "null"):
            raise S3Error("NoSuchVersion", Key=s3.key, VersionId=vid)
        return None, None
    bucket = await common.find_bucket(s3)
    versions = writes.versions_of(bucket.info)
    if vid is not None and vid != "null":
        _check_id(vid, "versionId")
    if method == "DELETE":
        return await _delete(s3, bucket, vid, versions), bucket
    if not versions:
        if vid not in (None, "null"):
            raise S3Error("NoSuchVersion", Key=s3.key, VersionId=vid)
        return None, bucket
    return await _read(s3, bucket, method, vid, versions), bucket


async def _read(s3, bucket, method: str, vid: str | None, versions: str):
    from proxy.s3 import objects
    core = s3.core
    if vid in (None, "null"):
        gone, link, target, shown = await _current(core, bucket.account, bucket.name, s3.key,
                                                   versions)
        if target is None:
            if vid == "null" and link is not None:
                raise S3Error("NoSuchVersion", Key=s3.key, VersionId=vid)
            shown = "null" if not gone else None
            return await _answer(s3, objects, method, core, shown)
    else:
        target, marker = await _version(core, bucket.account, versions, s3.key, vid)
        if marker:
            raise S3Error("MethodNotAllowed", Method=method, ResourceType="DeleteMarker",
                          headers={"x-amz-delete-marker": "true", "x-amz-version-id": vid,
                                   "Allow": "DELETE"})
        shown = vid
    view = _VersionRead(core, bucket.account, bucket.name, s3.key, target)
    return await _answer(s3, objects, method, view, shown)


async def _answer(s3, objects, method: str, core, vid: str | None):
    extra = {"x-amz-version-id": vid} if vid else {}
    if extra:
        s3.request["s3_extra"] = {**(s3.request.get("s3_extra") or {}), **extra}
    response = await objects.get(dataclasses.replace(s3, core=core))
    if not response.prepared:
        response.headers.update(extra)
    return response


async def _delete(s3, bucket, vid: str | None, versions: str):
    access.check(s3, bucket, "s3:DeleteObject" if vid is None else "s3:DeleteObjectVersion",
                 "WRITE", s3.key)
    core = s3.core
    if vid is None or vid == "null":
        if vid is None and writes.is_enabled(bucket.info):
            result = await core.object_write("DELETE", bucket.account, bucket.name, s3.key, {})
            if result.status // 100 != 2 and result.status != 404:
                raise S3Error("ServiceUnavailable")
            return common.empty(204, {"x-amz-version-id": result.headers["X-Object-Version-Id"],
                                      "x-amz-delete-marker": "true"})
        if vid is None:
            return None  # never versioned, or suspended: the plain delete
        result = await core.object_write("DELETE", bucket.account, bucket.name, s3.key, {},
                                         versioned=False)
        if result.status // 100 != 2 and result.status != 404:
            raise S3Error("ServiceUnavailable")
        return common.empty(204, {"x-amz-version-id": "null"})
    if not versions:
        return common.empty(204, {"x-amz-version-id": vid})
    result, current, marker = await writes.delete_version(
        core, bucket.account, bucket.name, s3.key, vid, versions, tell_marker=True)
    if result.status // 100 != 2 and result.status != 404:
        raise S3Error("ServiceUnavailable")
    if current == "null":
        await _restore_newest(core, bucket.account, bucket.name, s3.key, versions)
    headers = {"x-amz-version-id": vid}
    if marker:
        headers["x-amz-delete-marker"] = "true"
    return common.empty(204, headers)


async def _restore_newest(core, account: str, container: str, key: str, versions: str) -> None:
    """No current version left: the newest remaining one becomes current, unless it is a delete
    marker (Swift's s3api _restore_on_delete)."""
    gone, link = await writes.current_link(core, account, container, key)
    if not gone:
        return  # a null version (or a link) is current already
    rows = await objver_container.versions_listing(core, account, container, versions,
                                                   {"prefix": key, "limit": "100"})
    for row in rows:
        if row.get("name") != key:
            break
        if row["content_type"] == names.DELETE_MARKER or row["version_id"] == "null":
            break
        vname = names.version_name(key, row["version_id"])
        head = await core.object_read("HEAD", account, versions, vname)
        head.close()
        if head.status // 100 != 2:
            continue
        backend = head.backend_headers or {}
        link = writes.link_headers(
            {}, versions, vname, head.headers.get("ETag", ""),
            backend.get("X-Object-Sysmeta-Slo-Size") or head.headers.get("Content-Length", "0"),
            head.headers.get("Content-Type", "application/octet-stream"),
            backend.get("X-Object-Sysmeta-Slo-Etag"))
        for name, value in backend.items():
            if name.lower().startswith(("x-object-meta-", "x-object-sysmeta-s3api")):
                link.setdefault(name, value)
        from strato.timestamps import Timestamp
        await writes.put_link(core, account, container, key, link, Timestamp.now())
        return


# -- ListObjectVersions --------------------------------------------------------------------------
async def list_versions(s3):
    from proxy.s3 import listing
    bucket = await common.find_bucket(s3)
    access.check(s3, bucket, "s3:ListBucketVersions", "READ")
    q = s3.query
    encode = listing._encoder(s3)
    max_keys = listing._int_arg(s3, "max-keys", 1000)
    limit = min(max_keys, 1000)
    params = {"limit": str(limit + 1)}
    for name in ("prefix", "delimiter"):
        if name in q:
            params[name] = q[name]
    vmarker = q.get("version-id-marker")
    if "key-marker" in q:
        params["marker"] = q["key-marker"]
        if vmarker is not None:
            if vmarker != "null":
                _check_id(vmarker, "version-id-marker")
            params["version_marker"] = vmarker
    elif vmarker is not None:
        raise S3Error("InvalidArgument", "A version-id marker cannot be specified without a "
                      "key marker.", ArgumentName="version-id-marker", ArgumentValue=vmarker)
    if not params.get("marker"):
        params.pop("marker", None)
        params.pop("version_marker", None)
    try:
        rows = await objver_container.versions_listing(
            s3.core, bucket.account, bucket.name, names.versions_container(bucket.name), params)
    except objver_listing.BadListing as exc:
        raise S3Error("InvalidArgument", str(exc)) from None
    except SwiftError as exc:
        raise common.swift_error(exc, s3, "bucket") from None
    truncated = len(rows) > limit
    rows = rows[:limit] if max_keys else []
    root = xmlio.document("ListVersionsResult")
    xmlio.add(root, "Name", bucket.name)
    xmlio.add(root, "Prefix", encode(q.get("prefix", "")))
    xmlio.add(root, "KeyMarker", encode(q.get("key-marker", "")))
    xmlio.add(root, "VersionIdMarker", vmarker or "")
    if truncated and rows:
        last = rows[-1]
        xmlio.add(root, "NextKeyMarker", encode(last.get("name") or last.get("subdir")))
        xmlio.add(root, "NextVersionIdMarker", last.get("version_id") or "null")
    xmlio.add(root, "MaxKeys", max_keys)
    if "delimiter" in q:
        xmlio.add(root, "Delimiter", encode(q["delimiter"]))
    if q.get("encoding-type") == "url":
        xmlio.add(root, "EncodingType", "url")
    xmlio.add(root, "IsTruncated", "true" if truncated else "false")
    owner = access.shown_id(s3, bucket.owner)
    for row in rows:
        if "subdir" in row:
            continue
        marker = row["content_type"] == names.DELETE_MARKER
        item = xmlio.add(root, "DeleteMarker" if marker else "Version")
        xmlio.add(item, "Key", encode(row["name"]))
        xmlio.add(item, "VersionId", row.get("version_id") or "null")
        xmlio.add(item, "IsLatest", "true" if row.get("is_latest") else "false")
        xmlio.add(item, "LastModified", common.iso8601(listing.row_seconds(row)))
        if not marker:
            xmlio.add(item, "ETag", _etag(row))
            xmlio.add(item, "Size", row.get("bytes", 0))
        owner_el = xmlio.add(item, "Owner")
        xmlio.add(owner_el, "ID", owner)
        xmlio.add(owner_el, "DisplayName", owner)
        if not marker:
            xmlio.add(item, "StorageClass", "STANDARD")
    for row in rows:
        if "subdir" in row:
            xmlio.add(xmlio.add(root, "CommonPrefixes"), "Prefix", encode(row["subdir"]))
    return common.xml_response(root)


def _etag(row) -> str:
    """As ListObjects shows it (listing.add_contents): the row's hash, quoted."""
    if "s3_etag" in row:
        return row["s3_etag"]
    etag = row.get("hash", "")
    return etag if etag[:1] == '"' and etag[-1:] == '"' and len(etag) > 1 else f'"{etag}"'


# -- DeleteObjects and CopyObject ----------------------------------------------------------------
async def deleted_in_multi(s3, bucket, key: str, version: str | None) -> bool:
    """One key of a DeleteObjects in a versioned bucket (or with a version id): True when done
    here (S3Error when it failed), False for the plain delete."""
    versions = writes.versions_of(bucket.info)
    if not versions and version in (None, "null"):
        return False
    if version not in (None, "null"):
        try:
            names.check_version(version, allow_null=False)
        except names.InvalidVersion:
            raise S3Error("NoSuchVersion", "The specified version does not exist.") from None
    if len(key.encode()) > 1024:
        raise S3Error("KeyTooLongError")
    response = await _delete(dataclasses.replace(s3, key=key), bucket, version, versions)
    return response is not None


async def source_view(s3, name: str, key: str, version: str | None):
    """The request as a copy's source read should see it: reads of the source key go to the
    version asked for (or the current one); its id is kept for x-amz-copy-source-version-id."""
    bucket = await common.find_bucket(s3, name)
    versions = writes.versions_of(bucket.info)
    if not versions:
        if version not in (None, "null"):
            raise S3Error("NoSuchVersion", Key=key, VersionId=version)
        return s3
    core = s3.core
    if version in (None, "null"):
        gone, _link, target, shown = await _current(core, bucket.account, bucket.name, key,
                                                    versions)
        if target is None:
            if not gone:
                s3.request["s3_copy_source_version"] = "null"
            return s3
    else:
        _check_id(version, "versionId")
        target, marker = await _version(core, bucket.account, versions, key, version)
        if marker:
            raise S3Error("InvalidRequest", "The source of a copy request may not specifically "
                          "refer to a delete marker by version id.")
        shown = version
    s3.request["s3_copy_source_version"] = shown
    return dataclasses.replace(s3, core=_VersionRead(core, bucket.account, bucket.name, key,
                                                     target))


def copy_headers(s3, result) -> dict:
    out = put_headers(result)
    source = s3.request.get("s3_copy_source_version")
    if source:
        out["x-amz-copy-source-version-id"] = source
    return out
