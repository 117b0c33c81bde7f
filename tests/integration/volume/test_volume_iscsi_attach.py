"""End to end: a volume attached through the API is an iSCSI target real initiators use.

qemu-img writes through the `iscsi://` URL with the CHAP credentials the API returned, reads the
data back, and once the volume is detached the target is gone. Also: each attachment has its own
secret (a wrong one is refused), extend of an attached volume is seen by a new login, and a
restarted service exports recorded attachments again; UNMAP from the initiator frees space.
"""
import os
import subprocess

import pytest

pytestmark = pytest.mark.timeout(120)
MIB = 1 << 20
CONNECTOR = {"initiator": "iqn.2026-11.org.strato.test:initiator", "host": "testhost",
             "ip": "127.0.0.1", "platform": "x86_64", "os_type": "linux2", "multipath": False}


def iscsi_url(data, password=None):
    host, port = data["target_portal"].rsplit(":", 1)
    secret = data["auth_password"] if password is None else password
    return f"iscsi://{data['auth_username']}%{secret}@{host}:{port}/{data['target_iqn']}/0"


def run(*argv, check=True):
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(argv)}: {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done


def targets(portal):
    """The IQNs SendTargets discovery lists on the portal (libiscsi's iscsi-ls)."""
    done = run("iscsi-ls", f"iscsi://{portal}", check=False)
    # Lines read "Target:<iqn> Portal:<host>:<port>,<tpgt>".
    return {word[len("Target:"):] for line in done.stdout.splitlines()
            for word in line.split() if word.startswith("Target:")}


def test_attach_write_read_detach_over_iscsi(api, server, tmp_path):
    vol = api.new_volume(size=1)
    act = f"/volumes/{vol['id']}/action"
    r = api.post(act, {"os-initialize_connection": {"connector": CONNECTOR}})
    assert r.status_code == 200, r.text
    info = r.json()["connection_info"]
    data = info["data"]
    assert info["driver_volume_type"] == "iscsi"
    assert data["target_portal"] == f"127.0.0.1:{server.iscsi_port}"
    assert data["target_iqn"].startswith(f"iqn.2026-11.org.strato:volume-{vol['id']}.")
    assert (data["target_lun"], data["target_discovered"], data["auth_method"],
            data["encrypted"], data["access_mode"], data["volume_id"]) == \
        (0, False, "CHAP", False, "rw", vol["id"])
    assert api.get(f"/volumes/{vol['id']}").json()["volume"]["status"] == "attaching"
    assert data["target_iqn"] in targets(data["target_portal"])

    payload = os.urandom(4 * MIB)
    src = tmp_path / "src.img"
    src.write_bytes(payload)
    run("qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", str(src), iscsi_url(data))
    assert api.post(act, {"os-attach": {"instance_uuid": "vm-1", "mountpoint": "/dev/vdb"}}
                    ).status_code == 202
    assert api.get(f"/volumes/{vol['id']}").json()["volume"]["status"] == "in-use"

    out = tmp_path / "out.img"
    run("qemu-img", "dd", "-f", "raw", "-O", "raw", "bs=1M", "count=4",
        f"if={iscsi_url(data)}", f"of={out}")
    assert out.read_bytes() == payload
    # The bytes are in the volume's own file on the host, too.
    volume_file = server.tmp_path / "var" / "volumes" / f"volume-{vol['id']}"
    with open(volume_file, "rb") as f:
        assert f.read(4 * MIB) == payload
    assert volume_file.stat().st_blocks * 512 >= 4 * MIB

    # Thin provisioning (discard: true): the initiator's UNMAP gives the space back.
    assert data["discard"] is True
    run("qemu-io", "-f", "raw", "-c", "discard 0 4M", iscsi_url(data))
    assert volume_file.stat().st_blocks * 512 < MIB
    zeros = run("qemu-io", "-f", "raw", "-c", "read -P 0 0 4M", iscsi_url(data)).stdout
    assert "verification failed" not in zeros and "read 4194304/4194304" in zeros

    wrong = run("qemu-img", "info", iscsi_url(data, password="0" * 16), check=False)
    assert wrong.returncode != 0

    # Extend while attached (3.42+): a new login sees the new capacity.
    assert api.post(act, {"os-extend": {"new_size": 2}}).status_code == 202
    api.wait("volume", vol["id"], "in-use")
    assert "virtual size: 2 GiB" in run("qemu-img", "info", iscsi_url(data)).stdout

    assert api.post(act, {"os-begin_detaching": {}}).status_code == 202
    assert api.post(act, {"os-terminate_connection": {"connector": CONNECTOR}}).status_code == 202
    assert api.post(act, {"os-detach": {}}).status_code == 202
    assert api.get(f"/volumes/{vol['id']}").json()["volume"]["status"] == "available"
    assert data["target_iqn"] not in targets(data["target_portal"])
    assert run("qemu-img", "info", iscsi_url(data), check=False).returncode != 0


def test_v3_attachments_own_secrets_and_reexport_after_restart(api, server, make_api):
    api35 = make_api(project=api.base.rsplit("/", 1)[1], version="3.54")
    a = api.new_volume(size=1)
    b = api.new_volume(size=1)
    r = api35.post("/attachments", {"attachment": {"volume_uuid": a["id"], "instance_uuid": "vm-2",
                                                   "connector": CONNECTOR, "mode": "rw"}})
    assert r.status_code == 200, r.text
    att_a = r.json()["attachment"]
    r = api35.post("/attachments", {"attachment": {"volume_uuid": b["id"], "instance_uuid": "vm-2"}})
    att_b = r.json()["attachment"]
    assert att_b["status"] == "reserved" and att_b["connection_info"] == {}
    r = api35.put(f"/attachments/{att_b['id']}",
                  {"attachment": {"connector": {**CONNECTOR, "mountpoint": "/dev/vdb"}}})
    assert r.status_code == 200, r.text
    att_b = r.json()["attachment"]
    da, db = att_a["connection_info"]["data"], att_b["connection_info"]["data"]
    assert da["target_iqn"] != db["target_iqn"] and da["auth_password"] != db["auth_password"]
    # One attachment's secret does not open the other's target.
    assert run("qemu-img", "info", iscsi_url(db, password=da["auth_password"]),
               check=False).returncode != 0
    for att in (att_a, att_b):
        assert api35.post(f"/attachments/{att['id']}/action", {"os-complete": None}
                          ).status_code == 204
    vols = {v["id"]: v for v in api.get("/volumes/detail").json()["volumes"]}
    assert vols[a["id"]]["status"] == "in-use"
    assert vols[a["id"]]["attachments"][0]["attachment_id"] == att_a["id"]
    assert vols[a["id"]]["attachments"][0]["device"] is None  # its connector named none
    assert vols[b["id"]]["attachments"][0]["device"] == "/dev/vdb"  # the connector's mountpoint

    server.restart()
    assert {da["target_iqn"], db["target_iqn"]} <= targets(da["target_portal"])
    assert "virtual size: 1 GiB" in run("qemu-img", "info", iscsi_url(da)).stdout

    assert api35.delete(f"/attachments/{att_a['id']}").status_code == 200
    assert api35.delete(f"/attachments/{att_b['id']}").status_code == 200
    assert not {da["target_iqn"], db["target_iqn"]} & targets(da["target_portal"])
    assert {v["status"] for v in api.get("/volumes/detail").json()["volumes"]} == {"available"}
