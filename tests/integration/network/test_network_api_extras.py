"""The network API's less common paths over HTTP: pagination links, bulk create (all or nothing),
security_groups, and concurrent port creates getting distinct addresses (the single writer)."""
import concurrent.futures
import uuid

import pytest
import requests

pytestmark = pytest.mark.timeout(120)


def _post(cloud, coll, body, who="tester"):
    return cloud.call("POST", f"/v2.0/{coll}", who, json=body)


def test_pagination_follows_next_links(cloud):
    made = [_post(cloud, "networks", {"network": {"name": f"pg-{i}"}}, "alt").json()["network"]
            for i in range(5)]
    ids = sorted(n["id"] for n in made)
    url, seen, pages = "/v2.0/networks?limit=2", [], 0
    while url:
        body = cloud.call("GET", url, "alt").json()
        seen += [n["id"] for n in body["networks"]]
        pages += 1
        links = [link["href"] for link in body.get("networks_links", []) if link["rel"] == "next"]
        url = links[0].removeprefix(cloud.url) if links else None
    assert (seen, pages) == (ids, 3)
    assert len(cloud.call("GET", "/v2.0/networks?limit=0", "alt").json()["networks"]) == 5
    bad = cloud.call("GET", "/v2.0/networks?limit=-3", "alt")
    assert bad.status_code == 400 and bad.json()["NeutronError"]["type"] == "BadRequest"
    gone = cloud.call("GET", f"/v2.0/networks?limit=2&marker={uuid.uuid4()}", "alt")
    assert gone.status_code == 404


def test_bulk_create_is_all_or_nothing(cloud):
    net = _post(cloud, "networks", {"network": {"name": "bulk"}}).json()["network"]
    _post(cloud, "subnets", {"subnet": {"network_id": net["id"], "ip_version": 4,
                                        "cidr": "10.90.0.0/24"}})
    made = _post(cloud, "ports", {"ports": [{"network_id": net["id"], "name": f"b{i}"}
                                            for i in range(3)]})
    assert made.status_code == 201, made.text
    assert [p["fixed_ips"][0]["ip_address"] for p in made.json()["ports"]] == \
        ["10.90.0.2", "10.90.0.3", "10.90.0.4"]
    refused = _post(cloud, "ports", {"ports": [
        {"network_id": net["id"], "name": "ok"},
        {"network_id": net["id"], "fixed_ips": [{"ip_address": "10.90.0.2"}]}]})
    assert refused.status_code == 409
    names = {p["name"] for p in cloud.call(
        "GET", f"/v2.0/ports?network_id={net['id']}").json()["ports"]}
    assert names == {"b0", "b1", "b2"}  # the valid first item was not kept either


def test_security_groups(cloud):
    net = _post(cloud, "networks", {"network": {"name": "sg"}}).json()["network"]
    empty = _post(cloud, "ports", {"port": {"network_id": net["id"], "security_groups": []}})
    assert empty.status_code == 201 and empty.json()["port"]["security_groups"] == []
    named = _post(cloud, "ports", {"port": {"network_id": net["id"],
                                            "security_groups": ["default"]}})
    assert named.status_code == 404
    assert named.json()["NeutronError"]["type"] == "SecurityGroupNotFound"


@pytest.mark.timeout(60)
def test_concurrent_port_creates_get_distinct_addresses(cloud):
    net = _post(cloud, "networks", {"network": {"name": "busy"}}).json()["network"]
    _post(cloud, "subnets", {"subnet": {"network_id": net["id"], "ip_version": 4,
                                        "cidr": "10.91.0.0/27"}})  # 29 addresses in the pool

    def create(i):
        return requests.post(f"{cloud.url}/v2.0/ports", timeout=30,
                             headers={"X-Auth-Token": cloud.tokens["tester"]},
                             json={"port": {"network_id": net["id"], "name": f"c{i}"}})

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(create, range(32)))
    made = [a.json()["port"] for a in answers if a.status_code == 201]
    assert len(made) == 29
    assert {a.json()["NeutronError"]["type"] for a in answers if a.status_code != 201} == \
        {"IpAddressGenerationFailure"}
    assert len({p["fixed_ips"][0]["ip_address"] for p in made}) == 29
    assert len({p["mac_address"] for p in made}) == 29


