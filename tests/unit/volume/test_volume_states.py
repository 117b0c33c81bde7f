"""The volume and snapshot state tables: every state against every event."""
import pytest
from hypothesis import given, strategies as st

from blockserver.errors import ApiError
from blockserver.states import (SNAPSHOT_TRANSITIONS, VOLUME_TRANSIENT, VOLUME_TRANSITIONS,
                                SnapshotEvent, SnapshotStatus, VolumeEvent, VolumeStatus,
                                snapshot_transition, volume_transition)


@given(st.sampled_from(list(VolumeStatus)), st.sampled_from(list(VolumeEvent)))
def test_every_volume_state_and_event_is_either_legal_or_a_400(status, event):
    if (status, event) in VOLUME_TRANSITIONS:
        assert volume_transition(status, event) == VOLUME_TRANSITIONS[(status, event)]
    else:
        with pytest.raises(ApiError) as info:
            volume_transition(status, event)
        assert info.value.status == 400
        assert info.value.body()["badRequest"]["code"] == 400


@given(st.sampled_from(list(SnapshotStatus)), st.sampled_from(list(SnapshotEvent)))
def test_every_snapshot_state_and_event_is_either_legal_or_a_400(status, event):
    if (status, event) in SNAPSHOT_TRANSITIONS:
        assert snapshot_transition(status, event) == SNAPSHOT_TRANSITIONS[(status, event)]
    else:
        with pytest.raises(ApiError) as info:
            snapshot_transition(status, event)
        assert info.value.status == 400


@given(st.lists(st.sampled_from(list(VolumeEvent)), max_size=30))
def test_any_event_sequence_stays_inside_the_known_states(events):
    status = VolumeStatus.CREATING
    for event in events:
        try:
            nxt = volume_transition(status, event)
        except ApiError:
            continue
        if nxt is None:
            assert status is VolumeStatus.DELETING  # only a finished delete removes a record
            return
        status = nxt
    assert isinstance(status, VolumeStatus)


def test_every_state_is_reachable_from_creating():
    seen, todo = {VolumeStatus.CREATING}, [VolumeStatus.CREATING]
    while todo:
        here = todo.pop()
        for (src, _event), dst in VOLUME_TRANSITIONS.items():
            if src is here and dst is not None and dst not in seen:
                seen.add(dst)
                todo.append(dst)
    assert seen == set(VolumeStatus)


@pytest.mark.parametrize("status", ["in-use", "attaching", "reserved", "detaching", "creating",
                                    "extending", "deleting"])
def test_busy_or_attached_volumes_cannot_be_deleted(status):
    with pytest.raises(ApiError):
        volume_transition(status, VolumeEvent.DELETE)


@pytest.mark.parametrize("status", ["available", "error", "error_deleting", "error_extending"])
def test_deletable_states(status):
    assert volume_transition(status, VolumeEvent.DELETE) is VolumeStatus.DELETING


def test_the_attach_round_trip():
    s = VolumeStatus.AVAILABLE
    for event in (VolumeEvent.RESERVE, VolumeEvent.CONNECT, VolumeEvent.ATTACHED,
                  VolumeEvent.BEGIN_DETACH, VolumeEvent.DETACHED):
        s = volume_transition(s, event)
    assert s is VolumeStatus.AVAILABLE


def test_extend_returns_to_where_it_started():
    assert volume_transition("available", VolumeEvent.EXTEND) is VolumeStatus.EXTENDING
    assert volume_transition("in-use", VolumeEvent.EXTEND) is VolumeStatus.EXTENDING
    assert volume_transition("extending", VolumeEvent.EXTENDED) is VolumeStatus.AVAILABLE
    assert volume_transition("extending", VolumeEvent.EXTENDED_IN_USE) is VolumeStatus.IN_USE


def test_transient_states_settle_to_legal_states():
    for status, event in VOLUME_TRANSIENT.items():
        assert volume_transition(status, event) is not None


def test_unknown_status_text_is_refused():
    with pytest.raises(ValueError):
        volume_transition("floating", VolumeEvent.DELETE)
