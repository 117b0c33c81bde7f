"""Hand-offs from the event loop to a device's disk threads: hops/s and CPU per hop, old vs new.

"threadpool" is the executor as it was before (loop.run_in_executor on a ThreadPoolExecutor per
device, the code of strato/executors.py up to ed0d0f3, kept here so the comparison runs from any
checkout); "strato" is strato.executors.DeviceExecutors as it is now. Each measurement runs in a
fresh process (no threads or caches left from the other side), old and new interleaved, and reports
the process's user+system CPU (loop thread and workers) divided by the hops. The job is trivial
(os.getpid), so what is measured is the hand-off itself.

    .venv/bin/python benchmarks/node/executor_hop.py                 # 1, 16, 64 awaiters, uvloop
    .venv/bin/python benchmarks/node/executor_hop.py --loop asyncio --hops 20000 --rounds 5
"""
from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import functools
import json
import os
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class ThreadPoolDeviceExecutors:
    """strato/executors.py before this change (ed0d0f3), verbatim apart from the name."""

    def __init__(self, threads_per_device: int):
        self._threads = threads_per_device
        self._pools: dict[str, concurrent.futures.ThreadPoolExecutor] = {}

    def pool(self, device: str) -> concurrent.futures.ThreadPoolExecutor:
        pool = self._pools.get(device)
        if pool is None:
            pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=self._threads, thread_name_prefix=f"disk-{device}")
            self._pools[device] = pool
        return pool

    async def run(self, device: str, fn, *args, **kwargs):
        loop = asyncio.get_running_loop()
        call = functools.partial(fn, *args, **kwargs) if kwargs else (lambda: fn(*args))
        return await loop.run_in_executor(self.pool(device), call)

    def close(self, wait: bool = True) -> None:
        for pool in self._pools.values():
            pool.shutdown(wait=wait, cancel_futures=not wait)
        self._pools.clear()


def _executors(impl: str, threads: int):
    if impl == "threadpool":
        return ThreadPoolDeviceExecutors(threads)
    sys.path.insert(0, ROOT)
    from strato.executors import DeviceExecutors

    return DeviceExecutors(threads)


async def _measure(impl: str, concurrency: int, hops: int, threads: int, devices: int) -> dict:
    executors = _executors(impl, threads)
    names = [f"d{i}" for i in range(devices)]
    per_task = hops // concurrency

    async def awaiter(i: int):
        device = names[i % devices]
        run = executors.run
        for _ in range(per_task):
            await run(device, os.getpid)

    try:
        await asyncio.gather(*(awaiter(i) for i in range(concurrency)))  # warm-up: threads started
        before = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        await asyncio.gather(*(awaiter(i) for i in range(concurrency)))
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_SELF)
    finally:
        executors.close()
    done = per_task * concurrency
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"impl": impl, "concurrency": concurrency, "hops": done, "hops_per_s": done / wall,
            "cpu_us_per_hop": cpu / done * 1e6,
            "ctx_switches_per_hop": ((after.ru_nvcsw - before.ru_nvcsw)
                                     + (after.ru_nivcsw - before.ru_nivcsw)) / done}


def _one(args) -> None:
    coro = _measure(args.impl, args.concurrency, args.hops, args.threads, args.devices)
    if args.loop == "uvloop":
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            result = runner.run(coro)
    else:
        result = asyncio.run(coro)
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--hops", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3, help="old/new pairs per concurrency")
    parser.add_argument("--threads", type=int, default=8, help="threads per device (disk_threads)")
    parser.add_argument("--devices", type=int, default=2)
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument("--impl", choices=("threadpool", "strato"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.impl:
        args.concurrency = args.concurrency[0]
        _one(args)
        return
    rows = []
    print(f"# load average {os.getloadavg()[0]:.1f}, loop {args.loop}, {args.threads} threads x "
          f"{args.devices} devices, {args.hops} hops per run", flush=True)
    print("| awaiters | impl | hops/s (median) | CPU µs/hop (median, min-max) | ctx switches/hop |")
    print("| ---: | --- | ---: | ---: | ---: |")
    for concurrency in args.concurrency:
        got: dict[str, list[dict]] = {"threadpool": [], "strato": []}
        for _ in range(args.rounds):
            for impl in ("threadpool", "strato"):
                out = subprocess.run(
                    [sys.executable, __file__, "--impl", impl, "--concurrency", str(concurrency),
                     "--hops", str(args.hops), "--threads", str(args.threads),
                     "--devices", str(args.devices), "--loop", args.loop],
                    check=True, capture_output=True, text=True).stdout
                got[impl].append(json.loads(out))
        for impl, runs in got.items():
            cpu = [r["cpu_us_per_hop"] for r in runs]
            rows.append((concurrency, impl, cpu))
            print(f"| {concurrency} | {impl} | {statistics.median(r['hops_per_s'] for r in runs):,.0f} "
                  f"| {statistics.median(cpu):.1f} ({min(cpu):.1f}-{max(cpu):.1f}) "
                  f"| {statistics.median(r['ctx_switches_per_hop'] for r in runs):.2f} |", flush=True)
    print(f"# load average after {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
