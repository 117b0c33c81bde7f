"""IPAM without sockets: cidr checks, defaults, allocation order, exhaustion, freeing, overlap,
explicit addresses; and the plugin's allocation over a real (temporary) LMDB store."""
import ipaddress

import pytest

from network import errors, ipam, plugin
from network.store import Store


def _err(fn, *args):
    with pytest.raises(errors.NeutronError) as caught:
        fn(*args)
    return caught.value


def test_cidr_defaults_v4():
    net = ipam.parse_cidr("10.0.0.0/24", 4)
    assert ipam.default_gateway(net) == "10.0.0.1"
    assert ipam.default_pools(net, "10.0.0.1") == [ipam.Pool("10.0.0.2", "10.0.0.254")]
    # A gateway in the middle splits the pool; no gateway leaves the whole usable range.
    assert ipam.default_pools(net, "10.0.0.100") == [ipam.Pool("10.0.0.1", "10.0.0.99"),
                                                     ipam.Pool("10.0.0.101", "10.0.0.254")]
    assert ipam.default_pools(net, None) == [ipam.Pool("10.0.0.1", "10.0.0.254")]


def test_cidr_defaults_v6():
    net = ipam.parse_cidr("fd00::/64", 6)
    assert ipam.default_gateway(net) == "fd00::1"
    assert ipam.default_pools(net, "fd00::1") == [
        ipam.Pool("fd00::2", "fd00::ffff:ffff:ffff:ffff")]


@pytest.mark.parametrize("cidr,version", [
    ("10.0.0.0/33", 4), ("not-a-cidr", 4), ("10.0.0.1/24", 4), ("10.0.0.0", 4),
    ("10.0.0.0/24", 6), ("fd00::/64", 4), ("0.0.0.0/0", 4), (42, 4)])
def test_bad_cidrs_are_invalid_input(cidr, version):
    exc = _err(ipam.parse_cidr, cidr, version)
    assert (exc.status, exc.type) == (400, "InvalidInput")


def test_allocation_in_order_exhaustion_and_freeing():
    net = ipam.parse_cidr("192.168.5.0/29", 4)  # usable .1-.6, gateway .1 -> pool .2-.6
    pools = ipam.default_pools(net, ipam.default_gateway(net))
    taken: set[int] = set()
    got = []
    while (address := ipam.allocate(pools, taken)) is not None:
        got.append(address)
        taken.add(ipam.to_int(address))
    assert got == [f"192.168.5.{i}" for i in range(2, 7)]
    taken.discard(ipam.to_int("192.168.5.4"))  # a deleted port frees its address
    assert ipam.allocate(pools, taken) == "192.168.5.4"


def test_allocation_cost_does_not_depend_on_pool_size():
    net = ipam.parse_cidr("10.0.0.0/8", 4)
    pools = ipam.default_pools(net, ipam.default_gateway(net))
    taken = _CountingSet(ipam.to_int("10.0.0.2") + i for i in range(1000))
    assert ipam.allocate(pools, taken) == str(ipaddress.ip_address("10.0.0.2") + 1000)
    # The cost itself: one membership test per taken address and one for the answer, not one
    # per address of the 16M pool (the answer alone would not tell a full-pool scan apart).
    assert taken.lookups <= len(taken) + 1


class _CountingSet(set):
    lookups = 0

    def __contains__(self, item):
        self.lookups += 1
        return super().__contains__(item)


def test_explicit_gateway():
    net = ipam.parse_cidr("10.1.0.0/24", 4)
    assert ipam.check_gateway(None, net) is None
    assert ipam.check_gateway("10.1.0.254", net) == "10.1.0.254"
    for gateway in ("10.1.0.0", "10.1.0.255", "10.2.0.1", "fd00::1"):
        exc = _err(ipam.check_gateway, gateway, net)
        assert (exc.type, exc.message) == (
            "InvalidInput", f"Invalid input for operation: Gateway ip {gateway} conflicts with "
                            "subnet 10.1.0.0/24."), gateway
    exc = _err(ipam.check_gateway, "bogus", net)
    assert exc.type == "InvalidInput" and "gateway_ip" in exc.message


def test_explicit_addresses():
    net = ipam.parse_cidr("10.1.0.0/24", 4)
    taken = {ipam.to_int("10.1.0.7")}
    assert ipam.check_address("10.1.0.200", net, "10.1.0.1", taken, "s") == "10.1.0.200"
    for address, status, kind in [("10.1.0.7", 409, "IpAddressAlreadyAllocated"),
                                  ("10.1.0.1", 409, "IpAddressAlreadyAllocated"),
                                  ("10.2.0.5", 400, "InvalidIpForSubnet"),
                                  ("10.1.0.0", 400, "InvalidIpForSubnet"),
                                  ("10.1.0.255", 400, "InvalidIpForSubnet"),
                                  ("fd00::5", 400, "InvalidIpForSubnet"),
                                  ("bogus", 400, "InvalidInput")]:
        exc = _err(ipam.check_address, address, net, "10.1.0.1", taken, "s")
        assert (exc.status, exc.type) == (status, kind), address


