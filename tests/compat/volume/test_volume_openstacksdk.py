"""openstacksdk's block-storage proxy (what the CLI and most tools use) against Strato, in-process:
discovery and microversion negotiation, volumes, extend, snapshots, clone, quotas, attachments."""
import openstack
import pytest

pytestmark = [pytest.mark.compat, pytest.mark.timeout(120)]


@pytest.fixture
def conn(volume_endpoint):
    url, project = volume_endpoint
    c = openstack.connection.Connection(
        auth_type="none", auth={"endpoint": f"{url}/v3/sdkproject"},
        block_storage_api_version="3")
    yield c
    c.close()


def test_sdk_volume_snapshot_clone_cycle(conn):
    bs = conn.block_storage
    vol = bs.create_volume(size=1, name="sdk-v1", metadata={"a": "b"})
    vol = bs.wait_for_status(vol, status="available", wait=30, interval=0.1)
    assert vol.metadata == {"a": "b"} and vol.attachments == []
    # The negotiated microversion is our maximum (the SDK's own cap is higher).
    assert bs.get_endpoint_data().max_microversion == (3, 70)

    bs.extend_volume(vol, 2)
    # wait_for_status returns at once for an object already "available": fetch it again first.
    vol = bs.wait_for_status(bs.get_volume(vol.id), status="available", wait=30, interval=0.1)
    assert vol.size == 2

    snap = bs.create_snapshot(volume_id=vol.id, name="sdk-s1")
    snap = bs.wait_for_status(snap, status="available", wait=30, interval=0.1)
    clone = bs.create_volume(size=3, snapshot_id=snap.id, name="sdk-clone")
    clone = bs.wait_for_status(clone, status="available", wait=30, interval=0.1)
    assert clone.size == 3 and clone.snapshot_id == snap.id

    assert bs.find_volume("sdk-clone").id == clone.id
    assert [v.name for v in bs.volumes(name="sdk-v1")] == ["sdk-v1"]

    bs.delete_volume(clone)
    bs.wait_for_delete(clone, wait=30, interval=0.1)
    bs.delete_snapshot(snap)
    bs.wait_for_delete(snap, wait=30, interval=0.1)
    bs.delete_volume(vol)
    bs.wait_for_delete(vol, wait=30, interval=0.1)
    assert list(bs.volumes()) == []


def test_sdk_limits_and_types(conn):
    bs = conn.block_storage
    limits = bs.get_limits()
    assert limits.absolute.max_total_volumes == 100
    assert [t.name for t in bs.types()] == ["__DEFAULT__"]


CONNECTOR = {"initiator": "iqn.2026-11.org.strato.test:sdk", "host": "sdkhost", "ip": "127.0.0.1",
             "multipath": False, "platform": "x86_64", "os_type": "linux2"}


def test_sdk_attachments_as_a_compute_service_drives_them(conn):
    bs = conn.block_storage
    vol = bs.wait_for_status(bs.create_volume(size=1, name="sdk-att"), status="available",
                             wait=30, interval=0.1)
    att = bs.create_attachment(vol, connector=CONNECTOR, instance="8e1c6a2e-vm")
    info = att.connection_info
    assert info["driver_volume_type"] == "iscsi"
    assert info["data"]["target_iqn"].endswith(att.id[:8])
    assert info["data"]["auth_method"] == "CHAP" and info["data"]["auth_password"]
    bs.complete_attachment(att)
    vol = bs.get_volume(vol.id)
    assert vol.status == "in-use"
    assert [a["attachment_id"] for a in vol.attachments] == [att.id]
    assert [a.id for a in bs.attachments()] == [att.id]
    bs.delete_attachment(att, ignore_missing=False)
    assert bs.get_volume(vol.id).status == "available"

    # The older actions, as os-brick-era callers use them.
    legacy = bs.init_volume_attachment(vol, CONNECTOR)
    assert legacy["driver_volume_type"] == "iscsi"
    bs.terminate_volume_attachment(vol, CONNECTOR)
    assert bs.get_volume(vol.id).status == "available"
    bs.delete_volume(vol)
    bs.wait_for_delete(vol, wait=30, interval=0.1)
