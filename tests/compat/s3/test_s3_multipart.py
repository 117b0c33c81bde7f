"""Multipart uploads with boto3: create/upload/complete (md5-of-md5s ETag), part copy with range,
list parts and uploads, abort, the Complete errors, partNumber GETs, and boto3's managed transfer."""
import hashlib
import io

import botocore.exceptions
import pytest
from boto3.s3.transfer import TransferConfig

pytestmark = pytest.mark.timeout(180)
MIB = 1024 * 1024


def code_of(exc_info) -> str:
    return exc_info.value.response["Error"]["Code"]


def test_multipart_roundtrip(s3, bucket):
    parts = [b"a" * (5 * MIB), b"b" * (5 * MIB), b"tail"]
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", ContentType="text/x-mp",
                                        Metadata={"k": "v"})
    uid = upload["UploadId"]
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]] == [uid]
    etags = []
    for number, data in enumerate(parts, 1):
        etags.append(s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=number,
                                    Body=data)["ETag"])
    listed = s3.list_parts(Bucket=bucket, Key="mp", UploadId=uid)
    assert [p["PartNumber"] for p in listed["Parts"]] == [1, 2, 3]
    assert [p["Size"] for p in listed["Parts"]] == [len(p) for p in parts]
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid, MultipartUpload={
            "Parts": [{"PartNumber": 2, "ETag": etags[1]}, {"PartNumber": 1, "ETag": etags[0]}]})
    assert code_of(exc) == "InvalidPartOrder"
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": '"' + "0" * 32 + '"'}]})
    assert code_of(exc) == "InvalidPart"
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid, MultipartUpload={
            "Parts": [{"PartNumber": 3, "ETag": etags[2]}, {"PartNumber": 4, "ETag": etags[2]}]})
    assert code_of(exc) in ("EntityTooSmall", "InvalidPart")
    done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]})
    md5s = b"".join(hashlib.md5(p).digest() for p in parts)
    expected = f'"{hashlib.md5(md5s).hexdigest()}-3"'
    assert done["ETag"] == expected
    head = s3.head_object(Bucket=bucket, Key="mp")
    assert head["ETag"] == expected and head["ContentLength"] == sum(map(len, parts))
    assert head["ContentType"] == "text/x-mp" and head["Metadata"] == {"k": "v"}
    got = s3.get_object(Bucket=bucket, Key="mp")
    assert got["ETag"] == expected and got["ContentType"] == "text/x-mp"
    assert got["Metadata"] == {"k": "v"}
    assert got["Body"].read() == b"".join(parts)
    listing = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert listing[0]["ETag"] == expected and listing[0]["Size"] == sum(map(len, parts))
    part2 = s3.get_object(Bucket=bucket, Key="mp", PartNumber=2)
    assert part2["PartsCount"] == 3 and part2["Body"].read() == parts[1]
    rng = s3.get_object(Bucket=bucket, Key="mp", Range=f"bytes={5 * MIB - 2}-{5 * MIB + 1}")
    assert rng["Body"].read() == b"aabb"
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.list_parts(Bucket=bucket, Key="mp", UploadId=uid)
    assert code_of(exc) == "NoSuchUpload"


def test_abort_and_part_copy(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=bytes(range(256)) * 100)
    uid = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    copied = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=1,
                                 CopySource={"Bucket": bucket, "Key": "src"},
                                 CopySourceRange="bytes=10-19")
    assert copied["CopyPartResult"]["ETag"] == '"' + hashlib.md5(bytes(range(10, 20))).hexdigest() + '"'
    done = s3.complete_multipart_upload(Bucket=bucket, Key="dst", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": copied["CopyPartResult"]["ETag"]}]})
    assert done["ETag"].endswith('-1"')
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == bytes(range(10, 20))
    uid = s3.create_multipart_upload(Bucket=bucket, Key="gone")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="gone", UploadId=uid, PartNumber=1, Body=b"x")
    s3.abort_multipart_upload(Bucket=bucket, Key="gone", UploadId=uid)
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.upload_part(Bucket=bucket, Key="gone", UploadId=uid, PartNumber=2, Body=b"x")
    assert code_of(exc) == "NoSuchUpload"


def test_managed_transfer(s3, bucket):
    data = bytes(range(256)) * (48 * 1024)  # 12 MiB: three 5 MiB-ish parts
    config = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
    s3.upload_fileobj(io.BytesIO(data), bucket, "managed", Config=config)
    out = io.BytesIO()
    s3.download_fileobj(bucket, "managed", out, Config=config)
    assert out.getvalue() == data
    s3.delete_object(Bucket=bucket, Key="managed")
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
