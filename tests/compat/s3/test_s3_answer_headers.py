"""Headers S3 puts on answers, as boto3 reads them: x-amz-id-2 (boto3's HostId) on every answer,
streamed GETs and errors included, and X-Robots-Tag stored with an object and returned."""
import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.timeout(60)


def test_every_answer_names_a_host_id(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"body")
    got = s3.get_object(Bucket=bucket, Key="k")  # a streamed answer
    assert got["Body"].read() == b"body"
    head = s3.head_object(Bucket=bucket, Key="k")
    listed = s3.list_objects_v2(Bucket=bucket)
    with pytest.raises(ClientError) as missing:
        s3.get_object(Bucket=bucket, Key="missing")
    with pytest.raises(ClientError) as missing_head:
        s3.head_object(Bucket=bucket, Key="missing")
    for answer in (put, got, head, listed, missing.value.response, missing_head.value.response):
        meta = answer["ResponseMetadata"]
        assert meta["HostId"] and meta["RequestId"], meta


def test_x_robots_tag_is_stored_and_returned(s3, bucket):
    def add_tag(request, **_):
        request.headers["X-Robots-Tag"] = "noindex"

    s3.meta.events.register("before-sign.s3.PutObject", add_tag)
    try:
        s3.put_object(Bucket=bucket, Key="robots", Body=b"x")
    finally:
        s3.meta.events.unregister("before-sign.s3.PutObject", add_tag)
    for answer in (s3.head_object(Bucket=bucket, Key="robots"),
                   s3.get_object(Bucket=bucket, Key="robots")):
        assert answer["ResponseMetadata"]["HTTPHeaders"].get("x-robots-tag") == "noindex"
