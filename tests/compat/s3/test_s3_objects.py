"""boto3 object features: copy (directives, conditions), DeleteObjects, conditionals, response-*
overrides, presigned URLs, tagging, attributes, and bad input getting S3's own errors."""
import datetime as dt
import hashlib

import botocore.exceptions
import pytest
import requests

pytestmark = pytest.mark.timeout(120)


def code_of(exc_info) -> str:
    return exc_info.value.response["Error"]["Code"]


def test_copy_object(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="src", Body=b"copy me", Metadata={"a": "1"},
                        ContentType="text/x-src", Tagging="t=1")
    s3.copy_object(Bucket=bucket, Key="same-meta", CopySource={"Bucket": bucket, "Key": "src"})
    got = s3.get_object(Bucket=bucket, Key="same-meta")
    assert got["Body"].read() == b"copy me" and got["Metadata"] == {"a": "1"}
    assert got["ContentType"] == "text/x-src" and got["ETag"] == put["ETag"]
    assert got["TagCount"] == 1
    s3.copy_object(Bucket=bucket, Key="new-meta", CopySource={"Bucket": bucket, "Key": "src"},
                   MetadataDirective="REPLACE", Metadata={"b": "2"}, ContentType="text/plain")
    got = s3.head_object(Bucket=bucket, Key="new-meta")
    assert got["Metadata"] == {"b": "2"} and got["ContentType"] == "text/plain"
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="x", CopySource={"Bucket": bucket, "Key": "src"},
                       CopySourceIfMatch='"nope"')
    assert code_of(exc) == "PreconditionFailed"
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="x", CopySource={"Bucket": bucket, "Key": "src"},
                       CopySourceIfNoneMatch=put["ETag"])
    assert code_of(exc) == "PreconditionFailed"
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="src", CopySource={"Bucket": bucket, "Key": "src"})
    assert code_of(exc) == "InvalidRequest"
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="x", CopySource={"Bucket": bucket, "Key": "missing"})
    assert code_of(exc) == "NoSuchKey"


def test_delete_objects(s3, bucket):
    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"k{i}", Body=b"x")
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": f"k{i}"} for i in range(3)]
                                                   + [{"Key": "absent"}]})
    assert sorted(d["Key"] for d in out["Deleted"]) == ["absent", "k0", "k1", "k2"]
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k3"}, {"Key": "k4"}],
                                                   "Quiet": True})
    assert "Deleted" not in out and "Errors" not in out
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_conditionals(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="c", Body=b"cond")
    etag = put["ETag"]
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == b"cond"
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="c", IfMatch='"other"')
    assert code_of(exc) == "PreconditionFailed"
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    # Content-Length: 0 as Swift's s3api says it (aiohttp drops it from a 304 unless told).
    assert exc.value.response["ResponseMetadata"]["HTTPHeaders"].get("content-length") == "0"
    future = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="c", IfModifiedSince=future)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="c", Body=b"again", IfNoneMatch="*")
    assert code_of(exc) == "PreconditionFailed"
    s3.put_object(Bucket=bucket, Key="c", Body=b"again", IfMatch=etag)
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="c", Range="bytes=100-200")
    assert code_of(exc) == "InvalidRange"


def test_response_overrides_and_presigned(s3, bucket):
    s3.put_object(Bucket=bucket, Key="p", Body=b"presigned")
    got = s3.get_object(Bucket=bucket, Key="p", ResponseContentType="x/y",
                        ResponseContentDisposition="attachment")
    assert got["ContentType"] == "x/y" and got["ContentDisposition"] == "attachment"
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "p"},
                                    ExpiresIn=60)
    assert requests.get(url).content == b"presigned"
    tampered = url.replace("Key", "Kez") if "Key" in url else url + "&x=1"
    assert requests.get(tampered).status_code == 403
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "up"},
                                    ExpiresIn=60)
    assert requests.put(url, data=b"via url").status_code == 200
    assert s3.get_object(Bucket=bucket, Key="up")["Body"].read() == b"via url"
    expired = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "p"},
                                        ExpiresIn=0)
    resp = requests.get(expired)
    assert resp.status_code == 403 and b"AccessDenied" in resp.content


