"""What the connection core asks of its server: frozen records, one per kind of work.

The core never awaits; it appends these to Connection.events and the asyncio layer acts on them
(run a SCSI command, finish a task management function, end sessions, close the socket).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Execute:
    """Run task.cdb on LU task.lun; report with Connection.complete(task, ...)."""
    task: Any


@dataclass(frozen=True)
class TaskManagement:
    """Abort `tasks` (let running ones finish), apply `function` to the LU(s), then call
    Connection.tmf_done(self). `units` are the logical units the function resets."""
    itt: int
    function: int
    lun: int
    referenced_tag: int
    tasks: tuple
    units: tuple
    response: int


@dataclass(frozen=True)
class SessionStarted:
    session: Any


@dataclass(frozen=True)
class SessionEnded:
    """The I_T nexus is gone: the server tells the LU (nexus_lost) and closes its connections."""
    session: Any


@dataclass(frozen=True)
class DropConnection:
    """Close another connection (reinstatement, logout of another CID)."""
    connection: Any


@dataclass(frozen=True)
class Close:
    """Close this connection once the outbox is written."""
    reason: str
