"""boto3 clients in their default configuration against the session all-in-one's S3 endpoint."""
import uuid

import boto3
import pytest
from botocore.config import Config


def make_client(aio, alt: bool = False, **config):
    s3 = aio["s3"]
    prefix = "alt_" if alt else ""
    return boto3.client("s3", endpoint_url=s3["endpoint"], region_name=s3["region"],
                        aws_access_key_id=s3[prefix + "access_key"],
                        aws_secret_access_key=s3[prefix + "secret_key"],
                        config=Config(**config) if config else None)


@pytest.fixture(scope="session")
def s3(aio):
    return make_client(aio)


@pytest.fixture(scope="session")
def alt_s3(aio):
    return make_client(aio, alt=True)


def empty_bucket(client, name):
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=name):
            for item in page.get("Contents", []):
                client.delete_object(Bucket=name, Key=item["Key"])
        for upload in client.list_multipart_uploads(Bucket=name).get("Uploads", []):
            client.abort_multipart_upload(Bucket=name, Key=upload["Key"],
                                          UploadId=upload["UploadId"])
        client.delete_bucket(Bucket=name)
    except client.exceptions.NoSuchBucket:
        pass


@pytest.fixture
def bucket(s3):
    name = f"b-{uuid.uuid4().hex[:16]}"
    s3.create_bucket(Bucket=name)
    yield name
    empty_bucket(s3, name)
