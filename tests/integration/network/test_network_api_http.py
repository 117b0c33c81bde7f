"""The network API over HTTP on loopback: a real `strato serve network` process validating real
Keystone tokens from a real identity process (fixture `cloud`, conftest.py)."""
import uuid

import pytest

pytestmark = pytest.mark.timeout(120)


def _error(answer, status, kind):
    assert answer.status_code == status, answer.text
    body = answer.json()["NeutronError"]
    assert body["type"] == kind, body
    assert body["detail"] == "" and body["message"]
    return body["message"]


def _make(cloud, kind, who="tester", **attrs):
    answer = cloud.call("POST", f"/v2.0/{kind}s", who, json={kind: attrs})
    assert answer.status_code == 201, answer.text
    return answer.json()[kind]


def test_discovery_and_extensions(cloud):
    root = cloud.call("GET", "/", None)
    assert root.status_code == 200
    [version] = root.json()["versions"]
    assert version["id"] == "v2.0" and version["status"] == "CURRENT"
    assert version["links"][0]["href"] == f"{cloud.url}/v2.0/"
    v2 = cloud.call("GET", "/v2.0", None).json()
    assert {r["collection"] for r in v2["resources"]} == {"networks", "subnets", "ports"}
    assert cloud.call("GET", "/v2.0/extensions").json() == {"extensions": []}
    _error(cloud.call("GET", "/v2.0/extensions/tag-ports-during-bulk-creation"), 404,
           "HTTPNotFound")
    _error(cloud.call("GET", "/v2.0/routers"), 404, "HTTPNotFound")
    _error(cloud.call("PATCH", "/v2.0/networks"), 405, "HTTPMethodNotAllowed")
    assert cloud.call("GET", "/", None).headers["X-Openstack-Request-Id"].startswith("req-")


