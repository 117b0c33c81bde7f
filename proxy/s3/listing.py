"""ListObjects (V1) and ListObjectsV2 over the container listing.

Swift's listing already does prefix, delimiter (subdir rows), marker and limit. A common prefix
returned as the last row must not come back on the next page: the next page starts after every
key under it (marker = prefix + U+10FFFF, above any key that continues the prefix).
"""
from __future__ import annotations

import base64
import datetime as dt
import json
from urllib.parse import quote

from proxy.s3 import access, common, xmlio
from proxy.s3.errors import S3Error

MAX_KEYS = 1000
AFTER_ALL = "\U0010ffff"


def _int_arg(s3, name: str, default: int) -> int:
    value = s3.query.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise S3Error("InvalidArgument", f"Provided {name} not an integer or within integer "
                      "range", ArgumentName=name, ArgumentValue=value) from None
    if number < 0:
        raise S3Error("InvalidArgument", f"Argument {name} must be an integer between 0 and "
                      "2147483647", ArgumentName=name, ArgumentValue=value)
    return number


def swift_marker(marker: str, delimiter: str) -> str:
    if delimiter and marker.endswith(delimiter):
        return marker + AFTER_ALL
    return marker


async def fetch(s3, bucket, prefix: str, delimiter: str, marker: str, limit: int):
    """(rows, truncated): at most `limit` listing rows after `marker`."""
    rows: list[dict] = []
    if limit == 0:
        return rows, False
    query = {"format": "json", "prefix": prefix, "marker": swift_marker(marker, delimiter),
             "limit": str(min(limit + 1, 10000))}
    if len(delimiter) == 1:  # Swift's listing splits on one character; longer ones: below
        query["delimiter"] = delimiter
    result = await s3.core.container_read("GET", bucket.account, bucket.name, query)
    if result.status == 404:
        raise S3Error("NoSuchBucket", BucketName=bucket.name)
    if result.status // 100 != 2:
        raise S3Error("ServiceUnavailable")
    got = json.loads(result.body or b"[]")
    from proxy.objver import listing as objver_listing, names as objver_names
    # a versioned bucket lists each key's link as the version it names
    objver_listing.decorate(got, bucket.name, objver_names.versions_container(bucket.name), False)
    if len(delimiter) > 1:
        got = _multi_char_delimiter(got, prefix, delimiter)
    return got[:limit], len(got) > limit


def _multi_char_delimiter(rows, prefix: str, delimiter: str) -> list[dict]:
    """Swift splits on one character; S3 allows longer delimiters: group the rows here."""
    out, seen = [], set()
    for row in rows:
        name = row.get("name") or row.get("subdir", "")
        rest = name[len(prefix):]
        at = rest.find(delimiter)
        if at >= 0:
            common_prefix = prefix + rest[:at + len(delimiter)]
            if common_prefix not in seen:
                seen.add(common_prefix)
                out.append({"subdir": common_prefix})
        else:
            out.append(row)
    return out


def row_seconds(row) -> float:
    value = row.get("last_modified", "")
    try:
        return dt.datetime.fromisoformat(value).replace(tzinfo=dt.timezone.utc).timestamp()
    except ValueError:
        return 0.0


def _encoder(s3):
    kind = s3.query.get("encoding-type")
    if kind is None:
        return lambda text: text
    if kind != "url":
        raise S3Error("InvalidArgument", "Invalid Encoding Method specified in Request",
                      ArgumentName="encoding-type", ArgumentValue=kind)
    return lambda text: quote(text, safe="/")


def add_contents(root, row, encode, owner: str | None) -> None:
    item = xmlio.add(root, "Contents")
    xmlio.add(item, "Key", encode(row["name"]))
    xmlio.add(item, "LastModified", common.iso8601(row_seconds(row)))
    etag = row.get("hash", "")
    xmlio.add(item, "ETag", f'"{etag}"')
    xmlio.add(item, "Size", row.get("bytes", 0))
    if owner is not None:
        owner_el = xmlio.add(item, "Owner")
        xmlio.add(owner_el, "ID", owner)
        xmlio.add(owner_el, "DisplayName", owner)
    xmlio.add(item, "StorageClass", "STANDARD")


async def list_objects(s3):
    bucket = await common.find_bucket(s3)
    access.check(s3, bucket, "s3:ListBucket", "READ")
    v2 = s3.query.get("list-type") == "2"
    if "list-type" in s3.query and not v2:
        raise S3Error("InvalidArgument", "Invalid List Type specified in Request",
                      ArgumentName="list-type", ArgumentValue=s3.query["list-type"])
    encode = _encoder(s3)
    prefix = s3.query.get("prefix", "")
    delimiter = s3.query.get("delimiter", "")
    max_keys = min(_int_arg(s3, "max-keys", MAX_KEYS), MAX_KEYS)
    if v2:
        token = s3.query.get("continuation-token")
        if token is not None:
            try:
                marker = base64.urlsafe_b64decode(token.encode()).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                raise S3Error("InvalidArgument", "The continuation token provided is incorrect",
                              ArgumentName="continuation-token") from None
        else:
            marker = s3.query.get("start-after", "")
    else:
        marker = s3.query.get("marker", "")
    rows, truncated = await fetch(s3, bucket, prefix, delimiter, marker, max_keys)
    root = xmlio.document("ListBucketResult")
    xmlio.add(root, "Name", bucket.name)
    xmlio.add(root, "Prefix", encode(prefix))
    if v2:
        if "start-after" in s3.query:
            xmlio.add(root, "StartAfter", encode(s3.query["start-after"]))
        if "continuation-token" in s3.query:
            xmlio.add(root, "ContinuationToken", s3.query["continuation-token"])
        xmlio.add(root, "KeyCount", len(rows))
    else:
        xmlio.add(root, "Marker", encode(marker))
    xmlio.add(root, "MaxKeys", max_keys)
    if delimiter:
        xmlio.add(root, "Delimiter", encode(delimiter))
    if "encoding-type" in s3.query:
        xmlio.add(root, "EncodingType", "url")
    xmlio.add(root, "IsTruncated", "true" if truncated else "false")
    if truncated and rows:
        last = rows[-1].get("name") or rows[-1].get("subdir")
        if v2:
            xmlio.add(root, "NextContinuationToken",
                      base64.urlsafe_b64encode(last.encode("utf-8")).decode())
        elif delimiter:
            xmlio.add(root, "NextMarker", encode(last))
    owner = access.shown_id(s3, bucket.owner) if (not v2 or common.truthy(s3.query.get("fetch-owner"))) else None
    for row in rows:
        if "name" in row:
            add_contents(root, row, encode, owner)
    for row in rows:
        if "subdir" in row:
            xmlio.add(xmlio.add(root, "CommonPrefixes"), "Prefix", encode(row["subdir"]))
    return common.xml_response(root)
