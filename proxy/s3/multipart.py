"""Multipart uploads: Create, UploadPart(Copy), Complete, Abort, ListParts, ListMultipartUploads.

Parts live once, as Swift objects in the hidden container "<bucket>+segments" of the bucket's
account: "<key>/<upload id>" marks the upload (and keeps the object's future metadata), each part
is "<key>/<upload id>/<part number, 5 digits>". Complete writes an SLO-style manifest naming the
parts (no data copied); its ETag is S3's md5-of-md5s "-N" form, kept as the manifest's SLO ETag
and as the container-listing ETag. Deleting the object deletes its parts.
"""
from __future__ import annotations

import asyncio
import binascii
import hashlib
import json
import re
import uuid
from urllib.parse import quote

from proxy.backend import empty_body
from proxy.errors import SwiftError
from proxy.s3 import access, common, objects, xmlio
from proxy.s3.body import object_length, read_small
from proxy.s3.errors import S3Error, not_implemented
from proxy.s3.payload import verifier_for

SEGMENTS_SUFFIX = "+segments"
MAX_PARTS = 10000
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
MARKER = common.OBJ_SYSMETA + "Upload-Marker"
UPLOAD_ID = common.OBJ_SYSMETA + "Upload-Id"


def segments(bucket) -> str:
    return bucket.name + SEGMENTS_SUFFIX


def part_name(key: str, upload_id: str, number: int) -> str:
    return f"{key}/{upload_id}/{number:05d}"


def _upload_id(s3) -> str:
    upload_id = s3.query.get("uploadId", "")
    if not _UPLOAD_ID.match(upload_id):
        raise S3Error("NoSuchUpload", UploadId=upload_id)
    return upload_id


async def _marker(s3, bucket, upload_id: str):
    head = await s3.core.object_read("HEAD", bucket.account, segments(bucket),
                                     f"{s3.key}/{upload_id}")
    head.close()
    if head.status == 404:
        raise S3Error("NoSuchUpload", UploadId=upload_id)
    if head.status // 100 != 2:
        raise S3Error("ServiceUnavailable")
    return head


async def create(s3):
    bucket = await common.find_bucket(s3)
    access.check(s3, bucket, "s3:PutObject", "WRITE", s3.key)
    from proxy.s3 import sse
    if sse.customer_key(s3.headers) is not None:
        raise not_implemented("SSE-C multipart uploads")
    headers = objects.new_object_headers(s3, bucket)
    algorithm = s3.headers.get("x-amz-checksum-algorithm")
    if algorithm:
        if algorithm.lower() not in ("crc32", "crc32c", "sha1", "sha256", "crc64nvme"):
            raise S3Error("InvalidRequest", "Checksum algorithm provided is unsupported.")
        headers[common.OBJ_SYSMETA + "Checksum-Algorithm"] = algorithm.lower()
    seg = segments(bucket)
    info = await s3.core.container_info(bucket.account, seg)
    if not info.exists:
        result = await s3.core.container_write("PUT", bucket.account, seg, {})
        if result.status // 100 != 2:
            raise S3Error("ServiceUnavailable")
    upload_id = uuid.uuid4().hex
    headers[MARKER] = "1"
    headers[common.OBJ_SYSMETA + "Initiator"] = s3.principal.account if s3.principal else ""
    try:
        await s3.core.object_put(bucket.account, seg, f"{s3.key}/{upload_id}", headers, empty_body(), 0)
    except SwiftError as exc:
        raise common.swift_error(exc, s3) from None
    root = xmlio.document("InitiateMultipartUploadResult")
    xmlio.add(root, "Bucket", bucket.name)
    xmlio.add(root, "Key", s3.key)
    xmlio.add(root, "UploadId", upload_id)
    out = sse.response_headers(headers)  # x-amz-server-side-encryption, as AWS answers
    if algorithm:
        out["x-amz-checksum-algorithm"] = algorithm.upper()
    return common.xml_response(root, headers=out)


def _part_number(s3) -> int:
    value = s3.query.get("partNumber", "")
    if not value.isdigit() or not 1 <= int(value) <= MAX_PARTS:
        raise S3Error("InvalidArgument", "Part number must be an integer between 1 and 10000, "
                      "inclusive", ArgumentName="partNumber", ArgumentValue=value)
    return int(value)


