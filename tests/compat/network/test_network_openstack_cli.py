"""The real `openstack` command's network, subnet and port commands against the all-in-one:
Keystone login at identity, the network endpoint from its catalog, Neutron's API at the network
service (name lookups, extensions probe, 409s with Neutron's messages, project isolation)."""
import uuid

import pytest

pytestmark = [pytest.mark.compat, pytest.mark.timeout(300)]


def test_network_subnet_port_commands(osc):
    tag = uuid.uuid4().hex[:6]
    net_name, sub_name, port_name = f"n1-{tag}", f"s1-{tag}", f"p1-{tag}"
    net = osc("tester", "network", "create", "--tag", tag, "--tag", "blue", net_name).data
    assert (net["name"], net["status"], net["admin_state_up"]) == (net_name, "ACTIVE", True)
    assert sorted(net["tags"]) == sorted([tag, "blue"])  # create, then PUT .../tags
    assert [n["Name"] for n in osc("tester", "network", "list", "--tags", tag).data] == \
        [net_name]
    osc("tester", "network", "set", "--description", "first", "--disable", net_name,
        as_json=False)
    shown = osc("tester", "network", "show", net_name).data  # a name: 404, then ?name=
    assert shown["id"] == net["id"]
    assert (shown["description"], shown["admin_state_up"]) == ("first", False)

    sub = osc("tester", "subnet", "create", "--network", net_name, "--subnet-range",
              "10.0.0.0/24", sub_name).data
    assert (sub["cidr"], sub["gateway_ip"], sub["ip_version"], sub["network_id"]) == \
        ("10.0.0.0/24", "10.0.0.1", 4, net["id"])
    assert sub["allocation_pools"] == [{"start": "10.0.0.2", "end": "10.0.0.254"}]

    port = osc("tester", "port", "create", "--network", net_name, port_name).data
    assert port["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": "10.0.0.2"}]
    assert port["mac_address"].startswith("fa:16:3e:")
    second = osc("tester", "port", "create", "--network", net_name,
                 "--fixed-ip", f"subnet={sub_name},ip-address=10.0.0.50", f"p2-{tag}").data
    assert second["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": "10.0.0.50"}]

    # port set --fixed-ip sends the old addresses plus the new one.
    osc("tester", "port", "set", "--fixed-ip", "ip-address=10.0.0.60", port_name, as_json=False)
    assert [ip["ip_address"] for ip in osc("tester", "port", "show", port_name).data[
        "fixed_ips"]] == ["10.0.0.2", "10.0.0.60"]

    ports = {p["Name"]: p for p in osc("tester", "port", "list", "--network", net_name).data}
    assert set(ports) == {port_name, f"p2-{tag}"}
    assert ports[port_name]["MAC Address"] == port["mac_address"]
    assert {n["Name"] for n in osc("tester", "network", "list").data} >= {net_name}
    assert [s["Name"] for s in osc("tester", "subnet", "list", "--network", net_name).data] \
        == [sub_name]

    refused = osc("tester", "network", "delete", net_name, ok=False, as_json=False)
    assert refused.returncode != 0 and "409" in refused.stderr
    assert "ports still in use" in refused.stderr
    refused = osc("tester", "subnet", "delete", sub_name, ok=False, as_json=False)
    assert refused.returncode != 0 and "409" in refused.stderr

    osc("tester", "port", "delete", port_name, f"p2-{tag}", as_json=False)
    osc("tester", "subnet", "delete", sub_name, as_json=False)
    osc("tester", "network", "delete", net_name, as_json=False)
    gone = osc("tester", "network", "show", net_name, ok=False, as_json=False)
    assert gone.returncode != 0 and "No Network found" in gone.stderr


def test_projects_do_not_see_each_other(osc):
    tag = uuid.uuid4().hex[:6]
    admins = osc("admin", "network", "create", f"admin-{tag}").data
    testers = osc("tester", "network", "create", f"tester-{tag}").data
    try:
        seen_by_tester = {n["ID"] for n in osc("tester", "network", "list").data}
        assert testers["id"] in seen_by_tester and admins["id"] not in seen_by_tester
        hidden = osc("tester", "network", "show", admins["id"], ok=False, as_json=False)
        assert hidden.returncode != 0 and "No Network found" in hidden.stderr
        # admin sees every project's networks.
        seen_by_admin = {n["ID"] for n in osc("admin", "network", "list").data}
        assert {admins["id"], testers["id"]} <= seen_by_admin
    finally:
        osc("admin", "network", "delete", admins["id"], testers["id"], as_json=False)


def test_quota_show_network(osc):
    # `openstack quota show` asks the network endpoint whenever the catalog has one.
    rows = {r["Resource"]: r for r in osc("tester", "quota", "show", "--network", "--usage").data}
    assert rows["networks"]["Limit"] == -1 and rows["ports"]["Limit"] == -1
    assert isinstance(rows["networks"]["In Use"], int)
