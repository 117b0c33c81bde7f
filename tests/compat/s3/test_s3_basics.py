"""boto3 (default configuration: CRC32 trailing checksums, aws-chunked bodies) against S3 on the proxy:
buckets, objects, listings, and that both APIs see the same data."""
import uuid

import botocore.exceptions
import pytest
import requests

pytestmark = pytest.mark.timeout(120)


def code_of(exc_info) -> str:
    return exc_info.value.response["Error"]["Code"]


def test_bucket_lifecycle(s3):
    name = f"life-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    s3.head_bucket(Bucket=name)
    assert s3.get_bucket_location(Bucket=name).get("LocationConstraint") in (None, "")
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.create_bucket(Bucket=name)
    assert code_of(exc) == "BucketAlreadyOwnedByYou"
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.delete_bucket(Bucket=name)
    assert code_of(exc) == "BucketNotEmpty"
    s3.delete_object(Bucket=name, Key="k")
    s3.delete_bucket(Bucket=name)
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.head_bucket(Bucket=name)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_bucket_names_and_location(s3, aio):
    for bad in ("UPPER", "a", "bad..dots", "192.168.1.1"):
        with pytest.raises((botocore.exceptions.ClientError,
                            botocore.exceptions.ParamValidationError)) as exc:
            s3.create_bucket(Bucket=bad)
        if isinstance(exc.value, botocore.exceptions.ClientError):
            assert code_of(exc) == "InvalidBucketName"
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.create_bucket(Bucket=f"loc-{uuid.uuid4().hex[:8]}",
                         CreateBucketConfiguration={"LocationConstraint": "eu-west-9"})
    assert code_of(exc) == "InvalidLocationConstraint"


def test_object_roundtrip_metadata_and_checksum(s3, bucket):
    body = b"hello s3 " * 1000
    put = s3.put_object(Bucket=bucket, Key="dir/a b+c.txt", Body=body, ContentType="text/x-t",
                        Metadata={"color": "blue"})
    got = s3.get_object(Bucket=bucket, Key="dir/a b+c.txt", ChecksumMode="ENABLED")
    assert got["Body"].read() == body
    assert got["ContentType"] == "text/x-t" and got["Metadata"] == {"color": "blue"}
    assert got["ETag"] == put["ETag"]
    assert got.get("ChecksumCRC32") == put.get("ChecksumCRC32") and put.get("ChecksumCRC32")
    head = s3.head_object(Bucket=bucket, Key="dir/a b+c.txt")
    assert head["ContentLength"] == len(body)
    rng = s3.get_object(Bucket=bucket, Key="dir/a b+c.txt", Range="bytes=6-7")
    assert rng["Body"].read() == b"s3" and rng["ContentRange"] == f"bytes 6-7/{len(body)}"
    s3.delete_object(Bucket=bucket, Key="dir/a b+c.txt")
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="dir/a b+c.txt")
    assert code_of(exc) == "NoSuchKey"
    s3.delete_object(Bucket=bucket, Key="never-existed")  # idempotent


def test_list_objects_v2_and_v1(s3, bucket):
    keys = ["a/1", "a/2", "b/1", "c", "d e", "é/x"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    got = s3.list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in got["Contents"]] == sorted(keys, key=lambda k: k.encode())
    assert got["KeyCount"] == len(keys) and "Owner" not in got["Contents"][0]
    got = s3.list_objects_v2(Bucket=bucket, Delimiter="/", FetchOwner=True)
    assert [p["Prefix"] for p in got["CommonPrefixes"]] == ["a/", "b/", "é/"]
    assert [o["Key"] for o in got["Contents"]] == ["c", "d e"]
    assert got["Contents"][0]["Owner"]["ID"]
    pages = list(s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Delimiter="/", PaginationConfig={"PageSize": 2}))
    seen = [p.get("Prefix") or p.get("Key") for page in pages
            for p in page.get("CommonPrefixes", []) + page.get("Contents", [])]
    assert sorted(seen) == sorted(["a/", "b/", "é/", "c", "d e"]) and len(pages) == 3
    got = s3.list_objects_v2(Bucket=bucket, Prefix="a/", StartAfter="a/1")
    assert [o["Key"] for o in got["Contents"]] == ["a/2"]
    v1 = s3.list_objects(Bucket=bucket, Marker="b/1", MaxKeys=1)
    assert [o["Key"] for o in v1["Contents"]] == ["c"] and v1["IsTruncated"]
    pages = list(s3.get_paginator("list_objects").paginate(
        Bucket=bucket, Delimiter="/", PaginationConfig={"PageSize": 1}))
    assert sum(len(p.get("Contents", [])) + len(p.get("CommonPrefixes", [])) for p in pages) == 5


