"""Capture what boto3 sends for put_object/get_object, for wrk to replay (used by bench_s3.sh).

boto3 in its default configuration signs each request itself (SigV4 header, signed payload: the
body's SHA-256 in x-amz-content-sha256, an x-amz-checksum-crc32 on PUT, Expect: 100-continue;
x-amz-checksum-mode: ENABLED on GET). This helper stops boto3 at its before-send event, so nothing
goes on the wire here, and writes each request head byte for byte as urllib3/http.client would
send it (request line, Host, Accept-Encoding: identity, then boto3's headers in order).

  capture.py prep --aio AIO_JSON --bucket B --size S --count N
      bucket B with objects o0..o<N-1> of S random bytes, put by boto3 itself (so each carries the
      CRC32 boto3 stores, as a real S3 client's objects do); skipped when B already holds N objects.
  capture.py requests --aio AIO_JSON --bucket B --method PUT|GET --size S --count N --out DIR
      [--corrupt signature|body] [--content-md5 | --https-form]
      DIR/heads.bin: N request heads (one per key o0..o<N-1, each ending in CRLF CRLF);
      DIR/body.bin (PUT): the S-byte body every PUT head was signed over.
      --corrupt is for checking the harness: one hex digit of every signature changed (the proxy
      must answer 403 SignatureDoesNotMatch), or one byte of the body (the signed SHA-256 no longer
      matches: 400 XAmzContentSHA256Mismatch/BadDigest).
A SigV4 signature is only accepted within 15 minutes of its x-amz-date: capture right before use.
"""
from __future__ import annotations

import argparse
import base64
import concurrent.futures
import hashlib
import json
import os
import re
import sys
from urllib.parse import urlsplit

import boto3
from botocore.config import Config

_SIGNATURE = re.compile(rb"(Signature=[0-9a-f]{63})([0-9a-f])")


class _Captured(Exception):
    """Raised from boto3's before-send hook: carries the request boto3 was about to send."""

    def __init__(self, request):
        super().__init__("captured")
        self.request = request


def s3_client(endpoint: str, region: str, access_key: str, secret_key: str, config=None):
    """boto3's default configuration (SigV4, payload signing and checksums as it chooses)."""
    return boto3.client("s3", endpoint_url=endpoint, region_name=region,
                        aws_access_key_id=access_key, aws_secret_access_key=secret_key,
                        config=config)


def client_from_aio(path: str, config=None):
    with open(path) as f:
        s3 = json.load(f)["s3"]
    return s3_client(s3["endpoint"], s3["region"], s3["access_key"], s3["secret_key"], config)


def wire_head(method: str, url: str, headers) -> bytes:
    """The request head http.client writes for boto3: Host and Accept-Encoding come first (added by
    putrequest because botocore sets neither), then the headers in boto3's order."""
    u = urlsplit(url)
    target = u.path + ("?" + u.query if u.query else "")
    lines = [f"{method} {target} HTTP/1.1", f"Host: {u.netloc}"]
    names = {k.lower() for k in headers}
    if "accept-encoding" not in names:
        lines.append("Accept-Encoding: identity")
    for name, value in headers.items():
        lines.append(f"{name}: {value.decode('latin-1') if isinstance(value, bytes) else value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def boto3_request(client, operation: str, **params):
    """The request (botocore's AWSPreparedRequest) boto3 would send for `operation`; nothing is
    sent: boto3 is stopped at its before-send event."""
    def grab(request, **_):
        raise _Captured(request)
    client.meta.events.register_first("before-send.s3", grab)
    try:
        getattr(client, operation)(**params)
    except _Captured as got:
        return got.request
    finally:
        client.meta.events.unregister("before-send.s3", grab)
    raise RuntimeError(f"boto3 sent {operation} without the hook seeing it")


def captured(client, operation: str, **params) -> tuple[bytes, bytes]:
    """(head, body) of the request boto3 would send for `operation`, as bytes on the wire."""
    req = boto3_request(client, operation, **params)
    body = req.body or b""
    if not isinstance(body, bytes):
        body = body.read()
    return wire_head(req.method, req.url, req.headers), body


def capture(client, bucket: str, method: str, count: int, body: bytes,
            content_md5: bool = False) -> list[bytes]:
    """One head per key o0..o<count-1>; every PUT head is signed over `body` (and carries its
    Content-MD5 with content_md5: boto3's ContentMD5 parameter, as clients that send one do)."""
    heads = []
    extra = {}
    if content_md5:
        extra["ContentMD5"] = base64.b64encode(hashlib.md5(body).digest()).decode()
    for i in range(count):
        if method == "PUT":
            head, sent = captured(client, "put_object", Bucket=bucket, Key=f"o{i}", Body=body,
                                  **extra)
            if sent != body:  # the replay sends body.bin: it must be what was signed
                raise RuntimeError("boto3 changed the body it signed (aws-chunked?)")
        else:
            head, _ = captured(client, "get_object", Bucket=bucket, Key=f"o{i}")
        heads.append(head)
    return heads


def capture_https_form(client, bucket: str, count: int, body: bytes) -> tuple[list[bytes], bytes]:
    """(heads, wire body) of put_object as boto3 sends it to an https endpoint: unsigned payload,
    aws-chunked with the CRC32 in a trailer, inside HTTP chunked framing (no Content-Length). The
    client's endpoint must be https:// with the all-in-one's host:port (replayed over plain HTTP:
    the server does not see the scheme)."""
    heads, wire = [], None
    for i in range(count):
        head, sent = captured(client, "put_object", Bucket=bucket, Key=f"o{i}", Body=body)
        if b"\r\nTransfer-Encoding: chunked\r\n" not in head or b"aws-chunked" not in head:
            raise RuntimeError("boto3 no longer sends an https PUT as chunked aws-chunked")
        framed = b"%x\r\n%s\r\n0\r\n\r\n" % (len(sent), sent)  # one HTTP chunk: the whole
        if wire is not None and framed != wire:
            raise RuntimeError("boto3 sent different bodies for the same data")
        wire = framed
        heads.append(head)
    return heads, wire


def corrupt_signatures(heads: list[bytes]) -> list[bytes]:
    """Every head with the last hex digit of its signature changed (for the harness check)."""
    def flip(m):
        return m.group(1) + (b"0" if m.group(2) != b"0" else b"1")
    out = [_SIGNATURE.sub(flip, h, count=1) for h in heads]
    if any(a == b for a, b in zip(heads, out)):
        raise RuntimeError("no SigV4 signature found to corrupt")
    return out


def object_count(client, bucket: str, want: int) -> int:
    n = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                                  PaginationConfig={"PageSize": 1000}):
        n += page.get("KeyCount", 0)
        if n >= want:
            break
    return n


