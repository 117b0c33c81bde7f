"""S3 vs Swift through one harness: PUT and GET of 4 KiB and 1 MiB objects on the same proxy.

One aiohttp client loop drives both APIs with the same concurrency and object set; only the
request differs. Swift requests carry an X-Auth-Token. S3 requests are exactly what boto3 sends
in its default configuration (captured from boto3 before the timed run, so client-side signing
costs nothing in the loop): over http that is a SigV4 Authorization header, a signed payload
(x-amz-content-sha256 = the body's SHA-256, which the proxy must verify) and, with boto3 >= 1.36,
an x-amz-checksum-crc32 header on PUT. Rounds alternate S3 and Swift to share the box's noise.

The box is shared, so ops/s mostly measure the neighbours; the cost that counts is the proxy's
CPU per request (user + system seconds of the processes listening on the proxy port, read
around each timed run), and "S3/Swift" is the ratio of those.

  python benchmarks/s3/s3_vs_swift.py --aio /path/aio.json [--seconds 5] [--rounds 3] [-c 16]
      [--only s3|swift]   (one API only: for a profiler attached to the proxy)
Prints a Markdown table (medians over the rounds).

For issue 4's goal ("through the same harness as the Swift API") benchmarks/s3/side_by_side.sh
supersedes this script: it drives both APIs with wrk, the Swift API's own harness (the Swift
peer's bench.sh for Swift, bench_s3.sh replaying the same boto3 requests for S3), at 16 and 64
connections, and reports CPU per request of the proxy and of all servers. Here the client is an
aiohttp loop on the same 2 cores as the servers, whose own CPU differs between the two APIs and
takes cores from the servers. This script stays for quick checks and for profiling one API.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
import uuid
from urllib.parse import urlparse

import aiohttp
import boto3
from botocore.config import Config
import psutil
import requests

from capture import boto3_request  # benchmarks/s3/capture.py (this script's folder)

OBJECTS = 64


def swift_login(aio):
    resp = requests.get(aio["swift"]["auth_url"], headers={"X-Auth-User": aio["swift"]["user"],
                                                           "X-Auth-Key": aio["swift"]["key"]})
    resp.raise_for_status()
    return resp.headers["X-Storage-Url"], resp.headers["X-Auth-Token"]


def s3_client(aio):
    s3 = aio["s3"]
    # boto3's defaults (SigV4, payload signing and checksums as it chooses): nothing tuned.
    return boto3.client("s3", endpoint_url=s3["endpoint"], region_name=s3["region"],
                        aws_access_key_id=s3["access_key"], aws_secret_access_key=s3["secret_key"],
                        config=Config(retries={"max_attempts": 1}))


def captured(client, operation: str, **params):
    """(method, url, headers) of the request boto3 would send for `operation`."""
    req = boto3_request(client, operation, **params)
    return req.method, req.url, {k: (v.decode() if isinstance(v, bytes) else v)
                                 for k, v in req.headers.items()}


def targets(aio, api: str, bucket: str, size: int, body: bytes):
    """[(method, url, headers)] for PUT and GET of OBJECTS objects of `size` bytes."""
    names = [f"obj-{size}-{i}" for i in range(OBJECTS)]
    if api == "swift":
        url, token = swift_login(aio)
        h = {"X-Auth-Token": token}
        return ([("PUT", f"{url}/{bucket}/{n}", h) for n in names],
                [("GET", f"{url}/{bucket}/{n}", h) for n in names])
    client = s3_client(aio)
    put = [captured(client, "put_object", Bucket=bucket, Key=n, Body=body) for n in names]
    get = [captured(client, "get_object", Bucket=bucket, Key=n) for n in names]
    return put, get


def proxy_processes(endpoint: str) -> list[psutil.Process]:
    """The processes listening on the proxy's port (every worker)."""
    port = urlparse(endpoint).port
    pids = {c.pid for c in psutil.net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid}
    return [psutil.Process(pid) for pid in sorted(pids)]


def cpu_seconds(procs) -> float:
    total = 0.0
    for proc in procs:
        times = proc.cpu_times()
        total += times.user + times.system
    return total


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
                        if errors == 1:
                            print(f"  first error: {method} {resp.status} {got[:300]!r}")
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
    parser.add_argument("--only", choices=("s3", "swift"))
    args = parser.parse_args()
    with open(args.aio) as f:
        aio = json.load(f)
    procs = proxy_processes(aio["s3"]["endpoint"])
    if not procs:  # another user's proxy: /proc does not show whose socket it is
        print("note: no proxy process found on the endpoint's port; CPU columns will be 0")
    apis = (args.only,) if args.only else ("s3", "swift")
    bucket = f"bench-{uuid.uuid4().hex[:8]}"
    s3_client(aio).create_bucket(Bucket=bucket)  # one container, seen by both APIs
    results: dict[tuple, list] = {}
    load = os.getloadavg()
    for size in (4096, 1024 * 1024):
        body = os.urandom(size)
        # Planned per size: boto3's signatures carry a time the proxy checks against its clock.
        plans = {api: targets(aio, api, bucket, size, body) for api in ("s3", "swift")}
        for method, url, headers in plans["swift"][0]:  # every object exists before GETs run
            requests.put(url, data=body, headers=headers).raise_for_status()
        for _ in range(args.rounds):
            for api in apis:
                put, get = plans[api]
                for op, reqs in (("PUT", put), ("GET", get)):
                    cpu0 = cpu_seconds(procs)
                    n, moved = asyncio.run(drive(reqs, body, args.seconds, args.concurrency))
                    cpu = cpu_seconds(procs) - cpu0
                    results.setdefault((size, op, api), []).append(
                        (n / args.seconds, moved / args.seconds / 1e6, cpu / max(n, 1) * 1e6))
    load = f"{load[0]:.1f} -> {os.getloadavg()[0]:.1f}"
    print(f"proxy pids {[p.pid for p in procs]}, load average {load}, "
          f"{args.rounds} rounds x {args.seconds:g} s, concurrency {args.concurrency}")
    print("| object | op | S3 ops/s | Swift ops/s | S3 proxy CPU µs/req | Swift proxy CPU µs/req "
          "| S3/Swift CPU per request | S3/Swift ops/s | S3/Swift CPU, paired rounds |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for size in (4096, 1024 * 1024):
        for op in ("PUT", "GET"):
            med = {api: [statistics.median(r[i] for r in results[(size, op, api)]) for i in (0, 2)]
                   if (size, op, api) in results else [float("nan")] * 2 for api in ("s3", "swift")}
            label = "4 KiB" if size == 4096 else "1 MiB"
            ratio = med["s3"][1] / med["swift"][1] if med["swift"][1] else float("nan")
            speed = med["s3"][0] / med["swift"][0] if med["swift"][0] else float("nan")
            # Each round's S3 run against the Swift run next to it: on a shared box the load
            # drifts between rounds, and a ratio within a round cancels more of that drift.
            pairs = zip(results.get((size, op, "s3"), []), results.get((size, op, "swift"), []))
            paired = [a[2] / b[2] for a, b in pairs if b[2]]
            paired_text = f"{statistics.median(paired):.2f}" if paired else "nan"
            print(f"| {label} | {op} | {med['s3'][0]:.0f} | {med['swift'][0]:.0f} | "
                  f"{med['s3'][1]:.0f} | {med['swift'][1]:.0f} | {ratio:.2f} | {speed:.2f} | "
                  f"{paired_text} |")


if __name__ == "__main__":
    main()