def test_quotas_read_only(cloud):
    project = cloud.project("tester")
    _post(cloud, "networks", {"network": {"name": "counted"}})
    shown = cloud.call("GET", f"/v2.0/quotas/{project}").json()["quota"]
    assert shown["network"] == shown["port"] == -1  # nothing is enforced: unlimited
    assert cloud.call("GET", f"/v2.0/quotas/{project}/default").json()["quota"] == shown
    details = cloud.call("GET", f"/v2.0/quotas/{project}/details").json()["quota"]
    assert cloud.call("GET", f"/v2.0/quotas/{project}/details.json").json()["quota"] == details
    mine = [n for n in cloud.call("GET", "/v2.0/networks").json()["networks"]
            if n["project_id"] == project]
    assert details["network"] == {"limit": -1, "used": len(mine), "reserved": 0}
    other = cloud.call("GET", f"/v2.0/quotas/{cloud.project('alt')}")
    assert other.status_code == 403
    assert cloud.call("GET", f"/v2.0/quotas/{cloud.project('alt')}", "admin").status_code == 200
    assert cloud.call("PUT", f"/v2.0/quotas/{project}",
                      json={"quota": {"network": 5}}).status_code == 405


def test_port_binding_sets_status_and_big_bodies(cloud):
    net = _post(cloud, "networks", {"network": {"name": "bound"}}).json()["network"]
    port = _post(cloud, "ports", {"port": {"network_id": net["id"], "device_id": "vm-1",
                                           "device_owner": "compute:nova"}}).json()["port"]
    assert port["status"] == "DOWN" and port["binding:host_id"] == ""
    bound = cloud.call("PUT", f"/v2.0/ports/{port['id']}", json={"port": {
        "binding:host_id": "host-a"}}).json()["port"]
    assert (bound["status"], bound["device_id"]) == ("ACTIVE", "vm-1")
    down = cloud.call("PUT", f"/v2.0/ports/{port['id']}", json={"port": {
        "admin_state_up": False}}).json()["port"]
    assert down["status"] == "DOWN"
    assert [p["id"] for p in cloud.call("GET", "/v2.0/ports?device_id=vm-1").json()["ports"]] \
        == [port["id"]]
    huge = cloud.call("POST", "/v2.0/networks", data=b'{"network": {"name": "' + b"x" * (2 << 20)
                      + b'"}}')
    assert huge.status_code == 413
    assert huge.json()["NeutronError"]["type"] == "HTTPRequestEntityTooLarge"


def test_port_fixed_ips_update(cloud):
    net = _post(cloud, "networks", {"network": {"name": "moving"}}).json()["network"]
    sub = _post(cloud, "subnets", {"subnet": {"network_id": net["id"], "ip_version": 4,
                                              "cidr": "10.92.0.0/24"}}).json()["subnet"]
    port = _post(cloud, "ports", {"port": {"network_id": net["id"]}}).json()["port"]
    other = _post(cloud, "ports", {"port": {"network_id": net["id"]}}).json()["port"]
    put = lambda ips, pid=port["id"]: cloud.call(  # noqa: E731
        "PUT", f"/v2.0/ports/{pid}", json={"port": {"fixed_ips": ips}})
    # Add a second address, keeping the first (what `openstack port set --fixed-ip` sends).
    both = put(port["fixed_ips"] + [{"subnet_id": sub["id"], "ip_address": "10.92.0.40"}])
    assert [ip["ip_address"] for ip in both.json()["port"]["fixed_ips"]] == \
        ["10.92.0.2", "10.92.0.40"]
    assert put([{"ip_address": "10.92.0.3"}]).status_code == 409  # the other port's
    assert put([{"subnet_id": sub["id"]}]).json()["port"]["fixed_ips"] == \
        [{"subnet_id": sub["id"], "ip_address": "10.92.0.2"}]  # a subnet alone keeps its address
    # .40 was freed by the replace: the other port may take it now.
    assert put([{"ip_address": "10.92.0.40"}], other["id"]).status_code == 200
    assert put([]).json()["port"]["fixed_ips"] == []
    assert _post(cloud, "ports", {"port": {"network_id": net["id"]}}).json()["port"][
        "fixed_ips"][0]["ip_address"] == "10.92.0.2"


