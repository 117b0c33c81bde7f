"""The proxy pairs each object replica with the container replica on its own node (which that
storage node then updates in process); every container replica still gets an update."""
import collections

from hypothesis import given
from hypothesis import strategies as st

from proxy.core import _spread

Dev = collections.namedtuple("Dev", "ip port device")


def hosts(share: dict) -> list[str]:
    return share["X-Container-Host"].split(",")


def test_each_writer_takes_the_replica_on_its_own_node():
    containers = [Dev("127.0.0.1", 6200, "n0d1"), Dev("127.0.0.1", 6201, "n1d0"),
                  Dev("127.0.0.1", 6202, "n2d1")]
    objects = [Dev("127.0.0.1", 6202, "n2d0"), Dev("127.0.0.1", 6200, "n0d0"),
               Dev("127.0.0.1", 6201, "n1d1")]
    shares = _spread(7, containers, 3, "Container", objects)
    assert [hosts(s) for s in shares] == [["127.0.0.1:6202"], ["127.0.0.1:6200"],
                                          ["127.0.0.1:6201"]]
    assert [s["X-Container-Device"] for s in shares] == ["n2d1", "n0d1", "n1d0"]
    assert {s["X-Container-Partition"] for s in shares} == {"7"}


def test_without_writers_or_shared_nodes_the_spread_is_round_robin():
    containers = [Dev("10.0.0.1", 6200, "a"), Dev("10.0.0.2", 6200, "b"),
                  Dev("10.0.0.3", 6200, "c"), Dev("10.0.0.4", 6200, "d")]
    plain = _spread(1, containers, 3, "Container")
    assert [s["X-Container-Device"] for s in plain] == ["a,d", "b", "c"]
    others = [Dev("10.0.1.1", 6200, "x")] * 3
    assert _spread(1, containers, 3, "Container", others) == plain


@given(st.lists(st.integers(0, 5), min_size=1, max_size=6),
       st.lists(st.integers(0, 5), min_size=1, max_size=6))
def test_every_container_replica_is_covered_and_pairs_are_maximal(container_ports, object_ports):
    containers = [Dev("127.0.0.1", 6200 + p, f"c{i}") for i, p in enumerate(container_ports)]
    objects = [Dev("127.0.0.1", 6200 + p, f"o{i}") for i, p in enumerate(object_ports)]
    shares = _spread(0, containers, len(objects), "Container", objects)
    assert len(shares) == len(objects)
    named = [d for s in shares for d in s["X-Container-Device"].split(",")]
    assert set(named) == {c.device for c in containers}
    if len(objects) <= len(containers):  # (more writers than replicas repeat some, as before)
        assert sorted(named) == sorted(c.device for c in containers)
        sizes = [len(s["X-Container-Device"].split(",")) for s in shares]
        assert max(sizes) - min(sizes) <= 1
    # as many writers as possible update a replica on their own node first
    paired = sum(hosts(s)[0] == f"127.0.0.1:{w.port}" for w, s in zip(objects, shares))
    ports = set(container_ports) | set(object_ports)
    assert paired >= sum(min(container_ports.count(p), object_ports.count(p)) for p in ports)
