"""openstacksdk's network proxy (the layer under the CLI, and what scripts use) against the
all-in-one: create, find, list with filters, update, delete, and its exceptions on 404/409."""
import uuid

import openstack
import pytest
from openstack import exceptions

pytestmark = [pytest.mark.compat, pytest.mark.timeout(120)]


def test_sdk_network_subnet_port(net_creds):
    conn = openstack.connect(**net_creds["tester"])
    try:
        name = f"sdk-{uuid.uuid4().hex[:6]}"
        net = conn.network.create_network(name=name)
        assert conn.network.find_network(name).id == net.id
        assert conn.network.find_network(f"no-{name}") is None
        sub = conn.network.create_subnet(network_id=net.id, cidr="192.168.7.0/28",
                                         ip_version=4, name=f"{name}-s")
        assert (sub.gateway_ip, sub.allocation_pools) == \
            ("192.168.7.1", [{"start": "192.168.7.2", "end": "192.168.7.14"}])
        port = conn.network.create_port(network_id=net.id, name=f"{name}-p")
        assert port.fixed_ips == [{"subnet_id": sub.id, "ip_address": "192.168.7.2"}]
        assert [p.id for p in conn.network.ports(network_id=net.id)] == [port.id]
        assert conn.network.update_port(port, name="renamed").name == "renamed"
        with pytest.raises(exceptions.ConflictException):
            conn.network.delete_network(net)
        with pytest.raises(exceptions.ConflictException):
            conn.network.create_port(network_id=net.id,
                                     fixed_ips=[{"ip_address": "192.168.7.2"}])
        with pytest.raises(exceptions.BadRequestException):
            conn.network.create_subnet(network_id=net.id, cidr="192.168.7.0/33", ip_version=4)
        conn.network.delete_port(port)
        conn.network.delete_subnet(sub)
        conn.network.delete_network(net)
        with pytest.raises(exceptions.NotFoundException):
            conn.network.get_network(net.id)
    finally:
        conn.close()