def test_overlap_and_pools():
    net = ipam.parse_cidr("10.0.0.0/24", 4)
    assert ipam.overlapping(net, ["10.0.1.0/24", "fd00::/64"]) is None
    assert ipam.overlapping(net, ["10.0.1.0/24", "10.0.0.128/25"]) == "10.0.0.128/25"
    assert ipam.overlapping(net, ["10.0.0.0/16"]) == "10.0.0.0/16"
    good = ipam.parse_pools([{"start": "10.0.0.10", "end": "10.0.0.20"}], net, "10.0.0.1")
    assert good == [ipam.Pool("10.0.0.10", "10.0.0.20")]
    cases = [([{"start": "10.0.0.20", "end": "10.0.0.10"}], "InvalidAllocationPool"),
             ([{"start": "10.0.0.10", "end": "10.0.1.10"}], "OutOfBoundsAllocationPool"),
             ([{"start": "10.0.0.2", "end": "10.0.0.9"}, {"start": "10.0.0.9", "end": "10.0.0.12"}],
              "OverlappingAllocationPools"),
             ([{"start": "10.0.0.1", "end": "10.0.0.9"}], "GatewayConflictWithAllocationPools"),
             ("nope", "InvalidInput")]
    for raw, kind in cases:
        assert _err(ipam.parse_pools, raw, net, "10.0.0.1").type == kind


@pytest.fixture
def store(tmp_path):
    s = Store(str(tmp_path / "db"))
    yield s
    s.close()


def test_plugin_allocates_exhausts_frees_over_lmdb(store):
    me = plugin.Caller(project_id="p1")
    net = store.write(lambda t: plugin.create_network(t, me, {"name": "n"}))
    sub = store.write(lambda t: plugin.create_subnet(
        t, me, {"network_id": net["id"], "cidr": "10.9.0.0/30", "ip_version": 4}))
    assert sub["allocation_pools"] == [{"start": "10.9.0.2", "end": "10.9.0.2"}]
    port = store.write(lambda t: plugin.create_port(t, me, {"network_id": net["id"]}))
    assert port["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": "10.9.0.2"}]
    assert port["mac_address"].startswith("fa:16:3e:")
    exc = _err(store.write, lambda t: plugin.create_port(t, me, {"network_id": net["id"]}))
    assert (exc.status, exc.type) == (409, "IpAddressGenerationFailure")
    # Nothing of the failed create was kept (the transaction rolled back).
    assert len(store.read(lambda t: list(t.scan("port")))) == 1
    assert _err(store.write, lambda t: plugin.delete(t, me, "subnet", sub["id"])).type == \
        "SubnetInUse"
    store.write(lambda t: plugin.delete(t, me, "port", port["id"]))
    again = store.write(lambda t: plugin.create_port(t, me, {"network_id": net["id"]}))
    assert again["fixed_ips"][0]["ip_address"] == "10.9.0.2"
    assert store.read(lambda t: t.mac_owner(port["mac_address"])) is None
    clash = _err(store.write, lambda t: plugin.create_subnet(
        t, me, {"network_id": net["id"], "cidr": "10.9.0.0/24", "ip_version": 4}))
    assert (clash.status, clash.type) == (400, "InvalidInput") and "overlaps" in clash.message


def test_eui64_addresses():
    net = ipam.parse_cidr("2001:db8::/64", 6)
    assert ipam.eui64(net, "00:00:5e:00:53:01") == "2001:db8::200:5eff:fe00:5301"
    assert ipam.eui64(net, "fa:16:3e:12:34:56") == "2001:db8::f816:3eff:fe12:3456"


def test_ports_of_reads_one_network_and_indexes_an_older_store(tmp_path):
    me = plugin.Caller(project_id="p1")
    path = str(tmp_path / "db")
    store = Store(path)
    nets = [store.write(lambda t: plugin.create_network(t, me, {})) for _ in range(2)]
    for net in nets:
        store.write(lambda t: plugin.create_subnet(
            t, me, {"network_id": net["id"], "cidr": "10.3.0.0/24", "ip_version": 4}))
    ports = [store.write(lambda t: plugin.create_port(t, me, {"network_id": n["id"]}))
             for n in (nets[0], nets[0], nets[1])]
    assert sorted(p["id"] for p in store.read(lambda t: list(t.ports_of(nets[0]["id"])))) == \
        sorted(p["id"] for p in ports[:2])
    store.write(lambda t: plugin.delete(t, me, "port", ports[0]["id"]))
    assert [p["id"] for p in store.read(lambda t: list(t.ports_of(nets[0]["id"])))] == \
        [ports[1]["id"]]
    # A store from before the index: opening it indexes the ports it already has.
    store.write(lambda t: t._txn.drop(t._dbs["net_port"], delete=False))
    assert store.read(lambda t: list(t.ports_of(nets[1]["id"]))) == []
    store.close()
    store = Store(path)
    try:
        assert [p["id"] for p in store.read(lambda t: list(t.ports_of(nets[1]["id"])))] == \
            [ports[2]["id"]]
        # Same cidr on both networks: each allocates from its own ports only.
        again = store.write(lambda t: plugin.create_port(t, me, {"network_id": nets[1]["id"]}))
        assert again["fixed_ips"][0]["ip_address"] == "10.3.0.3"
    finally:
        store.close()
