"""Server states: the API status, Nova's vm_state/power_state behind it, and the legal moves.

One table of transitions; the manager asks `transition()` before it writes a new status, so an
illegal move (a crashed build going ACTIVE, say) is a bug caught at once, not a silent record.
"""
from __future__ import annotations

import enum


class Status(str, enum.Enum):
    BUILD = "BUILD"
    ACTIVE = "ACTIVE"
    SHUTOFF = "SHUTOFF"
    ERROR = "ERROR"


# status -> (OS-EXT-STS:vm_state, OS-EXT-STS:power_state); power 0 NOSTATE, 1 RUNNING, 4 SHUTDOWN.
NOVA_STATES = {
    Status.BUILD: ("building", 0),
    Status.ACTIVE: ("active", 1),
    Status.SHUTOFF: ("stopped", 4),
    Status.ERROR: ("error", 0),
}

TRANSITIONS = {
    Status.BUILD: {Status.ACTIVE, Status.ERROR},
    Status.ACTIVE: {Status.SHUTOFF, Status.ERROR},
    Status.SHUTOFF: {Status.ACTIVE, Status.ERROR},
    Status.ERROR: set(),
}

# Where volumes may be attached or detached (Nova allows these vm_states, among others).
ATTACHABLE = {Status.ACTIVE, Status.SHUTOFF}


class IllegalTransition(Exception):
    pass


def transition(current: str, target: Status) -> Status:
    now = Status(current)
    if target not in TRANSITIONS[now]:
        raise IllegalTransition(f"{now.value} -> {target.value}")
    return target


def vm_state(status: str) -> str:
    return NOVA_STATES[Status(status)][0]


def power_state(status: str) -> int:
    return NOVA_STATES[Status(status)][1]
