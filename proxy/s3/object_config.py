"""Object subresources: tagging, acl (stored as object system metadata), attributes."""
from __future__ import annotations

import json

from aiohttp import web

from proxy import large
from proxy.s3 import access, bucket_config, common, objects, xmlio
from proxy.s3 import acl as acl_mod
from proxy.s3.body import read_small
from proxy.s3.errors import S3Error

SUBRESOURCES = ("tagging", "acl", "attributes", "retention", "legal-hold", "torrent")
ATTRIBUTES = ("ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize")


async def _head(s3, bucket):
    head = await s3.core.object_read("HEAD", bucket.account, bucket.name, s3.key)
    head.close()
    if head.status == 404:
        raise S3Error("NoSuchKey", Key=s3.key)
    if head.status // 100 != 2:
        raise S3Error("ServiceUnavailable")
    return head


def _unsupported(name: str) -> None:
    if name in ("retention", "legal-hold", "torrent"):
        from proxy.s3.errors import not_implemented
        raise not_implemented(f"Object {name}")


async def get(s3, name: str):
    _unsupported(name)
    bucket = await common.find_bucket(s3)
    head = await _head(s3, bucket)
    bh = head.backend_headers or {}
    obj_acl = access.object_acl(bh, bucket)
    if name == "acl":
        access.check(s3, bucket, "s3:GetObjectAcl", "READ_ACP", s3.key, obj_acl)
        return web.Response(body=acl_mod.to_xml(access.shown_acl(bucket, obj_acl),
                                                lambda v: access.shown_id(s3, v)),
                            content_type="application/xml")
    access.check(s3, bucket, "s3:GetObject" + ("Tagging" if name == "tagging" else "Attributes"),
                 "READ", s3.key, obj_acl)
    if name == "tagging":
        pairs = json.loads(bh.get(objects.TAGGING) or "[]")
        return common.xml_response(bucket_config.render_tagging(pairs))
    return await _attributes(s3, bucket, head)


async def _attributes(s3, bucket, head):
    wanted = {a.strip() for a in s3.headers.get("x-amz-object-attributes", "").split(",")
              if a.strip()}
    if not wanted or wanted - set(ATTRIBUTES):
        raise S3Error("InvalidArgument", "Invalid attribute name specified.")
    bh = head.backend_headers or {}
    root = xmlio.document("GetObjectAttributesResponse")
    if "ETag" in wanted:
        etag = (bh.get("X-Object-Sysmeta-Slo-Etag") or head.headers.get("ETag") or "").strip('"')
        xmlio.add(root, "ETag", etag)
    checksum = bh.get(objects.CHECKSUM)
    if "Checksum" in wanted and checksum:
        algorithm, _, value = checksum.partition(":")
        el = xmlio.add(root, "Checksum")
        xmlio.add(el, f"Checksum{algorithm.upper()}", value)
    if "ObjectParts" in wanted and large.is_slo(bh):
        manifest = await s3.core.object_read("GET", bucket.account, bucket.name, s3.key)
        items = large.parse_stored_manifest(await manifest.read())
        el = xmlio.add(root, "ObjectParts")
        xmlio.add(el, "TotalPartsCount", len(items))
        xmlio.add(el, "PartsCount", len(items))
        xmlio.add(el, "MaxParts", 1000)
        xmlio.add(el, "IsTruncated", "false")
        for number, item in enumerate(items, 1):
            part = xmlio.add(el, "Part")
            xmlio.add(part, "PartNumber", number)
            xmlio.add(part, "Size", item["bytes"])
    if "StorageClass" in wanted:
        xmlio.add(root, "StorageClass", "STANDARD")
    if "ObjectSize" in wanted:
        xmlio.add(root, "ObjectSize", head.headers.get("Content-Length", "0"))
    headers = {"Last-Modified": common.http_date(common.timestamp_of(bh))}
    return common.xml_response(root, headers=headers)


async def put(s3, name: str):
    _unsupported(name)
    if name == "attributes":
        raise S3Error("MethodNotAllowed", Method="PUT", ResourceType="attributes")
    bucket = await common.find_bucket(s3)
    head = await _head(s3, bucket)
    bh = head.backend_headers or {}
    obj_acl = access.object_acl(bh, bucket)
    body = await read_small(s3, 256 * 1024)
    stored = objects.stored_post_headers(bh)
    stored.setdefault("Content-Type", head.headers.get("Content-Type", "binary/octet-stream"))
    if name == "acl":
        access.check(s3, bucket, "s3:PutObjectAcl", "WRITE_ACP", s3.key, obj_acl)
        acl = acl_mod.from_headers(s3.headers, obj_acl.owner, bucket.owner)
        if acl is None:
            acl = acl_mod.from_xml(body, obj_acl.owner, access.shown_id(s3, obj_acl.owner))
        access.refuse_acl(bucket, acl)
        stored[objects.ACL] = acl.to_json()
    else:
        access.check(s3, bucket, "s3:PutObjectTagging", "WRITE", s3.key)
        pairs = bucket_config.parse_tagging(body)
        objects.check_tags(pairs)
        stored[objects.TAGGING] = json.dumps(pairs)
    await objects.repost(s3, bucket, s3.key, stored)
    return common.empty(200)


async def delete(s3, name: str):
    if name != "tagging":
        raise S3Error("MethodNotAllowed", Method="DELETE", ResourceType=name)
    bucket = await common.find_bucket(s3)
    access.check(s3, bucket, "s3:DeleteObjectTagging", "WRITE", s3.key)
    head = await _head(s3, bucket)
    stored = objects.stored_post_headers(head.backend_headers)
    stored.setdefault("Content-Type", head.headers.get("Content-Type", "binary/octet-stream"))
    stored[objects.TAGGING] = "[]"
    await objects.repost(s3, bucket, s3.key, stored)
    return common.empty(204)
