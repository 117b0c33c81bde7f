"""S3 vs Swift through one harness: PUT and GET of 4 KiB and 1 MiB objects on the same proxy.

One aiohttp client loop drives both APIs with the same concurrency and object set; only the
request differs: Swift carries its X-Auth-Token, S3 uses SigV4 presigned URLs made before the
timed run (so client-side signing costs nothing in the loop, and the server still verifies a
SigV4 signature on every request). Rounds alternate S3 and Swift to share the box's noise.

  python benchmarks/s3/s3_vs_swift.py --aio /path/aio.json [--seconds 5] [--rounds 3] [-c 16]
Prints a Markdown table (median ops/s and MB/s per case over the rounds).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
import uuid

import aiohttp
import boto3
from botocore.config import Config
import requests

OBJECTS = 64


def swift_login(aio):
    resp = requests.get(aio["swift"]["auth_url"], headers={"X-Auth-User": aio["swift"]["user"],
                                                           "X-Auth-Key": aio["swift"]["key"]})
    resp.raise_for_status()
    return resp.headers["X-Storage-Url"], resp.headers["X-Auth-Token"]


def s3_client(aio):
    s3 = aio["s3"]
    return boto3.client("s3", endpoint_url=s3["endpoint"], region_name=s3["region"],
                        aws_access_key_id=s3["access_key"], aws_secret_access_key=s3["secret_key"],
                        config=Config(signature_version="s3v4"))


def targets(aio, api: str, bucket: str, size: int):
    """[(method, url, headers)] for PUT and GET of OBJECTS objects of `size` bytes."""
    names = [f"obj-{size}-{i}" for i in range(OBJECTS)]
    if api == "swift":
        url, token = swift_login(aio)
        h = {"X-Auth-Token": token}
        return ([("PUT", f"{url}/{bucket}/{n}", h) for n in names],
                [("GET", f"{url}/{bucket}/{n}", h) for n in names])
    client = s3_client(aio)
    put = [("PUT", client.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": n}, ExpiresIn=3600), {}) for n in names]
    get = [("GET", client.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": n}, ExpiresIn=3600), {}) for n in names]
    return put, get


async def drive(requests_list, body: bytes, seconds: float, concurrency: int) -> tuple[int, int]:
    """(completed requests, bytes moved) in `seconds` with `concurrency` workers."""
    done = moved = errors = 0
    deadline = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, auto_decompress=False) as session:
        async def worker(start: int):
            nonlocal done, moved, errors
            i = start
            while time.monotonic() < deadline:
                method, url, headers = requests_list[i % len(requests_list)]
                i += concurrency  # workers stride over the whole object set
                data = body if method == "PUT" else None
                async with session.request(method, url, headers=headers, data=data) as resp:
                    got = await resp.read()
                    if resp.status // 100 != 2:
                        errors += 1
                        continue
                done += 1
                moved += len(body) if method == "PUT" else len(got)
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
    if errors:
        print(f"  ({errors} errors)")
    return done, moved


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--aio", required=True)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("-c", "--concurrency", type=int, default=16)
    args = parser.parse_args()
    with open(args.aio) as f:
        aio = json.load(f)
    bucket = f"bench-{uuid.uuid4().hex[:8]}"
    s3_client(aio).create_bucket(Bucket=bucket)  # one container, seen by both APIs
    results: dict[tuple, list] = {}
    for size in (4096, 1024 * 1024):
        body = os.urandom(size)
        plans = {api: targets(aio, api, bucket, size) for api in ("s3", "swift")}
        for method, url, headers in plans["swift"][0]:  # every object exists before GETs run
            requests.put(url, data=body, headers=headers).raise_for_status()
        for _ in range(args.rounds):
            for api in ("s3", "swift"):
                put, get = plans[api]
                for op, reqs in (("PUT", put), ("GET", get)):
                    n, moved = asyncio.run(drive(reqs, body, args.seconds, args.concurrency))
                    results.setdefault((size, op, api), []).append(
                        (n / args.seconds, moved / args.seconds / 1e6))
    print(f"| object | op | S3 ops/s | Swift ops/s | S3 MB/s | Swift MB/s | S3/Swift |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for size in (4096, 1024 * 1024):
        for op in ("PUT", "GET"):
            s3_ops = statistics.median(r[0] for r in results[(size, op, "s3")])
            sw_ops = statistics.median(r[0] for r in results[(size, op, "swift")])
            s3_mb = statistics.median(r[1] for r in results[(size, op, "s3")])
            sw_mb = statistics.median(r[1] for r in results[(size, op, "swift")])
            label = "4 KiB" if size == 4096 else "1 MiB"
            print(f"| {label} | {op} | {s3_ops:.0f} | {sw_ops:.0f} | {s3_mb:.1f} | {sw_mb:.1f} | "
                  f"{s3_ops / sw_ops:.2f} |")


if __name__ == "__main__":
    main()