async def upload_part(s3):
    bucket = await common.find_bucket(s3)
    access.check(s3, bucket, "s3:PutObject", "WRITE", s3.key)
    upload_id = _upload_id(s3)
    number = _part_number(s3)
    await _marker(s3, bucket, upload_id)
    name = part_name(s3.key, upload_id, number)
    if "x-amz-copy-source" in s3.headers:
        return await _upload_part_copy(s3, bucket, name)
    verifier = verifier_for(s3)
    length = object_length(s3, verifier)
    if length is not None and length > s3.max_file_size:
        raise S3Error("EntityTooLarge")
    headers = {"Content-Type": "application/octet-stream"}
    source = await objects.checked_source(s3, verifier, length, headers)
    objects.store_md5(verifier, headers)
    try:
        result = await s3.core.object_put(bucket.account, segments(bucket), name, headers,
                                          source, None, sha256_check=verifier.sha256_for_store())
    except SwiftError as exc:
        raise objects.put_error(exc, s3, verifier, missing="key") from None
    if result.status == 202:  # a concurrent upload of this part number stored a newer one
        return common.empty(200, {})
    out = {"ETag": f'"{result.headers.get("ETag", "").strip(chr(34))}"'}
    if result.headers.get("Last-Modified"):  # the same second ListParts will show
        out["Last-Modified"] = result.headers["Last-Modified"]
    if verifier.checksum_value:
        if objects.CHECKSUM not in headers:  # a large body's trailer: known only after its PUT
            await s3.core.object_write("POST", bucket.account, segments(bucket), name, {
                "Content-Type": "application/octet-stream", objects.CHECKSUM:
                f"{verifier.checksum_algorithm}:{verifier.checksum_value}"})
        out[f"x-amz-checksum-{verifier.checksum_algorithm}"] = verifier.checksum_value
    return common.empty(200, out)


async def _upload_part_copy(s3, bucket, name: str):
    from proxy.s3 import copy
    wanted = s3.headers.get("x-amz-copy-source-range")
    if wanted is not None and not re.match(r"^bytes=\d+-\d+$", wanted.strip()):
        raise S3Error("InvalidArgument", "The x-amz-copy-source-range value must be of the form "
                      "bytes=first-last where first and last are the zero-based offsets of the "
                      "first and last bytes to copy", ArgumentName="x-amz-copy-source-range",
                      ArgumentValue=wanted)
    if wanted is not None:
        first, last = (int(x) for x in wanted.strip()[6:].split("-"))
        if last < first:
            raise S3Error("InvalidArgument", "Range specified is not valid")
    _src_bucket, _key, source = await copy.open_source(s3, wanted)
    try:
        if wanted is not None:
            total = (source.headers.get("Content-Range") or "/").rsplit("/", 1)[-1]
            if source.status != 206 or (total.isdigit() and last >= int(total)):
                raise S3Error("InvalidRange")
        result = await s3.core.object_put(bucket.account, segments(bucket), name,
                                          {"Content-Type": "application/octet-stream"},
                                          source.iter_body(), None)
    except SwiftError as exc:
        raise common.swift_error(exc, s3) from None
    finally:
        source.close()
    root = xmlio.document("CopyPartResult")
    xmlio.add(root, "LastModified", common.iso8601(float(result.headers.get("X-Timestamp", "0"))))
    xmlio.add(root, "ETag", f'"{result.headers.get("ETag", "").strip(chr(34))}"')
    return common.xml_response(root)


async def _list(s3, bucket, prefix: str, marker: str = "", limit: int = 10000) -> list[dict]:
    rows, marker_now = [], marker
    while True:
        result = await s3.core.container_read("GET", bucket.account, segments(bucket),
                                              {"format": "json", "prefix": prefix,
                                               "marker": marker_now})
        if result.status == 404:
            return rows
        if result.status // 100 != 2:
            raise S3Error("ServiceUnavailable")
        got = json.loads(result.body or b"[]")
        if not got:
            return rows
        rows += got
        if len(rows) >= limit:
            return rows[:limit]
        marker_now = got[-1]["name"]


