"""JSON shapes of the compute API at microversion 2.1 (OPENSTACK_API.md 3.3). No I/O.

Only 2.1 is advertised, so the server's flavor is {"id", "links"} (embedded flavors are 2.47+)
and a volume attachment carries "id" (dropped at 2.89).
"""
from __future__ import annotations

from compute import states
from compute.flavors import Flavor


def _links(base: str, coll: str, ident: str) -> list[dict]:
    return [{"rel": "self", "href": f"{base}/v2.1/{coll}/{ident}"},
            {"rel": "bookmark", "href": f"{base}/{coll}/{ident}"}]


def flavor_summary(flavor: Flavor, base: str) -> dict:
    return {"id": flavor.id, "name": flavor.name, "links": _links(base, "flavors", flavor.id)}


def flavor_detail(flavor: Flavor, base: str) -> dict:
    return {**flavor_summary(flavor, base), "vcpus": flavor.vcpus, "ram": flavor.ram,
            "disk": flavor.disk, "swap": "", "OS-FLV-EXT-DATA:ephemeral": 0,
            "OS-FLV-DISABLED:disabled": False, "os-flavor-access:is_public": True,
            "rxtx_factor": 1.0}


def server_summary(server: dict, base: str) -> dict:
    return {"id": server["id"], "name": server["name"],
            "links": _links(base, "servers", server["id"])}


def server_detail(server: dict, base: str) -> dict:
    status = server["status"]
    return {
        **server_summary(server, base),
        "status": status,
        "tenant_id": server["project_id"],
        "user_id": server["user_id"],
        "flavor": {"id": server["flavor"]["id"],
                   "links": [{"rel": "bookmark",
                              "href": f"{base}/flavors/{server['flavor']['id']}"}]},
        # Booted from a volume: Nova shows "" (OSC then prints "N/A (booted from volume)").
        "image": "",
        "addresses": server["addresses"],
        "created": server["created"],
        "updated": server["updated"],
        "hostId": server["host_id"],
        "metadata": server["metadata"],
        "key_name": None,
        "security_groups": [{"name": "default"}],
        "accessIPv4": "",
        "accessIPv6": "",
        "config_drive": "",
        "progress": 0 if status == states.Status.BUILD.value else 100,
        "OS-DCF:diskConfig": "MANUAL",
        "OS-EXT-STS:vm_state": states.vm_state(status),
        "OS-EXT-STS:task_state": server.get("task_state"),
        "OS-EXT-STS:power_state": states.power_state(status),
        "OS-EXT-AZ:availability_zone": "nova",
        "OS-SRV-USG:launched_at": server.get("launched_at"),
        "OS-SRV-USG:terminated_at": None,
        "os-extended-volumes:volumes_attached": [
            {"id": v["volume_id"]} for v in server["volumes"]],
        **({"fault": server["fault"]} if server.get("fault") and status == "ERROR" else {}),
    }


def attachment(server: dict, volume: dict) -> dict:
    return {"id": volume["volume_id"], "serverId": server["id"],
            "volumeId": volume["volume_id"], "device": volume["device"]}
