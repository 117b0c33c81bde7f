"""AWS Signature Version 2 (header `Authorization: AWS key:sig` and presigned `?AWSAccessKeyId=
&Expires=&Signature=`), sans-I/O. Older clients and boto3's default presigned URLs use it.

StringToSign = VERB \\n Content-MD5 \\n Content-Type \\n Date-or-Expires \\n
               canonical x-amz-* headers + canonical resource (path as sent, plus the listed
               subresources). With x-amz-date present the Date line is empty.
"""
from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import hmac
from email.utils import parsedate_to_datetime

from proxy.s3.errors import S3Error

SUBRESOURCES = {"acl", "cors", "delete", "lifecycle", "location", "logging", "notification",
                "partNumber", "policy", "requestPayment", "tagging", "torrent", "uploadId",
                "uploads", "versionId", "versioning", "versions", "website", "restore",
                "response-cache-control", "response-content-disposition",
                "response-content-encoding", "response-content-language",
                "response-content-type", "response-expires", "attributes",
                "ownershipControls", "publicAccessBlock", "policyStatus", "object-lock",
                "legal-hold", "retention", "encryption", "replication", "accelerate"}
# The subresources AWS's SigV2 documentation lists (plus delete, cors, restore and tagging, which
# every SDK signs). Clients disagree about the newer ones above: s3cmd leaves ownershipControls and
# publicAccessBlock out of what it signs, botocore leaves out publicAccessBlock and encryption, as
# AWS itself does; so a signature that does not match with SUBRESOURCES is tried with these alone.
DOCUMENTED = {"acl", "cors", "delete", "lifecycle", "location", "logging", "notification",
              "partNumber", "policy", "requestPayment", "tagging", "torrent", "uploadId",
              "uploads", "versionId", "versioning", "versions", "website", "restore",
              "response-cache-control", "response-content-disposition",
              "response-content-encoding", "response-content-language",
              "response-content-type", "response-expires"}


@dataclasses.dataclass(frozen=True)
class SignedV2:
    access_key: str
    signature: str
    expires: int | None     # presigned: epoch seconds


def parse(headers: dict[str, str], query: dict[str, str]) -> SignedV2 | None:
    auth = headers.get("authorization")
    if auth is not None and auth.startswith("AWS "):
        access, sep, signature = auth[4:].strip().rpartition(":")
        if not sep or not access:
            raise S3Error("AccessDenied", "AWS authorization header is invalid. Expected "
                          "AwsAccessKeyId:signature")
        return SignedV2(access, signature, None)
    if "AWSAccessKeyId" in query and "Signature" in query:
        expires = query.get("Expires", "")
        if not expires.isdigit():
            raise S3Error("AccessDenied", "Query-string authentication requires the Signature, "
                          "Expires and AWSAccessKeyId parameters")
        return SignedV2(query["AWSAccessKeyId"], query["Signature"], int(expires))
    return None


def string_to_sign(method: str, headers: dict[str, str], raw_path: str, query: dict[str, str],
                   expires: int | None, bucket_prefix: str = "",
                   subresources: set[str] = SUBRESOURCES) -> str:
    amz = sorted((k, v.strip()) for k, v in headers.items() if k.startswith("x-amz-"))
    amz_text = "".join(f"{k}:{v}\n" for k, v in amz)
    if expires is not None:
        date = str(expires)
    elif "x-amz-date" in headers:
        date = ""
    else:
        date = headers.get("date", "")
    subs = sorted((k, v) for k, v in query.items() if k in subresources)
    resource = bucket_prefix + raw_path
    if subs:
        resource += "?" + "&".join(k if v == "" else f"{k}={v}" for k, v in subs)
    return "\n".join([method, headers.get("content-md5", ""), headers.get("content-type", ""),
                      date, amz_text + resource])


def verify(signed: SignedV2, secret: str, method: str, headers: dict[str, str], raw_path: str,
           query: dict[str, str], now: dt.datetime, max_skew: int,
           bucket_prefix: str = "") -> None:
    if signed.expires is not None:
        if now.timestamp() > signed.expires:
            raise S3Error("AccessDenied", "Request has expired")
        if signed.expires >= 2 ** 31:  # past 2038: not a time this signature scheme can mean
            raise S3Error("AccessDenied", "Invalid date (should be seconds since epoch): "
                          f"{signed.expires}")
    else:
        value = headers.get("x-amz-date") or headers.get("date")
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            raise S3Error("AccessDenied", "AWS authentication requires a valid Date or "
                          "x-amz-date header") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.timezone.utc)
        if abs((now - when).total_seconds()) > max_skew:
            raise S3Error("RequestTimeTooSkewed")
    paths = [raw_path]
    resource = bucket_prefix + raw_path
    if resource.count("/") == 1 and len(resource) > 1:
        # A bucket request: botocore (and S3) sign path-style "/bucket" as "/bucket/".
        paths.append(raw_path + "/")
    sets = [SUBRESOURCES]
    if any(k in SUBRESOURCES and k not in DOCUMENTED for k in query):
        sets.append(DOCUMENTED)
    for subresources in sets:
        for path in paths:
            text = string_to_sign(method, headers, path, query, signed.expires, bucket_prefix,
                                  subresources)
            expected = base64.b64encode(hmac.new(secret.encode(), text.encode("utf-8"),
                                                 hashlib.sha1).digest()).decode()
            if hmac.compare_digest(expected, signed.signature):
                return
    text = string_to_sign(method, headers, raw_path, query, signed.expires, bucket_prefix)
    raise S3Error("SignatureDoesNotMatch", AWSAccessKeyId=signed.access_key, StringToSign=text)