def test_tags(cloud):
    net = _post(cloud, "networks", {"network": {"name": "tagged"}}).json()["network"]
    other = _post(cloud, "networks", {"network": {"name": "untagged"}}).json()["network"]
    base = f"/v2.0/networks/{net['id']}/tags"
    assert cloud.call("PUT", base, json={"tags": ["red", "blue", "red"]}).json() == \
        {"tags": ["red", "blue"]}
    assert cloud.call("PUT", f"{base}/green").status_code == 201
    assert cloud.call("GET", base).json() == {"tags": ["red", "blue", "green"]}
    assert cloud.call("GET", f"{base}/blue").status_code == 204
    assert cloud.call("GET", f"{base}/pink").json()["NeutronError"]["type"] == "TagNotFound"
    assert cloud.call("POST", base, json={"tags": ["pink"]}).status_code == 201
    assert cloud.call("DELETE", f"{base}/red").status_code == 204
    assert cloud.call("DELETE", f"{base}/red").status_code == 404
    shown = cloud.call("GET", f"/v2.0/networks/{net['id']}").json()["network"]
    assert shown["tags"] == ["blue", "green", "pink"] and shown["revision_number"] >= 4

    def listed(query):
        return {n["id"] for n in cloud.call("GET", f"/v2.0/networks?{query}").json()["networks"]
                if n["id"] in (net["id"], other["id"])}
    assert listed("tags=blue,green") == {net["id"]}
    assert listed("tags=blue,nope") == set()
    assert listed("tags-any=nope,pink") == {net["id"]}
    assert listed("not-tags-any=blue") == {other["id"]}
    assert listed("not-tags=blue,nope") == {net["id"], other["id"]}
    bad = cloud.call("PUT", base, json={"tags": ["a,b"]})
    assert bad.status_code == 400 and bad.json()["NeutronError"]["type"] == "InvalidInput"
    assert cloud.call("PUT", base, json={"tags": "red"}).status_code == 400
    assert cloud.call("PUT", base, "alt", json={"tags": []}).status_code == 404
    assert cloud.call("PUT", base, "viewer", json={"tags": []}).status_code == 403
    assert cloud.call("DELETE", base).status_code == 204
    assert cloud.call("GET", base).json() == {"tags": []}


def test_revoked_token_is_refused(cloud):
    import time

    fresh = cloud.fresh_token("tester")
    headers = {"X-Auth-Token": fresh}
    assert cloud.call("GET", "/v2.0/networks", None, headers=headers).status_code == 200
    revoked = requests.delete(f"{cloud.ident.auth_url}/auth/tokens", timeout=10,
                              headers={"X-Auth-Token": fresh, "X-Subject-Token": fresh})
    assert revoked.status_code == 204, revoked.text
    deadline = time.monotonic() + 5  # the revocation list is re-read every 0.1 s
    while cloud.call("GET", "/v2.0/networks", None, headers=headers).status_code != 401:
        assert time.monotonic() < deadline, "a revoked token still works"
        time.sleep(0.05)


