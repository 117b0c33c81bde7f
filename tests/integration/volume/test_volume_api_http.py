"""The volume API over HTTP against a real `strato serve blockserver` process."""
import pytest
import requests

pytestmark = pytest.mark.timeout(60)


def test_version_discovery(server):
    r = requests.get(server.url + "/v3/")
    assert r.status_code == 200
    (doc,) = r.json()["versions"]
    assert doc["id"] == "v3.0" and doc["status"] == "CURRENT"
    assert doc["min_version"] == "3.0" and doc["version"] == "3.70"
    assert doc["links"][0] == {"rel": "self", "href": f"{server.url}/v3/"}
    root = requests.get(server.url + "/")
    assert root.status_code == 300 and root.json()["versions"][0]["id"] == "v3.0"


def test_microversion_header_is_echoed_and_checked(api):
    r = api.get("/volumes", headers={"OpenStack-API-Version": "volume 3.42"})
    assert r.headers["OpenStack-API-Version"] == "volume 3.42"
    assert "OpenStack-API-Version" in r.headers["Vary"]
    assert api.get("/volumes", headers={"OpenStack-API-Version": "volume 3.99"}).status_code == 406
    assert api.get("/volumes", headers={"OpenStack-API-Version": "volume x"}).status_code == 400
    r = api.get("/volumes", headers={"OpenStack-API-Version": "volume latest"})
    assert r.headers["OpenStack-API-Version"] == "volume 3.70"


def test_create_show_update_delete(api):
    # The body openstacksdk sends, explicit nulls included.
    r = api.post("/volumes", {"volume": {
        "size": 1, "name": "v1", "description": None, "volume_type": None,
        "availability_zone": None, "snapshot_id": None, "source_volid": None, "imageRef": None,
        "backup_id": None, "consistencygroup_id": None, "metadata": None}})
    assert r.status_code == 202, r.text
    vol = r.json()["volume"]
    assert vol["status"] == "creating" and vol["attachments"] == [] and vol["metadata"] == {}
    vol = api.wait("volume", vol["id"], "available")
    assert vol["size"] == 1 and vol["bootable"] == "false" and vol["volume_type"] == "__DEFAULT__"
    assert vol["consumes_quota"] is True  # a 3.65 key, present at 3.70

    r = api.put(f"/volumes/{vol['id']}", {"volume": {"name": "v1b", "description": "d",
                                                      "metadata": {"a": "1"}}})
    assert r.status_code == 200 and r.json()["volume"]["name"] == "v1b"
    assert api.get(f"/volumes/{vol['id']}").json()["volume"]["metadata"] == {"a": "1"}

    assert api.delete(f"/volumes/{vol['id']}?cascade=False&force=False").status_code == 202
    api.wait("volume", vol["id"], None)


def test_name_lookup_gives_404_then_detail_filter(api):
    vol = api.new_volume(name="findme")
    r = api.get("/volumes/findme")
    assert r.status_code == 404
    assert r.json() == {"itemNotFound": {"message": "Volume findme could not be found.",
                                         "code": 404}}
    found = api.get("/volumes/detail", params={"name": "findme"}).json()["volumes"]
    assert [v["id"] for v in found] == [vol["id"]]


def test_filters_sort_and_pagination(api):
    ids = [api.new_volume(size=s, name=f"page{s}", metadata={"tier": "a" if s % 2 else "b"})["id"]
           for s in (1, 2, 3)]
    r = api.get("/volumes/detail", params={"sort": "size:asc", "limit": 2})
    body = r.json()
    assert [v["size"] for v in body["volumes"]] == [1, 2]
    nxt = body["volumes_links"][0]
    assert nxt["rel"] == "next"
    page2 = requests.get(nxt["href"], headers=api.session.headers).json()
    assert [v["size"] for v in page2["volumes"]] == [3] and "volumes_links" not in page2
    meta = api.get("/volumes/detail", params={"metadata": '{"tier": "a"}'}).json()["volumes"]
    assert sorted(v["size"] for v in meta) == [1, 3]
    assert api.get("/volumes", params={"status": "error"}).json()["volumes"] == []
    counted = api.get("/volumes/detail", params={"limit": 1, "with_count": "true"}).json()
    assert len(counted["volumes"]) == 1 and counted["count"] == 3
    summary = api.get("/volumes", params={"sort_key": "size", "sort_dir": "desc"}).json()
    assert [v["id"] for v in summary["volumes"]] == ids[::-1]
    assert set(summary["volumes"][0]) == {"id", "name", "links"}
    assert api.get("/volumes", params={"sort": "colour:asc"}).status_code == 400
    assert api.get("/volumes", params={"marker": "nope"}).status_code == 404
    assert api.get("/volumes", params={"limit": "-1"}).status_code == 400


