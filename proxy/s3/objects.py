"""Object operations: PutObject, GetObject/HeadObject (ranges, partNumber, conditionals, response-*
overrides, checksums), DeleteObject.

Bodies stream both ways; a PUT body is verified as it passes (proxy/s3/body.py) and the object is
committed only when every check passed. A checksum that arrives in a trailer is known only after
the body, so it is added with a metadata POST that re-sends the object's POST-able metadata.
"""
from __future__ import annotations

import json
import time
from urllib.parse import parse_qsl

from aiohttp import web
from multidict import CIMultiDict

from proxy import conditional, large, limits
from proxy.errors import SwiftError
from proxy.handlers.common import NoContent
from proxy.handlers.common import relay
from proxy.s3 import access, bucket_config, common, sse, versioning
from proxy.s3 import acl as acl_mod
from proxy.s3.body import object_length, read_ahead_if_small, verified_body
from proxy.s3.errors import S3Error
from proxy.s3 import payload

CHECKSUM = common.OBJ_SYSMETA + "Checksum"          # "<algorithm>:<base64>"
TAGGING = common.OBJ_SYSMETA + "Tagging"            # JSON [[key, value], ...]
ACL = common.OBJ_SYSMETA + "Acl"
EXPIRATION_RULE = common.OBJ_SYSMETA + "Expiration-Rule"  # which rule set X-Delete-At
SWIFT_EXPIRATION_RULE = "swift-object-expiration"          # the client's own X-Delete-At/After
CONDITIONAL = ("if-match", "if-none-match", "if-modified-since", "if-unmodified-since")
RESPONSE_OVERRIDES = {"response-content-type": "Content-Type",
                      "response-content-language": "Content-Language",
                      "response-expires": "Expires", "response-cache-control": "Cache-Control",
                      "response-content-disposition": "Content-Disposition",
                      "response-content-encoding": "Content-Encoding"}
ANSWER_HEADERS = frozenset(("content-type", "content-length", "content-range", "last-modified",
                  "accept-ranges", "content-disposition", "content-encoding", "content-language",
                  "cache-control", "expires", "x-robots-tag"))
_READ_MODIFIERS = frozenset(CONDITIONAL + ("range",))  # a GET/HEAD with one: HEAD first
_NO_HEADERS = CIMultiDict()  # (read-only: never handed out)
ODD_META = common.ODD_META
MAX_TAGS = 10
_POST_KEYS = tuple(k.lower() for k in common.POST_KEYS)
# (name as S3 sends it, as stored: "content-type" -> "Content-Type"), spelled once, not per PUT
_STORED_NAMES = tuple((n, "-".join(p.capitalize() for p in n.split("-")))
                      for n in common.STORED_HEADERS)


def parse_tagging_header(value: str) -> list[list[str]]:
    pairs = parse_qsl(value, keep_blank_values=True)
    check_tags(pairs)
    return [[k, v] for k, v in pairs]


def check_tags(pairs) -> None:
    keys = [k for k, _ in pairs]
    if len(pairs) > MAX_TAGS:
        raise S3Error("InvalidTag", "Object tags cannot be greater than 10")
    if len(set(keys)) != len(keys):
        raise S3Error("InvalidTag", "Cannot provide multiple Tags with the same key")
    for key, value in pairs:
        if not key or len(key) > 128 or len(value) > 256:
            raise S3Error("InvalidTag", "The TagKey or TagValue you have provided is invalid")


