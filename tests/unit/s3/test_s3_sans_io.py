"""Pure pieces of the S3 layer: SigV2, listing markers, bucket configuration parsing, lifecycle
expiry, SSE-C keys and block-aligned decryption, POST policy conditions."""
import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import os

import pytest

from proxy.s3 import bucket_config, listing, post_object, sigv2, sse
from proxy.s3.common import Bucket, iso8601
from proxy.s3.errors import S3Error
from proxy.core import Info
from multidict import CIMultiDict


def test_sigv2_string_to_sign_and_verify():
    headers = {"date": "Tue, 27 Mar 2007 19:36:42 +0000", "host": "x"}
    text = sigv2.string_to_sign("GET", headers, "/johnsmith/photos/puppy.jpg", {}, None)
    assert text == "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/johnsmith/photos/puppy.jpg"
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    sig = base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha1).digest()).decode()
    assert sig == "bWq2s1WEIj+Ydj0vQ697zp+IXMU="  # the example in AWS's SigV2 documentation
    now = dt.datetime(2007, 3, 27, 19, 40, tzinfo=dt.timezone.utc)
    signed = sigv2.parse({"authorization": f"AWS AKIAIOSFODNN7EXAMPLE:{sig}"}, {})
    sigv2.verify(signed, secret, "GET", headers, "/johnsmith/photos/puppy.jpg", {}, now, 900)
    with pytest.raises(S3Error) as exc:
        sigv2.verify(signed, "other", "GET", headers, "/johnsmith/photos/puppy.jpg", {}, now, 900)
    assert exc.value.code == "SignatureDoesNotMatch"
    with pytest.raises(S3Error) as exc:
        sigv2.verify(signed, secret, "GET", headers, "/johnsmith/photos/puppy.jpg", {},
                     now + dt.timedelta(hours=1), 900)
    assert exc.value.code == "RequestTimeTooSkewed"


def test_sigv2_subresources_and_amz_headers():
    headers = {"x-amz-date": "Tue, 27 Mar 2007 21:15:45 +0000", "content-type": "a/b",
               "x-amz-meta-b": " 2 ", "x-amz-meta-a": "1"}
    text = sigv2.string_to_sign("PUT", headers, "/b/k", {"acl": "", "prefix": "x",
                                                         "uploadId": "u"}, None)
    assert text == ("PUT\n\na/b\n\nx-amz-date:Tue, 27 Mar 2007 21:15:45 +0000\n"
                    "x-amz-meta-a:1\nx-amz-meta-b:2\n/b/k?acl&uploadId=u")
    assert sigv2.string_to_sign("GET", {}, "/b/k", {}, 1700000000).split("\n")[3] == "1700000000"


def test_listing_times_are_whole_seconds_rounded_up():
    # ".000Z" as Swift's s3api writes it; rounded up so a listing never looks older than the
    # write (`aws s3 sync` compares mtimes).
    assert iso8601(1_700_000_000.0) == "2023-11-14T22:13:20.000Z"
    assert iso8601(1_700_000_000.001) == "2023-11-14T22:13:21.000Z"


def test_listing_markers_skip_a_common_prefix():
    assert listing.swift_marker("a/", "/") == "a/" + listing.AFTER_ALL
    assert listing.swift_marker("a/b", "/") == "a/b"
    assert listing.swift_marker("a/", "") == "a/"
    rows = [{"name": "p/x--y/1"}, {"name": "p/x--y/2"}, {"name": "p/z"}]
    assert listing._multi_char_delimiter(rows, "p/", "--") == [{"subdir": "p/x--"}, {"name": "p/z"}]


def _bucket(**sysmeta):
    headers = CIMultiDict({f"X-Container-Sysmeta-S3-{k}": v for k, v in sysmeta.items()})
    return Bucket("b", "AUTH_test", Info(204, headers))


def test_cors_rules_parse_and_match():
    rules = bucket_config.parse_cors(
        b"<CORSConfiguration><CORSRule><AllowedOrigin>https://*.ex</AllowedOrigin>"
        b"<AllowedMethod>GET</AllowedMethod><AllowedHeader>x-*</AllowedHeader>"
        b"<MaxAgeSeconds>5</MaxAgeSeconds></CORSRule></CORSConfiguration>")
    assert bucket_config.match_cors(rules, "https://a.ex", "GET", ["x-y"]) is rules[0]
    assert bucket_config.match_cors(rules, "https://a.ex", "PUT", []) is None
    assert bucket_config.match_cors(rules, "https://a.ex", "GET", ["authorization"]) is None
    assert bucket_config.match_cors(rules, "http://evil", "GET", []) is None
    for bad in (b"<CORSConfiguration/>",
                b"<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule>"
                b"</CORSConfiguration>"):
        with pytest.raises(S3Error):
            bucket_config.parse_cors(bad)


