"""IP address management for subnets: cidr checks, gateway and pool defaults, allocation.

Sans-I/O (only the stdlib ipaddress module): callers pass the subnet's cidr, gateway, pools and the
set of addresses already taken, and get addresses back or a NeutronError saying why not. The rules
follow Neutron's: the gateway defaults to the first host, the pools to the other usable hosts, an
explicit address must be a usable address of the subnet and not the gateway nor taken.
"""
from __future__ import annotations

import dataclasses
import ipaddress
from typing import Iterable

from network import errors

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclasses.dataclass(frozen=True)
class Pool:
    start: str
    end: str

    def as_dict(self) -> dict:
        return {"start": self.start, "end": self.end}

    def bounds(self) -> tuple[int, int]:
        return int(ipaddress.ip_address(self.start)), int(ipaddress.ip_address(self.end))


def parse_cidr(cidr, ip_version) -> Network:
    """The subnet of a create request; InvalidInput for anything Neutron refuses."""
    if not isinstance(cidr, str):
        raise errors.invalid_attr("cidr", f"'{cidr}' is not a valid IP subnet")
    if ip_version not in (4, 6):
        raise errors.invalid_attr("ip_version", f"{ip_version!r} is not in [4, 6]")
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        raise errors.invalid_attr("cidr", f"'{cidr}' is not a valid IP subnet") from None
    if "/" not in cidr or str(net) != cidr.lower():
        raise errors.invalid_attr("cidr", f"'{cidr}' isn't a recommended CIDR, it should be "
                                          f"specified as '{net}'")
    if net.version != ip_version:
        raise errors.invalid_input("Cidr and IP version mismatch: "
                                   f"{cidr} is not an IPv{ip_version} subnet")
    if net.prefixlen == 0:
        raise errors.invalid_input(f"{cidr} is not allowed as a subnet")
    return net


def usable_bounds(net: Network) -> tuple[int, int]:
    """First and last address a port may get: IPv4 leaves out the network and broadcast
    addresses (except /31 and /32), IPv6 the subnet-router anycast address (except /128)."""
    first, last = int(net.network_address), int(net.broadcast_address)
    if net.version == 4 and net.prefixlen < 31:
        return first + 1, last - 1
    if net.version == 6 and net.prefixlen < 128:
        return first + 1, last
    return first, last


def default_gateway(net: Network) -> str | None:
    first, last = usable_bounds(net)
    return str(ipaddress.ip_address(first)) if first < last else None


def check_gateway(gateway, net: Network) -> str | None:
    """An explicit gateway_ip (None: the subnet has no gateway)."""
    if gateway is None:
        return None
    address = _address(gateway, "gateway_ip")
    if not _usable(address, net):
        raise errors.invalid_input(f"Gateway ip {gateway} conflicts with subnet {net}")
    return str(address)


def _address(raw, attr: str):
    """raw as an IP address; InvalidInput naming attr if it is none."""
    try:
        if isinstance(raw, str):
            return ipaddress.ip_address(raw)
    except ValueError:
        pass
    raise errors.invalid_attr(attr, f"'{raw}' is not a valid IP address")


def _usable(address, net: Network) -> bool:
    """Whether address is one a port or gateway of net may hold (usable_bounds)."""
    first, last = usable_bounds(net)
    return address.version == net.version and first <= int(address) <= last


def _ranges_without(first: int, last: int, holes: Iterable[int]) -> list[tuple[int, int]]:
    ranges, start = [], first
    for hole in sorted(h for h in set(holes) if first <= h <= last):
        if start < hole:
            ranges.append((start, hole - 1))
        start = hole + 1
    if start <= last:
        ranges.append((start, last))
    return ranges


def default_pools(net: Network, gateway: str | None) -> list[Pool]:
    holes = [int(ipaddress.ip_address(gateway))] if gateway else []
    return [Pool(str(ipaddress.ip_address(a)), str(ipaddress.ip_address(b)))
            for a, b in _ranges_without(*usable_bounds(net), holes)]


