"""Bounded executors for blocking disk work, one per device, so a slow disk stalls only itself.

Services own one DeviceExecutors for their lifetime (create at start-up, close() at clean-up).
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import functools
from typing import Any, Callable


class DeviceExecutors:
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

    async def run(self, device: str, fn: Callable[..., Any], *args, **kwargs) -> Any:
        """Run fn(*args, **kwargs) on the device's pool and await its result."""
        loop = asyncio.get_running_loop()
        call = functools.partial(fn, *args, **kwargs) if kwargs else (lambda: fn(*args))
        return await loop.run_in_executor(self.pool(device), call)

    def close(self, wait: bool = True) -> None:
        for pool in self._pools.values():
            pool.shutdown(wait=wait, cancel_futures=not wait)
        self._pools.clear()