def test_swift_sees_s3_data(s3, bucket, aio):
    s3.put_object(Bucket=bucket, Key="shared", Body=b"both apis")
    auth = requests.get(aio["swift"]["auth_url"], headers={
        "X-Auth-User": aio["swift"]["user"], "X-Auth-Key": aio["swift"]["key"]})
    url = auth.headers["X-Storage-Url"]
    token = auth.headers["X-Auth-Token"]
    got = requests.get(f"{url}/{bucket}/shared", headers={"X-Auth-Token": token})
    assert got.status_code == 200 and got.content == b"both apis"


def test_errors_are_s3_xml(aio, s3, bucket):
    endpoint = aio["s3"]["endpoint"]
    anon = requests.get(f"{endpoint}/{bucket}")
    assert anon.status_code == 403 and b"<Code>AccessDenied</Code>" in anon.content
    bad = requests.get(f"{endpoint}/{bucket}", headers={
        "Authorization": "AWS4-HMAC-SHA256 Credential=nobody/20250101/us-east-1/s3/aws4_request,"
                         " SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
        "x-amz-date": "20250101T000000Z", "x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    assert bad.status_code == 403 and b"<Code>InvalidAccessKeyId</Code>" in bad.content


def _identity_admin(aio):
    """(token, user id, project id) of the all-in-one's identity admin."""
    ident = aio["identity"]
    auth = requests.post(ident["auth_url"] + "/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": ident["username"], "domain": {"id": "default"},
            "password": ident["password"]}}},
        "scope": {"project": {"name": ident["project"], "domain": {"id": "default"}}}}})
    assert auth.status_code == 201, auth.text
    body = auth.json()["token"]
    return auth.headers["X-Subject-Token"], body["user"]["id"], body["project"]["id"]


def _ec2_credential(aio):
    """(token, user id, project id, credential) of a new EC2 credential of the admin (OS-EC2)."""
    token, user_id, project_id = _identity_admin(aio)
    made = requests.post(f"{aio['identity']['auth_url']}/users/{user_id}/credentials/OS-EC2",
                         headers={"X-Auth-Token": token}, json={"tenant_id": project_id})
    assert made.status_code == 201, made.text
    return token, user_id, project_id, made.json()["credential"]


def _ec2_client(aio, access: str, secret: str):
    import boto3
    return boto3.client("s3", endpoint_url=aio["s3"]["endpoint"], region_name=aio["s3"]["region"],
                        aws_access_key_id=access, aws_secret_access_key=secret)


def test_identity_ec2_credentials(aio):
    """An EC2 credential made through the identity API (OS-EC2) signs S3 requests; its project is
    the storage account."""
    token, user_id, project_id, cred = _ec2_credential(aio)
    client = _ec2_client(aio, cred["access"], cred["secret"])
    name = f"ec2-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    client.put_object(Bucket=name, Key="k", Body=b"via ec2")
    assert client.get_object(Bucket=name, Key="k")["Body"].read() == b"via ec2"
    # "account:user" as Swift's s3api shows it: the project is the account
    assert client.list_buckets()["Owner"]["ID"] == f"{project_id}:{user_id}"
    client.delete_object(Bucket=name, Key="k")
    client.delete_bucket(Bucket=name)
    wrong = _ec2_client(aio, cred["access"], "not-it")
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        wrong.list_buckets()
    assert code_of(exc) == "SignatureDoesNotMatch"