def test_network_subnet_port_lifecycle(cloud):
    name = f"n-{uuid.uuid4().hex[:6]}"
    net = _make(cloud, "network", name=name, admin_state_up=True)
    tester = cloud.project("tester")
    assert (net["name"], net["status"], net["subnets"], net["shared"]) == \
        (name, "ACTIVE", [], False)
    assert net["project_id"] == net["tenant_id"] == tester
    for listed in ("tags", "availability_zones", "availability_zone_hints"):
        assert isinstance(net[listed], list)
    assert isinstance(net["mtu"], int) and net["router:external"] is False

    # Name-or-id lookup: a name in the id slot is 404, then ?name= finds it.
    _error(cloud.call("GET", f"/v2.0/networks/{name}"), 404, "NetworkNotFound")
    found = cloud.call("GET", f"/v2.0/networks?name={name}").json()["networks"]
    assert [n["id"] for n in found] == [net["id"]]
    assert cloud.call("GET", f"/v2.0/networks?id={net['id']}").json()["networks"][0]["name"] == name
    assert cloud.call("GET", "/v2.0/networks?name=no-such-name").json() == {"networks": []}

    sub = _make(cloud, "subnet", name="s1", network_id=net["id"], cidr="10.20.0.0/24",
                ip_version=4)
    assert (sub["gateway_ip"], sub["allocation_pools"]) == \
        ("10.20.0.1", [{"start": "10.20.0.2", "end": "10.20.0.254"}])
    assert sub["dns_nameservers"] == [] and sub["host_routes"] == [] and sub["enable_dhcp"]
    assert cloud.call("GET", f"/v2.0/networks/{net['id']}").json()["network"]["subnets"] == \
        [sub["id"]]

    p1 = _make(cloud, "port", name="p1", network_id=net["id"], admin_state_up=True)
    assert p1["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": "10.20.0.2"}]
    assert p1["mac_address"].startswith("fa:16:3e:") and len(p1["mac_address"]) == 17
    assert p1["security_groups"] == [] and p1["binding:vnic_type"] == "normal"
    p2 = _make(cloud, "port", network_id=net["id"],
               fixed_ips=[{"ip_address": "10.20.0.77"}])
    assert p2["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": "10.20.0.77"}]
    assert p2["mac_address"] != p1["mac_address"]
    p3 = _make(cloud, "port", network_id=net["id"], fixed_ips=[{"subnet_id": sub["id"]}])
    assert p3["fixed_ips"][0]["ip_address"] == "10.20.0.3"

    # Explicit addresses: taken, the gateway, outside every subnet, outside the named subnet.
    _error(cloud.call("POST", "/v2.0/ports", json={"port": {
        "network_id": net["id"], "fixed_ips": [{"ip_address": "10.20.0.77"}]}}),
        409, "IpAddressAlreadyAllocated")
    _error(cloud.call("POST", "/v2.0/ports", json={"port": {
        "network_id": net["id"], "fixed_ips": [{"ip_address": "10.20.0.1"}]}}),
        409, "IpAddressAlreadyAllocated")
    _error(cloud.call("POST", "/v2.0/ports", json={"port": {
        "network_id": net["id"], "fixed_ips": [{"ip_address": "10.99.0.5"}]}}),
        400, "InvalidIpForNetwork")
    _error(cloud.call("POST", "/v2.0/ports", json={"port": {
        "network_id": net["id"],
        "fixed_ips": [{"subnet_id": sub["id"], "ip_address": "10.99.0.5"}]}}),
        400, "InvalidIpForSubnet")
    _error(cloud.call("POST", "/v2.0/ports", json={"port": {
        "network_id": net["id"], "mac_address": p1["mac_address"]}}), 409, "MacAddressInUse")

    # Lists: network_id filter, repeated fields honoured, fixed_ips filter.
    ports = cloud.call("GET", f"/v2.0/ports?network_id={net['id']}&fields=id&fields=fixed_ips")
    assert sorted(ports.json()["ports"], key=lambda p: p["id"]) == sorted(
        [{"id": p["id"], "fixed_ips": p["fixed_ips"]} for p in (p1, p2, p3)],
        key=lambda p: p["id"])
    by_ip = cloud.call("GET", "/v2.0/ports?fixed_ips=ip_address=10.20.0.77").json()["ports"]
    assert [p["id"] for p in by_ip] == [p2["id"]]
    assert [s["id"] for s in cloud.call(
        "GET", f"/v2.0/subnets?network_id={net['id']}").json()["subnets"]] == [sub["id"]]

    # Update: name, description, admin_state_up; read-only and unknown attributes refused.
    updated = cloud.call("PUT", f"/v2.0/networks/{net['id']}", json={"network": {
        "name": name + "-x", "description": "d", "admin_state_up": False}}).json()["network"]
    assert (updated["name"], updated["description"], updated["admin_state_up"]) == \
        (name + "-x", "d", False)
    assert updated["revision_number"] > net["revision_number"]
    assert cloud.call("PUT", f"/v2.0/ports/{p1['id']}", json={"port": {"name": "renamed"}}) \
        .json()["port"]["name"] == "renamed"
    assert cloud.call("PUT", f"/v2.0/subnets/{sub['id']}", json={"subnet": {
        "description": "sd"}}).json()["subnet"]["description"] == "sd"
    _error(cloud.call("PUT", f"/v2.0/subnets/{sub['id']}", json={"subnet": {
        "cidr": "10.0.0.0/8"}}), 400, "HTTPBadRequest")
    _error(cloud.call("PUT", f"/v2.0/networks/{net['id']}", json={"network": {
        "colour": "red"}}), 400, "HTTPBadRequest")

    # In-use deletes, then everything in order; a deleted port frees its address.
    _error(cloud.call("DELETE", f"/v2.0/networks/{net['id']}"), 409, "NetworkInUse")
    _error(cloud.call("DELETE", f"/v2.0/subnets/{sub['id']}"), 409, "SubnetInUse")
    assert cloud.call("DELETE", f"/v2.0/ports/{p1['id']}").status_code == 204
    _error(cloud.call("GET", f"/v2.0/ports/{p1['id']}"), 404, "PortNotFound")
    _error(cloud.call("DELETE", f"/v2.0/ports/{p1['id']}"), 404, "PortNotFound")
    reused = _make(cloud, "port", network_id=net["id"])
    assert reused["fixed_ips"][0]["ip_address"] == "10.20.0.2"
    for port in (p2, p3, reused):
        assert cloud.call("DELETE", f"/v2.0/ports/{port['id']}").status_code == 204
    assert cloud.call("DELETE", f"/v2.0/subnets/{sub['id']}").status_code == 204
    _error(cloud.call("GET", f"/v2.0/subnets/{sub['id']}"), 404, "SubnetNotFound")
    assert cloud.call("GET", f"/v2.0/networks/{net['id']}").json()["network"]["subnets"] == []
    # As Neutron: a network without ports goes, and its subnets go with it.
    sub2 = _make(cloud, "subnet", network_id=net["id"], cidr="10.21.0.0/24", ip_version=4)
    assert cloud.call("DELETE", f"/v2.0/networks/{net['id']}").status_code == 204
    _error(cloud.call("GET", f"/v2.0/networks/{net['id']}"), 404, "NetworkNotFound")
    _error(cloud.call("GET", f"/v2.0/subnets/{sub2['id']}"), 404, "SubnetNotFound")


