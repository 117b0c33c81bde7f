"""RingBuilder: acceptance numbers, weight shares, dispersion, movement, min_part_hours, seeds."""
import collections
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ring import RingBuilder, RingError
from ring.builder import NONE

pytestmark = pytest.mark.timeout(60)


def capped_shares(b):
    """Weight shares, except that no device can hold more than one replica of each partition:
    a device whose share exceeds the partition count is capped and the rest re-shared."""
    shares, budget = {}, b.replicas * b.partition_count
    left = [d for d in b.devices if d is not None]
    while True:
        weight = sum(d.weight for d in left)
        over = [d for d in left if budget * d.weight / weight > b.partition_count]
        if not over:
            shares.update({d.id: budget * d.weight / weight for d in left})
            return shares
        for d in over:
            shares[d.id] = b.partition_count
            budget -= b.partition_count
            left.remove(d)


def changed_parts(before, after):
    return {p for p in range(len(before[0])) if any(b[p] != a[p] for b, a in zip(before, after))}


def zones_of(builder, part):
    devs = builder.devices
    return [devs[row[part]].zone for row in builder.replica2part2dev()]


def test_acceptance_four_zones_then_a_fifth_device(clock, four_zone_builder):
    b = four_zone_builder(clock)
    report = b.rebalance()
    assert report.assigned == 3072 and report.moved == 0
    for dev_id, count in b.parts_per_device().items():
        assert 768 - 8 <= count <= 768 + 8, (dev_id, count)
    for part in range(b.partition_count):
        zones = zones_of(b, part)
        assert len(set(zones)) == 3, (part, zones)
    before = b.replica2part2dev()

    clock.advance_hours(2)
    b.add_device(region=1, zone=5, ip="127.0.0.1", port=6204, device="sdb", weight=100)
    report = b.rebalance()
    after = b.replica2part2dev()
    changed = sum(x != y for r0, r1 in zip(before, after) for x, y in zip(r0, r1))
    ideal = 3072 / 5
    assert report.moved == changed
    assert changed <= 1.10 * ideal, (changed, ideal)
    assert changed >= ideal - 1  # it did move the new device's share
    for dev_id, count in b.parts_per_device().items():
        assert abs(count - ideal) <= max(1, 0.01 * ideal), (dev_id, count)
    for part in range(b.partition_count):
        assert len(set(zones_of(b, part))) == 3
    assert report.dispersion == 0 and report.balance < 1


def test_a_partition_moves_at_most_one_replica_per_rebalance(clock, four_zone_builder):
    b = four_zone_builder(clock, part_power=8)
    b.rebalance()
    before = b.replica2part2dev()
    clock.advance_hours(2)
    b.add_device(region=1, zone=5, ip="127.0.0.1", port=6204, device="sdb", weight=100)
    b.add_device(region=1, zone=6, ip="127.0.0.1", port=6205, device="sdb", weight=100)
    b.rebalance()
    after = b.replica2part2dev()
    for part in range(b.partition_count):
        assert sum(before[r][part] != after[r][part] for r in range(3)) <= 1


def test_min_part_hours_holds_a_moved_partition(clock, four_zone_builder):
    b = four_zone_builder(clock, part_power=8, min_part_hours=1)
    b.rebalance()
    clock.advance_hours(2)
    b.add_device(region=1, zone=5, ip="127.0.0.1", port=6204, device="sdb", weight=100)
    before = b.replica2part2dev()
    first = b.rebalance()
    after_first = b.replica2part2dev()
    moved_first = changed_parts(before, after_first)
    assert first.moved == len(moved_first) > 0
    assert all(b._last_moved[p] == int(clock.now) for p in moved_first)

    # half an hour later the new device should grow: partitions that just moved must not
    clock.advance_hours(0.5)
    b.set_weight(4, 150)
    b.rebalance()
    moved_second = changed_parts(after_first, b.replica2part2dev())
    assert moved_second and not moved_second & moved_first

    # draining the new device now would move only partitions that moved within the hour
    b.set_weight(4, 0)
    held = b.parts_per_device()[4]
    report = b.rebalance()
    assert report.moved == 0 and report.held_back == held
    clock.advance_hours(1)
    report = b.rebalance()
    # its replicas, plus at most a rounding step of the others' new targets
    assert held <= report.moved <= held + 4 and b.parts_per_device()[4] == 0
    assert b.balance() < 1.0


