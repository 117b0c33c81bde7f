"""`strato ring ...`: create and change builders, rebalance into ring files, show and validate.

Every failure (bad argument, bad value, unreadable or corrupt file) prints one line on stderr,
"strato ring: <reason>", and exits 2; success exits 0.
"""
from __future__ import annotations

import argparse
import os
import sys

from ring.builder import RingBuilder
from ring.errors import RingError
from ring.lookup import Ring
from ring.ringfile import load_ring_data


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage block
        raise RingError(message)


def _builder_arg(value: str) -> str:
    if not value:
        raise argparse.ArgumentTypeError("a builder path is required")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="strato ring", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="action", required=True, parser_class=_Parser)

    p = sub.add_parser("create", help="a new, empty builder file")
    p.add_argument("builder", type=_builder_arg)
    p.add_argument("--part-power", type=int, required=True)
    p.add_argument("--replicas", type=int, required=True)
    p.add_argument("--min-part-hours", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--force", action="store_true", help="overwrite an existing builder")

    p = sub.add_parser("add", help="add a device")
    p.add_argument("builder")
    p.add_argument("--region", type=int, required=True)
    p.add_argument("--zone", type=int, required=True)
    p.add_argument("--ip", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--device", required=True)
    p.add_argument("--weight", type=float, required=True)
    p.add_argument("--meta", default="")
    p.add_argument("--id", type=int, default=None)

    p = sub.add_parser("remove", help="remove a device (its partitions move at rebalance)")
    p.add_argument("builder")
    p.add_argument("id", type=int)

    p = sub.add_parser("set-weight", help="change a device's weight")
    p.add_argument("builder")
    p.add_argument("id", type=int)
    p.add_argument("weight", type=float)

    p = sub.add_parser("rebalance", help="rebalance and write the ring file")
    p.add_argument("builder")
    p.add_argument("--ring", default=None, help="ring file (default: BUILDER with .ring)")

    p = sub.add_parser("show", help="describe a builder or a ring file")
    p.add_argument("file")

    p = sub.add_parser("validate", help="check a builder or a ring file")
    p.add_argument("file")
    return parser


def _ring_path(builder_path: str) -> str:
    root, ext = os.path.splitext(builder_path)
    return (root if ext == ".builder" else builder_path) + ".ring"


def _is_builder(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(1) == b"{"
    except OSError as exc:
        raise RingError(f"cannot read {path}: {exc.strerror}") from None


def _show_devices(devices, counts=None) -> list[str]:
    lines = [f"{'id':>5} {'region':>6} {'zone':>5} {'address':>21} {'device':>12} "
             f"{'weight':>9} {'parts':>8}  meta"]
    for d in devices:
        if d is None:
            continue
        parts = "" if counts is None else str(counts.get(d.id, 0))
        lines.append(f"{d.id:>5} {d.region:>6} {d.zone:>5} {d.ip + ':' + str(d.port):>21} "
                     f"{d.device:>12} {d.weight:>9g} {parts:>8}  {d.meta}")
    return lines


def _show(path: str) -> int:
    if _is_builder(path):
        b = RingBuilder.load(path)
        live = sum(1 for d in b.devices if d is not None)
        print(f"{path}: builder, part power {b.part_power} ({b.partition_count} partitions), "
              f"{b.replicas} replicas, {live} devices, min_part_hours {b.min_part_hours}, "
              f"seed {b.seed}, {b.generation} rebalances")
        if b.is_assigned():
            print(f"balance {b.balance():.2f}%, dispersion {b.dispersion()} crowded partitions")
        else:
            print("not rebalanced yet")
        print("\n".join(_show_devices(b.devices, b.parts_per_device())))
    else:
        data = load_ring_data(path)
        counts: dict[int, int] = {}
        for row in data.replica2part2dev:
            for dev_id in set(row):
                counts[dev_id] = counts.get(dev_id, 0) + row.count(dev_id)
        live = sum(1 for d in data.devices if d is not None)
        print(f"{path}: ring, part power {data.part_power} ({1 << data.part_power} partitions), "
              f"{data.replicas} replicas, {live} devices")
        print("\n".join(_show_devices(data.devices, counts)))
    return 0


def _validate(path: str) -> int:
    if _is_builder(path):
        b = RingBuilder.load(path)
        if not b.is_assigned():
            raise RingError(f"{path}: not rebalanced (some partitions have no device)")
        Ring.from_builder(b)
        print(f"{path}: ok (builder; balance {b.balance():.2f}%, dispersion {b.dispersion()})")
    else:
        Ring.load(path)
        print(f"{path}: ok (ring file)")
    return 0


def run(args) -> int:
    if args.action == "create":
        if os.path.exists(args.builder) and not args.force:
            raise RingError(f"{args.builder} already exists (use --force to overwrite)")
        RingBuilder(args.part_power, args.replicas, args.min_part_hours, args.seed).save(
            args.builder)
        print(f"created {args.builder}")
        return 0
    if args.action == "show":
        return _show(args.file)
    if args.action == "validate":
        return _validate(args.file)
    builder = RingBuilder.load(args.builder)
    if args.action == "add":
        dev_id = builder.add_device(args.region, args.zone, args.ip, args.port, args.device,
                                    args.weight, args.meta, args.id)
        builder.save(args.builder)
        print(f"added device {dev_id}")
    elif args.action == "remove":
        builder.remove_device(args.id)
        builder.save(args.builder)
        print(f"removed device {args.id} (rebalance to move its partitions)")
    elif args.action == "set-weight":
        builder.set_weight(args.id, args.weight)
        builder.save(args.builder)
        print(f"device {args.id} weight {args.weight:g}")
    elif args.action == "rebalance":
        report = builder.rebalance()
        ring_path = args.ring or _ring_path(args.builder)
        builder.write_ring(ring_path)
        builder.save(args.builder)
        print(f"moved {report.moved} of {report.partition_replicas} partition-replicas "
              f"({report.moved_fraction:.2%}), placed {report.assigned} new, held back "
              f"{report.held_back} (min_part_hours), balance {report.balance:.2f}%, "
              f"dispersion {report.dispersion}; wrote {ring_path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        if not argv or argv[0] in ("-h", "--help"):
            build_parser().print_help()
            return 0 if argv else 2
        return run(build_parser().parse_args(argv))
    except RingError as exc:
        print(f"strato ring: {exc}", file=sys.stderr)
        return 2
