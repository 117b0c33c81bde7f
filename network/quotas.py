"""Neutron's quota API, read-only: `openstack quota show` asks the network endpoint for a
project's quotas whenever the catalog has one, and fails on a 404. Nothing is enforced here, so
every limit is -1 (unlimited, Neutron's own spelling); details count what the project uses.
Changing quotas (PUT) is not offered: the router answers 405.
"""
from __future__ import annotations

from network import errors, plugin

RESOURCES = ("network", "subnet", "port", "router", "floatingip", "security_group",
             "security_group_rule", "subnetpool", "rbac_policy")
UNLIMITED = -1


def limits() -> dict:
    return {name: UNLIMITED for name in RESOURCES}


def check_project(caller: plugin.Caller, project_id: str) -> None:
    if project_id != caller.project_id and not caller.is_admin:
        raise errors.forbidden("get_quota")


def usage(txn, project_id: str) -> dict:
    """{resource: {"limit", "used", "reserved"}} (the quota-details shape)."""
    used = {name: 0 for name in RESOURCES}
    for kind in plugin.CREATE:
        used[kind] = sum(1 for r in txn.scan(kind) if r["project_id"] == project_id)
    return {name: {"limit": UNLIMITED, "used": used[name], "reserved": 0} for name in RESOURCES}
