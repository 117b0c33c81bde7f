"""What the API does to networks, subnets and ports: Neutron's core plugin, over one store Txn.

Each operation is a plain function of (txn, caller, ...) run inside one LMDB transaction by the
single db thread, so an allocation or an in-use check can't race another write. Visibility: a
caller sees its project's resources (and shared networks and their subnets); admin sees all.
Seeing is not owning: writing to a visible resource of another project is 403, an invisible one 404.
Records are the API's own JSON objects (plain dicts), not dataclasses: what is stored is exactly
what is answered, and validation.py's attribute tables are the schema that shapes them.
"""
from __future__ import annotations

import dataclasses
import random
import time
import uuid
from typing import TYPE_CHECKING

from network import errors, ipam

if TYPE_CHECKING:  # the store (LMDB) stays out of this module's imports: it is sans-I/O
    from network.store import Txn

MAC_PREFIX = "fa:16:3e"
MAC_TRIES = 16
DEFAULT_MTU = 1500
# Query parameters that are not attribute filters.
NOT_FILTERS = {"fields", "limit", "marker", "sort_key", "sort_dir", "page_reverse", "fixed_ips",
               "tags", "tags-any", "not-tags", "not-tags-any"}


@dataclasses.dataclass(frozen=True)
class Caller:
    project_id: str
    is_admin: bool = False
    can_write: bool = True


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _stamp(record: dict) -> dict:
    now = _now()
    record.update(created_at=now, updated_at=now, revision_number=0, tags=[])
    return record


def _project(caller: Caller, attrs: dict) -> str:
    """The owner of a new resource: the caller's project, or any project for admin."""
    wanted = {attrs.get(k) for k in ("project_id", "tenant_id") if attrs.get(k)}
    if len(wanted) > 1:
        raise errors.bad_request("'project_id' and 'tenant_id' do not match")
    project = wanted.pop() if wanted else caller.project_id
    if project != caller.project_id and not caller.is_admin:
        raise errors.bad_request("Specifying 'project_id' or 'tenant_id' other than the "
                                 "authenticated project in request requires admin privileges")
    return project


# -- visibility ---------------------------------------------------------------------------------
def _visible(txn: Txn, caller: Caller, kind: str, record: dict) -> bool:
    if caller.is_admin or record["project_id"] == caller.project_id:
        return True
    if kind == "network":
        return record["shared"]
    if kind == "subnet":
        network = txn.get("network", record["network_id"])
        return bool(network and network["shared"])
    return False


def _owns(caller: Caller, record: dict) -> bool:
    return caller.is_admin or record["project_id"] == caller.project_id


def get(txn: Txn, caller: Caller, kind: str, ident: str) -> dict:
    record = txn.get(kind, ident)
    if record is None or not _visible(txn, caller, kind, record):
        raise errors.not_found(kind, ident)
    return record


def _get_owned(txn: Txn, caller: Caller, kind: str, ident: str, action: str) -> dict:
    record = get(txn, caller, kind, ident)
    if not _owns(caller, record):
        raise errors.forbidden(f"{action}_{kind}")
    return record


# -- lists --------------------------------------------------------------------------------------
def _matches(value, wanted: list[str]) -> bool:
    if isinstance(value, bool):
        return str(value).lower() in {w.lower() for w in wanted}
    if isinstance(value, list):
        return any(str(v) in wanted for v in value)
    return ("" if value is None else str(value)) in wanted


def _fixed_ip_matches(port: dict, wanted: list[str]) -> bool:
    # ?fixed_ips=ip_address=10.0.0.5&fixed_ips=subnet_id=<id> (what `port list --fixed-ip` sends)
    for item in wanted:
        key, _, value = item.partition("=")
        if not any(ip.get(key) == value for ip in port["fixed_ips"]):
            return False
    return True


def _tags_match(record: dict, query: dict[str, list[str]]) -> bool:
    # ?tags=a,b (all of them), tags-any, not-tags (not all of them), not-tags-any (none).
    have = set(record.get("tags", []))

    def wanted(key):
        return {t for value in query.get(key, []) for t in value.split(",") if t}

    checks = [("tags", lambda w: w <= have), ("tags-any", lambda w: bool(w & have)),
              ("not-tags", lambda w: not w <= have), ("not-tags-any", lambda w: not w & have)]
    return all(test(wanted(key)) for key, test in checks if key in query)