@pytest.mark.parametrize("body, status, fault", [
    (b"not json", 400, "badRequest"),
    (b'{"volume": "x"}', 400, "badRequest"),
    (b'{"volume": {"size": 0}}', 400, "badRequest"),
    (b'{"volume": {"size": "big"}}', 400, "badRequest"),
    (b'{"volume": {"size": 1, "imageRef": "img"}}', 400, "badRequest"),
    (b'{"volume": {"size": 1, "volume_type": "gold"}}', 404, "itemNotFound"),
    (b'{"volume": {"size": 1, "snapshot_id": "missing"}}', 404, "itemNotFound"),
    (b'{"volume": {"size": 100000}}', 400, "badRequest"),
])
def test_bad_create_bodies_get_cinder_faults(api, body, status, fault):
    r = api.post("/volumes", data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == status, r.text
    assert r.json()[fault]["code"] == status


def test_unknown_route_and_method_are_json_faults(api):
    r = api.get("/nothing-here")
    assert r.status_code == 404 and "itemNotFound" in r.json()
    r = api.patch("/volumes")
    assert r.status_code == 405 and "badMethod" in r.json()
    r = api.post("/volumes", data=b"x" * (2 << 20))
    assert r.status_code == 413 and "overLimit" in r.json()


def test_extend_and_illegal_transitions(api):
    vol = api.new_volume()
    act = f"/volumes/{vol['id']}/action"
    assert api.post(act, {"os-extend": {"new_size": 3}}).status_code == 202
    assert api.wait("volume", vol["id"], "available")["size"] == 3
    r = api.post(act, {"os-extend": {"new_size": 2}})
    assert r.status_code == 400 and "badRequest" in r.json()
    assert api.post(act, {"os-frobnicate": {}}).status_code == 400
    assert api.post(act, {"os-reserve": None}).status_code == 202
    r = api.delete(f"/volumes/{vol['id']}")  # reserved: an illegal transition
    assert r.status_code == 400, r.text
    assert api.post(act, {"os-unreserve": None}).status_code == 202


def test_reset_status_is_admin_only(make_api, api):
    vol = api.new_volume()
    act = f"/volumes/{vol['id']}/action"
    project = api.base.rsplit("/", 1)[1]
    member = make_api(project=project, token=f"alice:{project}")
    assert member.get(f"/volumes/{vol['id']}").status_code == 200
    r = member.post(act, {"os-reset_status": {"status": "error"}})
    assert r.status_code == 403 and "forbidden" in r.json()
    assert make_api(project="elsewhere", token=f"alice:{project}").get(
        "/volumes").status_code == 403
    assert api.post(act, {"os-reset_status": {"status": "error"}}).status_code == 202
    assert api.get(f"/volumes/{vol['id']}").json()["volume"]["status"] == "error"
    assert api.post(act, {"os-reset_status": {"status": "bogus"}}).status_code == 400


def test_metadata_endpoints(api):
    vol = api.new_volume(metadata={"a": "1"})
    base = f"/volumes/{vol['id']}/metadata"
    assert api.post(base, {"metadata": {"b": "2"}}).json() == {"metadata": {"a": "1", "b": "2"}}
    assert api.get(base + "/b").json() == {"meta": {"b": "2"}}
    assert api.put(base + "/c", {"meta": {"c": "3"}}).status_code == 200
    assert api.delete(base + "/a").status_code == 200
    assert api.get(base).json() == {"metadata": {"b": "2", "c": "3"}}
    assert api.put(base, {"metadata": {"z": "9"}}).json() == {"metadata": {"z": "9"}}
    assert api.get(base + "/a").status_code == 404


def test_snapshots_and_clones(api):
    vol = api.new_volume(size=2)
    r = api.post("/snapshots", {"snapshot": {"volume_id": vol["id"], "name": "s1",
                                             "description": None, "metadata": None}})
    assert r.status_code == 202, r.text
    snap = api.wait("snapshot", r.json()["snapshot"]["id"], "available")
    assert snap["size"] == 2 and snap["os-extended-snapshot-attributes:progress"] == "100%"
    assert [s["id"] for s in api.get("/snapshots/detail", params={"name": "s1"}).json()
            ["snapshots"]] == [snap["id"]]
    assert api.get("/snapshots/s1").status_code == 404
    r = api.put(f"/snapshots/{snap['id']}", {"snapshot": {"name": "s2"}})
    assert r.json()["snapshot"]["name"] == "s2"
    clone = api.new_volume(size=3, snapshot_id=snap["id"])
    assert clone["snapshot_id"] == snap["id"] and clone["size"] == 3
    copy = api.new_volume(size=2, source_volid=vol["id"])
    assert copy["source_volid"] == vol["id"]
    r = api.delete(f"/volumes/{vol['id']}")
    assert r.status_code == 400 and "dependent snapshots" in r.json()["badRequest"]["message"]
    assert api.delete(f"/snapshots/{snap['id']}").status_code == 202
    api.wait("snapshot", snap["id"], None)
    assert api.delete(f"/volumes/{vol['id']}").status_code == 202
    api.wait("volume", vol["id"], None)


def test_quotas_and_limits(api):
    project = api.base.rsplit("/", 1)[1]
    r = api.put(f"/os-quota-sets/{project}", {"quota_set": {"volumes": 1, "gigabytes": 5}})
    assert r.status_code == 200 and r.json()["quota_set"]["volumes"] == 1
    api.new_volume(size=2)
    r = api.post("/volumes", {"volume": {"size": 1}})
    assert r.status_code == 413 and "overLimit" in r.json()
    usage = api.get(f"/os-quota-sets/{project}", params={"usage": "True"}).json()["quota_set"]
    assert usage["volumes"] == {"limit": 1, "in_use": 1, "reserved": 0, "allocated": 0}
    assert usage["gigabytes"]["in_use"] == 2
    absolute = api.get("/limits").json()["limits"]["absolute"]
    assert absolute["maxTotalVolumes"] == 1 and absolute["totalGigabytesUsed"] == 2
    assert api.get(f"/os-quota-sets/{project}/defaults").json()["quota_set"]["volumes"] == 100
    assert api.delete(f"/os-quota-sets/{project}").status_code == 200
    assert api.get(f"/os-quota-sets/{project}").json()["quota_set"]["volumes"] == 100


def test_types_zones_services(api):
    (vtype,) = api.get("/types").json()["volume_types"]
    assert vtype["name"] == "__DEFAULT__"
    assert api.get(f"/types/{vtype['id']}").status_code == 200
    assert api.get("/types/gold").status_code == 404
    zones = api.get("/os-availability-zone").json()["availabilityZoneInfo"]
    assert zones == [{"zoneName": "nova", "zoneState": {"available": True}}]
    binaries = {s["binary"] for s in api.get("/os-services").json()["services"]}
    assert binaries == {"cinder-scheduler", "cinder-volume"}


def test_project_less_urls(server):
    r = requests.post(f"{server.url}/v3/volumes", json={"volume": {"size": 1, "name": "pl"}},
                      headers={"X-Auth-Token": "bob:projless"})
    assert r.status_code == 202
    assert r.json()["volume"]["os-vol-tenant-attr:tenant_id"] == "projless"
    r = requests.get(f"{server.url}/v3/volumes/detail", headers={"X-Auth-Token": "bob:projless"})
    assert [v["name"] for v in r.json()["volumes"]] == ["pl"]


def test_attachments_api_needs_3_27(api):
    r = api.get("/attachments", headers={"OpenStack-API-Version": "volume 3.26"})
    assert r.status_code == 404
    assert api.get("/attachments").json() == {"attachments": []}


def test_legacy_attach_detach_without_connector(api):
    vol = api.new_volume()
    act = f"/volumes/{vol['id']}/action"
    assert api.post(act, {"os-reserve": {}}).status_code == 202
    assert api.post(act, {"os-attach": {"instance_uuid": "inst-1", "mountpoint": "/dev/vdb",
                                        "mode": "rw"}}).status_code == 202
    vol = api.get(f"/volumes/{vol['id']}").json()["volume"]
    assert vol["status"] == "in-use"
    (att,) = vol["attachments"]
    assert att["server_id"] == "inst-1" and att["device"] == "/dev/vdb"
    assert api.post(act, {"os-begin_detaching": {}}).status_code == 202
    assert api.post(act, {"os-detach": {"attachment_id": att["attachment_id"]}}).status_code == 202
    assert api.get(f"/volumes/{vol['id']}").json()["volume"]["status"] == "available"


def test_restart_loses_nothing(server, api):
    vol = api.new_volume(name="durable", metadata={"k": "v"})
    snap = api.post("/snapshots", {"snapshot": {"volume_id": vol["id"], "name": "ds"}}).json()
    api.wait("snapshot", snap["snapshot"]["id"], "available")
    server.restart()
    after = api.get(f"/volumes/{vol['id']}").json()["volume"]
    assert (after["name"], after["metadata"], after["status"]) == ("durable", {"k": "v"},
                                                                   "available")
    assert api.get(f"/snapshots/{snap['snapshot']['id']}").json()["snapshot"]["name"] == "ds"


def test_force_delete_is_admin_only_and_skips_the_table(api, make_api):
    project = api.base.rsplit("/", 1)[1]
    member = make_api(project=project, token=f"alice:{project}")
    vol = api.new_volume()
    assert api.post(f"/volumes/{vol['id']}/action",
                    {"os-reset_status": {"status": "creating"}}).status_code == 202
    assert api.delete(f"/volumes/{vol['id']}").status_code == 400  # creating: not deletable
    assert member.delete(f"/volumes/{vol['id']}?force=True").status_code == 403
    assert api.delete(f"/volumes/{vol['id']}?force=True").status_code == 202
    api.wait("volume", vol["id"], None)
    other = api.new_volume()
    assert api.post(f"/volumes/{other['id']}/action", {"os-force_delete": {}}).status_code == 202
    api.wait("volume", other["id"], None)


def test_snapshot_actions_and_metadata(api):
    vol = api.new_volume()
    r = api.post("/snapshots", {"snapshot": {"volume_id": vol["id"], "name": "sm"}})
    snap = api.wait("snapshot", r.json()["snapshot"]["id"], "available")
    base = f"/snapshots/{snap['id']}"
    assert api.post(base + "/metadata", {"metadata": {"a": "1"}}).json() == {"metadata": {"a": "1"}}
    assert api.delete(base + "/metadata/a").status_code == 200
    assert api.get(base + "/metadata").json() == {"metadata": {}}
    assert api.post(base + "/action", {"os-reset_status": {"status": "error"}}).status_code == 202
    assert api.get(base).json()["snapshot"]["status"] == "error"
    assert api.post(base + "/action", {"os-reset_status": {"status": "nope"}}).status_code == 400
    assert api.post(base + "/action", {"os-explode": {}}).status_code == 400
    assert api.post(base + "/action", {"os-force_delete": {}}).status_code == 202
    api.wait("snapshot", snap["id"], None)


def test_summary_extensions_and_version_header_on_errors(api):
    api.new_volume(size=2, metadata={"env": "prod"})
    api.new_volume(size=3, metadata={"env": "dev"})
    summary = api.get("/volumes/summary").json()["volume-summary"]
    assert (summary["total_size"], summary["total_count"]) == (5, 2)
    assert sorted(summary["metadata"]["env"]) == ["dev", "prod"]
    assert api.get("/volumes/summary", headers={"OpenStack-API-Version": "volume 3.11"}
                   ).status_code == 404
    assert api.get("/extensions").json() == {"extensions": []}
    r = api.get("/volumes/nope")
    assert r.status_code == 404 and r.headers["OpenStack-API-Version"] == "volume 3.70"


def test_backend_pool_with_capacity(api, make_api):
    (pool,) = api.get("/scheduler-stats/get_pools", params={"detail": "True"}).json()["pools"]
    caps = pool["capabilities"]
    assert pool["name"] == "strato@file#file" and caps["storage_protocol"] == "iSCSI"
    assert 0 < caps["free_capacity_gb"] <= caps["total_capacity_gb"]
    project = api.base.rsplit("/", 1)[1]
    assert make_api(project=project, token=f"bob:{project}").get(
        "/scheduler-stats/get_pools").status_code == 403