def test_a_first_placement_is_not_a_move(clock, four_zone_builder):
    b = four_zone_builder(clock, part_power=6, min_part_hours=24)
    b.rebalance()
    b.add_device(region=1, zone=5, ip="127.0.0.1", port=6204, device="sdb", weight=100)
    # nothing has moved yet, so min_part_hours does not stop the new device from filling
    report = b.rebalance()
    assert report.moved > 0 and report.held_back == 0


def test_removed_device_is_drained_even_within_min_part_hours(clock, four_zone_builder):
    b = four_zone_builder(clock, part_power=7, min_part_hours=24)
    b.add_device(region=1, zone=5, ip="127.0.0.1", port=6204, device="sdb", weight=100)
    b.rebalance()
    held = b.parts_per_device()[2]
    b.remove_device(2)
    report = b.rebalance()
    assert 2 not in {d for row in b.replica2part2dev() for d in row}
    assert report.moved == held
    for part in range(b.partition_count):
        assert len(set(zones_of(b, part))) == 3


def test_weight_zero_drains_once_min_part_hours_allow(clock, four_zone_builder):
    b = four_zone_builder(clock, part_power=7, min_part_hours=1)
    b.add_device(region=1, zone=5, ip="127.0.0.1", port=6204, device="sdb", weight=100)
    b.rebalance()
    b.set_weight(0, 0)
    b.rebalance()
    assert b.parts_per_device()[0] == 0


def test_weights_give_proportional_shares(clock):
    b = RingBuilder(10, 3, 0, seed=3, clock=clock)
    weights = [100, 200, 300, 150, 250, 100, 50, 400]
    for i, w in enumerate(weights):
        b.add_device(region=1 + i % 2, zone=1 + i % 4, ip=f"10.0.0.{i}", port=6200,
                     device="d", weight=w)
    b.rebalance()
    total = 3 * 1024
    have = b.parts_per_device()
    for i, w in enumerate(weights):
        ideal = total * w / sum(weights)
        assert abs(have[i] - ideal) <= max(1, ideal * 0.01), (i, have[i], ideal)


def test_replicas_spread_over_regions_then_zones_then_nodes_then_devices(clock):
    b = RingBuilder(8, 3, 0, seed=1, clock=clock)
    # 3 regions x 2 zones x 2 nodes x 2 devices, equal weights
    for region in range(3):
        for zone in range(2):
            for node in range(2):
                for dev in range(2):
                    b.add_device(region, zone, f"10.{region}.{zone}.{node}", 6200, f"d{dev}", 1)
    b.rebalance()
    devs = b.devices
    for part in range(b.partition_count):
        placed = [devs[row[part]] for row in b.replica2part2dev()]
        assert len({d.region for d in placed}) == 3
    # one region, two zones, one node each with three devices: 2 zones, then distinct devices
    b = RingBuilder(8, 3, 0, seed=1, clock=clock)
    for zone in range(2):
        for dev in range(3):
            b.add_device(0, zone, f"10.0.{zone}.1", 6200, f"d{dev}", 1)
    b.rebalance()
    devs = b.devices
    for part in range(b.partition_count):
        placed = [devs[row[part]] for row in b.replica2part2dev()]
        assert len({d.zone for d in placed}) == 2
        assert len({d.id for d in placed}) == 3
    # one zone: nodes before devices
    b = RingBuilder(8, 3, 0, seed=1, clock=clock)
    for node in range(3):
        for dev in range(4):
            b.add_device(0, 0, "10.0.0.1", 6200 + node, f"d{dev}", 1)
    b.rebalance()
    devs = b.devices
    for part in range(b.partition_count):
        placed = [devs[row[part]] for row in b.replica2part2dev()]
        assert len({d.port for d in placed}) == 3


def test_adding_a_zone_to_two_zones_respreads(clock):
    b = RingBuilder(8, 3, 0, seed=1, clock=clock)
    for zone in range(2):
        for dev in range(2):
            b.add_device(0, zone, f"10.0.{zone}.1", 6200, f"d{dev}", 1)
    b.rebalance()
    for dev in range(2):
        b.add_device(0, 2, "10.0.2.1", 6200, f"d{dev}", 1)
    report = b.rebalance()
    devs = b.devices
    for part in range(b.partition_count):
        assert len({devs[row[part]].zone for row in b.replica2part2dev()}) == 3
    assert report.moved <= 1.1 * 3 * 256 / 3
    assert report.dispersion == 0


