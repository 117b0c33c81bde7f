"""/auth/v1.0 (tempauth-style login), /info (capabilities) and /healthcheck."""
from __future__ import annotations

import json

from aiohttp import web

from proxy import formpost, limits
from proxy.context import AUTH, CONFIG
from proxy.errors import SwiftError


async def auth_v1(request: web.Request) -> web.Response:
    """X-Auth-User/X-Auth-Key (or X-Storage-User/-Pass) -> a token and the storage URL."""
    user = request.headers.get("X-Auth-User") or request.headers.get("X-Storage-User")
    key = request.headers.get("X-Auth-Key") or request.headers.get("X-Storage-Pass")
    if not user or key is None:
        raise SwiftError(401, "Unauthorized")
    auth = request.app[AUTH]
    token, identity = await auth.login_v1(user, key)  # KeystoneAuth: identity's users too
    storage_url = f"{request.scheme}://{request.host}/v1/{limits.RESELLER_PREFIX}{identity.account}"
    ttl = max(0, int(identity.expires - __import__("time").time()))
    headers = {"X-Auth-Token": token, "X-Storage-Token": token, "X-Storage-Url": storage_url,
               "X-Auth-Token-Expires": str(ttl)}
    body = json.dumps({"storage": {"default": "local", "local": storage_url}})
    return web.Response(status=200, headers=headers, body=body.encode(),
                        content_type="application/json", charset="utf-8")


def capabilities(config) -> dict:
    """What /info publishes: only features this proxy really implements."""
    return {
        "swift": {
            "version": "strato-0.1.0",
            "max_file_size": config.proxy.max_file_size,
            "max_meta_name_length": limits.MAX_META_NAME_LENGTH,
            "max_meta_value_length": limits.MAX_META_VALUE_LENGTH,
            "max_meta_count": limits.MAX_META_COUNT,
            "max_meta_overall_size": limits.MAX_META_OVERALL_SIZE,
            "max_header_size": limits.MAX_HEADER_SIZE,
            "max_object_name_length": limits.MAX_OBJECT_NAME_LENGTH,
            "max_container_name_length": limits.MAX_CONTAINER_NAME_LENGTH,
            "max_account_name_length": limits.MAX_ACCOUNT_NAME_LENGTH,
            "container_listing_limit": limits.CONTAINER_LISTING_LIMIT,
            "account_listing_limit": limits.ACCOUNT_LISTING_LIMIT,
            "extra_header_count": limits.EXTRA_HEADER_COUNT,
            "valid_api_versions": list(limits.VALID_API_VERSIONS),
            "account_autocreate": config.proxy.account_autocreate,
            "allow_account_management": False,
            "strict_cors_mode": True,
            "policies": _policies_info(config),
        },
        "tempauth": {"account_acls": True},  # proxy/account_acl.py
        # The S3 API (proxy/s3/) on this port, described as Swift's s3api middleware would be.
        "s3api": {"max_bucket_listing": 1000, "max_parts_listing": 1000,
                  "max_upload_part_num": 10000, "max_multi_delete_objects": 1000,
                  "allow_multipart_uploads": True, "min_segment_size": config.s3.min_part_size,
                  "s3_acl": True},
        "container_quotas": {},
        "account_quotas": {},
        "bulk_delete": {"max_deletes_per_request": 10000, "max_failed_deletes": 1000},
        "etag_quoter": {"enable_by_default": False},  # proxy/etag_quoter.py
        "bulk_upload": {"max_containers_per_extraction": 10000,  # proxy/bulk_upload.py
                        "max_failed_extractions": 1000},
        "slo": {"max_manifest_segments": 1000, "max_manifest_size": 8388608,
                "min_segment_size": 1, "yield_frequency": 10},
        "dlo": {"max_segments": 10000},
        "symlink": {"symloop_max": 2, "static_links": True},
        **({"domain_remap": {}} if config.proxy.storage_domain else {}),
        "staticweb": {},
        "versioned_writes": {"allowed_flags": ["x-versions-location", "x-history-location"]},
        "object_versioning": {},  # X-Versions-Enabled (proxy/objver/)
        "formpost": {"allowed_digests": list(formpost.DIGESTS)},
        "tempurl": {"methods": ["GET", "HEAD", "PUT", "POST", "DELETE"],
                    "incoming_remove_headers": ["x-timestamp"],
                    "incoming_allow_headers": [],
                    "outgoing_remove_headers": ["x-object-meta-*"],
                    "outgoing_allow_headers": ["x-object-meta-public-*"],
                    "allowed_digests": ["sha1", "sha256", "sha512"]},
    }


def _policies_info(config) -> list[dict]:
    """swift.policies: name, aliases and the default flag of each storage policy (ring.policies)."""
    from ring.policies import from_config

    return from_config(config).info()


async def info(request: web.Request) -> web.Response:
    if request.method not in ("GET", "HEAD"):
        raise SwiftError(405, "Method Not Allowed")
    caps = capabilities(request.app[CONFIG])
    return web.Response(body=json.dumps(caps).encode(), content_type="application/json",
                        charset="utf-8")


async def healthcheck(request: web.Request) -> web.Response:
    return web.Response(text="OK")