async def _parts(s3, bucket, upload_id: str) -> dict[int, dict]:
    prefix = f"{s3.key}/{upload_id}/"
    out = {}
    for row in await _list(s3, bucket, prefix):
        tail = row["name"][len(prefix):]
        if tail.isdigit():
            out[int(tail)] = row
    return out


def _min_part_size(s3) -> int:
    return getattr(s3.settings, "min_part_size", 5 * 1024 * 1024)


async def complete(s3):
    bucket = await common.find_bucket(s3)
    access.check(s3, bucket, "s3:PutObject", "WRITE", s3.key)
    objects.refuse_unsupported_conditions(s3, etag_match=False)
    upload_id = _upload_id(s3)
    try:
        marker = await _marker(s3, bucket, upload_id)
    except S3Error as exc:
        done = await _already_completed(s3, bucket, upload_id)
        if done is None:
            raise exc from None
        return done
    body = await read_small(s3, 4 * 1024 * 1024)
    root = xmlio.parse(body, "CompleteMultipartUpload")
    wanted = []
    for part in xmlio.children(root, "Part"):
        number, etag = xmlio.text(part, "PartNumber"), xmlio.text(part, "ETag")
        if number is None or etag is None or not number.strip().isdigit():
            raise S3Error("MalformedXML")
        wanted.append((int(number), etag.strip().strip('"')))
    if not wanted:
        raise S3Error("MalformedXML", "The XML you provided was not well-formed or did not "
                      "validate against our published schema")
    numbers = [n for n, _ in wanted]
    if numbers != sorted(numbers) or len(set(numbers)) != len(numbers):
        raise S3Error("InvalidPartOrder", UploadId=upload_id)
    stored = await _parts(s3, bucket, upload_id)
    manifest, md5s, total = [], b"", 0
    for index, (number, etag) in enumerate(wanted):
        row = stored.get(number)
        if row is None or row["hash"] != etag:
            raise S3Error("InvalidPart", UploadId=upload_id, PartNumber=number, ETag=etag)
        if index < len(wanted) - 1 and int(row["bytes"]) < _min_part_size(s3):
            raise S3Error("EntityTooSmall", ProposedSize=row["bytes"],
                          MinSizeAllowed=_min_part_size(s3), PartNumber=number, ETag=etag)
        manifest.append({"name": f"/{segments(bucket)}/{row['name']}", "bytes": int(row["bytes"]),
                         "hash": row["hash"], "content_type": "application/octet-stream"})
        md5s += binascii.unhexlify(row["hash"])
        total += int(row["bytes"])
    s3_etag = f"{hashlib.md5(md5s).hexdigest()}-{len(wanted)}"
    await objects.refuse_if_exists(s3, bucket)
    bh = marker.backend_headers or {}
    headers = {k: v for k, v in bh.items()
               if k.lower().startswith(("x-object-meta-", "x-object-sysmeta-s3-"))
               or k.lower() in common.STORED_HEADERS}
    headers.pop(MARKER, None)
    if marker.headers.get("Content-Encoding"):  # the node keeps it as sysmeta, shows it as this
        headers["Content-Encoding"] = marker.headers["Content-Encoding"]
    headers.update({"X-Static-Large-Object": "True", "X-Object-Sysmeta-Slo-Etag": s3_etag,
                    "X-Object-Sysmeta-Slo-Size": str(total), UPLOAD_ID: upload_id,
                    "X-Object-Sysmeta-Container-Update-Override-Etag": s3_etag,
                    "X-Object-Sysmeta-Container-Update-Override-Size": str(total)})
    data = json.dumps(manifest).encode()

    async def one_chunk():
        yield data

    try:
        await s3.core.object_put(bucket.account, bucket.name, s3.key, headers, one_chunk(),
                                 len(data))
    except SwiftError as exc:
        raise common.swift_error(exc, s3, "bucket" if exc.status == 404 else "key") from None
    used = {n for n, _ in wanted}
    await _delete_many(s3, bucket, [r["name"] for n, r in stored.items() if n not in used]
                       + [f"{s3.key}/{upload_id}"])
    return _completed(s3, bucket, s3_etag)


