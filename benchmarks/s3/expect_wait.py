"""What wrk's one difference from boto3 costs: a PUT body sent with its head, or after the 100.

boto3 sends a PUT's head with Expect: 100-continue, waits for "100 Continue", then sends the body;
wrk (bench_s3.sh) writes head and body at once. Both get the 100 and then the answer. This drives
the same captured boto3 PUTs both ways from one asyncio client (raw sockets, keep-alive), rounds
alternating, and prints the proxy processes' CPU per request for each way: how much cheaper the
proxy finds bench_s3.sh's PUTs than boto3's own.

  python benchmarks/s3/expect_wait.py --aio AIO_JSON [--size 4096] [--seconds 4] [--rounds 4] [-c 16]
Needs the bucket s3bench-4k (or --bucket) filled, as bench_s3.sh's prep leaves it.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from urllib.parse import urlsplit

import capture  # benchmarks/s3/capture.py (this script's directory is on sys.path)


def proxy_pids(aio_pid: int) -> list[int]:
    """`serve proxy` processes under the all-in-one supervisor."""
    out, todo = [], [aio_pid]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                todo += [int(p) for p in f.read().split()]
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"\0serve\0proxy\0" in f.read():
                    out.append(pid)
        except OSError:
            continue
    return out


def cpu_ticks(pids) -> int:
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(") ", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total


async def read_response(reader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            await reader.readexactly(int(line.split(b":", 1)[1]))
    return status


async def drive(host, port, heads, body, wait: bool, seconds: float, conc: int) -> tuple[int, int]:
    """(answers, errors) in `seconds`: wait=True is boto3's way, False is wrk's."""
    done = errors = 0
    deadline = time.monotonic() + seconds

    async def worker(start: int):
        nonlocal done, errors
        reader, writer = await asyncio.open_connection(host, port)
        i = start
        while time.monotonic() < deadline:
            head = heads[i % len(heads)]
            i += conc
            if wait:
                writer.write(head)
                if await read_response(reader) != 100:
                    errors += 1
                writer.write(body)
            else:
                writer.write(head + body)
                if await read_response(reader) != 100:
                    errors += 1
            if await read_response(reader) // 100 != 2:
                errors += 1
            done += 1
        writer.close()
    await asyncio.gather(*(worker(k) for k in range(conc)))
    return done, errors


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--aio", required=True)
    parser.add_argument("--bucket", default="s3bench-4k")
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("-c", "--concurrency", type=int, default=16)
    args = parser.parse_args()
    with open(args.aio) as f:
        aio = json.load(f)
    pids = proxy_pids(aio["pid"])
    u = urlsplit(aio["s3"]["endpoint"])
    hz = os.sysconf("SC_CLK_TCK")
    results = {True: [], False: []}
    load = os.getloadavg()[0]
    for r in range(args.rounds):
        # Captured per round: a signature is only good for 15 minutes.
        body = os.urandom(args.size)
        heads = capture.capture(capture.client_from_aio(args.aio), args.bucket, "PUT",
                                args.count, body)
        for wait in ((True, False) if r % 2 == 0 else (False, True)):
            t0 = cpu_ticks(pids)
            n, errors = asyncio.run(drive(u.hostname, u.port, heads, body, wait, args.seconds,
                                          args.concurrency))
            us = (cpu_ticks(pids) - t0) * 1e6 / hz / max(n, 1)
            results[wait].append(us)
            print(f"round {r + 1} {'boto3 (wait for 100)' if wait else 'wrk (body with head)'}: "
                  f"{n / args.seconds:.0f} req/s, proxy {us:.0f} µs CPU/req, {errors} errors")
    paired = [a / b for a, b in zip(results[False], results[True])]
    print(f"load average {load:.1f} -> {os.getloadavg()[0]:.1f}; {args.size} B PUTs, "
          f"c={args.concurrency}, proxy pids {pids}")
    print(f"median proxy µs CPU/req: boto3's way {statistics.median(results[True]):.0f}, "
          f"wrk's way {statistics.median(results[False]):.0f}; wrk/boto3 paired rounds "
          f"{statistics.median(paired):.3f}")


if __name__ == "__main__":
    main()
