"""Export one file as one iSCSI target, outside the volume service: for benchmarks, peers'
compliance/perf scripts and the compat tests.

    python -m blockserver.iscsi.standalone --file F --size 1G --port 3260 [--chap user:secret]
        [--mutual user:secret] [--iqn IQN] [--host 127.0.0.1] [--threads 8]

Creates F as a sparse file when missing (or grows it to --size), then serves it as LUN 0 of
IQN until SIGTERM/SIGINT. Prints "READY iscsi://HOST:PORT/IQN/0" on stdout once listening.
"""
from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import hashlib
import logging
import os
import signal
import sys

from blockserver.backing import FileBacking
from blockserver.scsi import LogicalUnit

from . import TargetRegistry, start_target_server

DEFAULT_IQN = "iqn.2026-11.org.strato:standalone"
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_size(text: str) -> int:
    text = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = text[-1:] if text[-1:] in _UNITS else ""
    return int(text[:-1] if unit else text) * _UNITS[unit]


def _pair(text: str) -> tuple[str, str]:
    user, sep, secret = text.partition(":")
    if not sep or not user or not secret:
        raise argparse.ArgumentTypeError("expected user:secret")
    return user, secret


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m blockserver.iscsi.standalone",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--file", required=True, help="backing file (created sparse if missing)")
    p.add_argument("--size", type=parse_size, help="size, e.g. 1G (default: the file's size)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=3260, help="0 picks a free port")
    p.add_argument("--iqn", default=DEFAULT_IQN)
    p.add_argument("--chap", type=_pair, help="one-way CHAP user:secret")
    p.add_argument("--mutual", type=_pair, help="mutual CHAP user:secret (needs --chap)")
    p.add_argument("--block-size", type=int, default=512)
    p.add_argument("--threads", type=int, default=8, help="disk executor threads")
    p.add_argument("--log-level", default="WARNING")
    return p.parse_args(argv)


def prepare_file(path: str, size: int | None) -> None:
    if not os.path.exists(path):
        if not size:
            raise SystemExit(f"{path} does not exist and no --size was given")
        with open(path, "wb") as f:
            f.truncate(size)
    elif size and os.path.getsize(path) < size:
        os.truncate(path, size)


async def serve(args: argparse.Namespace) -> None:
    prepare_file(args.file, args.size)
    executor = concurrent.futures.ThreadPoolExecutor(args.threads, thread_name_prefix="disk")
    backing = FileBacking(args.file, executor)
    digest = hashlib.sha256(os.path.abspath(args.file).encode()).digest()
    unit = LogicalUnit(backing, serial=digest[:8].hex(),
                       device_id=bytes([0x60 | (digest[0] & 0x0F)]) + digest[1:16],
                       block_size=args.block_size)
    registry = TargetRegistry(args.iqn.rsplit(":", 1)[0])
    chap = {}
    if args.chap:
        chap.update(chap_user=args.chap[0], chap_secret=args.chap[1])
    if args.mutual:
        chap.update(mutual_user=args.mutual[0], mutual_secret=args.mutual[1])
    registry.add(args.iqn, unit, **chap)
    server = await start_target_server(registry, args.host, args.port)
    print(f"READY iscsi://{args.host}:{server.port}/{args.iqn}/0", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.close()
        backing.close()
        executor.shutdown(wait=True)


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s iscsi %(levelname)s %(name)s: %(message)s")
    try:
        import uvloop
        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:
        runner = asyncio.Runner()
    with runner:
        runner.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
