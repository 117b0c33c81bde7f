"""POST Object: browser form uploads (multipart/form-data) authorised by a signed policy document.

The form's fields come first, the `file` field last; the policy (base64 JSON) is checked for its
signature (SigV4: x-amz-signature over the policy with the credential's signing key; SigV2:
signature), its expiration and every condition, and every form field must be allowed by a
condition. The file streams to the object's PUT, its size checked against content-length-range
before the last piece is sent (so a refused upload is never committed).
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
from urllib.parse import urlencode

from aiohttp import web

from proxy.errors import SwiftError
from proxy.s3 import access, common, objects, sigv4, xmlio
from proxy.s3.errors import S3Error

MAX_FIELD = 20 * 1024
IGNORED = ("policy", "x-amz-signature", "signature", "awsaccesskeyid", "file")


async def _fields(request: web.Request):
    try:
        reader = await request.multipart()
    except (AssertionError, ValueError, KeyError):
        raise S3Error("MalformedPOSTRequest") from None
    fields: dict[str, str] = {}
    while True:
        try:
            part = await reader.next()
        except ValueError:
            raise S3Error("MalformedPOSTRequest") from None
        if part is None:
            raise S3Error("InvalidArgument", "POST requires exactly one file upload per request.",
                          ArgumentName="file", ArgumentValue=0)
        name = (part.name or "").lower()
        if name == "file":
            return fields, part
        value = await part.read(decode=False)
        if len(value) > MAX_FIELD:
            raise S3Error("MaxMessageLengthExceeded")
        fields[name] = value.decode("utf-8", "replace")


async def _credential_principal(s3, fields):
    """(principal, policy) after checking the form's signature, or (None, None) if anonymous."""
    policy_b64 = fields.get("policy")
    if policy_b64 is None:
        return None, None
    if "x-amz-signature" in fields:
        cred = sigv4._parse_credential(fields.get("x-amz-credential", ""), presigned=True)
        principal = await s3_credentials(s3).lookup(cred.access_key)
        key = sigv4.signing_key(principal.secret, cred.date, cred.region, cred.service)
        expected = hmac.new(key, policy_b64.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, fields["x-amz-signature"]):
            raise S3Error("SignatureDoesNotMatch")
    elif "signature" in fields and "awsaccesskeyid" in fields:
        principal = await s3_credentials(s3).lookup(fields["awsaccesskeyid"])
        expected = base64.b64encode(hmac.new(principal.secret.encode(), policy_b64.encode(),
                                             hashlib.sha1).digest()).decode()
        if not hmac.compare_digest(expected, fields["signature"]):
            raise S3Error("SignatureDoesNotMatch")
    else:
        raise S3Error("InvalidArgument", "Bucket POST must contain a field named "
                      "'x-amz-signature'.", ArgumentName="x-amz-signature")
    try:
        policy = json.loads(base64.b64decode(policy_b64, validate=True))
        assert isinstance(policy, dict)
    except (binascii.Error, ValueError, AssertionError):
        raise S3Error("InvalidPolicyDocument", "Invalid Policy: Invalid JSON.", status=400) \
            from None
    return principal, policy


def s3_credentials(s3):
    return s3.request["s3_credentials"]