def test_multi_character_delimiter(s3, bucket):
    for key in ("a--b/1", "a--c", "x"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"")
    got = s3.list_objects_v2(Bucket=bucket, Delimiter="--")
    assert [p["Prefix"] for p in got["CommonPrefixes"]] == ["a--"]
    assert [o["Key"] for o in got["Contents"]] == ["x"]


@pytest.mark.timeout(60)
def test_owner_is_account_user(s3, bucket):
    # Swift's s3api shows owners as the credential's "account:user" ("test:tester"), not "test"
    s3.put_object(Bucket=bucket, Key="o", Body=b"x")
    me = s3.list_buckets()["Owner"]
    assert me["ID"].count(":") == 1 and me["DisplayName"] == me["ID"]
    assert s3.list_objects(Bucket=bucket)["Contents"][0]["Owner"]["ID"] == me["ID"]
    assert s3.list_objects_v2(Bucket=bucket, FetchOwner=True)["Contents"][0]["Owner"] == me
    acl = s3.get_bucket_acl(Bucket=bucket)
    assert acl["Owner"]["ID"] == me["ID"]
    assert s3.get_object_acl(Bucket=bucket, Key="o")["Owner"]["ID"] == me["ID"]
    # the rendered ACL round-trips through PutBucketAcl
    s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={"Owner": acl["Owner"], "Grants": acl["Grants"]})
    uid = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    parts = s3.list_parts(Bucket=bucket, Key="mp", UploadId=uid)
    assert parts["Initiator"]["ID"] == parts["Owner"]["ID"] == me["ID"]
    assert s3.list_multipart_uploads(Bucket=bucket)["Uploads"][0]["Owner"]["ID"] == me["ID"]
    s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid)


def test_rotated_and_removed_ec2_keys_are_refused_at_once(aio):
    """The proxy caches per-key signing material (signing key, keyed HMAC, parsed Authorization
    fields): a secret changed for the same access key, or a key removed, is refused on the first
    request once identity's own EC2 lookup cache (identity.ec2_cache_seconds) has let it go; the
    S3 layer's caches add no time to that."""
    import json
    import os
    import time

    from strato import config as config_mod
    toml = os.path.join(aio["data_dir"], "run", "strato.toml")
    cache = config_mod.load(toml if os.path.exists(toml) else None).identity.ec2_cache_seconds
    ident = aio["identity"]
    token, user_id, project_id, cred = _ec2_credential(aio)

    def client(secret):
        return _ec2_client(aio, cred["access"], secret)
    old = client(cred["secret"])
    for _ in range(3):  # warm every cache for the old secret
        old.list_buckets()
    listed = requests.get(f"{ident['auth_url']}/credentials", params={"type": "ec2"},
                          headers={"X-Auth-Token": token}).json()["credentials"]
    (row,) = [c for c in listed if json.loads(c["blob"])["access"] == cred["access"]]
    rotated = requests.patch(f"{ident['auth_url']}/credentials/{row['id']}",
                             headers={"X-Auth-Token": token}, json={"credential": {
                                 "blob": json.dumps({"access": cred["access"],
                                                     "secret": "rotated-" + cred["secret"]})}})
    assert rotated.status_code == 200, rotated.text
    time.sleep(cache + 0.5)
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        old.list_buckets()
    assert code_of(exc) == "SignatureDoesNotMatch"
    new = client("rotated-" + cred["secret"])
    new.list_buckets()
    gone = requests.delete(f"{ident['auth_url']}/users/{user_id}/credentials/OS-EC2/"
                           f"{cred['access']}", headers={"X-Auth-Token": token})
    assert gone.status_code == 204, gone.text
    time.sleep(cache + 0.5)
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        new.list_buckets()
    assert code_of(exc) == "InvalidAccessKeyId"
