"""Concurrent PutObjects of one key all succeed, as on S3 (the last writer wins): a PUT whose
timestamp lost the race at the nodes is answered 200, never 400 InvalidRequest "Conflict"
(core.object_put's 202; tests/integration/proxy/test_proxy_put_race.py pins it without timing)."""
import os
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

pytestmark = pytest.mark.timeout(120)


def test_concurrent_puts_of_one_key_all_succeed(aio, raw_bucket):
    s3 = aio["s3"]
    client = boto3.client("s3", endpoint_url=s3["endpoint"], region_name=s3["region"],
                          aws_access_key_id=s3["access_key"], aws_secret_access_key=s3["secret_key"])
    bodies = [os.urandom(256 * 1024) for _ in range(8)]

    def put_many(body):
        for _ in range(6):  # boto3 raises on any error answer (it retries 5xx, not 4xx)
            client.put_object(Bucket=raw_bucket, Key="raced", Body=body)

    with ThreadPoolExecutor(len(bodies)) as pool:
        list(pool.map(put_many, bodies))
    got = client.get_object(Bucket=raw_bucket, Key="raced")["Body"].read()
    assert got in bodies