def test_subnet_input_checks(cloud):
    net = _make(cloud, "network", name="checks")
    base = {"network_id": net["id"], "ip_version": 4}
    for cidr in ("10.0.0.0/33", "banana", "10.0.0.7/24"):
        _error(cloud.call("POST", "/v2.0/subnets", json={"subnet": {**base, "cidr": cidr}}),
               400, "InvalidInput")
    _error(cloud.call("POST", "/v2.0/subnets", json={"subnet": {
        **base, "cidr": "fd00::/64"}}), 400, "InvalidInput")  # ip_version mismatch
    _error(cloud.call("POST", "/v2.0/subnets", json={"subnet": {
        **base, "ip_version": 5, "cidr": "10.0.0.0/24"}}), 400, "InvalidInput")
    v6 = _make(cloud, "subnet", network_id=net["id"], ip_version=6, cidr="fd00:1::/64")
    assert v6["gateway_ip"] == "fd00:1::1"
    _make(cloud, "subnet", **base, cidr="10.30.0.0/24")
    message = _error(cloud.call("POST", "/v2.0/subnets", json={"subnet": {
        **base, "cidr": "10.30.0.128/25"}}), 400, "InvalidInput")
    assert "overlaps" in message
    # The same cidr on another network is fine (overlap is per network).
    other = _make(cloud, "network", name="checks-2")
    _make(cloud, "subnet", network_id=other["id"], ip_version=4, cidr="10.30.0.0/24")
    # Missing required attributes, unknown network, a network id that is not a uuid.
    assert "cidr" in _error(cloud.call("POST", "/v2.0/subnets", json={"subnet": {
        "network_id": net["id"], "ip_version": 4}}), 400, "HTTPBadRequest")
    _error(cloud.call("POST", "/v2.0/subnets", json={"subnet": {
        **base, "network_id": str(uuid.uuid4()), "cidr": "10.40.0.0/24"}}),
        404, "NetworkNotFound")
    _error(cloud.call("POST", "/v2.0/subnets", json={"subnet": {
        **base, "network_id": "checks", "cidr": "10.40.0.0/24"}}), 400, "InvalidInput")
    # A port on a network with v4 and v6 subnets gets one address of each.
    port = _make(cloud, "port", network_id=net["id"])
    assert sorted(ip["ip_address"] for ip in port["fixed_ips"]) == ["10.30.0.2", "fd00:1::2"]
    # An exhausted subnet: 409 IpAddressGenerationFailure.
    tiny = _make(cloud, "network", name="tiny")
    _make(cloud, "subnet", network_id=tiny["id"], ip_version=4, cidr="10.50.0.0/30")
    _make(cloud, "port", network_id=tiny["id"])
    _error(cloud.call("POST", "/v2.0/ports", json={"port": {"network_id": tiny["id"]}}),
           409, "IpAddressGenerationFailure")


def test_malformed_bodies_and_types(cloud):
    post = lambda body, **kw: cloud.call("POST", "/v2.0/networks", **kw, data=body)  # noqa: E731
    _error(post(b'{"network": {"name": '), 400, "HTTPBadRequest")
    _error(post(b"\xff\xfe"), 400, "HTTPBadRequest")
    _error(post(b""), 400, "HTTPBadRequest")
    _error(post(b'[1, 2]'), 400, "HTTPBadRequest")
    _error(post(b'{"subnet": {}}'), 400, "HTTPBadRequest")
    _error(post(b'{"network": "n1"}'), 400, "HTTPBadRequest")
    assert "colour" in _error(cloud.call("POST", "/v2.0/networks", json={"network": {
        "name": "x", "colour": "red"}}), 400, "HTTPBadRequest")
    _error(cloud.call("POST", "/v2.0/networks", json={"network": {"status": "DOWN"}}),
           400, "HTTPBadRequest")  # known but read-only
    _error(cloud.call("POST", "/v2.0/networks", json={"network": {"name": 42}}),
           400, "InvalidInput")
    _error(cloud.call("POST", "/v2.0/networks", json={"network": {"name": "x" * 256}}),
           400, "InvalidInput")
    _error(cloud.call("POST", "/v2.0/networks", json={"network": {
        "admin_state_up": "maybe"}}), 400, "InvalidInput")
    # Neutron converts "false" and 0 to booleans.
    assert _make(cloud, "network", admin_state_up="false")["admin_state_up"] is False
    _error(cloud.call("POST", "/v2.0/ports", json={"port": {"network_id": None}}),
           400, "InvalidInput")
    _error(cloud.call("POST", "/v2.0/ports", json={"port": {"name": "no-network"}}),
           400, "HTTPBadRequest")
    _error(cloud.call("POST", "/v2.0/ports", json={"port": {
        "network_id": str(uuid.uuid4()), "fixed_ips": "10.0.0.1"}}), 400, "InvalidInput")
    _error(cloud.call("POST", "/v2.0/ports", json={"port": {
        "network_id": str(uuid.uuid4()), "mac_address": "zz:16:3e:00:00:01"}}),
        400, "InvalidInput")


