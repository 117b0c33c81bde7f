"""S3 bucket versioning driven by boto3 in its default configuration (Swift's s3api behaviour)."""
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def s3(aio):
    info = aio["s3"]
    return boto3.client("s3", endpoint_url=info["endpoint"], region_name=info["region"],
                        aws_access_key_id=info["access_key"],
                        aws_secret_access_key=info["secret_key"])


def _clear(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    listing = s3.list_object_versions(Bucket=bucket)
    for item in listing.get("Versions", []) + listing.get("DeleteMarkers", []):
        s3.delete_object(Bucket=bucket, Key=item["Key"], VersionId=item["VersionId"])
    for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        s3.delete_object(Bucket=bucket, Key=item["Key"])
    s3.delete_bucket(Bucket=bucket)


@pytest.fixture
def bucket(s3):
    name = f"ver-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    yield name
    _clear(s3, name)


def test_versioning_configuration(s3):
    name = f"ver-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    try:
        assert "Status" not in s3.get_bucket_versioning(Bucket=name)
        for status in ("Suspended", "Enabled", "Suspended"):
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": status})
            assert s3.get_bucket_versioning(Bucket=name)["Status"] == status
        with pytest.raises(ClientError) as caught:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "On"})
        assert caught.value.response["Error"]["Code"] == "MalformedXML"
    finally:
        _clear(s3, name)


def test_versions_are_kept_and_readable(s3, bucket):
    ids = [s3.put_object(Bucket=bucket, Key="k", Body=b"data%d" % i)["VersionId"]
           for i in range(3)]
    assert len(set(ids)) == 3
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"data2" and got["VersionId"] == ids[2]
    for i, vid in enumerate(ids):
        got = s3.get_object(Bucket=bucket, Key="k", VersionId=vid)
        assert got["Body"].read() == b"data%d" % i and got["VersionId"] == vid
        assert s3.head_object(Bucket=bucket, Key="k", VersionId=vid)["VersionId"] == vid
    (item,) = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert item["Size"] == 5
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert [(v["VersionId"], v["IsLatest"]) for v in versions] == [
        (ids[2], True), (ids[1], False), (ids[0], False)]
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="k", VersionId="1700000000.00000")
    assert caught.value.response["Error"]["Code"] == "NoSuchVersion"


def test_delete_markers(s3, bucket):
    vid = s3.put_object(Bucket=bucket, Key="k", Body=b"x")["VersionId"]
    deleted = s3.delete_object(Bucket=bucket, Key="k")
    assert deleted["DeleteMarker"] is True
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="k")
    assert caught.value.response["Error"]["Code"] == "NoSuchKey"
    listing = s3.list_object_versions(Bucket=bucket)
    assert [(m["VersionId"], m["IsLatest"]) for m in listing["DeleteMarkers"]] == [
        (deleted["VersionId"], True)]
    assert [v["IsLatest"] for v in listing["Versions"]] == [False]
    # removing the marker brings the version back
    gone = s3.delete_object(Bucket=bucket, Key="k", VersionId=deleted["VersionId"])
    assert gone["DeleteMarker"] is True
    assert s3.get_object(Bucket=bucket, Key="k")["VersionId"] == vid


def test_delete_newest_version_restores_the_previous(s3, bucket):
    first = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    second = s3.put_object(Bucket=bucket, Key="k", Body=b"two")["VersionId"]
    gone = s3.delete_object(Bucket=bucket, Key="k", VersionId=second)
    assert "DeleteMarker" not in gone  # a data version is no delete marker
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"one" and got["VersionId"] == first


def test_delete_objects_by_version(s3, bucket):
    ids = [s3.put_object(Bucket=bucket, Key="k", Body=b"%d" % i)["VersionId"] for i in range(2)]
    answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [
        {"Key": "k", "VersionId": vid} for vid in ids]})
    assert sorted(d["VersionId"] for d in answer["Deleted"]) == sorted(ids)
    assert "Versions" not in s3.list_object_versions(Bucket=bucket)


def test_copy_from_a_version(s3, bucket):
    old = s3.put_object(Bucket=bucket, Key="src", Body=b"old")["VersionId"]
    new = s3.put_object(Bucket=bucket, Key="src", Body=b"new")["VersionId"]
    answer = s3.copy_object(Bucket=bucket, Key="dst",
                            CopySource={"Bucket": bucket, "Key": "src", "VersionId": old})
    assert answer["CopySourceVersionId"] == old and answer["VersionId"]
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"old"
    answer = s3.copy_object(Bucket=bucket, Key="dst2", CopySource=f"{bucket}/src")
    assert answer["CopySourceVersionId"] == new


def test_versioned_bucket_is_not_empty_until_every_version_goes(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.delete_object(Bucket=bucket, Key="k")
    with pytest.raises(ClientError) as caught:
        s3.delete_bucket(Bucket=bucket)
    assert caught.value.response["Error"]["Code"] == "BucketNotEmpty"


def test_list_object_versions_arguments(s3, bucket):
    with pytest.raises(ClientError) as caught:
        s3.list_object_versions(Bucket=bucket, VersionIdMarker="1700000000.00000")
    assert caught.value.response["Error"]["Code"] == "InvalidArgument"
    with pytest.raises(ClientError) as caught:
        s3.list_object_versions(Bucket=bucket, KeyMarker="k", VersionIdMarker="bogus")
    assert caught.value.response["Error"]["Code"] == "InvalidArgument"
    ids = [s3.put_object(Bucket=bucket, Key="k", Body=b"%d" % i)["VersionId"] for i in range(3)]
    page = s3.list_object_versions(Bucket=bucket, MaxKeys=2)
    assert page["IsTruncated"] and page["NextVersionIdMarker"] == ids[1]
    rest = s3.list_object_versions(Bucket=bucket, KeyMarker=page["NextKeyMarker"],
                                   VersionIdMarker=page["NextVersionIdMarker"])
    assert [v["VersionId"] for v in rest["Versions"]] == [ids[0]]


def test_a_delete_marker_or_a_bad_id_is_no_version_to_read(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    marker = s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="k", VersionId=marker)
    assert caught.value.response["Error"]["Code"] == "MethodNotAllowed"
    assert caught.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] \
        == "true"
    with pytest.raises(ClientError) as caught:
        s3.copy_object(Bucket=bucket, Key="dst",
                       CopySource={"Bucket": bucket, "Key": "k", "VersionId": marker})
    assert caught.value.response["Error"]["Code"] == "InvalidRequest"
    for call in (lambda: s3.get_object(Bucket=bucket, Key="k", VersionId="bogus"),
                 lambda: s3.copy_object(Bucket=bucket, Key="dst", CopySource={
                     "Bucket": bucket, "Key": "k", "VersionId": "bogus"})):
        with pytest.raises(ClientError) as caught:
            call()
        assert caught.value.response["Error"]["Code"] == "InvalidArgument"