def new_object_headers(s3, bucket: common.Bucket) -> dict[str, str]:
    """The Swift headers that store an S3 object's metadata, from the request's headers."""
    out: dict[str, str] = {}
    for name, swift_name in _STORED_NAMES:
        value = s3.headers.get(name)
        if value is None:
            continue
        if name == "content-encoding":
            value = payload.stored_content_encoding(s3.headers)
            if not value:
                continue
        out[swift_name] = value
    out.setdefault("Content-Type", "binary/octet-stream")
    out.update(common.user_meta_to_swift(s3.headers))
    writer = s3.principal.account if s3.principal else bucket.owner
    acl = acl_mod.from_headers(s3.headers, writer, bucket.owner)
    if acl is not None:
        access.refuse_acl(bucket, acl)
        out[ACL] = acl.to_json()
    if "x-amz-tagging" in s3.headers:
        out[TAGGING] = json.dumps(parse_tagging_header(s3.headers["x-amz-tagging"]))
    storage_class = s3.headers.get("x-amz-storage-class", "STANDARD")
    if storage_class not in ("STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA",
                             "INTELLIGENT_TIERING", "GLACIER_IR"):
        raise S3Error("InvalidStorageClass", StorageClassRequested=storage_class)
    # SSE-S3 is recorded for every write that makes an object (PUT, copy, multipart upload,
    # POST form); the others are features this store does not have, whatever their value
    encryption = s3.headers.get("x-amz-server-side-encryption")
    if encryption is not None:
        if encryption != "AES256":
            raise common_not_implemented(f"Server-side encryption {encryption}")
        out[sse.SSE] = "AES256"
    for name in ("x-amz-website-redirect-location", "x-amz-object-lock-mode"):
        if name in s3.headers:
            raise common_not_implemented(name)
    expires = bucket_config.expiry_for(bucket, s3.key, time.time())
    own = _client_delete_at(s3)
    if own is not None:  # Swift's X-Delete-At / X-Delete-After pass through, as in Swift's s3api
        out["X-Delete-At"] = own
    elif expires is not None:  # lifecycle Expiration: the expirer deletes it (X-Delete-At)
        out["X-Delete-At"] = str(expires)
        out[EXPIRATION_RULE] = "lifecycle"
    return out


def _client_delete_at(s3) -> str | None:
    if "x-delete-at" not in s3.headers and "x-delete-after" not in s3.headers:
        return None  # (most PUTs)
    given = {name: s3.headers[name.lower()] for name in ("X-Delete-At", "X-Delete-After")
             if name.lower() in s3.headers}
    try:
        return limits.delete_at_header(given)
    except SwiftError as exc:  # Swift's own words ("X-Delete-At in past", "Non-integer ...")
        raise S3Error("InvalidArgument", exc.body.decode() if isinstance(exc.body, bytes)
                      else str(exc.body)) from None


def expiration_header(delete_at: str, rule: str | None) -> str:
    """x-amz-expiration for an object that X-Delete-At will remove."""
    return (f'expiry-date="{common.http_date(int(delete_at))}", '
            f'rule-id="{rule or SWIFT_EXPIRATION_RULE}"')


def common_not_implemented(what: str) -> S3Error:
    from proxy.s3.errors import not_implemented
    return not_implemented(what)


def refuse_unsupported_conditions(s3, *, etag_match: bool) -> None:
    """501 for the write conditions Swift's s3api does not evaluate: If-(Un)Modified-Since,
    If-None-Match other than "*", and If-Match ("*" always; ETags unless `etag_match`, which
    PutObject evaluates as S3's conditional write does)."""
    im, inm = s3.headers.get("if-match"), s3.headers.get("if-none-match")
    if any(h in s3.headers for h in ("if-modified-since", "if-unmodified-since")) or \
            (inm is not None and inm.strip() != "*") or \
            (im is not None and (im.strip() == "*" or not etag_match)):
        raise S3Error("NotImplemented", "Conditional object PUTs are not supported.")


async def refuse_if_exists(s3, bucket) -> None:
    """If-None-Match: * : PreconditionFailed when the key already names an object."""
    if (s3.headers.get("if-none-match") or "").strip() != "*":
        return
    head = await s3.core.object_read("HEAD", bucket.account, bucket.name, s3.key)
    head.close()
    if head.status // 100 == 2:
        raise S3Error("PreconditionFailed", Condition="If-None-Match")