def test_auth_projects_and_roles(cloud):
    bad = {"X-Auth-Token": "gAAAAA-not-a-token"}
    _error(cloud.call("GET", "/v2.0/networks", None), 401, "HTTPUnauthorized")
    _error(cloud.call("GET", "/v2.0/networks", None, headers=bad), 401, "HTTPUnauthorized")
    _error(cloud.call("POST", "/v2.0/networks", None, json={"network": {}}), 401,
           "HTTPUnauthorized")
    mine = _make(cloud, "network", name="tester-net")
    _make(cloud, "subnet", network_id=mine["id"], ip_version=4, cidr="10.60.0.0/24")
    admins = _make(cloud, "network", "admin", name="admin-net")
    alts = _make(cloud, "network", "alt", name="alt-net")
    assert alts["project_id"] == cloud.project("alt")

    def names(who, coll="networks"):
        return {n.get("name") for n in cloud.call("GET", f"/v2.0/{coll}", who).json()[coll]}

    assert {"tester-net"} <= names("tester") and not {"admin-net", "alt-net"} & names("tester")
    assert {"tester-net", "admin-net", "alt-net"} <= names("admin")  # admin sees all
    assert "tester-net" not in names("alt")
    _error(cloud.call("GET", f"/v2.0/networks/{admins['id']}"), 404, "NetworkNotFound")
    assert cloud.call("GET", f"/v2.0/networks/{mine['id']}", "admin").status_code == 200
    # Another project's resource is 404, for reads and writes alike.
    for method, body in (("GET", None), ("PUT", {"network": {"name": "x"}}), ("DELETE", None)):
        _error(cloud.call(method, f"/v2.0/networks/{mine['id']}", "alt", json=body), 404,
               "NetworkNotFound")
    _error(cloud.call("POST", "/v2.0/ports", "alt", json={"port": {"network_id": mine["id"]}}),
           404, "NetworkNotFound")
    # A reader of the project reads, and every write is 403.
    assert cloud.call("GET", f"/v2.0/networks/{mine['id']}", "viewer").status_code == 200
    assert "tester-net" in names("viewer")
    _error(cloud.call("POST", "/v2.0/networks", "viewer", json={"network": {"name": "v"}}),
           403, "PolicyNotAuthorized")
    _error(cloud.call("PUT", f"/v2.0/networks/{mine['id']}", "viewer",
                      json={"network": {"name": "v"}}), 403, "PolicyNotAuthorized")
    _error(cloud.call("DELETE", f"/v2.0/networks/{mine['id']}", "viewer"), 403,
           "PolicyNotAuthorized")
    # Only admin creates for another project, or shared networks.
    _error(cloud.call("POST", "/v2.0/networks", json={"network": {
        "project_id": cloud.project("alt")}}), 400, "HTTPBadRequest")
    _error(cloud.call("POST", "/v2.0/networks", json={"network": {"shared": True}}), 403,
           "PolicyNotAuthorized")
    given = _make(cloud, "network", "admin", name="given", project_id=cloud.project("alt"))
    assert given["tenant_id"] == cloud.project("alt") and "given" in names("alt")
    # A shared network: every project sees it and may put a port on it, but not change it.
    shared = _make(cloud, "network", "admin", name="shared-net", shared=True)
    _make(cloud, "subnet", "admin", network_id=shared["id"], ip_version=4, cidr="10.70.0.0/24")
    assert "shared-net" in names("alt")
    port = _make(cloud, "port", "alt", network_id=shared["id"])
    assert port["project_id"] == cloud.project("alt")
    _error(cloud.call("PUT", f"/v2.0/networks/{shared['id']}", "alt",
                      json={"network": {"name": "mine"}}), 403, "PolicyNotAuthorized")
    assert port["id"] not in {p["id"] for p in
                              cloud.call("GET", "/v2.0/ports", "tester").json()["ports"]}


def test_state_survives_a_restart(cloud):
    net = _make(cloud, "network", name="durable")
    sub = _make(cloud, "subnet", network_id=net["id"], ip_version=4, cidr="10.80.0.0/24")
    port = _make(cloud, "port", network_id=net["id"])
    assert cloud.network.stop() == 0  # a clean SIGTERM exit
    cloud.network.start()
    assert cloud.call("GET", f"/v2.0/networks/{net['id']}").json()["network"]["subnets"] == \
        [sub["id"]]
    assert cloud.call("GET", f"/v2.0/ports/{port['id']}").json()["port"] == port
    # Allocation goes on from the stored state: the next port does not reuse the address.
    again = _make(cloud, "port", network_id=net["id"])
    assert again["fixed_ips"][0]["ip_address"] == "10.80.0.3"
    _error(cloud.call("POST", "/v2.0/ports", json={"port": {
        "network_id": net["id"], "mac_address": port["mac_address"]}}), 409, "MacAddressInUse")
