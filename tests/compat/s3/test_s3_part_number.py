"""partNumber on an object that was not uploaded in parts (boto3): part 1 is the whole object,
answered as a range of it (206 with Content-Range) on GET and HEAD, as S3 does; part 2 is 416."""
import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.timeout(60)


def test_part_one_of_a_simple_object(s3, bucket):
    client = s3
    client.put_object(Bucket=bucket, Key="k", Body=b"non-mpu-object")
    head = client.head_object(Bucket=bucket, Key="k", PartNumber=1)
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert head["ContentLength"] == 14
    got = client.get_object(Bucket=bucket, Key="k", PartNumber=1)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["ContentRange"] == "bytes 0-13/14" and got["Body"].read() == b"non-mpu-object"
    with pytest.raises(ClientError) as caught:
        client.get_object(Bucket=bucket, Key="k", PartNumber=2)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416


def test_part_of_an_older_version(s3, bucket):
    """GET/HEAD ?partNumber&versionId read that part of that version (multipart versions)."""
    client = s3
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    first = b"a" * (5 * 1024 * 1024)
    versions = []
    try:
        for tail in (b"old tail", b"new tail!"):
            upload = client.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
            parts = []
            for number, body in ((1, first), (2, tail)):
                etag = client.upload_part(Bucket=bucket, Key="k", UploadId=upload,
                                          PartNumber=number, Body=body)["ETag"]
                parts.append({"PartNumber": number, "ETag": etag})
            client.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload,
                                             MultipartUpload={"Parts": parts})
            versions.append(client.head_object(Bucket=bucket, Key="k")["VersionId"])
        got = client.get_object(Bucket=bucket, Key="k", PartNumber=2, VersionId=versions[0])
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert got["Body"].read() == b"old tail" and got["PartsCount"] == 2
        assert got["VersionId"] == versions[0]
        head = client.head_object(Bucket=bucket, Key="k", PartNumber=2, VersionId=versions[1])
        assert head["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert head["ContentLength"] == len(b"new tail!")
    finally:  # versions first: the bucket fixture then finds the bucket empty
        for version in versions:
            client.delete_object(Bucket=bucket, Key="k", VersionId=version)
