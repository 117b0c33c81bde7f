"""The storage service for `strato aio` and `strato serve storage` (contract: strato/services.py).

Node i listens on storage.bind_ip:storage.base_port + i and serves the devices the object ring
places on that address (the all-in-one names them n<i>d<j>, zone i + 1, region 1, weight 100).
"""
from __future__ import annotations

import logging
import os

log = logging.getLogger("objectserver.service")


def instances(config) -> int:
    return config.storage.nodes


def ports(config) -> list[tuple[str, int]]:
    storage = config.storage
    return [(storage.bind_ip, storage.base_port + i) for i in range(storage.nodes)]


def aio_entry(config) -> dict:
    return {}  # the proxy reports the object-store endpoints


def data_dir(config) -> str:
    return os.path.abspath(config.cluster.data_dir)


def devices_root(config) -> str:
    return os.path.join(data_dir(config), "devices")


def ring_dir(config) -> str:
    return os.path.join(data_dir(config), "rings")


def device_specs(config) -> list[dict]:
    """The all-in-one's devices: nodes × devices_per_node, one zone per node."""
    storage = config.storage
    return [{"region": 1, "zone": node + 1, "ip": storage.bind_ip,
             "port": storage.base_port + node, "device": f"n{node}d{index}", "weight": 100.0}
            for node in range(storage.nodes) for index in range(storage.devices_per_node)]


def prepare(config) -> dict:
    """Create the device directories and build the rings (idempotent)."""
    from ring.aio import ensure_rings
    from ring.policies import from_config

    from . import diskfile

    specs = device_specs(config)
    for spec in specs:
        diskfile.ensure_device_dirs(os.path.join(devices_root(config), spec["device"]))
    os.makedirs(ring_dir(config), exist_ok=True)
    ring = config.ring
    return ensure_rings(ring_dir(config), specs, part_power=ring.part_power,
                        replicas=ring.replicas, min_part_hours=ring.min_part_hours, seed=ring.seed,
                        policies=from_config(config))


def ring_path(config, kind: str) -> str:
    return os.path.join(ring_dir(config), f"{kind}.ring")


def node_devices(config, instance: int) -> list[str]:
    """Device names of node `instance`: from the object ring when it exists, else the all-in-one
    naming (n<i>d<j>)."""
    port = config.storage.base_port + instance
    rings = load_rings(config)
    if rings is not None:
        found = sorted({d.device for d in rings["object"].devices
                        if d is not None and d.port == port and d.ip == config.storage.bind_ip})
        if found:
            return found
    return [f"n{instance}d{j}" for j in range(config.storage.devices_per_node)]


def load_rings(config):
    """{"object"|"container"|"account"|"object-N": Ring} or None when the ring files are not
    there. A further policy's ring (object-N) that is missing is left out: its objects wait."""
    try:
        from ring import Ring
        from ring.policies import from_config
    except ImportError:
        return None
    found = {}
    policy_rings = [p.ring_name for p in from_config(config) if p.index]
    for kind in ("object", "container", "account", *policy_rings):
        path = ring_path(config, kind)
        if not os.path.exists(path):
            if kind in policy_rings:
                continue
            return None
        found[kind] = Ring.load(path, config.cluster.hash_path_prefix,
                                config.cluster.hash_path_suffix)
    return found


def serve(config, instance: int = 0) -> None:
    from strato.runtime import run, serve_aiohttp, setup_logging

    from .app import create_app

    setup_logging(config, f"storage-{instance}")
    storage = config.storage
    if not 0 <= instance < storage.nodes:
        raise SystemExit(f"storage instance {instance} is outside 0..{storage.nodes - 1}")
    devices = node_devices(config, instance)
    port = storage.base_port + instance

    async def main():
        app = create_app(config, devices_root(config), devices, node_index=instance,
                         rings_loader=lambda: load_rings(config))
        log.info("storage node %d on %s:%d serving %s", instance, storage.bind_ip, port,
                 ", ".join(devices))
        await serve_aiohttp(app, storage.bind_ip, port)

    run(main, config)
