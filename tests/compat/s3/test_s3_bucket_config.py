"""Bucket configuration with boto3: tagging, CORS (stored and applied to preflights), lifecycle
(stored; Expiration applied to new objects), versioning status, unsupported subresources -> 501."""
import botocore.exceptions
import pytest
import requests

pytestmark = pytest.mark.timeout(120)


def code_of(exc_info) -> str:
    return exc_info.value.response["Error"]["Code"]


def test_bucket_tagging(s3, bucket):
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.get_bucket_tagging(Bucket=bucket)
    assert code_of(exc) == "NoSuchTagSet"
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "team", "Value": "s3"}]})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "team", "Value": "s3"}]
    s3.delete_bucket_tagging(Bucket=bucket)
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.get_bucket_tagging(Bucket=bucket)
    assert code_of(exc) == "NoSuchTagSet"


def test_cors(s3, bucket, aio):
    endpoint = aio["s3"]["endpoint"]
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "PUT",
                 "Access-Control-Request-Headers": "content-type"}
    assert requests.options(f"{endpoint}/{bucket}/k", headers=preflight).status_code == 403
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": ["https://*.example"], "AllowedMethods": ["GET", "PUT"],
        "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 60}]})
    rules = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert rules[0]["AllowedMethods"] == ["GET", "PUT"] and rules[0]["MaxAgeSeconds"] == 60
    resp = requests.options(f"{endpoint}/{bucket}/k", headers=preflight)
    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "PUT" in resp.headers["Access-Control-Allow-Methods"]
    assert resp.headers["Access-Control-Max-Age"] == "60"
    bad = dict(preflight, **{"Access-Control-Request-Method": "DELETE"})
    assert requests.options(f"{endpoint}/{bucket}/k", headers=bad).status_code == 403
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="public-read")
    got = requests.get(f"{endpoint}/{bucket}/k", headers={"Origin": "https://app.example"})
    assert got.headers.get("Access-Control-Allow-Origin") == "https://app.example"
    assert got.headers.get("Access-Control-Expose-Headers") == "ETag"
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{
            "AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]})
    assert code_of(exc) == "InvalidRequest"
    s3.delete_bucket_cors(Bucket=bucket)
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.get_bucket_cors(Bucket=bucket)
    assert code_of(exc) == "NoSuchCORSConfiguration"


def test_lifecycle_expiration(s3, bucket):
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert code_of(exc) == "NoSuchLifecycleConfiguration"
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [{
        "ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
        "Expiration": {"Days": 1}}]})
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rules[0]["Expiration"]["Days"] == 1 and rules[0]["Filter"]["Prefix"] == "tmp/"
    put = s3.put_object(Bucket=bucket, Key="tmp/x", Body=b"short-lived")
    assert "expiry-date" in put["Expiration"]
    assert "Expiration" not in s3.put_object(Bucket=bucket, Key="keep/x", Body=b"kept")
    s3.delete_bucket_lifecycle(Bucket=bucket)


def test_lifecycle_expired_objects_are_gone(s3, bucket):
    """An Expiration Date already past: objects written under it read as absent at once (the
    proxy's expirer reaps them later) and can still be deleted."""
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [{
        "ID": "now", "Status": "Enabled", "Filter": {"Prefix": "gone/"},
        "Expiration": {"Date": "2020-01-01T00:00:00Z"}}]})
    s3.put_object(Bucket=bucket, Key="gone/x", Body=b"x")
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="gone/x")
    assert code_of(exc) == "NoSuchKey"
    s3.delete_object(Bucket=bucket, Key="gone/x")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_versioning_status_and_unsupported(s3, bucket):
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Bogus"})
    assert code_of(exc) in ("IllegalVersioningConfigurationException", "MalformedXML")
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        s3.get_bucket_website(Bucket=bucket)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    s3.put_object(Bucket=bucket, Key="v", Body=b"x")
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert versions[0]["Key"] == "v" and versions[0]["VersionId"] == "null"