def list_(txn: Txn, caller: Caller, kind: str, query: dict[str, list[str]]) -> list[dict]:
    filters = {k: v for k, v in query.items() if k not in NOT_FILTERS}
    found = []  # in id order: the store's key order
    for record in txn.scan(kind):
        if not _visible(txn, caller, kind, record):
            continue
        # Filters on attributes the resource does not have are ignored (older Neutron does).
        if all(_matches(record[k], v) for k, v in filters.items() if k in record) and \
                (kind != "port" or "fixed_ips" not in query
                 or _fixed_ip_matches(record, query["fixed_ips"])) and \
                _tags_match(record, query):
            found.append(record)
    return found


def page(txn: Txn, caller: Caller, kind: str, records: list[dict], limit_raw: str | None,
         marker: str | None) -> tuple[list[dict], str | None]:
    """Neutron's pagination (?limit=&marker=, records in id order): one page and the marker of
    the next one (None on the last page). limit 0 or absent: everything."""
    limit = 0
    if limit_raw is not None:
        try:
            limit = int(limit_raw)
        except ValueError:
            limit = -1
        if limit < 0:
            raise errors.NeutronError(400, "BadRequest", "Bad limit request: Limit must be an "
                                      f"integer 0 or greater and not '{limit_raw}'")
    if marker:
        get(txn, caller, kind, marker)  # an unknown marker is the resource's 404, as Neutron
        records = [r for r in records if r["id"] > marker]
    if not limit or len(records) <= limit:
        return records, None
    return records[:limit], records[limit - 1]["id"]


# -- create -------------------------------------------------------------------------------------
def create_network(txn: Txn, caller: Caller, attrs: dict) -> dict:
    if attrs.get("router:external") and not caller.is_admin:
        raise errors.forbidden("create_network:router:external")
    if attrs.get("shared") and not caller.is_admin:
        raise errors.forbidden("create_network:shared")
    project = _project(caller, attrs)
    record = _stamp({
        "id": str(uuid.uuid4()), "name": attrs.get("name", ""),
        "description": attrs.get("description", ""),
        "admin_state_up": attrs.get("admin_state_up", True), "status": "ACTIVE",
        "subnets": [], "shared": attrs.get("shared", False),
        "mtu": attrs.get("mtu", DEFAULT_MTU),
        "port_security_enabled": attrs.get("port_security_enabled", True),
        "router:external": attrs.get("router:external", False),
        "availability_zone_hints": attrs.get("availability_zone_hints", []),
        "availability_zones": ["nova"], "ipv4_address_scope": None,
        "ipv6_address_scope": None, "l2_adjacency": True, "is_default": False,
        "project_id": project, "tenant_id": project})
    txn.put("network", record)
    return record


def _touch(txn: Txn, kind: str, record: dict) -> None:
    record["updated_at"] = _now()
    record["revision_number"] += 1
    txn.put(kind, record)


def _ipv6_modes(net, attrs: dict) -> tuple[str | None, str | None]:
    """Neutron's checks of ipv6_ra_mode / ipv6_address_mode."""
    ra_mode, address_mode = attrs.get("ipv6_ra_mode"), attrs.get("ipv6_address_mode")
    if (ra_mode or address_mode) and net.version != 6:
        raise errors.invalid_input("ipv6_ra_mode or ipv6_address_mode cannot be set when "
                                   "ip_version is set to 4")
    if ra_mode and address_mode and ra_mode != address_mode:
        raise errors.invalid_input(f"ipv6_ra_mode set to '{ra_mode}' with ipv6_address_mode set "
                                   f"to '{address_mode}' is not valid. If both attributes are "
                                   "set, they must be the same value")
    if address_mode in ipam.AUTO_ADDRESS_MODES and net.prefixlen != 64:
        raise errors.invalid_input("Invalid CIDR %s for IPv6 address mode. OpenStack uses the "
                                   "EUI-64 address format, which requires the prefix to be /64"
                                   % net)
    return ra_mode, address_mode


