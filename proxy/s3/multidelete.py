"""DeleteObjects: up to 1000 keys in one request, Quiet mode, per-key errors in the answer."""
from __future__ import annotations

import asyncio

from proxy.s3 import access, common, objects, xmlio
from proxy.s3.body import read_small
from proxy.s3.errors import S3Error
from proxy.s3.payload import CHECKSUM_ALGORITHMS

MAX_KEYS = 1000
CONCURRENCY = 16
# Twice 1000 keys of 1024 bytes (Swift's s3api allows that slop): a longer body is MalformedXML
# before any of it is read.
MAX_BODY = 2 * MAX_KEYS * 1024


async def delete_objects(s3):
    bucket = await common.find_bucket(s3)
    length = s3.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY:
        raise S3Error("MalformedXML")
    try:
        body = await read_small(s3, MAX_BODY)
    except S3Error as exc:  # a chunked body that grew past the limit: the same answer
        if exc.code != "MaxMessageLengthExceeded":
            raise
        raise S3Error("MalformedXML") from None
    if "content-md5" not in s3.headers and not any(  # S3 asks once the body is read
            f"x-amz-checksum-{a}" in s3.headers for a in CHECKSUM_ALGORITHMS):
        raise S3Error("InvalidRequest", "Missing required header for this request: Content-MD5 "
                      "OR x-amz-checksum-*")
    root = xmlio.parse(body, "Delete", max_bytes=MAX_BODY, error="MalformedXML")
    quiet = (xmlio.text(root, "Quiet", "false") or "").strip().lower() == "true"
    keys = []
    for item in xmlio.children(root, "Object"):
        key = xmlio.text(item, "Key")
        if key is None:
            raise S3Error("MalformedXML")
        if not key:
            raise S3Error("UserKeyMustBeSpecified")
        keys.append((key, xmlio.text(item, "VersionId")))
    if not keys or len(keys) > MAX_KEYS:
        raise S3Error("MalformedXML")
    limit = asyncio.Semaphore(CONCURRENCY)

    async def one(key: str, version: str | None):
        async with limit:
            try:
                from proxy.s3 import versioning
                if await versioning.deleted_in_multi(s3, bucket, key, version):
                    return key, version, None
                if version not in (None, "null"):
                    raise S3Error("NoSuchVersion", "The specified version does not exist.")
                if len(key.encode()) > 1024:
                    raise S3Error("KeyTooLongError")
                access.check(s3, bucket, "s3:DeleteObject", "WRITE", key)
                await objects.delete_key(s3, bucket, key)
                return key, version, None
            except S3Error as exc:
                return key, version, exc

    results = await asyncio.gather(*(one(k, v) for k, v in keys))
    out = xmlio.document("DeleteResult")
    for key, version, error in results:
        if error is None:
            if not quiet:
                el = xmlio.add(out, "Deleted")
                xmlio.add(el, "Key", key)
                if version:
                    xmlio.add(el, "VersionId", version)
        else:
            el = xmlio.add(out, "Error")
            xmlio.add(el, "Key", key)
            if version:
                xmlio.add(el, "VersionId", version)
            xmlio.add(el, "Code", error.code)
            xmlio.add(el, "Message", error.message)
    return common.xml_response(out)
