"""openstacksdk's compute proxy (what scripts and Ansible use) against the all-in-one: flavors,
a server booted from a volume with wait_for_server, volume attachments, its exceptions on bad
requests, and delete with wait_for_delete."""
import uuid

import openstack
import pytest
from openstack import exceptions

pytestmark = [pytest.mark.compat, pytest.mark.timeout(180)]


def test_sdk_server_lifecycle(compute_creds):
    conn = openstack.connect(**compute_creds["tester"])
    tag = uuid.uuid4().hex[:6]
    try:
        tiny = conn.compute.find_flavor("m1.tiny")
        assert (tiny.vcpus, tiny.ram, tiny.disk) == (1, 512, 1)
        assert conn.compute.find_flavor(f"m9-{tag}") is None
        net = conn.network.create_network(name=f"sdk-{tag}")
        conn.network.create_subnet(network_id=net.id, cidr="10.88.0.0/28", ip_version=4)
        boot = conn.block_storage.create_volume(size=1, name=f"sdk-boot-{tag}")
        data = conn.block_storage.create_volume(size=1, name=f"sdk-data-{tag}")
        for vol in (boot, data):
            conn.block_storage.wait_for_status(vol, "available", wait=60)
        bdm = [{"uuid": boot.id, "boot_index": 0, "source_type": "volume",
                "destination_type": "volume"}]
        with pytest.raises(exceptions.BadRequestException):
            conn.compute.create_server(name=f"sdk-{tag}", flavor_id=f"m9-{tag}",
                                       block_device_mapping_v2=bdm)
        server = conn.compute.create_server(name=f"sdk-{tag}", flavor_id=tiny.id,
                                            networks=[{"uuid": net.id}],
                                            block_device_mapping_v2=bdm)
        server = conn.compute.wait_for_server(server, wait=60)
        assert server.status == "ACTIVE"
        assert server.addresses[f"sdk-{tag}"][0]["addr"].startswith("10.88.0.")
        assert conn.compute.find_server(f"sdk-{tag}").id == server.id

        att = conn.compute.create_volume_attachment(server, volume_id=data.id)
        assert (att.volume_id, att.device) == (data.id, "/dev/vdb")
        conn.block_storage.wait_for_status(data, "in-use", wait=60)
        assert sorted(a.volume_id for a in conn.compute.volume_attachments(server)) == \
            sorted([boot.id, data.id])
        with pytest.raises(exceptions.BadRequestException):
            conn.compute.create_volume_attachment(server, volume_id=data.id)
        with pytest.raises(exceptions.NotFoundException):
            conn.compute.create_volume_attachment(server, volume_id=str(uuid.uuid4()))
        conn.compute.delete_volume_attachment(server, data.id)
        conn.block_storage.wait_for_status(data, "available", wait=60)

        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=60)
        with pytest.raises(exceptions.NotFoundException):
            conn.compute.get_server(server.id)
        conn.block_storage.wait_for_status(boot, "available", wait=60)
        for vol in (boot, data):
            conn.block_storage.delete_volume(vol)
        conn.network.delete_network(net)
    finally:
        conn.close()