async def _check_put_conditions(s3, bucket) -> None:
    inm, im = s3.headers.get("if-none-match"), s3.headers.get("if-match")
    refuse_unsupported_conditions(s3, etag_match=True)
    if inm is None and im is None:
        return
    head = await s3.core.object_read("HEAD", bucket.account, bucket.name, s3.key)
    head.close()
    exists = head.status // 100 == 2
    etag = (head.headers.get("ETag") or "").strip('"')
    if inm is not None and exists:  # "*", the only form left
        raise S3Error("PreconditionFailed", Condition="If-None-Match")
    if im is not None:
        if not exists:
            raise S3Error("NoSuchKey", Key=s3.key)
        wanted = [e.strip().strip('"') for e in im.split(",")]
        if "*" not in wanted and etag not in wanted:
            raise S3Error("PreconditionFailed", Condition="If-Match")


async def put(s3):
    bucket = await common.find_bucket(s3)
    access.check(s3, bucket, "s3:PutObject", "WRITE", s3.key)
    if "x-amz-copy-source" in s3.headers:
        from proxy.s3 import copy
        return await copy.copy_object(s3, bucket)
    verifier = payload.verifier_for(s3)
    length = object_length(s3, verifier)
    if length is not None and length > s3.max_file_size:
        raise S3Error("EntityTooLarge", ProposedSize=length, MaxSizeAllowed=s3.max_file_size)
    headers = new_object_headers(s3, bucket)
    encryption = sse.for_write(s3, headers)
    await _check_put_conditions(s3, bucket)
    source = await checked_source(s3, verifier, length, headers)
    sha256_check = None
    if encryption is not None:
        # (the store sees ciphertext: the verifier checks the payload hash and MD5)
        source = encryption.encrypt(source)
    else:
        store_md5(verifier, headers)
        sha256_check = verifier.sha256_for_store()
    try:
        result = await s3.core.object_put(bucket.account, bucket.name, s3.key, headers, source,
                                          node_length(length), sha256_check=sha256_check)
    except SwiftError as exc:
        raise put_error(exc, s3, verifier) from None
    if result.status == 202:
        # a newer write of the key is stored (core.object_put): this one lost the race, a
        # success with nothing to report (s3api's answer too; S3 itself: the last writer wins)
        return common.empty(200, {})
    if verifier.checksum_value and CHECKSUM not in headers:
        headers[CHECKSUM] = f"{verifier.checksum_algorithm}:{verifier.checksum_value}"
        await repost(s3, bucket, s3.key, headers)
    out = {"ETag": f'"{(result.headers.get("ETag") or "").strip(chr(34))}"'}
    out.update(versioning.put_headers(result))  # x-amz-version-id
    if "X-Delete-At" in headers:
        out["x-amz-expiration"] = expiration_header(headers["X-Delete-At"],
                                                    headers.get(EXPIRATION_RULE))
    out.update(sse.response_headers(headers))  # SSE-S3's x-amz-server-side-encryption
    if encryption is not None:
        out.update(encryption.response_headers())  # SSE-C's algorithm and key MD5
    if verifier.checksum_value:
        out[f"x-amz-checksum-{verifier.checksum_algorithm}"] = verifier.checksum_value
    return common.empty(200, out)


async def checked_source(s3, verifier, length: int | None, headers: dict):
    """The body source of an object or part PUT. Its checksum goes with the PUT (headers) when it
    is known by then -- from a header, or from the trailer of a small body read whole first
    (read_ahead_if_small) -- so no metadata POST to every replica has to follow."""
    if verifier.expected_checksum:
        headers[CHECKSUM] = f"{verifier.checksum_algorithm}:{verifier.expected_checksum}"
    source = await read_ahead_if_small(s3, verifier, length)
    if source is None:
        return verified_body(s3, verifier)
    headers[CHECKSUM] = f"{verifier.checksum_algorithm}:{verifier.checksum_value}"
    return source


def store_md5(verifier, headers: dict) -> None:
    """Content-MD5 checked by the object PUT's own MD5 (the ETag it computes anyway) instead of a
    second MD5 pass in the verifier; see PayloadVerifier.md5_for_store."""
    etag = verifier.md5_for_store()
    if etag is not None:
        headers["ETag"] = etag


def put_error(exc: SwiftError, s3, verifier, missing: str = "bucket") -> S3Error:
    """The S3 error for a failed object or part PUT: 422 is the store's ETag check of
    Content-MD5; a 404 names the `missing` thing ("bucket" for PutObject)."""
    if exc.status == 422 and verifier.md5_left_to_store:
        return verifier.md5_mismatch()
    return common.swift_error(exc, s3, missing if exc.status == 404 else "key")