def test_lifecycle_expiry():
    rules = bucket_config.parse_lifecycle(
        b"<LifecycleConfiguration><Rule><ID>r</ID><Filter><Prefix>logs/</Prefix></Filter>"
        b"<Status>Enabled</Status><Expiration><Days>2</Days></Expiration></Rule>"
        b"</LifecycleConfiguration>")
    import json
    bucket = _bucket(Lifecycle=json.dumps(rules))
    now = 86400 * 100 + 5
    assert bucket_config.expiry_for(bucket, "logs/x", now) == 86400 * 103
    assert bucket_config.expiry_for(bucket, "data/x", now) is None
    with pytest.raises(S3Error) as exc:
        bucket_config.parse_lifecycle(
            b"<LifecycleConfiguration><Rule><Status>On</Status></Rule></LifecycleConfiguration>")
    assert exc.value.code == "MalformedXML"


def _sse_headers(key: bytes) -> dict:
    return {sse.PREFIX + "algorithm": "AES256",
            sse.PREFIX + "key": base64.b64encode(key).decode(),
            sse.PREFIX + "key-md5": base64.b64encode(hashlib.md5(key).digest()).decode()}


def test_sse_c_key_checks_and_ctr_offsets():
    key = os.urandom(32)
    assert sse.customer_key(_sse_headers(key)) == key
    bad = _sse_headers(key)
    bad[sse.PREFIX + "key-md5"] = base64.b64encode(b"0" * 16).decode()
    with pytest.raises(S3Error):
        sse.customer_key(bad)
    enc = sse.Encryption(key)
    stored = enc.headers()
    assert base64.b64encode(key).decode() not in str(stored)

    async def encrypt(data):
        async def source():
            yield data[:100]
            yield data[100:]
        return b"".join([c async for c in enc.encrypt(source())])
    plain = os.urandom(1000)
    cipher = asyncio.run(encrypt(plain))
    assert cipher != plain and len(cipher) == len(plain)
    iv = base64.b64decode(stored[sse.IV])
    for start in (0, 15, 16, 17, 999):
        block = start // 16
        out = sse._cipher(key, iv, block).update(cipher[block * 16:])[start % 16:]
        assert out == plain[start:]
    assert sse.check_key(_sse_headers(key), stored) == key
    with pytest.raises(S3Error) as exc:
        sse.check_key(_sse_headers(os.urandom(32)), stored)
    assert exc.value.code == "AccessDenied"
    with pytest.raises(S3Error) as exc:
        sse.check_key({}, stored)
    assert exc.value.code == "InvalidRequest"


def test_post_policy_conditions():
    future = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    policy = {"expiration": future, "conditions": [
        {"bucket": "b"}, ["starts-with", "$key", "up/"], ["content-length-range", 1, 10]]}
    fields = {"bucket": "b", "key": "up/x", "x-amz-credential": "c"}
    assert post_object._check_policy(policy, fields) == (1, 10)
    with pytest.raises(S3Error):
        post_object._check_policy(policy, dict(fields, key="down/x"))
    with pytest.raises(S3Error):
        post_object._check_policy(policy, dict(fields, extra="1"))
    with pytest.raises(S3Error):
        post_object._check_policy(dict(policy, expiration="2001-01-01T00:00:00Z"), fields)


def test_sigv2_newer_subresources_signed_or_not():
    """s3cmd signs `PUT /b?publicAccessBlock` as `/b` (AWS's documented list leaves it out);
    a client that signs it in is accepted too, and either way the documented ones must match."""
    secret, now = "secret", dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    headers = {"date": "Mon, 01 Jan 2024 00:00:00 GMT"}

    def sign(text):
        return base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha1).digest()
                                ).decode()

    query = {"publicAccessBlock": ""}
    for resource in ("/b?publicAccessBlock", "/b"):
        signed = sigv2.SignedV2("AK", sign(f"PUT\n\n\n{headers['date']}\n{resource}"), None)
        sigv2.verify(signed, secret, "PUT", headers, "/b", query, now, 900)
    # the fallback never drops a documented subresource: ?acl signed as plain "/b" still fails
    signed = sigv2.SignedV2("AK", sign(f"PUT\n\n\n{headers['date']}\n/b"), None)
    with pytest.raises(S3Error) as exc:
        sigv2.verify(signed, secret, "PUT", headers, "/b", {"acl": "", "publicAccessBlock": ""},
                     now, 900)
    assert exc.value.code == "SignatureDoesNotMatch"
