"""Request bodies: the attributes each resource takes on POST and PUT, converted and checked the
way Neutron's attribute maps do (neutron_lib/api/definitions). No I/O.

An attribute Neutron knows but does not let the client set answers "not allowed in POST" /
"Cannot update read-only attribute"; one it does not know at all answers "Unrecognized
attribute(s)"; a value of the wrong type answers InvalidInput naming the attribute.
"""
from __future__ import annotations

import re
import uuid
from typing import Any, Callable

from network import errors

Converter = Callable[[str, Any], Any]
MAC_RE = re.compile(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")


def string(max_len: int = 255) -> Converter:
    def convert(name, value):
        if not isinstance(value, str):
            raise errors.invalid_attr(name, f"'{value}' is not a valid string")
        if len(value) > max_len:
            raise errors.invalid_attr(name, f"'{value}' exceeds maximum length of {max_len}")
        return value
    return convert


def boolean(name, value):
    # converters.convert_to_boolean: bools, 0/1 and their strings, "true"/"false" in any case.
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false", "0", "1"):
        return value.lower() in ("true", "1")
    raise errors.invalid_attr(name, f"'{value}' cannot be converted to boolean")


def uuid_str(name, value):
    try:
        return str(uuid.UUID(value)) if isinstance(value, str) else _bad_uuid(name, value)
    except ValueError:
        return _bad_uuid(name, value)


def _bad_uuid(name, value):
    raise errors.invalid_attr(name, f"'{value}' is not a valid UUID")


def ip_version(name, value):
    try:
        version = int(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        version = None
    if version not in (4, 6):
        raise errors.invalid_attr(name, f"{value!r} is not in [4, 6]")
    return version


def integer(low: int, high: int) -> Converter:
    def convert(name, value):
        try:
            number = int(value) if not isinstance(value, (bool, float)) else None
        except (TypeError, ValueError):
            number = None
        if number is None or not low <= number <= high:
            raise errors.invalid_attr(name, f"'{value}' is not an integer in [{low}, {high}]")
        return number
    return convert


def mac(name, value):
    if not isinstance(value, str) or not MAC_RE.match(value.lower()):
        raise errors.invalid_attr(name, f"'{value}' is not a valid MAC address")
    if int(value[:2], 16) & 1:
        raise errors.invalid_attr(name, f"'{value}' is not a valid unicast MAC address")
    return value.lower()


def list_of(item: Converter) -> Converter:
    def convert(name, value):
        if not isinstance(value, list):
            raise errors.invalid_attr(name, f"'{value}' is not a list")
        return [item(name, v) for v in value]
    return convert


def anything(kind: type) -> Converter:
    def convert(name, value):
        if not isinstance(value, kind):
            raise errors.invalid_attr(name, f"'{value}' is not a {kind.__name__}")
        return value
    return convert


def ip_list(name, value):
    from network import ipam  # the address check lives with the other address rules

    def one(n, v):
        if not isinstance(v, str) or not (ipam.contains_any(v)):
            raise errors.invalid_attr(n, f"'{v}' is not a valid nameserver")
        return v
    return list_of(one)(name, value)


def host_routes(name, value):
    def one(n, v):
        if not isinstance(v, dict) or set(v) != {"destination", "nexthop"}:
            raise errors.invalid_attr(n, f"Invalid data format for hostroute: '{v}'")
        return {"destination": str(v["destination"]), "nexthop": str(v["nexthop"])}
    return list_of(one)(name, value)


def fixed_ips(name, value):
    def one(n, v):
        if not isinstance(v, dict) or not v or set(v) - {"subnet_id", "ip_address"}:
            raise errors.invalid_attr(n, f"Invalid data format for fixed IP: '{v}'")
        out = {}
        if "subnet_id" in v:
            out["subnet_id"] = uuid_str(n, v["subnet_id"])
        if "ip_address" in v:
            out["ip_address"] = v["ip_address"]  # checked against its subnet by ipam
        return out
    return list_of(one)(name, value)


def security_groups(name, value):
    # There are no security groups here: an empty list (`port create --no-security-group`)
    # is what every port has; naming one is Neutron's answer to an unknown group.
    for group in list_of(string(255))(name, value):
        raise errors.NeutronError(404, "SecurityGroupNotFound",
                                  f"Security group {group} does not exist")
    return []


MAX_TAG_LEN = 255


def tag(name, value):
    if not isinstance(value, str) or not value or len(value) > MAX_TAG_LEN or "," in value:
        # Tag filters are comma-separated lists, so a tag can't hold a comma.
        raise errors.invalid_input(f"'{value}' is not a valid tag")
    return value


def tags_body(body) -> list[str]:
    """The body of PUT/POST .../tags: {"tags": [...]}; the list's order kept, duplicates not."""
    if not isinstance(body, dict) or not isinstance(body.get("tags"), list):
        raise errors.bad_request("Invalid tags body")
    return list(dict.fromkeys(tag("tags", t) for t in body["tags"]))


IPV6_MODES = ("slaac", "dhcpv6-stateful", "dhcpv6-stateless")


def ipv6_mode(name, value):
    if value not in IPV6_MODES:
        raise errors.invalid_attr(name, f"'{value}' is not in {list(IPV6_MODES)}")
    return value


def nullable(convert: Converter) -> Converter:
    return lambda name, value: None if value is None else convert(name, value)


_name, _desc, _project = string(255), string(255), string(255)
_COMMON = {"name": _name, "description": _desc, "project_id": _project, "tenant_id": _project}

# kind -> {attribute: converter} a client may send on create.
POST = {
    "network": {**_COMMON, "admin_state_up": boolean, "shared": boolean,
                "mtu": integer(68, 65535), "port_security_enabled": boolean,
                "router:external": boolean,
                "availability_zone_hints": list_of(string(255))},
    "subnet": {**_COMMON, "network_id": uuid_str, "ip_version": ip_version,
               "cidr": anything(str), "gateway_ip": lambda n, v: v,
               "allocation_pools": nullable(anything(list)), "enable_dhcp": boolean,
               "dns_nameservers": nullable(ip_list), "host_routes": nullable(host_routes),
               "ipv6_ra_mode": nullable(ipv6_mode), "ipv6_address_mode": nullable(ipv6_mode)},
    "port": {**_COMMON, "admin_state_up": boolean, "network_id": uuid_str,
             "fixed_ips": fixed_ips, "mac_address": mac, "device_id": string(255),
             "device_owner": string(255), "binding:host_id": string(255),
             "binding:vnic_type": string(64), "binding:profile": anything(dict),
             "port_security_enabled": boolean, "security_groups": security_groups},
}
REQUIRED = {"network": (), "subnet": ("network_id", "ip_version", "cidr"),
            "port": ("network_id",)}

# kind -> {attribute: converter} a client may change with PUT.
PUT = {
    "network": {"name": _name, "description": _desc, "admin_state_up": boolean,
                "mtu": integer(68, 65535), "port_security_enabled": boolean,
                "shared": boolean},
    "subnet": {"name": _name, "description": _desc, "enable_dhcp": boolean,
               "dns_nameservers": nullable(ip_list), "host_routes": nullable(host_routes),
               "gateway_ip": lambda n, v: v, "allocation_pools": nullable(anything(list))},
    "port": {"name": _name, "description": _desc, "admin_state_up": boolean,
             "device_id": string(255), "device_owner": string(255),
             "binding:host_id": string(255), "binding:profile": anything(dict),
             "port_security_enabled": boolean, "security_groups": security_groups,
             "fixed_ips": fixed_ips},
}


def parse(kind: str, body, method: str, known: set[str]) -> dict:
    """The converted attributes of a POST/PUT body {"<kind>": {...}}.
    known: every attribute the resource shows (read-only ones get Neutron's own refusal)."""
    if body is None or body == {}:
        raise errors.bad_request("Resource body required")
    if not isinstance(body, dict) or kind not in body:
        raise errors.bad_request(f"Unable to find '{kind}' in request body")
    attrs = body[kind]
    if not isinstance(attrs, dict):
        raise errors.bad_request(f"Unable to find '{kind}' in request body")
    table = POST[kind] if method == "POST" else PUT[kind]
    unknown = sorted(set(attrs) - set(table) - known)
    if unknown:
        raise errors.bad_request(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
    for attr in sorted(attrs):
        if attr not in table:
            raise errors.bad_request(f"Attribute '{attr}' not allowed in POST" if method == "POST"
                                     else f"Cannot update read-only attribute {attr}")
    if method == "POST":
        for attr in REQUIRED[kind]:
            if attr not in attrs:
                raise errors.bad_request("Failed to parse request. Required attribute "
                                         f"'{attr}' not specified")
    return {attr: table[attr](attr, value) for attr, value in attrs.items()}
