"""What GET and HEAD of a completed multipart object answer: the same headers as any object.

The owner's whole-object read takes a one-request fast path; for a multipart object (an SLO
manifest) it once answered without the manifest's stored headers: no x-amz-server-side-encryption,
no x-amz-tagging-count, no user metadata whose name is not an HTTP token. A ?partNumber read
(the slow path) had them all, which is what this compares against.
"""
import boto3
import pytest

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def s3(aio):
    s3 = aio["s3"]
    return boto3.client("s3", endpoint_url=s3["endpoint"], region_name=s3["region"],
                        aws_access_key_id=s3["access_key"], aws_secret_access_key=s3["secret_key"])


def test_multipart_object_answers_carry_stored_headers(s3, raw_bucket):
    upload = s3.create_multipart_upload(Bucket=raw_bucket, Key="mp", ServerSideEncryption="AES256",
                                        Tagging="a=b&c=d", Metadata={"odd(name": "v", "ok": "1"})
    assert upload["ServerSideEncryption"] == "AES256"
    etag = s3.upload_part(Bucket=raw_bucket, Key="mp", UploadId=upload["UploadId"], PartNumber=1,
                          Body=b"body")["ETag"]
    s3.complete_multipart_upload(Bucket=raw_bucket, Key="mp", UploadId=upload["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    answers = [s3.head_object(Bucket=raw_bucket, Key="mp"),
               s3.get_object(Bucket=raw_bucket, Key="mp"),
               s3.head_object(Bucket=raw_bucket, Key="mp", PartNumber=1)]
    for answer in answers:
        assert answer["ServerSideEncryption"] == "AES256"
        assert answer["TagCount"] == 2
        assert answer["Metadata"] == {"odd(name": "v", "ok": "1"}
    assert answers[1]["Body"].read() == b"body"
