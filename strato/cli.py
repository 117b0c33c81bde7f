"""The `strato` command: version, aio, serve, ring, services, config."""
from __future__ import annotations

import argparse
import sys


def _cmd_version(args) -> int:
    import native
    import strato

    compiled = native.compiled_modules()
    live = native.mode()
    detail = f"compiled: {', '.join(compiled) or 'none'}"
    if native.extensions_disabled():
        detail += "; STRATO_NO_EXTENSIONS=1"
    print(f"strato {strato.__version__} ({live} mode; {detail})")
    return 0


def _cmd_serve(args) -> int:
    from strato import config as config_mod
    from strato import services

    config = config_mod.load(args.config)
    module = services.module_for(args.service)
    module.serve(config, args.instance)
    return 0


def _cmd_aio(args) -> int:
    from strato import aio

    return aio.main(args)


def _cmd_services(args) -> int:
    from strato import services

    present = services.available()
    for name, module_name in services.SERVICES:
        print(f"{name:12} {module_name:24} {'ready' if name in present else 'not built yet'}")
    return 0


def _cmd_config(args) -> int:
    from strato import config as config_mod

    if args.action == "defaults":
        print(config_mod.reference())
    else:
        config_mod.load(args.file)
        print(f"{args.file}: ok")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="strato", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("version", help="version and whether the native fast path is live")
    p.set_defaults(func=_cmd_version)

    p = sub.add_parser("aio", help="run every service on one machine (the all-in-one)")
    p.add_argument("--data", default=None, help="data directory (default ./var)")
    p.add_argument("--config", default=None, help="TOML file layered over the defaults")
    p.add_argument("--port-offset", type=int, default=0, help="add N to every default port")
    p.add_argument("--test-users", action="store_true",
                   help="also create the users OpenStack Swift's functional suite expects")
    p.set_defaults(func=_cmd_aio)

    p = sub.add_parser("serve", help="run one service process (for multi-host clusters)")
    p.add_argument("service")
    p.add_argument("--config", required=True)
    p.add_argument("--instance", type=int, default=0, help="which process of the service")
    p.set_defaults(func=_cmd_serve)

    p = sub.add_parser("services", help="the services and whether each is built")
    p.set_defaults(func=_cmd_services)

    p = sub.add_parser("config", help="print documented defaults, or check a file")
    p.add_argument("action", choices=("defaults", "check"))
    p.add_argument("file", nargs="?")
    p.set_defaults(func=_cmd_config)

    p = sub.add_parser("ring", help="build and inspect rings (strato ring --help)", add_help=False)
    p.add_argument("ring_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=_cmd_ring)
    return parser


def _cmd_ring(args) -> int:
    from ring import cli as ring_cli

    return ring_cli.main(args.ring_args)


def main(argv: list[str] | None = None) -> int:
    from strato.config import ConfigError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"strato: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