def prep(client, bucket: str, size: int, count: int) -> None:
    try:
        client.head_bucket(Bucket=bucket)
    except client.exceptions.ClientError:
        client.create_bucket(Bucket=bucket)
    have = object_count(client, bucket, count)
    if have >= count:
        print(f"{bucket}: {have} objects already present")
        return
    body = os.urandom(size)
    with concurrent.futures.ThreadPoolExecutor(16) as pool:  # as bench.sh's prep.py
        list(pool.map(lambda i: client.put_object(Bucket=bucket, Key=f"o{i}", Body=body),
                      range(count)))
    print(f"{bucket}: uploaded {count} x {size} bytes with boto3")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("prep", "requests"))
    parser.add_argument("--aio", required=True, help="the all-in-one's aio.json")
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--method", choices=("PUT", "GET"))
    parser.add_argument("--out")
    parser.add_argument("--corrupt", choices=("signature", "body"))
    parser.add_argument("--content-md5", action="store_true",
                        help="PUT: send the body's Content-MD5 too (rclone, s3cmd, SDKs that do)")
    parser.add_argument("--https-form", action="store_true",
                        help="PUT: as boto3 sends it to an https endpoint (aws-chunked, CRC32 "
                             "trailer, chunked framing), replayed over plain HTTP")
    args = parser.parse_args(argv)
    if args.action == "prep":
        # Retries off so that a failing prep shows its first error instead of hiding it; one
        # pooled connection per upload thread.
        config = Config(retries={"max_attempts": 1}, max_pool_connections=16)
        prep(client_from_aio(args.aio, config), args.bucket, args.size, args.count)
        return
    # Captured with boto3's defaults untouched: even amz-sdk-request (attempt=1; max=3) is its own.
    client = client_from_aio(args.aio)
    if not args.method or not args.out:
        parser.error("requests needs --method and --out")
    body = os.urandom(args.size) if args.method == "PUT" else b""
    if args.https_form:
        if args.method != "PUT" or args.content_md5 or args.corrupt:
            parser.error("--https-form is for plain PUTs")
        with open(args.aio) as f:
            s3 = json.load(f)["s3"]
        https = s3_client(s3["endpoint"].replace("http://", "https://", 1), s3["region"],
                          s3["access_key"], s3["secret_key"])
        heads, body = capture_https_form(https, args.bucket, args.count, body)
    else:
        heads = capture(client, args.bucket, args.method, args.count, body, args.content_md5)
    if args.corrupt == "signature":
        heads = corrupt_signatures(heads)
    elif args.corrupt == "body":
        if not body:
            parser.error("--corrupt body needs a PUT")
        body = bytes([body[0] ^ 0xFF]) + body[1:]
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "heads.bin"), "wb") as f:
        f.write(b"".join(heads))
    if args.method == "PUT":
        with open(os.path.join(args.out, "body.bin"), "wb") as f:
            f.write(body)


if __name__ == "__main__":
    sys.exit(main())