async def _already_completed(s3, bucket, upload_id: str):
    """A repeated Complete of the upload that made the current object succeeds again (as S3)."""
    head = await s3.core.object_read("HEAD", bucket.account, bucket.name, s3.key)
    head.close()
    bh = head.backend_headers or {}
    if head.status // 100 != 2 or bh.get(UPLOAD_ID) != upload_id:
        return None
    body = await read_small(s3, 4 * 1024 * 1024)
    if _etag_of_request(body) != bh.get("X-Object-Sysmeta-Slo-Etag"):
        return None  # other parts than the completed ones: that upload is gone (NoSuchUpload)
    return _completed(s3, bucket, bh.get("X-Object-Sysmeta-Slo-Etag", ""))


def _etag_of_request(body: bytes) -> str | None:
    """The multipart ETag the Complete body's part list would give (None if it cannot)."""
    try:
        root = xmlio.parse(body, "CompleteMultipartUpload")
        etags = [(xmlio.text(p, "ETag") or "").strip().strip('"')
                 for p in xmlio.children(root, "Part")]
        digest = hashlib.md5(b"".join(binascii.unhexlify(e) for e in etags)).hexdigest()
    except (S3Error, ValueError, binascii.Error):
        return None
    return f"{digest}-{len(etags)}"


def _completed(s3, bucket, s3_etag: str):
    """CompleteMultipartUpload's answer; Location is a URL, as S3 gives it."""
    out = xmlio.document("CompleteMultipartUploadResult")
    location = f"{s3.request.scheme}://{s3.request.host}/{bucket.name}/{quote(s3.key)}"
    xmlio.add(out, "Location", location)
    xmlio.add(out, "Bucket", bucket.name)
    xmlio.add(out, "Key", s3.key)
    xmlio.add(out, "ETag", f'"{s3_etag}"')
    return common.xml_response(out)


async def _delete_many(s3, bucket, names: list[str]) -> None:
    limit = asyncio.Semaphore(16)

    async def one(name):
        async with limit:
            try:
                await s3.core.object_write("DELETE", bucket.account, segments(bucket), name, {})
            except SwiftError:
                pass

    await asyncio.gather(*(one(n) for n in names))


async def drop_parts(s3, bucket, key: str, upload_id: str) -> None:
    """The parts of a completed upload whose object was deleted or overwritten."""
    rows = await _list(s3, bucket, f"{key}/{upload_id}/")
    await _delete_many(s3, bucket, [r["name"] for r in rows])


async def drop_all(s3, bucket) -> None:
    """Every upload marker and part of the bucket (when the bucket itself is deleted)."""
    rows = await _list(s3, bucket, "")
    await _delete_many(s3, bucket, [r["name"] for r in rows])


async def abort(s3):
    bucket = await common.find_bucket(s3)
    access.check(s3, bucket, "s3:AbortMultipartUpload", "WRITE", s3.key)
    upload_id = _upload_id(s3)
    await _marker(s3, bucket, upload_id)
    stored = await _parts(s3, bucket, upload_id)
    await _delete_many(s3, bucket, [r["name"] for r in stored.values()])
    await _delete_many(s3, bucket, [f"{s3.key}/{upload_id}"])
    return common.empty(204)


def _int(s3, name: str, default: int, top: int) -> int:
    value = s3.query.get(name)
    if value is None:
        return default
    if not value.isdigit():
        raise S3Error("InvalidArgument", f"Provided {name} not an integer or within integer "
                      "range", ArgumentName=name, ArgumentValue=value)
    return min(int(value), top)


def _owner(parent, tag: str, account: str) -> None:
    el = xmlio.add(parent, tag)
    xmlio.add(el, "ID", account)
    xmlio.add(el, "DisplayName", account)


