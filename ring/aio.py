"""The all-in-one's rings: build account/container/object builders and ring files on first start.

ensure_rings() is idempotent: with the same device list it writes nothing; when devices were added
or removed (or a weight changed) it updates the builders, rebalances and rewrites the ring files.
The rings (account, container, and one object ring per storage policy) share the device list and
the seed, so they place alike; that is fine for one machine and keeps the all-in-one reproducible.
"""
from __future__ import annotations

import os

from ring.builder import RingBuilder
from ring.errors import RingError

KINDS = ("account", "container", "object")


def ensure_rings(ring_dir: str, devices: list[dict], part_power: int, replicas: int,
                 min_part_hours: int, seed: int, policies=None) -> dict[str, str]:
    """Make <ring_dir>/{account,container,object}.{builder,ring} match devices, and one
    object-N.{builder,ring} per further storage policy (ring.policies.PolicyTable).

    devices: dicts with region, zone, ip, port, device, weight (and optional meta). Returns
    {"account": path, "container": path, "object": path, "object-1": path, ...} of the ring files.
    """
    from ring.policies import replicas_of

    os.makedirs(ring_dir, exist_ok=True)
    wanted = dict.fromkeys(KINDS, replicas)
    for policy in policies or ():
        wanted[policy.ring_name] = replicas_of(policy, replicas)
    return {stem: _ensure_one(ring_dir, stem, devices, part_power, count, min_part_hours, seed)
            for stem, count in wanted.items()}


def _ensure_one(ring_dir: str, stem: str, devices: list[dict], part_power: int, replicas: int,
                min_part_hours: int, seed: int) -> str:
    builder_path = os.path.join(ring_dir, f"{stem}.builder")
    ring_path = os.path.join(ring_dir, f"{stem}.ring")
    if os.path.exists(builder_path):
        builder = RingBuilder.load(builder_path)
        if (builder.part_power, builder.replicas) != (part_power, replicas):
            raise RingError(f"{builder_path} has part_power {builder.part_power} and "
                            f"{builder.replicas} replicas, the configuration asks for "
                            f"{part_power} and {replicas}: these cannot change in place")
    else:
        builder = RingBuilder(part_power, replicas, min_part_hours, seed)
    changed = _sync_devices(builder, devices)
    if changed or not builder.is_assigned():
        builder.rebalance()
    if changed or not os.path.exists(builder_path):
        builder.save(builder_path)
    if changed or not os.path.exists(ring_path):
        builder.write_ring(ring_path)
    return ring_path


def _sync_devices(builder: RingBuilder, devices: list[dict]) -> bool:
    wanted = {}
    for spec in devices:
        key = (spec["ip"], int(spec["port"]), spec["device"])
        if key in wanted:
            raise RingError(f"device {key[0]}:{key[1]}/{key[2]} is listed twice")
        wanted[key] = spec
    changed = False
    for dev in builder.devices:
        if dev is None:
            continue
        spec = wanted.get((dev.ip, dev.port, dev.device))
        if spec is None or (spec["region"], spec["zone"]) != (dev.region, dev.zone):
            builder.remove_device(dev.id)  # gone, or moved to another failure domain
            changed = True
        elif float(spec["weight"]) != dev.weight:
            builder.set_weight(dev.id, float(spec["weight"]))
            changed = True
    present = {(d.ip, d.port, d.device) for d in builder.devices if d is not None}
    for key, spec in wanted.items():
        if key not in present:
            builder.add_device(spec["region"], spec["zone"], spec["ip"], int(spec["port"]),
                               spec["device"], float(spec["weight"]), spec.get("meta", ""))
            changed = True
    return changed