def _is_auto(subnet: dict) -> bool:
    return subnet.get("ipv6_address_mode") in ipam.AUTO_ADDRESS_MODES


def create_subnet(txn: Txn, caller: Caller, attrs: dict) -> dict:
    network = _get_owned(txn, caller, "network", attrs["network_id"], "create")
    net = ipam.parse_cidr(attrs["cidr"], attrs["ip_version"])
    clash = ipam.overlapping(net, [s["cidr"] for s in _subnets(txn, network)])
    if clash is not None:
        raise errors.invalid_input(f"Requested subnet with cidr: {net} for network: "
                                   f"{network['id']} overlaps with another subnet")
    ra_mode, address_mode = _ipv6_modes(net, attrs)
    gateway = (ipam.check_gateway(attrs["gateway_ip"], net) if "gateway_ip" in attrs
               else ipam.default_gateway(net))
    raw_pools = attrs.get("allocation_pools")
    pools = (ipam.default_pools(net, gateway) if raw_pools is None
             else ipam.parse_pools(raw_pools, net, gateway))
    project = _project(caller, attrs)
    record = _stamp({
        "id": str(uuid.uuid4()), "name": attrs.get("name", ""),
        "description": attrs.get("description", ""), "network_id": network["id"],
        "ip_version": net.version, "cidr": str(net), "gateway_ip": gateway,
        "allocation_pools": [p.as_dict() for p in pools],
        "dns_nameservers": attrs.get("dns_nameservers") or [],
        "host_routes": attrs.get("host_routes") or [],
        "enable_dhcp": attrs.get("enable_dhcp", True), "ipv6_ra_mode": ra_mode,
        "ipv6_address_mode": address_mode, "subnetpool_id": None, "segment_id": None,
        "service_types": [], "project_id": project, "tenant_id": project})
    txn.put("subnet", record)
    network["subnets"].append(record["id"])
    _touch(txn, "network", network)
    return record


def _taken(txn: Txn, network_id: str) -> dict[str, set[int]]:
    """subnet id -> the addresses ports of the network hold in it."""
    taken: dict[str, set[int]] = {}
    for port in txn.ports_of(network_id):
        for ip in port["fixed_ips"]:
            taken.setdefault(ip["subnet_id"], set()).add(ipam.to_int(ip["ip_address"]))
    return taken


def _subnets(txn: Txn, network: dict) -> list[dict]:
    """The network's subnets, in creation order."""
    return [s for s in (txn.get("subnet", sid) for sid in network["subnets"]) if s]


def _subnet_net(subnet: dict):
    return ipam.parse_cidr(subnet["cidr"], subnet["ip_version"])


def _pools(subnet: dict) -> list[ipam.Pool]:
    return [ipam.Pool(p["start"], p["end"]) for p in subnet["allocation_pools"]]


