"""The compute API over HTTP against real identity, network and blockserver processes:
discovery, flavors, servers booted from a volume with the fake driver, addresses from Neutron
ports, delete freeing ports and volumes, and project isolation."""
import pytest

pytestmark = pytest.mark.timeout(120)


def test_discovery_without_token(cloud):
    root = cloud.nova("GET", "/../", None)
    assert root.status_code == 200
    (entry,) = root.json()["versions"]
    assert entry["id"] == "v2.1" and entry["status"] == "CURRENT"
    versioned = cloud.nova("GET", "", None).json()["version"]
    assert versioned["version"] == "2.1" and versioned["min_version"] == "2.1"
    assert versioned["links"][0]["href"] == f"http://127.0.0.1:{cloud.ports['compute']}/v2.1/"


def test_microversion_echoed_and_unsupported_is_406(cloud):
    ok = cloud.nova("GET", "/flavors", headers={"OpenStack-API-Version": "compute 2.1"})
    assert ok.headers["OpenStack-API-Version"] == "compute 2.1"
    assert ok.headers["X-OpenStack-Nova-API-Version"] == "2.1"
    bad = cloud.nova("GET", "/flavors", headers={"OpenStack-API-Version": "compute 2.96"})
    assert bad.status_code == 406
    assert bad.json()["notAcceptable"]["code"] == 406


def test_token_rules(cloud):
    assert cloud.nova("GET", "/servers", None).status_code == 401
    bogus = cloud.nova("GET", "/servers", None, headers={"X-Auth-Token": "nonsense"})
    assert bogus.status_code == 401 and bogus.json()["unauthorized"]["code"] == 401
    assert cloud.nova("GET", "/servers", "viewer").status_code == 200
    denied = cloud.nova("POST", "/servers", "viewer", json={"server": {"name": "x"}})
    assert denied.status_code == 403 and "forbidden" in denied.json()


def test_flavors(cloud):
    listed = cloud.nova("GET", "/flavors").json()["flavors"]
    assert [f["name"] for f in listed][:2] == ["m1.tiny", "m1.small"]
    assert set(listed[0]) == {"id", "name", "links"}
    detail = cloud.nova("GET", "/flavors/detail", params={"is_public": "None"}).json()
    tiny = next(f for f in detail["flavors"] if f["name"] == "m1.tiny")
    assert (tiny["vcpus"], tiny["ram"], tiny["disk"]) == (1, 512, 1)
    shown = cloud.nova("GET", f"/flavors/{tiny['id']}").json()["flavor"]
    assert shown["name"] == "m1.tiny" and shown["os-flavor-access:is_public"] is True
    by_name = cloud.nova("GET", "/flavors/m1.tiny")
    assert by_name.status_code == 404
    assert by_name.json()["itemNotFound"]["message"] == "Flavor m1.tiny could not be found."
    big = cloud.nova("GET", "/flavors/detail", params={"minRam": "4096"}).json()["flavors"]
    assert big and all(f["ram"] >= 4096 for f in big)


def test_server_boots_from_volume_with_port_and_address(cloud):
    net = cloud.network(cidr="10.30.0.0/24", name="net-a")
    boot = cloud.volume(name="boot-a")
    server = cloud.server(name="vm-a", net=net, boot=boot["id"])
    assert server["status"] == "ACTIVE"
    assert server["OS-EXT-STS:vm_state"] == "active" and server["OS-EXT-STS:power_state"] == 1
    assert server["flavor"]["id"] == "1" and server["image"] == ""
    assert server["tenant_id"] == cloud.project("tester")
    assert server["os-extended-volumes:volumes_attached"] == [{"id": boot["id"]}]
    (addr,) = server["addresses"]["net-a"]
    assert addr["addr"].startswith("10.30.0.") and addr["version"] == 4
    assert addr["OS-EXT-IPS-MAC:mac_addr"].startswith("fa:16:3e")
    # The port exists in Neutron, bound to the server, with that address.
    (port,) = cloud.neutron("GET", "/ports", params={"device_id": server["id"]}).json()["ports"]
    assert port["device_owner"] == "compute:nova" and port["status"] == "ACTIVE"
    assert port["fixed_ips"][0]["ip_address"] == addr["addr"]
    # The boot volume is in-use, attached to the server at /dev/vda.
    vol = cloud.wait_volume(boot["id"], "in-use")
    # (the attachment's "device" is blockserver's to fill from the connector's mountpoint)
    assert [a["server_id"] for a in vol["attachments"]] == [server["id"]]
    # Lists: summary and detail, name filter as a regex.
    summary = cloud.nova("GET", "/servers").json()["servers"]
    assert {"id": server["id"], "name": "vm-a"}.items() <= \
        next(s for s in summary if s["id"] == server["id"]).items()
    found = cloud.nova("GET", "/servers/detail", params={"name": "^vm-a$"}).json()["servers"]
    assert [s["id"] for s in found] == [server["id"]]
    assert cloud.nova("GET", "/servers/detail", params={"name": "nomatch"}).json() == \
        {"servers": []}
    # A name where an id goes is 404 (the SDK's lookup rule).
    assert cloud.nova("GET", "/servers/vm-a").status_code == 404

    deleted = cloud.nova("DELETE", f"/servers/{server['id']}")
    assert deleted.status_code == 204
    gone = cloud.nova("GET", f"/servers/{server['id']}")
    assert gone.status_code == 404 and gone.json()["itemNotFound"]["code"] == 404
    assert cloud.neutron("GET", f"/ports/{port['id']}").status_code == 404
    assert cloud.wait_volume(boot["id"], "available")["attachments"] == []


