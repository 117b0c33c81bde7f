"""Users of one account are separate bucket owners in ListBuckets (boto3, the --test-users keys),
as Swift's s3api shows them with s3_acl and check_bucket_owner: each sees the buckets it created
and those an ACL grant names it in, never a sibling's private buckets."""
import uuid

import boto3
import pytest

pytestmark = pytest.mark.timeout(120)

USERS = {1: ("test:tester", "testing"), 2: ("test:tester2", "testing2"),
         3: ("test:tester3", "testing3")}


def client(aio, user, signature_version="s3v4"):
    from botocore.config import Config
    access, secret = USERS[user]
    return boto3.client("s3", endpoint_url=aio["s3"]["endpoint"], region_name=aio["s3"]["region"],
                        aws_access_key_id=access, aws_secret_access_key=secret,
                        config=Config(signature_version=signature_version))


def names(c):
    return {b["Name"] for b in c.list_buckets()["Buckets"]}


@pytest.mark.parametrize("signature_version", ["s3v4", "s3"])
def test_each_user_lists_its_own_buckets(aio, signature_version):
    one, two, three = (client(aio, n, signature_version) for n in (1, 2, 3))
    mine = [f"own-{n}-{uuid.uuid4().hex[:12]}" for n in (1, 2)]
    one.create_bucket(Bucket=mine[0])
    two.create_bucket(Bucket=mine[1])
    try:
        assert mine[0] in names(one) and mine[1] not in names(one)
        assert mine[1] in names(two) and mine[0] not in names(two)
        assert not set(mine) & names(three)
        # A grant that names the user shows the bucket to it.
        owner = one.get_bucket_acl(Bucket=mine[0])["Owner"]
        one.put_bucket_acl(Bucket=mine[0], AccessControlPolicy={"Owner": owner, "Grants": [
            {"Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]},
             "Permission": "FULL_CONTROL"},
            {"Grantee": {"Type": "CanonicalUser", "ID": "test:tester3"}, "Permission": "READ"}]})
        assert mine[0] in names(three) and mine[1] not in names(three)
    finally:
        one.delete_bucket(Bucket=mine[0])
        two.delete_bucket(Bucket=mine[1])
