"""Raw signed S3 requests (botocore's SigV4 signer over `requests`) against the session all-in-one."""
import contextlib
import uuid

import boto3
import pytest
import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


class Raw:
    def __init__(self, aio, alt=False):
        s3 = aio["s3"]
        prefix = "alt_" if alt else ""
        self.endpoint = s3["endpoint"]
        self.region = s3["region"]
        self.creds = Credentials(s3[prefix + "access_key"], s3[prefix + "secret_key"])
        self.session = requests.Session()

    def signed(self, method, path, body=b"", headers=None, secret=None, trailer=False):
        """(url, headers) signed with SigV4 (header form); trailer: signed as boto3 signs an
        aws-chunked body with a trailing checksum (STREAMING-UNSIGNED-PAYLOAD-TRAILER)."""
        creds = self.creds if secret is None else Credentials(self.creds.access_key, secret)
        request = AWSRequest(method=method, url=self.endpoint + path, data=body,
                             headers=dict(headers or {}))
        request.context["payload_signing_enabled"] = True
        if trailer:
            request.context["checksum"] = {"request_algorithm": {"in": "trailer"}}
        S3SigV4Auth(creds, "s3", self.region).add_auth(request)
        return request.url, dict(request.headers.items())

    def __call__(self, method, path, body=b"", headers=None, **kwargs):
        url, signed = self.signed(method, path, body, headers, **kwargs)
        return self.session.request(method, url, data=body, headers=signed, timeout=30)


@pytest.fixture(scope="session")
def raw(aio):
    return Raw(aio)


@contextlib.contextmanager
def new_bucket(aio, prefix: str):
    """A fresh bucket of the main test user (boto3), emptied and removed afterwards."""
    s3 = aio["s3"]
    client = boto3.client("s3", endpoint_url=s3["endpoint"], region_name=s3["region"],
                          aws_access_key_id=s3["access_key"],
                          aws_secret_access_key=s3["secret_key"])
    name = f"{prefix}-{uuid.uuid4().hex[:16]}"
    client.create_bucket(Bucket=name)
    yield name
    for item in client.list_objects_v2(Bucket=name).get("Contents", []):
        client.delete_object(Bucket=name, Key=item["Key"])
    client.delete_bucket(Bucket=name)


@pytest.fixture(scope="session")
def bucket_maker(aio):
    """new_bucket for this session's all-in-one: `with bucket_maker("prefix") as name:`."""
    return lambda prefix: new_bucket(aio, prefix)


@pytest.fixture
def raw_bucket(bucket_maker):
    with bucket_maker("raw") as name:
        yield name