def _check_policy(policy: dict, fields: dict[str, str]) -> tuple[int, int] | None:
    """Raise AccessDenied unless the form satisfies the policy; the content-length-range."""
    expiration = policy.get("expiration")
    try:
        when = dt.datetime.fromisoformat(str(expiration).replace("Z", "+00:00"))
    except ValueError:
        raise S3Error("InvalidPolicyDocument", "Invalid Policy: Invalid 'expiration' value.",
                      status=400) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    if when < dt.datetime.now(dt.timezone.utc):
        raise S3Error("AccessDenied", "Invalid according to Policy: Policy expired.")
    covered = set()
    length_range = None
    for condition in policy.get("conditions", []):
        if isinstance(condition, dict):
            for name, value in condition.items():
                name = name.lower().lstrip("$")
                covered.add(name)
                if fields.get(name) != str(value):
                    raise S3Error("AccessDenied", f"Invalid according to Policy: Policy "
                                  f"Condition failed: [\"eq\", \"${name}\", \"{value}\"]")
        elif isinstance(condition, list) and len(condition) == 3:
            op = str(condition[0]).lower()
            if op == "content-length-range":
                length_range = (int(condition[1]), int(condition[2]))
                continue
            name = str(condition[1]).lower().lstrip("$")
            covered.add(name)
            value = fields.get(name, "")
            if op == "eq" and value != str(condition[2]) or \
                    op == "starts-with" and not value.startswith(str(condition[2])):
                raise S3Error("AccessDenied", f"Invalid according to Policy: Policy Condition "
                              f"failed: {json.dumps(condition)}")
            if op not in ("eq", "starts-with"):
                raise S3Error("InvalidPolicyDocument", "Invalid Policy: Invalid condition.",
                              status=400)
        else:
            raise S3Error("InvalidPolicyDocument", "Invalid Policy: Invalid condition.",
                          status=400)
    for name in fields:
        if name in IGNORED or name.startswith("x-ignore-") or name in covered or name in (
                "x-amz-credential", "x-amz-algorithm", "x-amz-date", "bucket"):
            continue
        raise S3Error("AccessDenied", f"Invalid according to Policy: Extra input fields: {name}")
    return length_range


async def post_object(s3, credentials):
    s3.request["s3_credentials"] = credentials
    bucket = await common.find_bucket(s3)
    fields, file_part = await _fields(s3.request)
    fields["bucket"] = bucket.name
    principal, policy = await _credential_principal(s3, fields)
    length_range = _check_policy(policy, fields) if policy is not None else None
    key = fields.get("key")
    if not key:
        raise S3Error("InvalidArgument", "Bucket POST must contain a field named 'key'.",
                      ArgumentName="key")
    key = key.replace("${filename}", file_part.filename or "")
    headers = {k: v for k, v in fields.items() if k.startswith("x-amz-meta-") or k in (
        "content-type", "content-disposition", "content-encoding", "cache-control", "expires")}
    if "acl" in fields:
        headers["x-amz-acl"] = fields["acl"]
    if "tagging" in fields:
        root = xmlio.parse(fields["tagging"].encode(), "Tagging")
        pairs = [(xmlio.text(t, "Key") or "", xmlio.text(t, "Value") or "")
                 for t in xmlio.children(xmlio.child(root, "TagSet") or root, "Tag")]
        headers["x-amz-tagging"] = urlencode(pairs)
    s3 = dataclasses.replace(s3, principal=principal, key=key, headers=headers)
    access.check(s3, bucket, "s3:PutObject", "WRITE", key)
    node_headers = objects.new_object_headers(s3, bucket)

    async def body():
        size, held = 0, None
        while True:
            chunk = await file_part.read_chunk(65536)
            if not chunk:
                break
            size += len(chunk)
            if length_range and size > length_range[1]:
                raise S3Error("EntityTooLarge", "Your proposed upload exceeds the maximum "
                              "allowed size")
            if held is not None:
                yield held
            held = bytes(chunk)
        if length_range and size < length_range[0]:
            raise S3Error("EntityTooSmall", "Your proposed upload is smaller than the minimum "
                          "allowed size")
        if held is not None:
            yield held

    try:
        result = await s3.core.object_put(bucket.account, bucket.name, key, node_headers,
                                          body(), None)
    except SwiftError as exc:
        raise common.swift_error(exc, s3, "bucket" if exc.status == 404 else "key") from None
    etag = f'"{(result.headers.get("ETag") or "").strip(chr(34))}"'
    location = f"{s3.request.scheme}://{s3.request.host}/{bucket.name}/{key}"
    redirect = fields.get("success_action_redirect") or fields.get("redirect")
    if redirect:
        sep = "&" if "?" in redirect else "?"
        target = redirect + sep + urlencode({"bucket": bucket.name, "key": key, "etag": etag})
        return common.empty(303, {"Location": target, "ETag": etag})
    status = fields.get("success_action_status", "204")
    if status == "201":
        root = xmlio.document("PostResponse", namespace=False)
        xmlio.add(root, "Location", location)
        xmlio.add(root, "Bucket", bucket.name)
        xmlio.add(root, "Key", key)
        xmlio.add(root, "ETag", etag)
        return common.xml_response(root, 201, {"ETag": etag, "Location": location})
    return common.empty(200 if status == "200" else 204, {"ETag": etag, "Location": location})
