"""The table of services `strato aio` supervises and `strato serve NAME` runs.

Adding a service is one row here plus a `<package>/service.py` module that defines:
  serve(config, instance)   run one process of the service until SIGTERM/SIGINT (blocking);
  ports(config)             [(host, port), ...] that answer once every instance is up;
  aio_entry(config)         {section: {...}} merged into <data>/aio.json (see DESIGN.md);
  instances(config)         optional: how many processes (default 1);
  prepare(config)           optional: one-time set-up in the supervisor before children start
                            (rings, directories, bootstrap records); must be idempotent.
A row whose module does not exist yet is skipped, so services can land one at a time.
"""
from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

# Start order: identity first (others trust it), storage before the proxy that calls it.
SERVICES = [
    ("identity", "identity.service"),
    ("storage", "objectserver.service"),
    ("proxy", "proxy.service"),
    ("blockserver", "blockserver.service"),
    ("compute", "compute.service"),
    ("network", "network.service"),
]


def available() -> dict[str, ModuleType]:
    """name -> service module, for every service whose module exists, in start order."""
    found = {}
    for name, module_name in SERVICES:
        if importlib.util.find_spec(module_name) is not None:
            found[name] = importlib.import_module(module_name)
    return found


def module_for(name: str) -> ModuleType:
    for service_name, module_name in SERVICES:
        if service_name == name:
            return importlib.import_module(module_name)
    known = ", ".join(n for n, _ in SERVICES)
    raise KeyError(f"unknown service {name!r} (known: {known})")


def instances(module: ModuleType, config) -> int:
    count = getattr(module, "instances", None)
    return count(config) if count else 1