def node_length(length: int | None) -> int | None:
    """The Content-Length to send the nodes, or None for chunked. A known, non-zero length is
    sent: put_stream holds the last bytes back until the verifying source ended normally (every
    check passed), so no node sees a whole body before then; and the proxy keeps its cached
    container info (counted) instead of dropping it, which would cost the next request on the
    bucket a container HEAD. A zero-length body goes chunked: a node could commit it before the
    (then empty) body was verified."""
    return length if length else None


async def repost(s3, bucket, key: str, headers: dict) -> None:
    """POST an object's complete POST-able metadata (a POST replaces what an earlier POST set)."""
    post = {k: v for k, v in headers.items()
            if k.lower() in _POST_KEYS or k.lower().startswith(("x-object-meta-",
                                                              "x-object-sysmeta-"))}
    result = await s3.core.object_write("POST", bucket.account, bucket.name, key, post)
    if result.status // 100 != 2:
        raise S3Error("ServiceUnavailable")


def stored_post_headers(backend_headers) -> dict[str, str]:
    """What repost() must send again to keep an object's metadata, from its backend headers."""
    out = {}
    for name, value in (backend_headers or {}).items():
        if name.lower() in _POST_KEYS or name.lower().startswith(("x-object-meta-",
                                                                "x-object-sysmeta-s3-")):
            out[name] = value
    return out


def _read_headers(s3, part_range: str | None) -> dict[str, str]:
    out = {}
    for name in CONDITIONAL:
        if name in s3.headers:
            out[name.title()] = s3.headers[name]
    if part_range is not None:
        out["Range"] = part_range
    elif "range" in s3.headers:
        out["Range"] = s3.headers["range"]
    return out


def _part_range(manifest_items: list[dict] | None, size: int, number: int) -> tuple[str, int]:
    """(Range header, parts count) of part `number` of an object."""
    if manifest_items is None:
        if number != 1:
            raise S3Error("InvalidPartNumber", "The requested partnumber is not satisfiable",
                          status=416)
        # A simple object is its own part 1, answered as a range of it (206, as S3 does).
        return ("bytes=0-" if size else None), None
    if number > len(manifest_items):
        raise S3Error("InvalidPartNumber", "The requested partnumber is not satisfiable",
                      status=416)
    start = sum(int(i["bytes"]) for i in manifest_items[:number - 1])
    end = start + int(manifest_items[number - 1]["bytes"]) - 1
    return f"bytes={start}-{end}", len(manifest_items)


async def open_for_read(s3, bucket, key: str, method: str):
    """(Result, parts_count or None) for a GET/HEAD, after the access check; S3Error otherwise."""
    core = s3.core
    part_number = s3.query.get("partNumber")
    if part_number is not None and "range" in s3.headers:
        raise S3Error("InvalidRequest", "Cannot specify both Range header and partNumber query "
                      "parameter")
    if part_number is not None and (not part_number.isdigit() or not 1 <= int(part_number) <= 10000):
        raise S3Error("InvalidArgument", "Part number must be an integer between 1 and 10000, "
                      "inclusive", ArgumentName="partNumber", ArgumentValue=part_number)
    if part_number is None and access.is_owner(s3, bucket) and \
            _READ_MODIFIERS.isdisjoint(s3.headers):
        # The common case (owner, whole object): one node request, not HEAD then GET.
        access.check(s3, bucket, "s3:GetObject", "READ", key)  # a policy Deny still binds
        result = await core.object_read(method, bucket.account, bucket.name, key)
        bh = result.backend_headers or CIMultiDict()
        if result.status == 404:
            result.close()
            raise S3Error("NoSuchKey", Key=key)
        if result.status // 100 == 2 and not sse.is_encrypted(bh):
            sse.check_read(s3, bh)
            if not large.is_slo(bh):
                return result, None
            try:  # (a HEAD's answer is a manifest too: read_slo fetches the body it needs)
                return await large.read_slo(core, bucket.account, bucket.name, key, result, {},
                                            method), None
            except SwiftError as exc:
                raise common.swift_error(exc, s3) from None
        result.close()
    head = await core.object_read("HEAD", bucket.account, bucket.name, key)
    head.close()
    if head.status == 404:
        raise S3Error("NoSuchKey", Key=key)
    if head.status // 100 != 2:
        raise S3Error("ServiceUnavailable")
    bh = head.backend_headers or CIMultiDict()
    access.check(s3, bucket, "s3:GetObject", "READ", key, access.object_acl(bh, bucket))
    sse.check_read(s3, bh)
    slo = large.is_slo(bh)
    items = None
    if slo and (part_number is not None):
        manifest = await core.object_read("GET", bucket.account, bucket.name, key)
        items = large.parse_stored_manifest(await manifest.read())
    parts = None
    part_range = None
    if part_number is not None:
        size = int(head.headers.get("Content-Length", "0") or 0)
        part_range, parts = _part_range(items, size, int(part_number))
    req_headers = CIMultiDict(_read_headers(s3, part_range))
    if sse.is_encrypted(bh):
        return await sse.read(s3, bucket, key, method, head, req_headers), parts
    try:
        if slo:
            result = await large.read_slo(core, bucket.account, bucket.name, key, head,
                                          req_headers, method)
        else:
            result = await core.object_read(method, bucket.account, bucket.name, key,
                                            headers=dict(req_headers))
    except SwiftError as exc:
        raise common.swift_error(exc, s3) from None
    return result, parts