def test_tagging_and_attributes(s3, bucket):
    s3.put_object(Bucket=bucket, Key="t", Body=b"tags", Tagging="a=1&b=2",
                  Metadata={"keep": "me"})
    tags = s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("a", "1"), ("b", "2")]
    s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": [{"Key": "c", "Value": "3"}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == [{"Key": "c", "Value": "3"}]
    head = s3.head_object(Bucket=bucket, Key="t", ChecksumMode="ENABLED")
    assert head["Metadata"] == {"keep": "me"} and head.get("ChecksumCRC32")
    s3.delete_object_tagging(Bucket=bucket, Key="t")
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == []
    attrs = s3.get_object_attributes(Bucket=bucket, Key="t",
                                     ObjectAttributes=["ETag", "ObjectSize", "Checksum"])
    assert attrs["ObjectSize"] == 4 and attrs["ETag"] == hashlib.md5(b"tags").hexdigest()
    assert attrs["Checksum"]["ChecksumCRC32"] == head["ChecksumCRC32"]
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": [
            {"Key": f"k{i}", "Value": "v"} for i in range(11)]})
    assert code_of(exc) == "InvalidTag"


def test_checksums_checked_and_nothing_committed(s3, bucket):
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"data", ChecksumCRC32="AAAAAA==")
    assert code_of(exc) == "BadDigest"
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"data", ContentMD5="1B2M2Y8AsgTpgAmY7PhCfg==")
    assert code_of(exc) == "BadDigest"
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="bad")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    put = s3.put_object(Bucket=bucket, Key="sha", Body=b"data", ChecksumAlgorithm="SHA256")
    assert put["ChecksumSHA256"]
    got = s3.get_object(Bucket=bucket, Key="sha", ChecksumMode="ENABLED")
    assert got["ChecksumSHA256"] == put["ChecksumSHA256"]


def test_sse_s3_and_unsupported_write_headers(s3, bucket):
    """SSE-S3 (AES256) is recorded and answered on PUT, HEAD and copies; anything this store
    cannot honour (KMS, website redirects, object lock) is 501 NotImplemented, whatever its
    value, and stores nothing."""
    put = s3.put_object(Bucket=bucket, Key="s3sse", Body=b"x", ServerSideEncryption="AES256")
    assert put["ServerSideEncryption"] == "AES256"
    assert s3.head_object(Bucket=bucket, Key="s3sse")["ServerSideEncryption"] == "AES256"
    s3.copy_object(Bucket=bucket, Key="s3sse-copy", CopySource={"Bucket": bucket, "Key": "s3sse"},
                   ServerSideEncryption="AES256")
    assert s3.head_object(Bucket=bucket, Key="s3sse-copy")["ServerSideEncryption"] == "AES256"
    until = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
    for extra in ({"ServerSideEncryption": "aws:kms"}, {"WebsiteRedirectLocation": "/other"},
                  {"WebsiteRedirectLocation": "AES256"},
                  {"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": until}):
        with pytest.raises(botocore.exceptions.ClientError) as exc:
            s3.put_object(Bucket=bucket, Key="refused", Body=b"x", **extra)
        assert code_of(exc) == "NotImplemented", extra
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="refused", Body=b"x", ServerSideEncryption="AES256",
                      SSECustomerAlgorithm="AES256", SSECustomerKey=b"k" * 32)
    assert code_of(exc) == "InvalidArgument"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert "refused" not in keys


