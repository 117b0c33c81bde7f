"""A PUT body goes to the nodes as it arrives, with its Content-Length or chunked, yet a body that
fails a check never replaces what is stored: the proxy ends no node's body before every check
passed."""
import base64
import os
import zlib

import pytest

pytestmark = pytest.mark.timeout(60)


def _crc32(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def test_failed_overwrite_keeps_the_stored_object(raw, raw_bucket):
    path = f"/{raw_bucket}/keep"
    first = os.urandom(1000)
    assert raw("PUT", path, body=first).status_code == 200
    body = os.urandom(300 * 1024)  # several pieces: all but the last reach the nodes
    # Signed over another body's hash, sent with this one.
    url, headers = raw.signed("PUT", path, body=b"x" + body[1:])
    resp = raw.session.put(url, data=body, headers=headers)
    assert resp.status_code == 400 and "XAmzContentSHA256Mismatch" in resp.text
    # A checksum that does not match (the payload hash does).
    resp = raw("PUT", path, body=body, headers={"x-amz-checksum-crc32": _crc32(b"other")})
    assert resp.status_code == 400 and "BadDigest" in resp.text
    got = raw("GET", path)
    assert got.status_code == 200 and got.content == first


def test_failed_chunked_writes_keep_what_is_stored(raw, raw_bucket):
    """The chunked forms (a PUT without Content-Length, every UploadPart: the nodes get chunked
    bodies) with a wrong payload hash store nothing either: the S3 body source holds nothing
    back, put_stream ends a node's body only once the source has ended normally."""
    path = f"/{raw_bucket}/keep-chunked"
    first = os.urandom(1000)
    assert raw("PUT", path, body=first).status_code == 200
    body = os.urandom(300 * 1024)

    def pieces():  # a generator: `requests` sends it chunked, without Content-Length
        for i in range(0, len(body), 64 * 1024):
            yield body[i:i + 64 * 1024]

    url, headers = raw.signed("PUT", path, body=b"x" + body[1:])
    resp = raw.session.put(url, data=pieces(), headers=headers)
    assert resp.status_code == 400 and "XAmzContentSHA256Mismatch" in resp.text
    got = raw("GET", path)
    assert got.status_code == 200 and got.content == first

    created = raw("POST", path + "?uploads")
    upload_id = created.text.split("<UploadId>")[1].split("</UploadId>")[0]
    part = f"{path}?partNumber=1&uploadId={upload_id}"
    good = raw("PUT", part, body=body)
    assert good.status_code == 200
    url, headers = raw.signed("PUT", part, body=b"x" + body[1:])
    resp = raw.session.put(url, data=body, headers=headers)
    assert resp.status_code == 400 and "XAmzContentSHA256Mismatch" in resp.text
    listed = raw("GET", f"{path}?uploadId={upload_id}")
    assert listed.status_code == 200 and listed.text.count("<Part>") == 1
    assert f"<ETag>{good.headers['ETag']}</ETag>".replace("&quot;", '"') in \
        listed.text.replace("&quot;", '"')
    assert raw("DELETE", f"{path}?uploadId={upload_id}").status_code == 204


def test_puts_with_lengths_store_every_size(raw, raw_bucket):
    for size in (0, 1, 65536, 65537, 200 * 1024):
        body = os.urandom(size)
        resp = raw("PUT", f"/{raw_bucket}/s{size}", body=body,
                   headers={"x-amz-checksum-crc32": _crc32(body)})
        assert resp.status_code == 200, resp.text
        got = raw("GET", f"/{raw_bucket}/s{size}")
        assert got.status_code == 200 and got.content == body
        assert got.headers["Content-Length"] == str(size)


def _md5(data: bytes) -> str:
    import hashlib
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def test_content_md5_is_checked_by_the_stores_own_md5(raw, raw_bucket):
    """Content-MD5 is checked once, by the MD5 the object PUT computes for the ETag: a wrong one
    still answers S3's BadDigest (ExpectedDigest in hex, as S3 gives it for a PUT) and stores
    nothing, on a new key, over an existing one and for an UploadPart."""
    path = f"/{raw_bucket}/md5"
    first = os.urandom(1000)
    assert raw("PUT", path, body=first, headers={"Content-MD5": _md5(first)}).status_code == 200
    body = os.urandom(300 * 1024)
    for key in ("md5", "md5-new"):
        resp = raw("PUT", f"/{raw_bucket}/{key}", body=body, headers={"Content-MD5": _md5(b"x")})
        assert resp.status_code == 400 and "<Code>BadDigest</Code>" in resp.text, resp.text
        assert f"<ExpectedDigest>{base64.b64decode(_md5(b'x')).hex()}</ExpectedDigest>" in resp.text
        assert "The Content-MD5 you specified did not match what we received." in resp.text
    assert raw("GET", path).content == first
    assert raw("GET", f"/{raw_bucket}/md5-new").status_code == 404
    # The checks S3 makes first still come first: a wrong checksum is reported over the MD5.
    resp = raw("PUT", path, body=body, headers={"Content-MD5": _md5(b"x"),
                                                "x-amz-checksum-crc32": _crc32(b"other")})
    assert "The CRC32 you specified did not match the calculated checksum." in resp.text
    resp = raw("PUT", path, body=body, headers={"Content-MD5": _md5(body)})
    assert resp.status_code == 200, resp.text
    assert resp.headers["ETag"] == f'"{base64.b64decode(_md5(body)).hex()}"'
    assert raw("GET", path).content == body

    created = raw("POST", f"/{raw_bucket}/mp?uploads")
    upload_id = created.text.split("<UploadId>")[1].split("</UploadId>")[0]
    part = f"/{raw_bucket}/mp?partNumber=1&uploadId={upload_id}"
    resp = raw("PUT", part, body=body, headers={"Content-MD5": _md5(b"x")})
    assert resp.status_code == 400 and "<Code>BadDigest</Code>" in resp.text, resp.text
    listed = raw("GET", f"/{raw_bucket}/mp?uploadId={upload_id}")
    assert "<Part>" not in listed.text
    resp = raw("PUT", part, body=body, headers={"Content-MD5": _md5(body)})
    assert resp.status_code == 200 and resp.headers["ETag"] == f'"{base64.b64decode(_md5(body)).hex()}"'
    assert raw("DELETE", f"/{raw_bucket}/mp?uploadId={upload_id}").status_code == 204


def _versioned(aio, bucket: str):
    """A boto3 client of the main test user, with versioning turned on for `bucket`."""
    import boto3
    s3 = aio["s3"]
    client = boto3.client("s3", endpoint_url=s3["endpoint"], region_name=s3["region"],
                          aws_access_key_id=s3["access_key"], aws_secret_access_key=s3["secret_key"])
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return client


def test_content_md5_in_a_versioned_bucket(raw, raw_bucket, aio):
    """The versioned write path passes the Content-MD5 check on to the data's own PUT: a wrong
    one adds no version, a right one does."""
    client = _versioned(aio, raw_bucket)
    path = f"/{raw_bucket}/v"
    first, body = os.urandom(100), os.urandom(100 * 1024)
    assert raw("PUT", path, body=first).status_code == 200
    resp = raw("PUT", path, body=body, headers={"Content-MD5": _md5(b"x")})
    assert resp.status_code == 400 and "<Code>BadDigest</Code>" in resp.text, resp.text
    assert raw("GET", path).content == first
    assert raw("PUT", path, body=body, headers={"Content-MD5": _md5(body)}).status_code == 200
    assert raw("GET", path).content == body
    versions = client.list_object_versions(Bucket=raw_bucket, Prefix="v")["Versions"]
    assert len(versions) == 2
    for v in versions:
        client.delete_object(Bucket=raw_bucket, Key="v", VersionId=v["VersionId"])


def test_the_payload_hash_checked_by_the_store(raw, raw_bucket, aio):
    """A plain signed PutObject or UploadPart leaves its payload hash to the object PUT (hashed
    beside the ETag's MD5, before any replica commits): a body that is not the signed one
    stores nothing -- in a versioned bucket too -- and the error names the hash of what came,
    before a wrong checksum (S3's order)."""
    import hashlib

    client = _versioned(aio, raw_bucket)
    path = f"/{raw_bucket}/h"
    first, body = os.urandom(1000), os.urandom(300 * 1024)
    assert raw("PUT", path, body=first).status_code == 200
    created = raw("POST", f"/{raw_bucket}/hp?uploads")
    upload_id = created.text.split("<UploadId>")[1].split("</UploadId>")[0]
    for target in (path, f"/{raw_bucket}/hp?partNumber=1&uploadId={upload_id}"):
        # signed over another body, with a checksum of yet another: the hash is reported
        url, headers = raw.signed("PUT", target, body=b"x" + body[1:],
                                  headers={"x-amz-checksum-crc32": _crc32(b"other")})
        resp = raw.session.put(url, data=body, headers=headers)
        assert resp.status_code == 400 and "XAmzContentSHA256Mismatch" in resp.text, resp.text
        assert f"<S3ComputedContentSHA256>{hashlib.sha256(body).hexdigest()}<" in resp.text
    assert raw("GET", path).content == first
    versions = client.list_object_versions(Bucket=raw_bucket, Prefix="h")["Versions"]
    assert len(versions) == 1
    parts = raw("GET", f"/{raw_bucket}/hp?uploadId={upload_id}")
    assert parts.status_code == 200 and "<Part>" not in parts.text
    # the right body goes in, as a new version and as a part
    assert raw("PUT", path, body=body).status_code == 200
    assert raw("GET", path).content == body
    latest = [v for v in client.list_object_versions(Bucket=raw_bucket, Prefix="h")["Versions"]
              if v["IsLatest"]]
    assert [v["Size"] for v in latest] == [len(body)]  # (the link's own count: see
    # tests/compat/versioning/test_versioning_swiftclient.py::test_a_large_versions_size_is_all_of_its_bytes)
    part = raw("PUT", f"/{raw_bucket}/hp?partNumber=1&uploadId={upload_id}", body=body)
    assert part.status_code == 200
    assert raw("DELETE", f"/{raw_bucket}/hp?uploadId={upload_id}").status_code == 204
    for v in client.list_object_versions(Bucket=raw_bucket, Prefix="h")["Versions"]:
        client.delete_object(Bucket=raw_bucket, Key="h", VersionId=v["VersionId"])


def _trailer_put(raw, path, data: bytes):
    """A PUT as boto3 sends it over HTTPS: aws-chunked, unsigned, CRC32 in a trailer."""
    import io

    from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum
    body = AwsChunkedWrapper(io.BytesIO(data), checksum_cls=Crc32Checksum,
                             checksum_name="x-amz-checksum-crc32", chunk_size=65536).read()
    headers = {"Content-Encoding": "aws-chunked", "x-amz-trailer": "x-amz-checksum-crc32",
               "x-amz-decoded-content-length": str(len(data)),
               "x-amz-sdk-checksum-algorithm": "CRC32"}
    url, signed = raw.signed("PUT", path, body, headers, trailer=True)
    assert signed["X-Amz-Content-SHA256"] == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    return raw.session.put(url, data=body, headers=signed, timeout=30)


def _metas(aio) -> int:
    """.meta files (object metadata POSTs) on the all-in-one's storage nodes."""
    import glob
    return len(glob.glob(os.path.join(aio["data_dir"], "devices", "*", "objects*", "**",
                                      "*.meta"), recursive=True))


def test_a_small_trailer_checksum_goes_with_the_put(raw, raw_bucket, aio):
    """A small body with its CRC32 in a trailer is verified whole first, so the checksum is stored
    by the object PUT itself: no metadata POST (.meta on the nodes) after it. A large one streams
    and still gets its checksum stored (by the POST); a bad trailer stores nothing either way."""
    limit = 1024 * 1024  # proxy/s3/body.py TRAILER_READ_AHEAD
    for size in (0, 5000, limit, limit + 1):
        data = os.urandom(size)
        path = f"/{raw_bucket}/t{size}"
        before = _metas(aio)
        resp = _trailer_put(raw, path, data)
        assert resp.status_code == 200, resp.text
        assert resp.headers["x-amz-checksum-crc32"] == _crc32(data)
        posted = _metas(aio) - before
        assert posted == (0 if size <= limit else 3), (size, posted)
        got = raw("GET", path, headers={"x-amz-checksum-mode": "ENABLED"})
        assert got.content == data and got.headers["x-amz-checksum-crc32"] == _crc32(data)
    data = os.urandom(5000)
    wrapped = _trailer_put(raw, f"/{raw_bucket}/t5000", data[::-1])  # t5000 holds another body
    assert wrapped.status_code == 200
    # The same trailer, another body: BadDigest, nothing replaced.
    import io

    from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum
    good = AwsChunkedWrapper(io.BytesIO(data), checksum_cls=Crc32Checksum,
                             checksum_name="x-amz-checksum-crc32").read()
    bad = good.replace(data[:100], bytes(100), 1)
    headers = {"Content-Encoding": "aws-chunked", "x-amz-trailer": "x-amz-checksum-crc32",
               "x-amz-decoded-content-length": str(len(data))}
    url, signed = raw.signed("PUT", f"/{raw_bucket}/t5000", bad, headers, trailer=True)
    resp = raw.session.put(url, data=bad, headers=signed, timeout=30)
    assert resp.status_code == 400 and "BadDigest" in resp.text, resp.text
    assert raw("GET", f"/{raw_bucket}/t5000").content == data[::-1]


def test_upload_part_checksums_go_with_the_part_put(raw, raw_bucket, aio):
    """UploadPart with a CRC32 header (boto3 over HTTP) or a small trailer: the part's checksum
    is stored by its PUT, no metadata POST after it."""
    created = raw("POST", f"/{raw_bucket}/mp?uploads", headers={"x-amz-checksum-algorithm": "CRC32"})
    upload_id = created.text.split("<UploadId>")[1].split("</UploadId>")[0]
    one, two = os.urandom(5 * 1024 * 1024), os.urandom(3000)
    before = _metas(aio)
    resp = raw("PUT", f"/{raw_bucket}/mp?partNumber=1&uploadId={upload_id}", body=one,
               headers={"x-amz-checksum-crc32": _crc32(one)})
    assert resp.status_code == 200 and resp.headers["x-amz-checksum-crc32"] == _crc32(one)
    resp = _trailer_put(raw, f"/{raw_bucket}/mp?partNumber=2&uploadId={upload_id}", two)
    assert resp.status_code == 200 and resp.headers["x-amz-checksum-crc32"] == _crc32(two)
    assert _metas(aio) == before
    # ...and each part's stored metadata (the tail of its .data files) holds its checksum.
    for data in (one, two):
        assert _stored_with(aio, f"crc32:{_crc32(data)}".encode()) >= 2, len(data)
    assert raw("DELETE", f"/{raw_bucket}/mp?uploadId={upload_id}").status_code == 204


def _stored_with(aio, needle: bytes) -> int:
    """How many .data files on the storage nodes end (their metadata) with `needle` in them."""
    import glob
    count = 0
    for path in glob.glob(os.path.join(aio["data_dir"], "devices", "*", "objects*", "**",
                                       "*.data"), recursive=True):
        with open(path, "rb") as f:
            f.seek(max(0, os.path.getsize(path) - 8192))
            count += needle in f.read()
    return count
