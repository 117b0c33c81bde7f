"""ring.aio.ensure_rings: the all-in-one's three rings, built once, updated when devices change."""
import os

import pytest

from ring import Ring, RingBuilder, RingError
from ring.aio import ensure_rings

pytestmark = pytest.mark.timeout(60)


def specs(n, port=6200):
    return [{"region": 1, "zone": i + 1, "ip": "127.0.0.1", "port": port + i,
             "device": f"n{i}d0", "weight": 100.0} for i in range(n)]


def test_builds_three_rings_then_is_idempotent(tmp_path):
    paths = ensure_rings(str(tmp_path), specs(3), part_power=6, replicas=3, min_part_hours=1,
                         seed=0)
    assert sorted(paths) == ["account", "container", "object"]
    stamps = {}
    for kind, path in paths.items():
        assert path == str(tmp_path / f"{kind}.ring")
        ring = Ring.load(path)
        assert ring.replica_count == 3 and ring.part_power == 6
        for part in range(ring.partition_count):
            assert len({d.zone for d in ring.get_part_nodes(part)}) == 3
        stamps[kind] = (os.stat(path).st_mtime_ns, os.stat(tmp_path / f"{kind}.builder")
                        .st_mtime_ns)
    again = ensure_rings(str(tmp_path), specs(3), part_power=6, replicas=3, min_part_hours=1,
                         seed=0)
    assert again == paths
    for kind, path in paths.items():
        assert (os.stat(path).st_mtime_ns,
                os.stat(tmp_path / f"{kind}.builder").st_mtime_ns) == stamps[kind]


def test_device_changes_are_applied(tmp_path):
    ensure_rings(str(tmp_path), specs(3), part_power=6, replicas=3, min_part_hours=0, seed=0)
    ensure_rings(str(tmp_path), specs(4), part_power=6, replicas=3, min_part_hours=0, seed=0)
    ring = Ring.load(str(tmp_path / "object.ring"))
    counts = {d.id: 0 for d in ring.devices}
    for row in ring.replica2part2dev:
        for d in row:
            counts[d] += 1
    assert all(abs(c - 48) <= 1 for c in counts.values()), counts
    changed = specs(4)
    changed[0]["weight"] = 50.0
    del changed[3]
    changed.append({"region": 1, "zone": 9, "ip": "127.0.0.1", "port": 6299, "device": "new",
                    "weight": 100.0})
    ensure_rings(str(tmp_path), changed, part_power=6, replicas=3, min_part_hours=0, seed=0)
    b = RingBuilder.load(str(tmp_path / "object.builder"))
    live = {d.device: d for d in b.devices if d is not None}
    assert set(live) == {"n0d0", "n1d0", "n2d0", "new"} and live["n0d0"].weight == 50.0


def test_shape_change_is_refused(tmp_path):
    ensure_rings(str(tmp_path), specs(3), part_power=6, replicas=3, min_part_hours=0, seed=0)
    with pytest.raises(RingError, match="cannot change in place"):
        ensure_rings(str(tmp_path), specs(3), part_power=7, replicas=3, min_part_hours=0,
                     seed=0)
    with pytest.raises(RingError, match="listed twice"):
        ensure_rings(str(tmp_path / "x"), specs(3) + specs(1), part_power=6, replicas=3,
                     min_part_hours=0, seed=0)
