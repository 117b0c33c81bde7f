"""The S3 API entry point: authenticate, route by method/bucket/key/subresource, render errors.

make_handler(config) returns the coroutine the proxy calls for every S3-looking request
(proxy.context.S3_HANDLER). Every failure leaves as S3's XML error document: S3Error as itself,
a Swift-level failure translated, anything unexpected as InternalError (logged once).
"""
from __future__ import annotations

import logging
import time

from aiohttp import web

from proxy.context import CORE
from proxy.errors import SwiftError
from proxy.request_ids import new_request_id
from proxy.s3 import (addressing, bucket_config, buckets, common, context, listing, multipart,
                      object_config, objects, versioning)
from proxy.s3.credentials import Credentials, from_config
from proxy.s3.errors import S3Error, not_implemented

log = logging.getLogger("strato.proxy.s3")

# Bucket subresources that Strato does not implement: 501, never a silent success.
UNSUPPORTED_BUCKET = ("accelerate", "analytics", "encryption", "intelligent-tiering", "inventory",
                      "logging", "metrics", "notification", "object-lock", "replication",
                      "requestPayment", "website")


async def _route(s3) -> web.StreamResponse:
    method, q = s3.method, s3.query
    if s3.bucket is None:
        if method == "GET":
            return await buckets.list_buckets(s3)
        raise S3Error("MethodNotAllowed", Method=method, ResourceType="SERVICE")
    # A name no bucket can have is InvalidBucketName for every operation, not NoSuchBucket
    # (CreateBucket applies S3's stricter rules itself).
    addressing.check_bucket_name(s3.bucket, strict=False)
    if s3.key is None and "object-lock" in q and method in ("GET", "PUT"):
        return await _object_lock(s3, method)
    if q:
        for name in UNSUPPORTED_BUCKET:
            if name in q:
                raise not_implemented(f"The {name} subresource")
    if s3.key is None:
        return await _bucket(s3, method, q)
    return await _object(s3, method, q)


async def _object_lock(s3, method: str) -> web.StreamResponse:
    """Object Lock is never on for a bucket here: its configuration is "not found" (once the
    bucket exists and the caller may read it) and setting one is not implemented."""
    from proxy.s3 import access
    bucket = await common.find_bucket(s3)
    if method == "PUT":
        raise S3Error("NotImplemented", "The requested resource is not implemented")
    access.check(s3, bucket, "s3:GetBucketObjectLockConfiguration", "READ")
    raise S3Error("ObjectLockConfigurationNotFoundError", BucketName=bucket.name)


async def _bucket(s3, method: str, q) -> web.StreamResponse:
    if method == "GET":
        if "location" in q:
            return await buckets.location(s3)
        if "uploads" in q:
            return await multipart.list_uploads(s3)
        for name in bucket_config.SUBRESOURCES:
            if name in q:
                return await bucket_config.get(s3, name)
        if "versions" in q:
            return await bucket_config.list_versions(s3)
        return await listing.list_objects(s3)
    if method == "HEAD":
        return await buckets.head(s3)
    if method == "PUT":
        for name in bucket_config.SUBRESOURCES:
            if name in q:
                return await bucket_config.put(s3, name)
        return await buckets.create(s3)
    if method == "DELETE":
        for name in bucket_config.SUBRESOURCES:
            if name in q:
                return await bucket_config.delete(s3, name)
        return await buckets.delete(s3)
    if method == "POST":
        if "delete" in q:
            from proxy.s3 import multidelete
            return await multidelete.delete_objects(s3)
        if s3.headers.get("content-type", "").startswith("multipart/form-data"):
            from proxy.s3 import post_object
            return await post_object.post_object(s3, s3.request["s3_credentials"])
        raise S3Error("MethodNotAllowed", Method=method, ResourceType="BUCKET")
    if method == "OPTIONS":
        return await bucket_config.preflight(s3)
    raise S3Error("MethodNotAllowed", Method=method, ResourceType="BUCKET")


