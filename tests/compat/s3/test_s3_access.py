"""Two users with separate accounts and keys: ACLs, bucket policies, public access blocks,
ownership controls; anonymous access only where a grant or policy allows it."""
import json

import botocore.exceptions
import pytest
import requests

pytestmark = pytest.mark.timeout(120)


def code_of(exc_info) -> str:
    return exc_info.value.response["Error"]["Code"]


def denied(call, *args, **kwargs) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        call(*args, **kwargs)
    assert code_of(exc) in ("AccessDenied", "403"), exc.value.response


def test_private_by_default(s3, alt_s3, bucket, aio):
    s3.put_object(Bucket=bucket, Key="secret", Body=b"mine")
    denied(alt_s3.get_object, Bucket=bucket, Key="secret")
    denied(alt_s3.list_objects_v2, Bucket=bucket)
    denied(alt_s3.put_object, Bucket=bucket, Key="intruder", Body=b"x")
    denied(alt_s3.delete_bucket, Bucket=bucket)
    assert requests.get(f"{aio['s3']['endpoint']}/{bucket}/secret").status_code == 403
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        alt_s3.create_bucket(Bucket=bucket)
    assert code_of(exc) == "BucketAlreadyExists"
    assert bucket not in [b["Name"] for b in alt_s3.list_buckets()["Buckets"]]


def test_bucket_and_object_acls(s3, alt_s3, bucket, aio):
    s3.put_object(Bucket=bucket, Key="pub", Body=b"public", ACL="public-read")
    assert requests.get(f"{aio['s3']['endpoint']}/{bucket}/pub").content == b"public"
    assert alt_s3.get_object(Bucket=bucket, Key="pub")["Body"].read() == b"public"
    acl = s3.get_object_acl(Bucket=bucket, Key="pub")
    assert any(g["Grantee"].get("URI", "").endswith("AllUsers") and g["Permission"] == "READ"
               for g in acl["Grants"])
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    alt_s3.put_object(Bucket=bucket, Key="from-alt", Body=b"hello")
    assert [o["Key"] for o in alt_s3.list_objects_v2(Bucket=bucket)["Contents"]] == \
        ["from-alt", "pub"]
    grants = s3.get_bucket_acl(Bucket=bucket)["Grants"]
    assert {g["Permission"] for g in grants} >= {"READ", "WRITE"}
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    denied(alt_s3.list_objects_v2, Bucket=bucket)
    owner_id = s3.get_bucket_acl(Bucket=bucket)["Owner"]["ID"]
    alt_id = alt_s3.list_buckets()["Owner"]["ID"]
    s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={
        "Owner": {"ID": owner_id},
        "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": owner_id},
                    "Permission": "FULL_CONTROL"},
                   {"Grantee": {"Type": "CanonicalUser", "ID": alt_id}, "Permission": "READ"}]})
    assert alt_s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 2
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={"Owner": {"ID": owner_id},
                                                              "Grants": []},
                          ACL="private")
    assert code_of(exc) in ("InvalidRequest", "UnexpectedContent")


def test_bucket_policy(s3, alt_s3, bucket, aio):
    s3.put_object(Bucket=bucket, Key="docs/a", Body=b"doc")
    s3.put_object(Bucket=bucket, Key="other", Body=b"no")
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.get_bucket_policy(Bucket=bucket)
    assert code_of(exc) == "NoSuchBucketPolicy"
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{bucket}/docs/*"},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject",
         "Resource": f"arn:aws:s3:::{bucket}/*"}]}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == policy
    assert alt_s3.get_object(Bucket=bucket, Key="docs/a")["Body"].read() == b"doc"
    assert requests.get(f"{aio['s3']['endpoint']}/{bucket}/docs/a").content == b"doc"
    denied(alt_s3.get_object, Bucket=bucket, Key="other")
    denied(s3.delete_object, Bucket=bucket, Key="other")  # an explicit Deny binds the owner too
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.put_bucket_policy(Bucket=bucket, Policy='{"Statement": [{"Effect": "Maybe"}]}')
    assert code_of(exc) == "MalformedPolicy"
    s3.delete_bucket_policy(Bucket=bucket)
    s3.delete_object(Bucket=bucket, Key="other")
    denied(alt_s3.get_object, Bucket=bucket, Key="docs/a")


def test_public_access_block_and_ownership(s3, alt_s3, bucket):
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True})
    got = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert got["BlockPublicAcls"] and got["RestrictPublicBuckets"]
    denied(s3.put_bucket_acl, Bucket=bucket, ACL="public-read")
    s3.delete_public_access_block(Bucket=bucket)
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.get_public_access_block(Bucket=bucket)
    assert code_of(exc) == "NoSuchPublicAccessBlockConfiguration"
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    s3.delete_bucket_ownership_controls(Bucket=bucket)
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.get_bucket_ownership_controls(Bucket=bucket)
    assert code_of(exc) == "OwnershipControlsNotFoundError"