def allocate_fixed_ips(network: dict, subnets: list[dict], requested: list[dict] | None,
                       taken: dict[str, set[int]], mac: str) -> list[dict]:
    """The fixed_ips of a new port. requested None: one address per IP version from the first
    subnet (in creation order) that has one free, plus the EUI-64 address of mac in every
    SLAAC/DHCPv6-stateless subnet; else each entry as asked. No I/O."""
    by_id = {s["id"]: s for s in subnets}
    chosen: list[dict] = []

    def take(subnet, address):
        taken.setdefault(subnet["id"], set()).add(ipam.to_int(address))
        chosen.append({"subnet_id": subnet["id"], "ip_address": address})

    if requested is None:
        for subnet in subnets:
            if _is_auto(subnet):
                take(subnet, ipam.eui64(_subnet_net(subnet), mac))
        for version in (4, 6):
            candidates = [s for s in subnets if s["ip_version"] == version and not _is_auto(s)]
            for subnet in candidates:
                address = ipam.allocate(_pools(subnet), taken.get(subnet["id"], set()))
                if address is not None:
                    take(subnet, address)
                    break
            else:
                if candidates:
                    raise errors.ip_generation_failure(network["id"])
        return chosen
    for entry in requested:
        subnet = by_id.get(entry.get("subnet_id"))
        if "subnet_id" in entry and subnet is None:
            raise errors.invalid_input(f"Failed to create port on network {network['id']}, "
                                       "because fixed_ips included invalid subnet "
                                       f"{entry['subnet_id']}")
        if subnet is not None and _is_auto(subnet) and "ip_address" not in entry:
            take(subnet, ipam.eui64(_subnet_net(subnet), mac))
            continue
        if "ip_address" not in entry:
            address = ipam.allocate(_pools(subnet), taken.get(subnet["id"], set()))
            if address is None:
                raise errors.ip_generation_failure(network["id"])
            take(subnet, address)
            continue
        if subnet is None:
            subnet = next((s for s in subnets
                           if ipam.contains(_subnet_net(s), entry["ip_address"])), None)
            if subnet is None:
                raise errors.invalid_ip_for_network(str(entry["ip_address"]))
        if _is_auto(subnet):
            own = ipam.eui64(_subnet_net(subnet), mac)
            if ipam.contains(_subnet_net(subnet), entry["ip_address"]) and \
                    ipam.to_int(entry["ip_address"]) == ipam.to_int(own):
                take(subnet, own)  # the port's own SLAAC address (kept on update)
                continue
            raise errors.invalid_input(f"IPv6 address {entry['ip_address']} cannot be directly "
                                       f"assigned to a port on subnet {subnet['id']} as the "
                                       "subnet is configured for automatic addresses")
        address = ipam.check_address(entry["ip_address"], _subnet_net(subnet),
                                     subnet["gateway_ip"], taken.get(subnet["id"], set()),
                                     subnet["id"])
        take(subnet, address)
    return chosen


def _new_mac(txn: Txn, network_id: str, wanted: str | None, rng=random) -> str:
    if wanted is not None:
        if txn.mac_owner(wanted) is not None:
            raise errors.mac_in_use(network_id, wanted)
        return wanted
    for _ in range(MAC_TRIES):
        candidate = f"{MAC_PREFIX}:" + ":".join(f"{rng.randrange(256):02x}" for _ in range(3))
        if txn.mac_owner(candidate) is None:
            return candidate
    raise errors.NeutronError(409, "MacAddressGenerationFailure",
                              f"Unable to generate unique mac on network {network_id}.")


def create_port(txn: Txn, caller: Caller, attrs: dict) -> dict:
    network = get(txn, caller, "network", attrs["network_id"])
    subnets = _subnets(txn, network)
    mac = _new_mac(txn, network["id"], attrs.get("mac_address"))
    fixed = allocate_fixed_ips(network, subnets, attrs.get("fixed_ips"),
                               _taken(txn, network["id"]), mac)
    project = _project(caller, attrs)
    record = _stamp({
        "id": str(uuid.uuid4()), "name": attrs.get("name", ""),
        "description": attrs.get("description", ""), "network_id": network["id"],
        "mac_address": mac,
        "fixed_ips": fixed, "admin_state_up": attrs.get("admin_state_up", True),
        "status": "DOWN", "device_id": attrs.get("device_id", ""),
        "device_owner": attrs.get("device_owner", ""),
        "security_groups": [], "allowed_address_pairs": [], "extra_dhcp_opts": [],
        "port_security_enabled": attrs.get("port_security_enabled",
                                           network["port_security_enabled"]),
        "binding:vnic_type": attrs.get("binding:vnic_type", "normal"),
        "binding:host_id": attrs.get("binding:host_id", ""),
        "binding:profile": attrs.get("binding:profile", {}),
        "binding:vif_type": "unbound", "binding:vif_details": {},
        "project_id": project, "tenant_id": project})
    record["status"] = _port_status(record)
    txn.set_mac(record["mac_address"], record["id"])
    txn.put("port", record)
    return record


def _port_status(port: dict) -> str:
    # No agent wires ports here: a port bound to a host (compute sets binding:host_id) and
    # administratively up is what an ML2 agent would report ACTIVE; anything else is DOWN.
    return "ACTIVE" if port["binding:host_id"] and port["admin_state_up"] else "DOWN"


CREATE = {"network": create_network, "subnet": create_subnet, "port": create_port}