async def _object(s3, method: str, q) -> web.StreamResponse:
    # versioned buckets, ?versionId
    versioned, bucket = await versioning.object_request(s3, method, q)
    if versioned is not None:
        return versioned
    if method in ("GET", "HEAD"):
        if "uploadId" in q and method == "GET":
            return await multipart.list_parts(s3)
        for name in object_config.SUBRESOURCES:
            if name in q and method == "GET":
                return await object_config.get(s3, name)
        return await objects.get(s3, bucket)
    if method == "PUT":
        if "uploadId" in q or "partNumber" in q:
            return await multipart.upload_part(s3)
        for name in object_config.SUBRESOURCES:
            if name in q:
                return await object_config.put(s3, name)
        return await objects.put(s3)
    if method == "POST":
        if "uploads" in q:
            return await multipart.create(s3)
        if "uploadId" in q:
            return await multipart.complete(s3)
        if "restore" in q or "select" in q:
            raise not_implemented("This POST operation")
        raise S3Error("MethodNotAllowed", Method=method, ResourceType="OBJECT")
    if method == "DELETE":
        if "uploadId" in q:
            return await multipart.abort(s3)
        for name in object_config.SUBRESOURCES:
            if name in q:
                return await object_config.delete(s3, name)
        return await objects.delete(s3)
    if method == "OPTIONS":
        return await bucket_config.preflight(s3)
    raise S3Error("MethodNotAllowed", Method=method, ResourceType="OBJECT")


def _error_response(request: web.Request, exc: S3Error, request_id: str) -> web.Response:
    headers = dict(exc.headers)
    headers.update(_ids(request_id))
    headers["Content-Type"] = "application/xml"
    if request.method == "HEAD":  # no body, and clients check that it says so
        headers["Content-Length"] = "0"
        return web.Response(status=exc.status, headers=headers)
    return web.Response(status=exc.status, headers=headers, body=exc.to_xml("", request_id))


def make_handler(config, credentials: Credentials | None = None):
    credentials = credentials or from_config(config)
    settings = config.s3  # [s3]: plain attributes (strato/config.py SectionValues)
    max_file_size = config.proxy.max_file_size

    async def handle(request: web.Request) -> web.StreamResponse:
        request_id = new_request_id()  # before build(): its failures are answered with it too
        request["s3_credentials"] = credentials
        try:
            s3 = await context.build(request, request.app[CORE], settings, max_file_size,
                                     credentials, request_id)
            extra = _ids(request_id)
            if "origin" in s3.headers:
                extra.update(await _cors_for(s3))
            request["s3_extra"] = extra  # streamed answers add these before they are prepared
            response = await _route(s3)
        except S3Error as exc:
            await _drain(request)
            return _error_response(request, exc, request_id)
        except SwiftError as exc:
            await _drain(request)
            return _error_response(request, _from_swift(exc), request_id)
        except (ConnectionResetError, web.HTTPException):
            raise
        except Exception:  # noqa: BLE001 - the one place unexpected failures are turned into XML
            log.exception("S3 %s %s failed", request.method, request.path)
            return _error_response(request, S3Error("InternalError"), request_id)
        if not response.prepared:
            response.headers.update(extra)
        return response

    return handle


async def _cors_for(s3) -> dict:
    """An actual CORS request (Origin, not a preflight): the matching rule's headers, which
    streamed answers pick up from request["s3_extra"] before they are prepared."""
    origin = s3.headers.get("origin")
    if not origin or s3.bucket is None or s3.method == "OPTIONS":
        return {}
    try:
        bucket = await common.find_bucket(s3)
    except S3Error:
        return {}
    rule = bucket_config.match_cors(bucket.json("Cors"), origin, s3.method, [])
    headers = bucket_config.cors_headers(rule, origin, [], False) if rule else {}
    return headers


def _ids(request_id: str) -> dict[str, str]:
    """The answer's ids: x-amz-request-id, and one transaction id built from it (the shape the
    proxy's X-Trans-Id hook gives, which then makes no second id) that is also x-amz-id-2, the
    "extended request id" clients log (and some require) with every answer, as Swift's s3api
    sends it (its x-amz-id-2 is the transaction id)."""
    trans = f"tx{request_id.lower():0>21}-{int(time.time()):010x}"
    return {"x-amz-request-id": request_id, "x-amz-id-2": trans, "X-Trans-Id": trans,
            "X-Openstack-Request-Id": trans}


def _from_swift(exc: SwiftError) -> S3Error:
    class _Ctx:
        bucket = None
        key = None
    return common.swift_error(exc, _Ctx())


async def _drain(request: web.Request) -> None:
    """Read what is left of a small unread body so the connection stays usable; big ones close."""
    try:
        if request.content_length is not None and request.content_length <= 1024 * 1024 \
                and not request.content.at_eof():
            await request.content.read()
    except Exception:  # noqa: BLE001 - the client may be gone
        pass