def parse_pools(raw, net: Network, gateway: str | None) -> list[Pool]:
    """Explicit allocation_pools: [{"start", "end"}...] inside the subnet, disjoint, and
    without the gateway (Neutron's InvalidAllocationPool and friends)."""
    if not isinstance(raw, list):
        raise errors.invalid_attr("allocation_pools", f"'{raw}' is not a list")
    pools = []
    for item in raw:
        if not isinstance(item, dict) or set(item) != {"start", "end"}:
            raise errors.invalid_attr("allocation_pools",
                                      f"Invalid data format for IP pool: '{item}'")
        try:
            start, end = (ipaddress.ip_address(item["start"]), ipaddress.ip_address(item["end"]))
        except (ValueError, TypeError):
            raise errors.NeutronError(400, "InvalidAllocationPool",
                                      f"The allocation pool {item} is not valid.") from None
        first, last = usable_bounds(net)
        if (start.version != net.version or end.version != net.version
                or int(start) > int(end)):
            raise errors.NeutronError(400, "InvalidAllocationPool",
                                      f"The allocation pool {start}-{end} is not valid.")
        if not (first <= int(start) and int(end) <= last):
            raise errors.NeutronError(400, "OutOfBoundsAllocationPool",
                                      f"The allocation pool {start}-{end} spans beyond the "
                                      f"subnet cidr {net}.")
        pools.append(Pool(str(start), str(end)))
    spans = sorted(p.bounds() for p in pools)
    for (_a, b), (c, _d) in zip(spans, spans[1:]):
        if c <= b:
            raise errors.NeutronError(409, "OverlappingAllocationPools",
                                      f"Found overlapping allocation pools for subnet {net}.")
    if gateway is not None:
        gw = int(ipaddress.ip_address(gateway))
        for pool in pools:
            low, high = pool.bounds()
            if low <= gw <= high:
                raise errors.NeutronError(409, "GatewayConflictWithAllocationPools",
                                          f"Gateway ip {gateway} conflicts with allocation "
                                          f"pool {pool.start}-{pool.end}.")
    return pools


def overlapping(net: Network, others: Iterable[str]) -> str | None:
    """The first cidr among others that overlaps net, else None."""
    for cidr in others:
        other = ipaddress.ip_network(cidr)
        if other.version == net.version and other.overlaps(net):
            return cidr
    return None


def allocate(pools: Iterable[Pool], taken: set[int]) -> str | None:
    """The lowest free address of the pools, or None when they are full. Linear in the taken
    addresses, never in the pool size (a /8 pool costs what a /29 does)."""
    for pool in pools:
        low, high = pool.bounds()
        candidate = low
        while candidate <= high:
            if candidate not in taken:
                return str(ipaddress.ip_address(candidate))
            candidate += 1
    return None


def check_address(raw, net: Network, gateway: str | None, taken: set[int],
                  subnet_id: str) -> str:
    """An explicitly requested address: usable in the subnet, not the gateway, not taken."""
    address = _address(raw, "fixed_ips")
    if not _usable(address, net):
        raise errors.invalid_ip_for_subnet(str(address))
    if str(address) == gateway or int(address) in taken:
        raise errors.ip_already_allocated(str(address), subnet_id)
    return str(address)


def contains(net: Network, raw) -> bool:
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return False
    return address.version == net.version and address in net


def to_int(address: str) -> int:
    return int(ipaddress.ip_address(address))


def contains_any(raw: str) -> bool:
    """raw is an IPv4 or IPv6 address."""
    try:
        ipaddress.ip_address(raw)
    except ValueError:
        return False
    return True


AUTO_ADDRESS_MODES = ("slaac", "dhcpv6-stateless")  # the port's address comes from its MAC


def eui64(net: Network, mac: str) -> str:
    """The SLAAC address of a MAC in a /64 (RFC 4291 appendix A: ff:fe in the middle, the
    universal/local bit flipped)."""
    octets = [int(part, 16) for part in mac.split(":")]
    octets[0] ^= 0x02
    interface = bytes(octets[:3] + [0xFF, 0xFE] + octets[3:])
    return str(ipaddress.ip_address(int(net.network_address) | int.from_bytes(interface, "big")))
