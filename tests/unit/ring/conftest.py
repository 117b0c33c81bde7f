"""Shared fixtures for the ring's unit tests: both lookup implementations, small builders."""
import os

import pytest

import native
from native import ringlookup


def _impls():
    both = native.load_both("ringlookup")
    params = [pytest.param(both["py"], id="py")]
    if both["c"] is not None:
        params.append(pytest.param(both["c"], id="c"))
    elif os.environ.get("STRATO_NO_EXTENSIONS") != "1":
        # a silently missing build must not pass as "tested": this param fails in the test
        params.append(pytest.param(None, id="c-missing"))
    return params


@pytest.fixture(params=_impls())
def native_impl(request, monkeypatch):
    """Each lookup implementation in turn; Ring objects built inside the test use it."""
    impl = request.param
    if impl is None:
        pytest.fail("native._ringlookup_c is not built (pip install -e . with a C compiler)")
    monkeypatch.setattr(ringlookup, "RingTable", impl.RingTable)
    monkeypatch.setattr(ringlookup, "IMPLEMENTATION", impl.IMPLEMENTATION)
    return impl


class Clock:
    """An injectable clock for min_part_hours."""

    def __init__(self, now: float = 1_700_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance_hours(self, hours: float) -> None:
        self.now += hours * 3600


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def four_zone_builder():
    """Factory: a builder with 4 equal devices in 4 zones (not rebalanced)."""
    def make(clock, part_power=10, replicas=3, seed=0, min_part_hours=1):
        from ring import RingBuilder

        b = RingBuilder(part_power, replicas, min_part_hours, seed, clock=clock)
        for z in range(4):
            b.add_device(region=1, zone=z + 1, ip="127.0.0.1", port=6200 + z, device="sdb",
                         weight=100)
        return b
    return make


# The golden ring: fixed topology, seed and cluster secrets. Changing placement or hashing
# changes these and fails the golden tests on purpose.


@pytest.fixture
def golden_builder():
    from ring import RingBuilder

    b = RingBuilder(8, 3, 1, seed=42)
    for i in range(6):
        b.add_device(1 + i // 3, i % 3 + 1, f"127.0.0.{i + 1}", 6200, f"d{i}",
                     100 + 50 * (i % 2))
    b.rebalance()
    return b