def test_sse_c(s3, bucket, aio):
    import os
    key = os.urandom(32)
    body = bytes(range(256)) * 40
    s3.put_object(Bucket=bucket, Key="enc", Body=body, SSECustomerAlgorithm="AES256",
                  SSECustomerKey=key)
    got = s3.get_object(Bucket=bucket, Key="enc", SSECustomerAlgorithm="AES256",
                        SSECustomerKey=key)
    assert got["Body"].read() == body and got["SSECustomerAlgorithm"] == "AES256"
    part = s3.get_object(Bucket=bucket, Key="enc", SSECustomerAlgorithm="AES256",
                         SSECustomerKey=key, Range="bytes=1000-1033")
    assert part["Body"].read() == body[1000:1034]
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="enc")
    assert code_of(exc) == "InvalidRequest"
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="enc", SSECustomerAlgorithm="AES256",
                      SSECustomerKey=os.urandom(32))
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # Stored encrypted: the Swift API (no key) reads ciphertext, never the plaintext.
    auth = requests.get(aio["swift"]["auth_url"], headers={
        "X-Auth-User": aio["swift"]["user"], "X-Auth-Key": aio["swift"]["key"]})
    raw = requests.get(f"{auth.headers['X-Storage-Url']}/{bucket}/enc",
                       headers={"X-Auth-Token": auth.headers["X-Auth-Token"]})
    assert len(raw.content) == len(body) and raw.content != body
    assert key.hex() not in str(raw.headers) and base64_of(key) not in str(raw.headers)


def test_sse_c_a_body_in_many_pieces(s3, bucket):
    """4 MiB arrives in several socket reads: every piece (one that came with others too) is
    encrypted in order."""
    import os
    key, body = os.urandom(32), os.urandom(4 << 20)
    s3.put_object(Bucket=bucket, Key="enc-big", Body=body, SSECustomerAlgorithm="AES256",
                  SSECustomerKey=key)
    got = s3.get_object(Bucket=bucket, Key="enc-big", SSECustomerAlgorithm="AES256",
                        SSECustomerKey=key)
    assert got["Body"].read() == body


def test_sse_c_put_checks_content_md5_of_the_plaintext(s3, bucket):
    """An SSE-C body reaches the store encrypted, so its Content-MD5 (of the plaintext) is the
    verifier's to check, not the store's (whose MD5 is of the ciphertext)."""
    import base64
    import os
    key, body = os.urandom(32), os.urandom(70000)
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    s3.put_object(Bucket=bucket, Key="enc-md5", Body=body, SSECustomerAlgorithm="AES256",
                  SSECustomerKey=key, ContentMD5=md5)
    got = s3.get_object(Bucket=bucket, Key="enc-md5", SSECustomerAlgorithm="AES256",
                        SSECustomerKey=key)
    assert got["Body"].read() == body
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="enc-md5", Body=body[1:] + b"x",
                      SSECustomerAlgorithm="AES256", SSECustomerKey=key, ContentMD5=md5)
    assert code_of(exc) == "BadDigest"


def base64_of(data: bytes) -> str:
    import base64
    return base64.b64encode(data).decode()


def test_post_object_form_upload(s3, bucket, aio):
    post = s3.generate_presigned_post(
        bucket, "uploads/${filename}", Fields={"x-amz-meta-src": "form"},
        Conditions=[["starts-with", "$key", "uploads/"], {"x-amz-meta-src": "form"},
                    ["content-length-range", 1, 100]], ExpiresIn=60)
    resp = requests.post(post["url"], data=post["fields"],
                         files={"file": ("hello.txt", b"from a browser")})
    assert resp.status_code == 204, resp.text
    got = s3.get_object(Bucket=bucket, Key="uploads/hello.txt")
    assert got["Body"].read() == b"from a browser" and got["Metadata"] == {"src": "form"}
    too_big = requests.post(post["url"], data=post["fields"],
                            files={"file": ("big.txt", b"x" * 101)})
    assert too_big.status_code == 400 and b"EntityTooLarge" in too_big.content
    fields = dict(post["fields"], **{"x-amz-meta-src": "forged"})
    forged = requests.post(post["url"], data=fields, files={"file": ("f.txt", b"x")})
    assert forged.status_code == 403
    fields = dict(post["fields"], key="elsewhere/x")
    assert requests.post(post["url"], data=fields, files={"file": ("f", b"x")}).status_code == 403
    anon = requests.post(post["url"], data={"key": "anon"}, files={"file": ("f", b"x")})
    assert anon.status_code == 403
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["uploads/hello.txt"]
