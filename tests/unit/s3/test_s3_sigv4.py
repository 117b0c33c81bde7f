"""SigV4 verification against botocore's own signer, AWS's published chunk vectors, and bad input."""
import datetime as dt
from urllib.parse import parse_qsl, urlsplit

import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from proxy.s3 import sigv4
from proxy.s3.errors import S3Error

CREDS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")


def botocore_signed(method, url, headers=None, body=b"", presign=None):
    request = AWSRequest(method=method, url=url, headers=headers or {}, data=body)
    if presign:
        S3SigV4QueryAuth(CREDS, "s3", "us-east-1", expires=presign).add_auth(request)
    else:
        request.headers["x-amz-content-sha256"] = sigv4.hashlib.sha256(body).hexdigest()
        S3SigV4Auth(CREDS, "s3", "us-east-1").add_auth(request)
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    headers = {k.lower(): v for k, v in prepared.headers.items()}
    headers["host"] = parts.netloc
    return method, parts.path, parse_qsl(parts.query, keep_blank_values=True), headers


def check(method, path, query, headers, secret=CREDS.secret_key, now=None):
    signed = sigv4.parse(method, headers, query)
    assert signed is not None
    sigv4.check_time(signed, now or dt.datetime.now(dt.timezone.utc), 900)
    return signed, sigv4.verify(signed, secret, method, path, query, headers)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/bucket/key",
    "http://127.0.0.1:8080/bucket/dir/with%20space/%E2%9C%93.txt",
    "http://127.0.0.1:8080/bucket/a%2Fb+c~d!e(f)",
    "http://127.0.0.1:8080/bucket?list-type=2&prefix=a%2Fb&delimiter=%2F&max-keys=5",
    "http://127.0.0.1:8080/bucket?uploads",
    "http://127.0.0.1:8080/",
])
def test_header_signature_from_botocore_verifies(url):
    method, path, query, headers = botocore_signed("GET", url)
    signed, key = check(method, path, query, headers)
    assert signed.credential.access_key == "AKIDEXAMPLE"
    assert len(key) == 32


def test_signed_body_hash_and_wrong_secret():
    method, path, query, headers = botocore_signed("PUT", "http://h/b/k", body=b"data")
    check(method, path, query, headers)
    with pytest.raises(S3Error) as info:
        check(method, path, query, headers, secret="wrong")
    assert info.value.code == "SignatureDoesNotMatch" and info.value.status == 403


def test_tampered_request_fails():
    method, path, query, headers = botocore_signed("GET", "http://h/b/k?versionId=1")
    with pytest.raises(S3Error, match="SignatureDoesNotMatch"):
        check(method, path, [("versionId", "2")], headers)
    with pytest.raises(S3Error, match="SignatureDoesNotMatch"):
        check("DELETE", path, query, headers)


def test_presigned_url_verifies_and_expires():
    method, path, query, headers = botocore_signed("GET", "http://h/b/k", presign=60)
    check(method, path, query, headers)
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=120)
    with pytest.raises(S3Error) as info:
        check(method, path, query, headers, now=later)
    assert info.value.code == "AccessDenied" and "expired" in info.value.message


def test_clock_skew():
    method, path, query, headers = botocore_signed("GET", "http://h/b/k")
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=20)
    with pytest.raises(S3Error) as info:
        check(method, path, query, headers, now=later)
    assert info.value.code == "RequestTimeTooSkewed" and info.value.status == 403


def test_anonymous_request_has_no_claims():
    assert sigv4.parse("GET", {"host": "h"}, []) is None


@pytest.mark.parametrize("auth, code", [
    ("AWS4-HMAC-SHA256 Credential=AK/20260101/us-east-1/s3/aws4_request", "AuthorizationHeaderMalformed"),
    ("AWS4-HMAC-SHA256 Credential=AK/2026/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=x",
     "AuthorizationHeaderMalformed"),
    ("AWS4-HMAC-SHA256 Credential=AK/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, "
     "Signature=x", "AuthorizationHeaderMalformed"),
    ("AWS4-HMAC-SHA256 garbage", "AuthorizationHeaderMalformed"),
    ("Bearer x", "AuthorizationHeaderMalformed"),
    ("AWS AK:c2ln", "NotImplemented"),
])
def test_malformed_authorization(auth, code):
    with pytest.raises(S3Error) as info:
        sigv4.parse("GET", {"authorization": auth, "x-amz-content-sha256": sigv4.EMPTY_SHA256,
                            "x-amz-date": "20260101T000000Z"}, [])
    assert info.value.code == code


@pytest.mark.parametrize("query, fragment", [
    ([("X-Amz-Algorithm", "AWS4-HMAC-SHA1")], "only supports"),
    ([("X-Amz-Algorithm", sigv4.ALGORITHM), ("X-Amz-Credential", "AK/20260101/us-east-1/s3/aws4_request")],
     "requires the X-Amz-Date"),
    ([("X-Amz-Algorithm", sigv4.ALGORITHM), ("X-Amz-Credential", "AK/20260101/us-east-1/s3/aws4_request"),
      ("X-Amz-Date", "20260101T000000Z"), ("X-Amz-SignedHeaders", "host"), ("X-Amz-Signature", "0"),
      ("X-Amz-Expires", "604801")], "less than 604800 seconds"),
])
def test_malformed_presigned(query, fragment):
    with pytest.raises(S3Error) as info:
        sigv4.parse("GET", {}, query)
    assert info.value.code == "AuthorizationQueryParametersError"
    assert fragment in info.value.message


def test_payload_hash_values():
    sigv4.check_payload_hash(sigv4.EMPTY_SHA256)
    sigv4.check_payload_hash(sigv4.STREAMING_UNSIGNED_TRAILER)
    with pytest.raises(S3Error, match="InvalidArgument"):
        sigv4.check_payload_hash("nothex")


def test_aws_published_chunk_signature_vectors():
    # "Signature Calculations for the Authorization Header: Transferring Payload in Multiple
    # Chunks" (S3 API reference): 64 KiB + 1 KiB of 'a', seed signature from the headers.
    key = sigv4.signing_key(CREDS.secret_key, "20130524", "us-east-1", "s3")
    scope = "20130524/us-east-1/s3/aws4_request"
    previous = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
    expected = ["ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
                "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
                "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"]
    for data, want in zip([b"a" * 65536, b"a" * 1024, b""], expected):
        sig = sigv4.chunk_signature(key, "20130524T000000Z", scope, previous,
                                    sigv4.hashlib.sha256(data).hexdigest())
        assert sig == want
        previous = sig