def test_replicas_are_spread_over_many_peers(clock):
    """A device's partitions share replicas with many devices (fast, parallel recovery)."""
    b = RingBuilder(12, 3, 0, seed=0, clock=clock)
    for zone in range(5):
        for node in range(4):
            b.add_device(0, zone, f"10.0.{zone}.{node}", 6200, "d", 100)
    b.rebalance()
    peers = collections.Counter()
    for devs in zip(*b.replica2part2dev()):
        if 0 in devs:
            peers.update(d for d in devs if d != 0)
    assert len(peers) == 16  # every device outside its zone


def test_seeded_and_reproducible(clock, four_zone_builder):
    a, b, c = (four_zone_builder(clock, part_power=8, seed=s) for s in (5, 5, 6))
    for x in (a, b, c):
        x.rebalance()
    assert a.replica2part2dev() == b.replica2part2dev()
    assert a.replica2part2dev() != c.replica2part2dev()


@pytest.mark.parametrize("args, match", [
    ((23, 3), "part_power"), ((0, 3), "part_power"), ((8, 0), "replicas"), ((8, 9), "replicas"),
    ((True, 3), "part_power"), ((8, 3, -1), "min_part_hours"), ((8, 3, 1, -2), "seed"),
])
def test_bad_builder_arguments(args, match):
    with pytest.raises(RingError, match=match):
        RingBuilder(*args)


@pytest.mark.parametrize("change, match", [
    (dict(weight=-1), "weight"), (dict(weight=float("nan")), "weight"),
    (dict(weight="10"), "weight"), (dict(port=0), "port"), (dict(port=70000), "port"),
    (dict(ip="not an ip!"), "ip"), (dict(ip="300.1.1.1"), "ip"), (dict(device=""), "device"),
    (dict(device="a/b"), "device"), (dict(device=".."), "device"), (dict(zone=-1), "zone"),
    (dict(region="1"), "region"), (dict(id=70000), "id"), (dict(meta=5), "meta"),
])
def test_bad_device_fields(change, match):
    b = RingBuilder(4, 1)
    fields = dict(region=1, zone=1, ip="127.0.0.1", port=6200, device="sdb", weight=1.0)
    fields.update(change)
    with pytest.raises(RingError, match=match):
        b.add_device(**fields)


def test_device_management_errors(clock, four_zone_builder):
    b = four_zone_builder(clock, part_power=4)
    with pytest.raises(RingError, match="duplicate device"):
        b.add_device(region=2, zone=9, ip="127.0.0.1", port=6200, device="sdb", weight=1)
    with pytest.raises(RingError, match="already in use"):
        b.add_device(region=2, zone=9, ip="127.0.0.1", port=6300, device="sdb", weight=1, id=0)
    with pytest.raises(RingError, match="no device"):
        b.remove_device(17)
    with pytest.raises(RingError, match="no device"):
        b.set_weight(17, 1)
    b.remove_device(1)
    with pytest.raises(RingError, match="rebalance before reusing"):
        b.add_device(region=2, zone=9, ip="127.0.0.1", port=6300, device="sdb", weight=1, id=1)
    assert b.add_device(region=2, zone=9, ip="127.0.0.1", port=6300, device="sdb",
                        weight=1) == 4  # id 1 is not reused before the rebalance


def test_too_few_devices_for_the_replicas(clock):
    b = RingBuilder(4, 3, clock=clock)
    b.add_device(region=1, zone=1, ip="127.0.0.1", port=6200, device="a", weight=1)
    b.add_device(region=1, zone=1, ip="127.0.0.1", port=6200, device="b", weight=1)
    b.add_device(region=1, zone=1, ip="127.0.0.1", port=6200, device="c", weight=0)
    with pytest.raises(RingError, match="cannot hold 3 replicas"):
        b.rebalance()


def test_save_load_round_trip(tmp_path, clock, four_zone_builder):
    b = four_zone_builder(clock, part_power=8, seed=9)
    b.rebalance()
    b.remove_device(3)
    path = tmp_path / "x.builder"
    b.save(str(path))
    loaded = RingBuilder.load(str(path), clock=clock)
    assert loaded.to_dict() == b.to_dict()
    path2 = tmp_path / "y.builder"
    loaded.save(str(path2))
    assert path.read_bytes() == path2.read_bytes()
    assert path.read_bytes()[:1] == b"{"  # JSON, never pickle
    # the removal pending in the saved state happens at the loaded builder's rebalance
    loaded.rebalance()
    assert 3 not in {d for row in loaded.replica2part2dev() for d in row}