def test_subnet_gateway_and_pools_update(cloud):
    net = _post(cloud, "networks", {"network": {"name": "regw"}}).json()["network"]
    sub = _post(cloud, "subnets", {"subnet": {"network_id": net["id"], "ip_version": 4,
                                              "cidr": "10.93.0.0/24"}}).json()["subnet"]
    port = _post(cloud, "ports", {"port": {"network_id": net["id"]}}).json()["port"]
    put = lambda attrs: cloud.call("PUT", f"/v2.0/subnets/{sub['id']}",  # noqa: E731
                                   json={"subnet": attrs})
    conflict = put({"gateway_ip": "10.93.0.254"})  # inside the default pool
    assert conflict.json()["NeutronError"]["type"] == "GatewayConflictWithAllocationPools"
    moved = put({"gateway_ip": "10.93.0.254",
                 "allocation_pools": [{"start": "10.93.0.10", "end": "10.93.0.20"}]})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["subnet"]["gateway_ip"], moved.json()["subnet"]["allocation_pools"]) \
        == ("10.93.0.254", [{"start": "10.93.0.10", "end": "10.93.0.20"}])
    assert _post(cloud, "ports", {"port": {"network_id": net["id"]}}).json()["port"][
        "fixed_ips"][0]["ip_address"] == "10.93.0.10"
    held = port["fixed_ips"][0]["ip_address"]  # 10.93.0.2, now outside the pools: kept
    assert cloud.call("GET", f"/v2.0/ports/{port['id']}").json()["port"]["fixed_ips"] == \
        port["fixed_ips"]
    in_use = put({"gateway_ip": held})
    assert (in_use.status_code, in_use.json()["NeutronError"]["type"]) == (409, "GatewayIpInUse")
    assert put({"gateway_ip": "10.94.0.1"}).status_code == 400
    no_gateway = put({"gateway_ip": None, "allocation_pools": None}).json()["subnet"]
    assert no_gateway["gateway_ip"] is None
    assert no_gateway["allocation_pools"] == [{"start": "10.93.0.1", "end": "10.93.0.254"}]


def test_ipv6_slaac_subnets(cloud):
    net = _post(cloud, "networks", {"network": {"name": "v6"}}).json()["network"]
    v4 = _post(cloud, "subnets", {"subnet": {"network_id": net["id"], "ip_version": 4,
                                             "cidr": "10.95.0.0/24"}}).json()["subnet"]
    base = {"network_id": net["id"], "ip_version": 6}
    for bad in ({"cidr": "fd95::/64", "ipv6_ra_mode": "slaac",
                 "ipv6_address_mode": "dhcpv6-stateful"},
                {"cidr": "fd95::/80", "ipv6_address_mode": "slaac"},
                {"cidr": "fd95::/64", "ipv6_address_mode": "bogus"}):
        answer = _post(cloud, "subnets", {"subnet": {**base, **bad}})
        assert answer.json()["NeutronError"]["type"] == "InvalidInput", bad
    v4_mode = _post(cloud, "subnets", {"subnet": {"network_id": net["id"], "ip_version": 4,
                                                  "cidr": "10.96.0.0/24",
                                                  "ipv6_ra_mode": "slaac"}})
    assert v4_mode.status_code == 400
    slaac = _post(cloud, "subnets", {"subnet": {**base, "cidr": "fd95::/64",
                                                "ipv6_ra_mode": "slaac",
                                                "ipv6_address_mode": "slaac"}}).json()["subnet"]
    assert (slaac["ipv6_ra_mode"], slaac["ipv6_address_mode"]) == ("slaac", "slaac")
    port = _post(cloud, "ports", {"port": {"network_id": net["id"],
                                           "mac_address": "fa:16:3e:12:34:56"}}).json()["port"]
    assert {(ip["subnet_id"], ip["ip_address"]) for ip in port["fixed_ips"]} == \
        {(v4["id"], "10.95.0.2"), (slaac["id"], "fd95::f816:3eff:fe12:3456")}
    direct = _post(cloud, "ports", {"port": {"network_id": net["id"],
                                             "fixed_ips": [{"ip_address": "fd95::5"}]}})
    assert direct.json()["NeutronError"]["type"] == "InvalidInput"
    kept = cloud.call("PUT", f"/v2.0/ports/{port['id']}", json={"port": {
        "fixed_ips": port["fixed_ips"] + [{"ip_address": "10.95.0.9"}]}})
    assert kept.status_code == 200, kept.text
    assert len(kept.json()["port"]["fixed_ips"]) == 3
