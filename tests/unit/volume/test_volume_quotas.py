"""Quota arithmetic: usage from records, limits with overrides, Cinder's 413 messages."""
import pytest

from blockserver import quotas
from blockserver.errors import ApiError
from blockserver.quotas import Amounts
from blockserver.records import Quota, Snapshot, Volume


def vol(size):
    return Volume(id=f"v{size}", project_id="p", user_id="u", size=size, status="available")


def snap(size):
    return Snapshot(id=f"s{size}", project_id="p", user_id="u", volume_id="v", size=size,
                    status="available")


def test_usage_counts_snapshot_gigabytes():
    assert quotas.usage_of([vol(1), vol(5)], [snap(5)]) == Amounts(volumes=2, gigabytes=11,
                                                                   snapshots=1)


def test_overrides_replace_only_what_they_set():
    defaults = Amounts(10, 100, 10)
    assert quotas.limits_for(defaults, None) == defaults
    assert quotas.limits_for(defaults, Quota("p", gigabytes=5)) == Amounts(10, 5, 10)


def test_volume_count_limit():
    quotas.check(Amounts(2, 100, 0), Amounts(1, 1, 0), Amounts(volumes=1, gigabytes=1))
    with pytest.raises(ApiError) as info:
        quotas.check(Amounts(2, 100, 0), Amounts(2, 2, 0), Amounts(volumes=1, gigabytes=1))
    assert info.value.status == 413
    assert "overLimit" in info.value.body()
    assert "VolumeLimitExceeded" in info.value.message


def test_gigabytes_limit_message():
    with pytest.raises(ApiError) as info:
        quotas.check(Amounts(10, 10, 10), Amounts(1, 8, 0), Amounts(volumes=1, gigabytes=5))
    assert info.value.status == 413
    assert "Requested 5G, quota is 10G and 8G has been consumed" in info.value.message


def test_snapshot_limit_and_unlimited():
    with pytest.raises(ApiError):
        quotas.check(Amounts(10, 10, 1), Amounts(1, 1, 1), Amounts(snapshots=1, gigabytes=1))
    quotas.check(Amounts(-1, -1, -1), Amounts(10**6, 10**9, 10**6),
                 Amounts(volumes=1, gigabytes=10**6, snapshots=1))


def test_extend_only_checks_gigabytes():
    # A project at its volume count can still grow a volume.
    quotas.check(Amounts(1, 10, 0), Amounts(1, 1, 0), Amounts(gigabytes=9))
