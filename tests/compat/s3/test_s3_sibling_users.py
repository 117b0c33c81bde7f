"""Users of one account as Swift's s3api treats them with s3_acl (boto3, the --test-users keys):
the user that created a bucket owns it; a sibling admin user gets BucketAlreadyExists and needs
a grant for everything else; a non-admin user may not create buckets at all."""
import uuid

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

pytestmark = pytest.mark.timeout(120)

USERS = {1: ("test:tester", "testing"), 2: ("test:tester2", "testing2"),
         3: ("test:tester3", "testing3")}


def client(aio, user):
    access, secret = USERS[user]
    return boto3.client("s3", endpoint_url=aio["s3"]["endpoint"], region_name=aio["s3"]["region"],
                        aws_access_key_id=access, aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1}))


def error(call, **params):
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        call(**params)
    return exc.value.response["ResponseMetadata"]["HTTPStatusCode"], exc.value.response["Error"]["Code"]


def test_creator_owns_siblings_need_grants(aio):
    one, two, three = (client(aio, n) for n in (1, 2, 3))
    name = f"sib-{uuid.uuid4().hex[:12]}"
    one.create_bucket(Bucket=name)
    one.put_object(Bucket=name, Key="obj", Body=b"mine")
    try:
        assert error(one.create_bucket, Bucket=name) == (409, "BucketAlreadyOwnedByYou")
        assert error(two.create_bucket, Bucket=name) == (409, "BucketAlreadyExists")
        assert error(three.create_bucket, Bucket=name) == (403, "AccessDenied")
        assert error(three.create_bucket, Bucket=f"x{name}") == (403, "AccessDenied")
        for c in (two, three):
            assert error(c.get_bucket_acl, Bucket=name) == (403, "AccessDenied")
            assert error(c.put_bucket_acl, Bucket=name, ACL="public-read") == (403, "AccessDenied")
            assert error(c.get_object_acl, Bucket=name, Key="obj") == (403, "AccessDenied")
            assert error(c.get_object, Bucket=name, Key="obj")[0] == 403
        # A grant naming the sibling user lets it read.
        owner = one.get_bucket_acl(Bucket=name)["Owner"]
        one.put_object_acl(Bucket=name, Key="obj", AccessControlPolicy={"Owner": owner, "Grants": [
            {"Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]}, "Permission": "FULL_CONTROL"},
            {"Grantee": {"Type": "CanonicalUser", "ID": "test:tester3"}, "Permission": "READ"}]})
        assert three.get_object(Bucket=name, Key="obj")["Body"].read() == b"mine"
        assert error(two.get_object, Bucket=name, Key="obj")[0] == 403
    finally:
        one.delete_object(Bucket=name, Key="obj")
        one.delete_bucket(Bucket=name)
