"""Process start-up shared by every service: logging, uvloop, and running the main coroutine."""
from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import os
import signal
import sys


def die_with_parent(parent_pid: int) -> None:
    """In a child process: get SIGTERM when the parent dies, so no orphan keeps a port (a
    parent killed with SIGKILL, or by a default-action SIGTERM during its start-up, runs no
    clean-up of its own). When the parent is already gone, exit now (prctl came too late)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        return
    if os.getppid() != parent_pid:
        os._exit(0)


def setup_logging(config, name: str) -> logging.Logger:
    level = getattr(logging, config.cluster.log_level.upper())
    logging.basicConfig(level=level, stream=sys.stderr,
                        format=f"%(asctime)s {name} %(levelname)s %(name)s: %(message)s")
    return logging.getLogger(name)


# glibc's malloc gives blocks above a sliding threshold (128 KiB at first) their own mmap and
# returns free heap above 128 KiB (later twice that threshold) to the kernel: a storage node or
# proxy streaming 64-256 KiB socket reads then pays a page fault per 4 KiB of every fresh buffer,
# and brk/munmap calls, per request. Fixed thresholds keep those pages: measured on a 1 MiB PUT
# (A/B, 4 rounds each): storage CPU x0.88, proxy x0.87; 4 KiB PUT/GET unchanged. A process keeps
# at most what it used at its peak (no RSS limit test moved).
MMAP_THRESHOLD = 4 << 20
TRIM_THRESHOLD = 128 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameter numbers


def tune_malloc() -> bool:
    """Set glibc's mmap and trim thresholds (above); False where libc is not glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return (mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
            and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1)


# CPython's collector runs a young-generation pass every 700 net allocations and an older one
# every tenth of those: a proxy or storage node allocates a few thousand objects per request, and
# the passes that walk the long-lived objects (imported modules, the app, caches) cost 60-130 us
# per request in the proxy (measured by the S3 engineer). Objects alive at start are frozen out of
# the collector's sight and the thresholds raised: 2-7 us per request. A/B (4 rounds, c16): 4 KiB
# PUT storage CPU x0.87, proxy x0.90; 4 KiB GET x0.96 / x0.95; 1 MiB PUT x0.98 / x0.97. Cyclic
# garbage still goes, after 20,000 allocations instead of 700.
GC_THRESHOLDS = (20_000, 20, 100)


def tune_gc() -> None:
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def run(main, config) -> None:
    """Run the coroutine main() to completion on uvloop when configured and installed."""
    if config.cluster.tune_malloc:
        tune_malloc()
    if config.cluster.tune_gc:
        tune_gc()
    if config.cluster.use_uvloop:
        try:
            import uvloop
        except ImportError:
            uvloop = None
        if uvloop is not None:
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                runner.run(main())
            return
    asyncio.run(main())


async def serve_aiohttp(app, host: str, port: int, *, reuse_port: bool = False,
                        runner_class=None, **kwargs) -> None:
    """Serve an aiohttp application until SIGTERM/SIGINT, then shut it down cleanly.
    runner_class: a web.AppRunner subclass (the proxy's own HTTP protocol, proxy/httpserver.py)."""
    import signal

    from aiohttp import web

    runner = (runner_class or web.AppRunner)(app, handle_signals=False, access_log=None, **kwargs)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_port=reuse_port, backlog=1024)
    await site.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