def test_server_on_a_given_port_unbinds_it_on_delete(cloud):
    net = cloud.network(cidr="10.31.0.0/24", name="net-b")
    port = cloud.neutron("POST", "/ports", json={"port": {"network_id": net["id"]}}).json()["port"]
    body = {"server": {"name": "vm-b", "flavorRef": "2", "networks": [{"port": port["id"]}],
                       "block_device_mapping_v2": [{"uuid": cloud.volume()["id"],
                                                    "boot_index": 0, "source_type": "volume",
                                                    "destination_type": "volume"}]}}
    created = cloud.nova("POST", "/servers", json=body)
    assert created.status_code == 202, created.text
    server_id = created.json()["server"]["id"]
    bound = cloud.neutron("GET", f"/ports/{port['id']}").json()["port"]
    assert (bound["device_id"], bound["status"]) == (server_id, "ACTIVE")
    server = cloud.nova("GET", f"/servers/{server_id}").json()["server"]
    assert server["addresses"]["net-b"][0]["addr"] == port["fixed_ips"][0]["ip_address"]
    # The port is taken now: a second server on it is 409, as Nova's PortInUse.
    body["server"]["name"] = "vm-b2"
    body["server"]["block_device_mapping_v2"][0]["uuid"] = cloud.volume()["id"]
    again = cloud.nova("POST", "/servers", json=body)
    assert again.status_code == 409 and "conflictingRequest" in again.json()
    assert cloud.nova("DELETE", f"/servers/{server_id}").status_code == 204
    freed = cloud.neutron("GET", f"/ports/{port['id']}").json()["port"]
    assert (freed["device_id"], freed["device_owner"], freed["status"]) == ("", "", "DOWN")


def test_other_projects_servers_are_404_and_admin_sees_them(cloud):
    boot = cloud.volume(name="boot-private")
    server = cloud.server(name="vm-private", boot=boot["id"])
    path = f"/servers/{server['id']}"
    assert cloud.nova("GET", path, "alt").status_code == 404
    assert cloud.nova("DELETE", path, "alt").status_code == 404
    assert server["id"] not in [s["id"] for s in cloud.nova("GET", "/servers", "alt").json()
                                ["servers"]]
    assert cloud.nova("GET", path, "admin").status_code == 200
    own = [s["id"] for s in cloud.nova("GET", "/servers", "admin").json()["servers"]]
    everyone = [s["id"] for s in cloud.nova("GET", "/servers", "admin",
                                            params={"all_tenants": "1"}).json()["servers"]]
    assert server["id"] not in own and server["id"] in everyone
    assert cloud.nova("DELETE", path, "admin").status_code == 204
    assert cloud.nova("GET", path).status_code == 404
    # Admin's delete freed the owner's boot volume too.
    assert cloud.wait_volume(boot["id"], "available")["attachments"] == []


def test_server_list_pages(cloud):
    ids = {cloud.server(name=f"vm-page-{i}")["id"] for i in range(3)}
    seen, url, params = [], "/servers", {"limit": "2", "name": "^vm-page-"}
    while True:
        page = cloud.nova("GET", url, params=params).json()
        seen += [s["id"] for s in page["servers"]]
        nxt = [link["href"] for link in page.get("servers_links", []) if link["rel"] == "next"]
        if not nxt:
            break
        url, params = nxt[0].split("/v2.1", 1)[1], None
    assert sorted(seen) == sorted(ids) and len(seen) == 3
    assert cloud.nova("GET", "/servers", params={"marker": "nope"}).status_code == 400
    assert cloud.nova("GET", "/servers", params={"limit": "-1"}).status_code == 400
    for server_id in ids:
        assert cloud.nova("DELETE", f"/servers/{server_id}").status_code == 204
