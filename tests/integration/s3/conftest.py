"""Raw signed S3 requests (botocore's SigV4 signer over `requests`) against the session all-in-one."""
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

    def signed(self, method, path, body=b"", headers=None, secret=None):
        """(url, headers) signed with SigV4 (header form)."""
        creds = self.creds if secret is None else Credentials(self.creds.access_key, secret)
        request = AWSRequest(method=method, url=self.endpoint + path, data=body,
                             headers=dict(headers or {}))
        request.context["payload_signing_enabled"] = True
        S3SigV4Auth(creds, "s3", self.region).add_auth(request)
        return request.url, dict(request.headers.items())

    def __call__(self, method, path, body=b"", headers=None, **kwargs):
        url, signed = self.signed(method, path, body, headers, **kwargs)
        return self.session.request(method, url, data=body, headers=signed, timeout=30)


@pytest.fixture(scope="session")
def raw(aio):
    return Raw(aio)


@pytest.fixture
def raw_bucket(aio, raw):
    client = boto3.client("s3", endpoint_url=aio["s3"]["endpoint"], region_name=raw.region,
                          aws_access_key_id=raw.creds.access_key,
                          aws_secret_access_key=raw.creds.secret_key)
    name = f"raw-{uuid.uuid4().hex[:16]}"
    client.create_bucket(Bucket=name)
    yield name
    for item in client.list_objects_v2(Bucket=name).get("Contents", []):
        client.delete_object(Bucket=name, Key=item["Key"])
    client.delete_bucket(Bucket=name)
