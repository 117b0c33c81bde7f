"""tests/aiohelper.free_offset: the all-in-one tests (kill test, Swift suite driver) start beside
other all-in-ones by skipping an offset any of whose listeners' ports is taken."""
import socket

from aiohelper import aio_ports, free_offset


def test_aio_ports_are_the_configured_listeners():
    ports = aio_ports(0)
    # proxy, identity, volume API, iSCSI portal and every storage node (6200 + node index)
    assert {8080, 5000, 8776, 3260, 6200, 6201, 6202} <= set(ports)
    assert aio_ports(100) == [port + 100 for port in ports]


def test_an_offset_with_any_port_taken_is_skipped():
    first = free_offset(range(20500, 22500, 100))
    holder = socket.socket()
    try:
        holder.bind(("127.0.0.1", aio_ports(first)[-1]))  # one storage node's port only
        assert free_offset([first, first + 100, first + 200]) != first
    finally:
        holder.close()
    assert free_offset([first]) == first
