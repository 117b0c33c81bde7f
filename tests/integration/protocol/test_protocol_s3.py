"""S3's answers to requests whose framing stock aiohttp gets wrong, on the all-in-one's proxy.

The bytes are those of Swift's test/s3api/test_input_errors.py (..._no_content_length,
..._body_too_long): a SigV4-signed PUT sent on a raw socket with no Content-Length, or with more
body bytes than it declares. boto3 checks what was stored.
"""
import uuid
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

pytestmark = pytest.mark.timeout(120)
BODY = b"some test body bytes"


@pytest.fixture(scope="module")
def s3(aio):
    info = aio["s3"]
    return boto3.client("s3", endpoint_url=info["endpoint"], region_name=info["region"],
                        aws_access_key_id=info["access_key"],
                        aws_secret_access_key=info["secret_key"])


@pytest.fixture
def bucket(s3):
    name = f"proto-{uuid.uuid4().hex[:16]}"
    s3.create_bucket(Bucket=name)
    yield name
    for item in s3.list_objects_v2(Bucket=name).get("Contents", []):
        s3.delete_object(Bucket=name, Key=item["Key"])
    s3.delete_bucket(Bucket=name)


def signed_head(aio, method, path, headers, body=BODY):
    """A SigV4-signed request head (botocore's signer, payload hash of body), with these headers
    and the signature's, and no Content-Length unless given."""
    info = aio["s3"]
    request = AWSRequest(method=method, url=info["endpoint"] + path, headers=headers, data=body)
    request.context["payload_signing_enabled"] = "x-amz-content-sha256" not in headers
    S3SigV4Auth(Credentials(info["access_key"], info["secret_key"]), "s3",
                info["region"]).add_auth(request)
    lines = [f"{method} {path} HTTP/1.1", f"Host: {urlsplit(info['endpoint']).netloc}"]
    lines += [f"{k}: {v}" for k, v in request.headers.items()
              if k.lower() != "content-length" or "Content-Length" in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def port(aio):
    return urlsplit(aio["s3"]["endpoint"]).port


@pytest.mark.parametrize("headers", [{"x-amz-content-sha256": "UNSIGNED-PAYLOAD"}, {}])
def test_put_without_content_length_is_411_missing_content_length(aio, s3, bucket, headers,
                                                                   exchange, answers):
    stream = signed_head(aio, "PUT", f"/{bucket}/nolength", headers) + BODY
    got = answers(exchange(port(aio), stream, timeout=5))
    assert len(got) == 1 and got[0].status == 411, got
    assert b"<Code>MissingContentLength</Code>" in got[0].body
    assert b"<Message>You must provide the Content-Length HTTP header.</Message>" in got[0].body
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_a_body_longer_than_content_length_stores_the_declared_bytes(aio, s3, bucket, exchange,
                                                                    answers):
    headers = {"Content-Length": str(len(BODY))}
    stream = signed_head(aio, "PUT", f"/{bucket}/long", headers) + BODY + b"0123456789"
    got = answers(exchange(port(aio), stream, timeout=2))
    assert got[0].status == 200, got  # its own answer, not the 400 for the bytes after it
    assert s3.get_object(Bucket=bucket, Key="long")["Body"].read() == BODY


def test_metadata_names_outside_the_token_set_get_through_boto3(s3, bucket):
    # boto3 (http.client) sends 'x-amz-meta-(' as it is; llhttp alone answers such a head 400.
    s3.put_object(Bucket=bucket, Key="odd", Body=b"x", Metadata={"(": "paren", "plain": "p"})
    assert s3.head_object(Bucket=bucket, Key="odd")["Metadata"] == {"(": "paren", "plain": "p"}