async def list_parts(s3):
    from proxy.s3 import listing
    bucket = await common.find_bucket(s3)
    access.check(s3, bucket, "s3:ListMultipartUploadParts", "READ", s3.key)
    upload_id = _upload_id(s3)
    marker = await _marker(s3, bucket, upload_id)
    max_parts = _int(s3, "max-parts", 1000, 1000)
    after = _int(s3, "part-number-marker", 0, MAX_PARTS)
    stored = await _parts(s3, bucket, upload_id)
    numbers = sorted(n for n in stored if n > after)
    page = numbers[:max_parts]
    root = xmlio.document("ListPartsResult")
    xmlio.add(root, "Bucket", bucket.name)
    xmlio.add(root, "Key", s3.key)
    xmlio.add(root, "UploadId", upload_id)
    initiator = (marker.backend_headers or {}).get(common.OBJ_SYSMETA + "Initiator") or bucket.owner
    _owner(root, "Initiator", access.shown_id(s3, initiator))
    _owner(root, "Owner", access.shown_id(s3, bucket.owner))
    xmlio.add(root, "StorageClass", "STANDARD")
    xmlio.add(root, "PartNumberMarker", after)
    xmlio.add(root, "NextPartNumberMarker", page[-1] if page else after)
    xmlio.add(root, "MaxParts", max_parts)
    xmlio.add(root, "IsTruncated", "true" if len(numbers) > max_parts else "false")
    for number in page:
        row = stored[number]
        part = xmlio.add(root, "Part")
        xmlio.add(part, "PartNumber", number)
        xmlio.add(part, "LastModified", common.iso8601(listing.row_seconds(row)))
        xmlio.add(part, "ETag", f'"{row["hash"]}"')
        xmlio.add(part, "Size", row["bytes"])
    return common.xml_response(root)


async def list_uploads(s3):
    from proxy.s3 import listing
    bucket = await common.find_bucket(s3)
    access.check(s3, bucket, "s3:ListBucketMultipartUploads", "READ")
    prefix = s3.query.get("prefix", "")
    delimiter = s3.query.get("delimiter", "")
    key_marker = s3.query.get("key-marker", "")
    id_marker = s3.query.get("upload-id-marker", "")
    max_uploads = _int(s3, "max-uploads", 1000, 1000)
    uploads, prefixes = [], []
    for row in await _list(s3, bucket, prefix):
        key, _, upload_id = row["name"].rpartition("/")
        if not _UPLOAD_ID.match(upload_id) or not key.startswith(prefix):
            continue
        if (key, upload_id) <= (key_marker, id_marker if id_marker else "\uffff") \
                and key_marker:
            continue
        if delimiter:
            at = key.find(delimiter, len(prefix))
            if at >= 0:
                common_prefix = key[:at + len(delimiter)]
                if common_prefix not in prefixes:
                    prefixes.append(common_prefix)
                continue
        uploads.append((key, upload_id, row))
    uploads.sort(key=lambda u: (u[0], listing.row_seconds(u[2])))
    truncated = len(uploads) + len(prefixes) > max_uploads
    uploads = uploads[:max_uploads]
    root = xmlio.document("ListMultipartUploadsResult")
    xmlio.add(root, "Bucket", bucket.name)
    xmlio.add(root, "KeyMarker", key_marker)
    xmlio.add(root, "UploadIdMarker", id_marker)
    # Always present; filled when a client may page on (Swift's s3api leaves a one-upload page
    # blank, and its tests pin that).
    more = uploads and (truncated or len(uploads) > 1)
    xmlio.add(root, "NextKeyMarker", uploads[-1][0] if more else "")
    xmlio.add(root, "NextUploadIdMarker", uploads[-1][1] if more else "")
    if delimiter:
        xmlio.add(root, "Delimiter", delimiter)
    xmlio.add(root, "Prefix", prefix)
    xmlio.add(root, "MaxUploads", max_uploads)
    xmlio.add(root, "IsTruncated", "true" if truncated else "false")
    for key, upload_id, row in uploads:
        el = xmlio.add(root, "Upload")
        xmlio.add(el, "Key", key)
        xmlio.add(el, "UploadId", upload_id)
        _owner(el, "Initiator", access.shown_id(s3, bucket.owner))
        _owner(el, "Owner", access.shown_id(s3, bucket.owner))
        xmlio.add(el, "StorageClass", "STANDARD")
        xmlio.add(el, "Initiated", common.iso8601(listing.row_seconds(row)))
    for p in prefixes:
        xmlio.add(xmlio.add(root, "CommonPrefixes"), "Prefix", p)
    return common.xml_response(root)