# -- update and delete --------------------------------------------------------------------------
def update(txn: Txn, caller: Caller, kind: str, ident: str, attrs: dict) -> dict:
    record = _get_owned(txn, caller, kind, ident, "update")
    if kind == "network" and attrs.get("shared") and not caller.is_admin:
        raise errors.forbidden("update_network:shared")
    if kind == "subnet" and {"gateway_ip", "allocation_pools"} & set(attrs):
        attrs = {**attrs, **_readdress(txn, record, attrs)}
    if kind == "port" and "fixed_ips" in attrs:
        attrs = {**attrs, "fixed_ips": _reallocate(txn, record, attrs["fixed_ips"])}
    record.update(attrs)
    if kind == "port":
        record["status"] = _port_status(record)
    _touch(txn, kind, record)
    return record


def _readdress(txn: Txn, subnet: dict, attrs: dict) -> dict:
    """A subnet's new gateway_ip and/or allocation_pools (PUT). Addresses ports already hold
    stay theirs even outside the new pools; a gateway a port holds is 409 GatewayIpInUse."""
    net = _subnet_net(subnet)
    gateway = subnet["gateway_ip"]
    if "gateway_ip" in attrs:
        gateway = ipam.check_gateway(attrs["gateway_ip"], net)
        if gateway is not None and gateway != subnet["gateway_ip"]:
            for port in txn.ports_of(subnet["network_id"]):
                if {"subnet_id": subnet["id"], "ip_address": gateway} in port["fixed_ips"]:
                    raise errors.NeutronError(
                        409, "GatewayIpInUse", f"Current gateway ip {gateway} already in use "
                        f"by port {port['id']}. Unable to update.")
    raw = attrs.get("allocation_pools", subnet["allocation_pools"])
    pools = (ipam.default_pools(net, gateway) if raw is None
             else ipam.parse_pools(raw, net, gateway))
    return {"gateway_ip": gateway, "allocation_pools": [p.as_dict() for p in pools]}


def _reallocate(txn: Txn, port: dict, requested: list[dict]) -> list[dict]:
    """A port's new fixed_ips (PUT): the list replaces the old one; an entry naming only a
    subnet the port already has an address in keeps that address, as Neutron does."""
    network = txn.get("network", port["network_id"])
    subnets = _subnets(txn, network)
    taken = _taken(txn, network["id"])
    current = list(port["fixed_ips"])
    for ip in current:  # the port's own addresses are free for it to keep
        taken.get(ip["subnet_id"], set()).discard(ipam.to_int(ip["ip_address"]))
    wanted = []
    for entry in requested:
        if "ip_address" not in entry:
            kept = next((ip for ip in current if ip["subnet_id"] == entry.get("subnet_id")), None)
            if kept is not None:
                current.remove(kept)
                entry = dict(kept)
        wanted.append(entry)
    return allocate_fixed_ips(network, subnets, wanted, taken, port["mac_address"])


def change_tags(txn: Txn, caller: Caller, kind: str, ident: str, add=(), remove=(),
                replace: list[str] | None = None) -> list[str]:
    """The resource's tags after replacing them, or adding/removing some; None-op changes
    still answer the tags."""
    record = _get_owned(txn, caller, kind, ident, "update")
    tags = list(record["tags"]) if replace is None else list(replace)
    tags += [t for t in add if t not in tags]
    tags = [t for t in tags if t not in set(remove)]
    if tags != record["tags"]:
        record["tags"] = tags
        _touch(txn, kind, record)
    return tags


def delete(txn: Txn, caller: Caller, kind: str, ident: str) -> None:
    record = _get_owned(txn, caller, kind, ident, "delete")
    if kind == "network":
        # As Neutron: ports keep a network in use; its subnets go with it.
        if next(txn.ports_of(ident), None) is not None:
            raise errors.network_in_use(ident)
        for subnet_id in record["subnets"]:
            txn.delete("subnet", subnet_id)
    elif kind == "subnet":
        if any(ip["subnet_id"] == ident for p in txn.ports_of(record["network_id"])
               for ip in p["fixed_ips"]):
            raise errors.subnet_in_use(ident)
        network = txn.get("network", record["network_id"])
        if network is not None:
            network["subnets"] = [s for s in network["subnets"] if s != ident]
            _touch(txn, "network", network)
    else:
        txn.set_mac(record["mac_address"], None)
    txn.delete(kind, ident)
