"""Volume attach and detach through the compute API: Cinder attachments made with the caller's
token, the volume in-use with the server in its attachments, and Nova's answers to bad attaches."""
import concurrent.futures
import uuid

import pytest

pytestmark = pytest.mark.timeout(120)


def _attach(cloud, server_id, volume_id, who="tester", device=None):
    return cloud.nova("POST", f"/servers/{server_id}/os-volume_attachments", who,
                      json={"volumeAttachment": {"volumeId": volume_id, "device": device}})


def test_attach_list_detach(cloud):
    server = cloud.server(name="vm-att")
    data = cloud.volume(name="data-1")
    attached = _attach(cloud, server["id"], data["id"])
    assert attached.status_code == 200, attached.text
    att = attached.json()["volumeAttachment"]
    assert att == {"id": data["id"], "serverId": server["id"], "volumeId": data["id"],
                   "device": "/dev/vdb"}
    vol = cloud.wait_volume(data["id"], "in-use")
    assert [a["server_id"] for a in vol["attachments"]] == [server["id"]]
    # Cinder's attachment record carries compute's connector (host) and the iSCSI export.
    (record,) = cloud.cinder("GET", "/attachments/detail",
                             params={"volume_id": data["id"]}).json()["attachments"]
    assert record["instance"] == server["id"] and record["status"] == "attached"
    assert record["connection_info"]["driver_volume_type"] == "iscsi"

    listed = cloud.nova("GET", f"/servers/{server['id']}/os-volume_attachments").json()
    assert [a["volumeId"] for a in listed["volumeAttachments"]] == \
        [server["os-extended-volumes:volumes_attached"][0]["id"], data["id"]]
    shown = cloud.nova("GET", f"/servers/{server['id']}").json()["server"]
    assert {"id": data["id"]} in shown["os-extended-volumes:volumes_attached"]
    one = cloud.nova("GET", f"/servers/{server['id']}/os-volume_attachments/{data['id']}")
    assert one.json()["volumeAttachment"]["device"] == "/dev/vdb"

    detached = cloud.nova("DELETE", f"/servers/{server['id']}/os-volume_attachments/{data['id']}")
    assert detached.status_code == 202
    assert cloud.wait_volume(data["id"], "available")["attachments"] == []
    again = cloud.nova("DELETE", f"/servers/{server['id']}/os-volume_attachments/{data['id']}")
    assert again.status_code == 404 and "itemNotFound" in again.json()
    assert cloud.nova("DELETE", f"/servers/{server['id']}").status_code == 204


def test_attach_errors(cloud):
    server = cloud.server(name="vm-err")
    other = cloud.server(name="vm-err2")
    data = cloud.volume(name="data-2")
    assert _attach(cloud, server["id"], data["id"]).status_code == 200
    # The same volume on the same server, then on another: 400 as Nova answers (InvalidVolume,
    # InvalidInput from Cinder's refusal); the volume stays attached to the first.
    same = _attach(cloud, server["id"], data["id"])
    assert same.status_code == 400 and "badRequest" in same.json()
    elsewhere = _attach(cloud, other["id"], data["id"])
    assert elsewhere.status_code == 400, elsewhere.text
    vol = cloud.wait_volume(data["id"], "in-use")
    assert [a["server_id"] for a in vol["attachments"]] == [server["id"]]
    # Unknown volume: 404; unknown server: 404; another project's volume: 404.
    missing = _attach(cloud, server["id"], str(uuid.uuid4()))
    assert missing.status_code == 404 and "itemNotFound" in missing.json()
    assert _attach(cloud, str(uuid.uuid4()), data["id"]).status_code == 404
    foreign = cloud.volume("alt", name="alt-vol")
    assert _attach(cloud, server["id"], foreign["id"]).status_code == 404
    # Bad bodies.
    url = f"/servers/{server['id']}/os-volume_attachments"
    assert cloud.nova("POST", url, data=b"{nope").status_code == 400
    assert cloud.nova("POST", url, json={"volumeAttachment": {}}).status_code == 400
    assert cloud.nova("POST", url, json={"volumeAttachment": {"volumeId": "x"}}).status_code == 400
    assert cloud.nova("POST", url, json={"other": {}}).status_code == 400
    # The root volume cannot be detached; the reader cannot attach.
    boot = server["os-extended-volumes:volumes_attached"][0]["id"]
    root = cloud.nova("DELETE", f"{url}/{boot}")
    assert root.status_code == 400 and "root device" in root.json()["badRequest"]["message"]
    assert _attach(cloud, server["id"], cloud.volume(name="d3")["id"], "viewer").status_code == 403
    # Deleting the server detaches every volume.
    assert cloud.nova("DELETE", f"/servers/{server['id']}").status_code == 204
    assert cloud.wait_volume(data["id"], "available")["attachments"] == []
    assert cloud.wait_volume(boot, "available")["attachments"] == []
    assert cloud.nova("DELETE", f"/servers/{other['id']}").status_code == 204


def test_racing_attaches_of_one_volume_one_wins(cloud):
    servers = [cloud.server(name=f"vm-race-{i}") for i in range(3)]
    data = cloud.volume(name="data-race")
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda s: _attach(cloud, s["id"], data["id"]), servers))
    assert sorted(a.status_code for a in answers) == [200, 400, 400], [a.text for a in answers]
    winner = servers[[a.status_code for a in answers].index(200)]
    vol = cloud.wait_volume(data["id"], "in-use")
    assert [a["server_id"] for a in vol["attachments"]] == [winner["id"]]
    for server in servers:
        listed = cloud.nova("GET", f"/servers/{server['id']}/os-volume_attachments").json()
        volume_ids = [a["volumeId"] for a in listed["volumeAttachments"]]
        assert (data["id"] in volume_ids) == (server is winner)
        assert cloud.nova("DELETE", f"/servers/{server['id']}").status_code == 204
    assert cloud.wait_volume(data["id"], "available")["attachments"] == []