def answer_headers(s3, result, parts: int | None) -> CIMultiDict:
    bh = result.backend_headers or _NO_HEADERS
    out = CIMultiDict()
    meta = []
    etag = delete_at = None
    # One pass over the answer: its headers, metadata, ETag and X-Delete-At (first wins, as get()).
    for name, value in result.headers.items():
        lname = name.lower()
        if lname in ANSWER_HEADERS:
            out[name] = value
        elif lname.startswith("x-object-meta-"):
            meta.append(("x-amz-meta-" + lname[14:], value))
        elif lname == "etag":
            etag = value if etag is None else etag
        elif lname == "x-delete-at":
            delete_at = value if delete_at is None else delete_at
    if meta:
        out.update(meta)
    if ODD_META in bh and bh[ODD_META]:  # (user metadata named outside HTTP tokens, as stored)
        out.update(common.swift_meta_to_s3({}, bh))
    etag = (etag or "").strip('"')
    if etag:
        out["ETag"] = f'"{etag}"'
    if "Last-Modified" not in out and bh.get("X-Timestamp"):
        out["Last-Modified"] = common.http_date(common.timestamp_of(bh))
    out.setdefault("Accept-Ranges", "bytes")
    tags = bh.get(TAGGING)
    if tags:
        try:
            out["x-amz-tagging-count"] = str(len(json.loads(tags)))
        except ValueError:
            pass
    if parts is not None:
        out["x-amz-mp-parts-count"] = str(parts)
    delete_at = delete_at or bh.get("X-Delete-At")
    if delete_at and delete_at.isdigit():
        out["x-amz-expiration"] = expiration_header(delete_at, bh.get(EXPIRATION_RULE))
    checksum = bh.get(CHECKSUM)
    if checksum and s3.headers.get("x-amz-checksum-mode", "").upper() == "ENABLED" and \
            (parts is None or parts == 1) and result.status == 200:
        algorithm, _, value = checksum.partition(":")
        out[f"x-amz-checksum-{algorithm}"] = value
        if "-" in value:
            out["x-amz-checksum-type"] = "COMPOSITE"
    if s3.principal is not None and s3.query:
        for param, header in RESPONSE_OVERRIDES.items():
            if param in s3.query:
                out[header] = s3.query[param]
    if sse.SSE in bh or sse.KEY_HMAC in bh:  # (most objects: neither)
        out.update(sse.response_headers(bh))
        if sse.is_encrypted(bh) and sse.PREFIX + "key-md5" in s3.headers:
            out[sse.PREFIX + "key-MD5"] = s3.headers[sse.PREFIX + "key-md5"]
    return out


