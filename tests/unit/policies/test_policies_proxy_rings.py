"""proxy.rings.Rings.object_ring: the container's policy index picks the object ring; an index
the table lacks falls back to policy 0's; a policy whose ring file was never built is a 503.
Ring files built by ring.aio in a temporary directory; the watchers do not poll (no sockets)."""
import os

import pytest

from proxy.errors import SwiftError
from proxy.rings import Rings, object_ring_for, policy_index_of
from ring.aio import ensure_rings
from ring.policies import PolicyTable

SPECS = ["0:gold,Policy-0:default", "1:silver:2", "2:bronze:1"]
DEVICES = [{"region": 1, "zone": i + 1, "ip": "127.0.0.1", "port": 6200 + i,
            "device": f"n{i}d0", "weight": 100.0} for i in range(3)]


@pytest.fixture
def rings(tmp_path):
    table = PolicyTable.parse(SPECS)
    ensure_rings(str(tmp_path), DEVICES, part_power=4, replicas=3, min_part_hours=1, seed=0,
                 policies=table)
    os.unlink(tmp_path / "object-2.ring")  # bronze is configured but its ring is missing
    made = Rings(str(tmp_path), "p", "s", 3600.0, table)
    yield made
    made.close()


def test_policy_index_picks_the_object_ring(rings):
    assert rings.object_ring(0) is rings.object
    assert rings.object_ring(0).replica_count == 3
    assert rings.object_ring(1).replica_count == 2      # silver's own ring
    assert rings.object_ring(7) is rings.object          # unknown index: policy 0's ring
    assert object_ring_for(rings, 1) is rings.object_ring(1)
    with pytest.raises(SwiftError) as err:              # bronze: no ring file
        rings.object_ring(2)
    assert err.value.status == 503


@pytest.mark.parametrize("headers, index", [
    ({"X-Backend-Storage-Policy-Index": "1"}, 1), ({"X-Backend-Storage-Policy-Index": " 2 "}, 2),
    ({}, 0), (None, 0), ({"X-Backend-Storage-Policy-Index": "x"}, 0)])
def test_policy_index_of_a_container_answer(headers, index):
    assert policy_index_of(headers) == index
