"""The built-in flavors, parsed from [compute] flavors, and their lookup. No I/O.

Flavors are configuration, not data: Strato offers no flavor create/delete, so the set is fixed per
deployment and every server keeps a copy of its flavor (as Nova embeds it in the instance).
"""
from __future__ import annotations

import dataclasses

from compute import errors


@dataclasses.dataclass(frozen=True)
class Flavor:
    id: str
    name: str
    vcpus: int
    ram: int    # MiB
    disk: int   # GiB

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


class FlavorError(ValueError):
    pass


def parse(specs: list[str]) -> dict[str, Flavor]:
    """["id:name:vcpus:ram:disk", ...] -> {id: Flavor} in the given order; FlavorError if bad."""
    found: dict[str, Flavor] = {}
    names = set()
    for spec in specs:
        parts = spec.split(":")
        if len(parts) != 5 or not parts[0] or not parts[1]:
            raise FlavorError(f"flavor {spec!r} is not id:name:vcpus:ram_mib:disk_gib")
        ident, name, *numbers = parts
        try:
            vcpus, ram, disk = (int(n) for n in numbers)
        except ValueError:
            raise FlavorError(f"flavor {spec!r}: vcpus, ram and disk must be integers") from None
        if vcpus < 1 or ram < 1 or disk < 0:
            raise FlavorError(f"flavor {spec!r}: vcpus and ram must be >= 1, disk >= 0")
        if ident in found or name in names:
            raise FlavorError(f"flavor {spec!r}: duplicate id or name")
        found[ident] = Flavor(ident, name, vcpus, ram, disk)
        names.add(name)
    if not found:
        raise FlavorError("[compute] flavors is empty")
    return found


def lookup(flavors: dict[str, Flavor], flavor_id: str) -> Flavor:
    """By id only: a name is 404, which is what the SDK's name-or-id lookup needs first."""
    flavor = flavors.get(flavor_id)
    if flavor is None:
        raise errors.flavor_not_found(flavor_id)
    return flavor