class BodyResponse(web.StreamResponse):
    """A streamed answer whose head goes out with the first body bytes: one send to the client
    for a small object instead of two (aiohttp's own web.Response buffers its head the same
    way; a StreamResponse sends it at prepare()). tests/integration/s3 counts the writes."""

    _send_headers_immediately = False


# Up to this size the head waits for the body: aiohttp joins head and first piece into one
# buffer (a copy of that piece; Python < 3.12.9 has no writelines), which for a small piece
# costs less than the send it saves. Larger objects send their head at once, as before.
COALESCE_LIMIT = 64 * 1024


async def get(s3, bucket: common.Bucket | None = None):
    """GetObject/HeadObject; `bucket`: the request's bucket when the caller already found it."""
    if bucket is None:
        bucket = await common.find_bucket(s3)
    method = s3.method
    result, parts = await open_for_read(s3, bucket, s3.key, method)
    status = result.status
    if status == 304:
        result.close()
        headers = answer_headers(s3, result, parts)
        headers.popall("Content-Length", None)
        # Content-Length: 0 as Swift's s3api says it (aiohttp would drop it from a 304).
        return NoContent(status=304, headers=headers)
    if status == 412:
        result.close()
        raise S3Error("PreconditionFailed", Condition="If-Match")
    if status == 416:
        result.close()
        raise S3Error("InvalidRange")
    if status == 404:
        result.close()
        raise S3Error("NoSuchKey", Key=s3.key)
    if status // 100 != 2:
        result.close()
        raise S3Error("ServiceUnavailable")
    headers = answer_headers(s3, result, parts)
    length = headers.popall("Content-Length", [None])[0]
    if method == "HEAD":
        result.close()
        wanted = s3.headers.get("range") or ("bytes=0-" if "partNumber" in s3.query else None)
        if status == 200 and parts is None and wanted and length:
            status, length = _head_range(wanted, int(length), headers)
        headers["Content-Length"] = length or "0"
        return web.Response(status=status, headers=headers)
    headers.update(s3.request.get("s3_extra") or {})
    size = int(length) if length is not None and length.isdigit() else None
    kind = BodyResponse if size is not None and size <= COALESCE_LIMIT else web.StreamResponse
    response = kind(status=status, headers=headers)
    if size is not None:
        response.content_length = size
    await relay(s3.request, response, result)  # the Swift path's: one write per node read
    return response


def _head_range(value: str, size: int, headers) -> tuple[int, str]:
    """The nodes ignore Range on HEAD; S3 answers a ranged HEAD as the ranged GET would: 206
    with that range's Content-Length and Content-Range (a malformed Range: the whole object)."""
    try:
        span = conditional.parse_range(value, size)
    except SwiftError:
        raise S3Error("InvalidRange", ActualObjectSize=size) from None
    if span is None:
        return 200, str(size)
    start, end = span
    headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return 206, str(end - start + 1)


async def delete(s3):
    bucket = await common.find_bucket(s3)
    access.check(s3, bucket, "s3:DeleteObject", "WRITE", s3.key)
    await delete_key(s3, bucket, s3.key)
    return common.empty(204)


async def delete_key(s3, bucket, key: str) -> None:
    """Delete one key (absent keys are fine, as in S3); a multipart object's parts go too."""
    head = await s3.core.object_read("HEAD", bucket.account, bucket.name, key)
    head.close()
    bh = (head.backend_headers or {}) if head.status // 100 == 2 else {}
    im = s3.headers.get("if-match")
    if im is not None and im.strip().strip('"') not in ("*", (head.headers.get("ETag") or "")
                                                         .strip('"')):
        raise S3Error("PreconditionFailed", Condition="If-Match")
    result = await s3.core.object_write("DELETE", bucket.account, bucket.name, key, {})
    if result.status // 100 != 2 and result.status != 404:
        raise S3Error("ServiceUnavailable")
    if large.is_slo(bh) and bh.get(common.OBJ_SYSMETA + "Upload-Id"):
        from proxy.s3 import multipart
        await multipart.drop_parts(s3, bucket, key, bh[common.OBJ_SYSMETA + "Upload-Id"])