@pytest.mark.parametrize("mutate", [
    lambda d: d.update(format="other"), lambda d: d.update(version=99),
    lambda d: d.pop("devices"), lambda d: d.update(replica2part2dev=["!!"] * 3),
    lambda d: d.update(replica2part2dev=d["replica2part2dev"][:2]),
    lambda d: d["devices"][0].update(weight=-4), lambda d: d["devices"][0].update(id=3),
    lambda d: d.update(devices=d["devices"][:2]),
])
def test_corrupt_builder_files_are_refused(tmp_path, clock, mutate, four_zone_builder):
    import json

    b = four_zone_builder(clock, part_power=4)
    b.rebalance()
    data = b.to_dict()
    mutate(data)
    path = tmp_path / "bad.builder"
    path.write_text(json.dumps(data))
    with pytest.raises(RingError):
        RingBuilder.load(str(path))
    path.write_text("{not json")
    with pytest.raises(RingError, match="JSON"):
        RingBuilder.load(str(path))


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32), st.integers(3, 12), st.integers(1, 3))
def test_property_shares_and_spread_on_random_topologies(seed, ndev, replicas):
    rng = random.Random(seed)
    b = RingBuilder(7, replicas, 0, seed=seed)
    for i in range(ndev):
        b.add_device(rng.randrange(2), rng.randrange(3), f"10.0.0.{rng.randrange(4)}", 6200,
                     f"d{i}", rng.choice([50, 100, 100, 200]))
    b.rebalance()
    have = b.parts_per_device()
    for d in b.devices:
        ideal = capped_shares(b)[d.id]
        assert abs(have[d.id] - ideal) <= max(1, 0.01 * ideal), (d, have[d.id], ideal)
    for devs in zip(*b.replica2part2dev()):
        assert NONE not in devs and len(set(devs)) == replicas
    assert b.dispersion() == 0
    # a second rebalance with nothing changed moves at most what is still off its share
    off = sum(abs(have[d.id] - capped_shares(b)[d.id]) for d in b.devices)
    again = b.rebalance()
    assert again.moved <= off and again.balance <= b.balance() + 1e-3


def change_and_rebalance(seed, replicas, steps):
    """Adds, removals and weight changes, a rebalance after each (min_part_hours 0)."""
    rng = random.Random(seed)
    b = RingBuilder(7, replicas, 0, seed=seed)
    port, report = 6000, None
    for _ in range(steps):
        live = [d for d in b.devices if d is not None]
        op = rng.random()
        if op < 0.5 or len(live) < replicas + 1:
            port += 1
            b.add_device(rng.randrange(2), rng.randrange(3), f"10.0.0.{rng.randrange(4)}", port,
                         "d", rng.choice([50, 100, 200]))
        elif op < 0.7:
            b.remove_device(rng.choice(live).id)
        else:
            b.set_weight(rng.choice(live).id, rng.choice([50, 100, 300]))
        try:
            report = b.rebalance()
        except RingError:
            report = None  # too few devices for now
    return b, report


def check_spread_and_balanced(b, report):
    assert report.dispersion == 0
    have = b.parts_per_device()
    for dev_id, ideal in capped_shares(b).items():
        assert abs(have[dev_id] - ideal) <= max(1, 0.01 * ideal), (dev_id, have[dev_id], ideal)
    removed = {i for i, d in enumerate(b.devices) if d is None}
    assert not removed & {d for row in b.replica2part2dev() for d in row}


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32), st.integers(1, 3))
def test_property_changes_then_rebalance_stay_spread_and_balanced(seed, replicas):
    """The end state is fully spread and every device within 1% or one partition of its share."""
    b, report = change_and_rebalance(seed, replicas, 8)
    if report is not None:
        check_spread_and_balanced(b, report)


@pytest.mark.parametrize("seed", [252, 263])
def test_replicas_left_beside_a_removed_device_are_respread(seed):
    """Found by fuzzing: a partition that lost a replica to a removal kept two replicas that
    left a zone with quota >= 1 empty; placing the one free replica could not fix that."""
    b, report = change_and_rebalance(seed, random.Random(seed).randint(1, 3), 10)
    check_spread_and_balanced(b, report)
