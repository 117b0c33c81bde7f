"""Volume, snapshot and attachment states and their legal transitions, each in ONE table.

Pure: no I/O. The manager asks `volume_transition(status, event)` before every change and stores the
answer; an event that is not legal in the current state raises ApiError 400 (Cinder answers
InvalidVolume/InvalidSnapshot with 400 "badRequest"). Only os-reset_status (admin) bypasses a table.
"""
from __future__ import annotations

import enum

from blockserver.errors import ApiError


class VolumeStatus(str, enum.Enum):
    CREATING = "creating"
    AVAILABLE = "available"
    RESERVED = "reserved"
    ATTACHING = "attaching"
    IN_USE = "in-use"
    DETACHING = "detaching"
    EXTENDING = "extending"
    DELETING = "deleting"
    ERROR = "error"
    ERROR_DELETING = "error_deleting"
    ERROR_EXTENDING = "error_extending"


class VolumeEvent(enum.Enum):
    CREATED = "created"                  # backend finished creating/cloning
    CREATE_FAILED = "create_failed"
    RESERVE = "reserve"                  # os-reserve, POST /attachments
    UNRESERVE = "unreserve"              # os-unreserve, attachment deleted before it completed
    CONNECT = "connect"                  # connector given: the volume is being exported
    ATTACHED = "attached"                # os-attach, attachment os-complete
    BEGIN_DETACH = "begin_detach"        # os-begin_detaching
    ROLL_DETACH = "roll_detach"          # os-roll_detaching
    DETACHED = "detached"                # os-detach, DELETE attachment, terminate_connection
    EXTEND = "extend"                    # os-extend
    EXTENDED = "extended"                # back to available
    EXTENDED_IN_USE = "extended_in_use"  # back to in-use (extend of an attached volume, 3.42)
    EXTEND_FAILED = "extend_failed"
    DELETE = "delete"
    DELETE_FAILED = "delete_failed"
    DELETED = "deleted"                  # the record goes away


V, E = VolumeStatus, VolumeEvent
# (state, event) -> next state; None means the record is removed.
VOLUME_TRANSITIONS: dict[tuple[VolumeStatus, VolumeEvent], VolumeStatus | None] = {
    (V.CREATING, E.CREATED): V.AVAILABLE,
    (V.CREATING, E.CREATE_FAILED): V.ERROR,
    (V.AVAILABLE, E.RESERVE): V.RESERVED,
    (V.AVAILABLE, E.EXTEND): V.EXTENDING,
    (V.AVAILABLE, E.DELETE): V.DELETING,
    (V.RESERVED, E.UNRESERVE): V.AVAILABLE,
    (V.RESERVED, E.CONNECT): V.ATTACHING,
    (V.RESERVED, E.ATTACHED): V.IN_USE,
    (V.RESERVED, E.DETACHED): V.AVAILABLE,
    (V.ATTACHING, E.CONNECT): V.ATTACHING,        # a repeated PUT/initialize_connection
    (V.ATTACHING, E.ATTACHED): V.IN_USE,
    (V.ATTACHING, E.UNRESERVE): V.AVAILABLE,
    (V.ATTACHING, E.DETACHED): V.AVAILABLE,
    (V.IN_USE, E.CONNECT): V.IN_USE,              # initialize_connection again (re-login after restart)
    (V.IN_USE, E.BEGIN_DETACH): V.DETACHING,
    (V.IN_USE, E.DETACHED): V.AVAILABLE,
    (V.IN_USE, E.EXTEND): V.EXTENDING,
    (V.DETACHING, E.ROLL_DETACH): V.IN_USE,
    (V.DETACHING, E.DETACHED): V.AVAILABLE,
    (V.EXTENDING, E.EXTENDED): V.AVAILABLE,
    (V.EXTENDING, E.EXTENDED_IN_USE): V.IN_USE,
    (V.EXTENDING, E.EXTEND_FAILED): V.ERROR_EXTENDING,
    (V.DELETING, E.DELETED): None,
    (V.DELETING, E.DELETE_FAILED): V.ERROR_DELETING,
    (V.ERROR, E.DELETE): V.DELETING,
    (V.ERROR_DELETING, E.DELETE): V.DELETING,
    (V.ERROR_EXTENDING, E.DELETE): V.DELETING,
}
del V, E

# States whose work was running in the process when it stopped; on start-up they are settled.
VOLUME_TRANSIENT = {
    VolumeStatus.CREATING: VolumeEvent.CREATE_FAILED,
    VolumeStatus.EXTENDING: VolumeEvent.EXTEND_FAILED,
    VolumeStatus.DELETING: VolumeEvent.DELETE_FAILED,
}


def volume_transition(status: VolumeStatus | str, event: VolumeEvent) -> VolumeStatus | None:
    status = VolumeStatus(status)
    try:
        return VOLUME_TRANSITIONS[(status, event)]
    except KeyError:
        allowed = sorted(s.value for (s, e) in VOLUME_TRANSITIONS if e is event)
        raise ApiError(400, f"Invalid volume: cannot {event.value} a volume in status "
                            f"{status.value} (allowed: {', '.join(allowed) or 'none'}).") from None


class SnapshotStatus(str, enum.Enum):
    CREATING = "creating"
    AVAILABLE = "available"
    DELETING = "deleting"
    ERROR = "error"
    ERROR_DELETING = "error_deleting"


class SnapshotEvent(enum.Enum):
    CREATED = "created"
    CREATE_FAILED = "create_failed"
    DELETE = "delete"
    DELETE_FAILED = "delete_failed"
    DELETED = "deleted"


S, SE = SnapshotStatus, SnapshotEvent
SNAPSHOT_TRANSITIONS: dict[tuple[SnapshotStatus, SnapshotEvent], SnapshotStatus | None] = {
    (S.CREATING, SE.CREATED): S.AVAILABLE,
    (S.CREATING, SE.CREATE_FAILED): S.ERROR,
    (S.AVAILABLE, SE.DELETE): S.DELETING,
    (S.ERROR, SE.DELETE): S.DELETING,
    (S.ERROR_DELETING, SE.DELETE): S.DELETING,
    (S.DELETING, SE.DELETED): None,
    (S.DELETING, SE.DELETE_FAILED): S.ERROR_DELETING,
}
del S, SE

SNAPSHOT_TRANSIENT = {
    SnapshotStatus.CREATING: SnapshotEvent.CREATE_FAILED,
    SnapshotStatus.DELETING: SnapshotEvent.DELETE_FAILED,
}


def snapshot_transition(status: SnapshotStatus | str, event: SnapshotEvent) -> SnapshotStatus | None:
    status = SnapshotStatus(status)
    try:
        return SNAPSHOT_TRANSITIONS[(status, event)]
    except KeyError:
        raise ApiError(400, f"Invalid snapshot: cannot {event.value} a snapshot in status "
                            f"{status.value}.") from None


class AttachStatus(str, enum.Enum):
    """An attachment's own status (Cinder's attach_status)."""

    RESERVED = "reserved"        # created without a connector
    ATTACHING = "attaching"      # connector given, exported, not yet completed
    ATTACHED = "attached"        # os-attach / os-complete
    DETACHING = "detaching"
