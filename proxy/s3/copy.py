"""CopyObject and the source side of UploadPartCopy: x-amz-copy-source with its conditions.

The source streams from its nodes (or its parts, for a multipart object) straight into the new
object's PUT; nothing is buffered whole.
"""
from __future__ import annotations

import json
from urllib.parse import parse_qs, unquote

from multidict import CIMultiDict

from proxy import large
from proxy.errors import SwiftError
from proxy.s3 import access, addressing, common, objects, sse, xmlio
from proxy.s3.errors import S3Error, not_implemented

COPY_CONDITIONS = {"x-amz-copy-source-if-match": "If-Match",
                   "x-amz-copy-source-if-none-match": "If-None-Match",
                   "x-amz-copy-source-if-modified-since": "If-Modified-Since",
                   "x-amz-copy-source-if-unmodified-since": "If-Unmodified-Since"}


def parse_source(value: str) -> tuple[str, str, str | None]:
    path, _, query = value.partition("?")
    path = unquote(path).lstrip("/")
    bucket, _, key = path.partition("/")
    if not bucket or not key:
        raise S3Error("InvalidArgument", "Copy Source must mention the source bucket and key: "
                      "sourcebucket/sourcekey", ArgumentName="x-amz-copy-source",
                      ArgumentValue=value)
    addressing.check_key(key)
    version = None
    if query:
        # Only ?versionId=... may follow the key; anything else is refused, not ignored.
        params = parse_qs(query, keep_blank_values=True)
        if list(params) != ["versionId"] or len(params["versionId"]) != 1:
            raise S3Error("InvalidArgument", "Unsupported copy source parameter.",
                          ArgumentName="x-amz-copy-source", ArgumentValue=value)
        version = params["versionId"][0]
    return bucket, key, version


async def open_source(s3, range_header: str | None = None):
    """(source bucket, key, Result streaming the source) after access and copy-source conditions."""
    name, key, version = parse_source(s3.headers["x-amz-copy-source"])
    from proxy.s3 import versioning
    s3 = await versioning.source_view(s3, name, key, version)  # ?versionId, versioned buckets
    bucket = await common.find_bucket(s3, name)
    head = await s3.core.object_read("HEAD", bucket.account, bucket.name, key)
    head.close()
    if head.status == 404:
        raise S3Error("NoSuchKey", Key=key)
    if head.status // 100 != 2:
        raise S3Error("ServiceUnavailable")
    bh = head.backend_headers or CIMultiDict()
    access.check(s3, bucket, "s3:GetObject", "READ", key, access.object_acl(bh, bucket))
    if sse.is_encrypted(bh) or sse.customer_key(s3.headers) is not None or \
            sse.customer_key(s3.headers, "x-amz-copy-source-server-side-encryption-customer-"):
        raise not_implemented("Copying to or from SSE-C objects")
    read_headers = CIMultiDict({h: s3.headers[n] for n, h in COPY_CONDITIONS.items()
                                if n in s3.headers})
    if range_header:
        read_headers["Range"] = range_header
    try:
        if large.is_slo(bh):
            result = await large.read_slo(s3.core, bucket.account, bucket.name, key, head,
                                          read_headers, "GET")
        else:
            result = await s3.core.object_read("GET", bucket.account, bucket.name, key,
                                               headers=dict(read_headers))
    except SwiftError as exc:
        raise common.swift_error(exc, s3) from None
    if result.status in (304, 412):
        result.close()
        raise S3Error("PreconditionFailed", Condition="x-amz-copy-source-If-Match")
    if result.status == 416:
        result.close()
        raise S3Error("InvalidRange")
    if result.status // 100 != 2:
        result.close()
        raise S3Error("NoSuchKey" if result.status == 404 else "ServiceUnavailable", Key=key)
    result.backend_headers = bh
    return bucket, key, result


async def copy_object(s3, bucket):
    directive = s3.headers.get("x-amz-metadata-directive", "COPY").upper()
    tag_directive = s3.headers.get("x-amz-tagging-directive", "COPY").upper()
    if directive not in ("COPY", "REPLACE") or tag_directive not in ("COPY", "REPLACE"):
        raise S3Error("InvalidArgument", "Unknown metadata directive.")
    src_bucket, src_key, source = await open_source(s3)
    bh = source.backend_headers
    try:
        if src_bucket.name == bucket.name and src_key == s3.key and directive == "COPY" and \
                "x-amz-storage-class" not in s3.headers and \
                "x-amz-server-side-encryption" not in s3.headers:
            raise S3Error("InvalidRequest", "This copy request is illegal because it is trying to "
                          "copy an object to itself without changing the object's metadata, "
                          "storage class, website redirect location or encryption attributes.")
        headers = objects.new_object_headers(s3, bucket)
        if directive == "COPY":
            for name in [k for k in headers if k.lower().startswith("x-object-meta-")
                         or k.lower() in common.STORED_HEADERS]:
                headers.pop(name)
            for name, value in source.headers.items():
                if name.lower().startswith("x-object-meta-") or \
                        name.lower() in common.STORED_HEADERS:
                    headers[name] = value
            headers.pop(common.ODD_META, None)
            if bh.get(common.ODD_META):
                headers[common.ODD_META] = bh[common.ODD_META]
        if tag_directive == "COPY" and bh.get(objects.TAGGING):
            headers[objects.TAGGING] = bh[objects.TAGGING]
        if bh.get(objects.CHECKSUM) and not large.is_slo(bh):
            headers[objects.CHECKSUM] = bh[objects.CHECKSUM]
        try:
            result = await s3.core.object_put(bucket.account, bucket.name, s3.key, headers,
                                              source.iter_body(), None)
        except SwiftError as exc:
            raise common.swift_error(exc, s3, "bucket" if exc.status == 404 else "key") from None
    finally:
        source.close()
    root = xmlio.document("CopyObjectResult")
    xmlio.add(root, "LastModified", common.iso8601(
        float(result.headers.get("X-Timestamp", "0"))))
    xmlio.add(root, "ETag", f'"{(result.headers.get("ETag") or "").strip(chr(34))}"')
    from proxy.s3 import versioning
    return common.xml_response(root, headers={**versioning.copy_headers(s3, result),
                                              **sse.response_headers(headers)})


def tags_of(bh) -> list:
    try:
        return json.loads(bh.get(objects.TAGGING) or "[]")
    except ValueError:
        return []
