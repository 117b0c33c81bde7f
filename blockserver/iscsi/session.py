"""iSCSI sessions (RFC 7143 4.1, 4.2.2): the CmdSN window and the table of live sessions.

A session is an I_T nexus: initiator name + ISID, a target (or none for discovery) and the portal
group. Its connections share ExpCmdSN/MaxCmdSN; commands from several connections run in CmdSN
order (pending holds early arrivals). Sequence numbers use RFC 1982 32-bit serial arithmetic.
"""
from __future__ import annotations

from typing import Any

from .constants import CMD_WINDOW
from .params import SessionParams

MASK = 0xFFFFFFFF
HALF = 0x80000000


def sn_lt(a: int, b: int) -> bool:
    """a < b in 32-bit serial number arithmetic."""
    return a != b and ((b - a) & MASK) < HALF


def in_window(sn: int, low: int, high: int) -> bool:
    """low <= sn <= high in serial arithmetic (the window never spans half the space)."""
    return ((sn - low) & MASK) <= ((high - low) & MASK)


class Session:
    def __init__(self, tsih: int, isid: bytes, initiator_name: str, target, discovery: bool,
                 params: SessionParams, cmdsn: int, tpgt: int):
        self.tsih = tsih
        self.isid = isid
        self.initiator_name = initiator_name
        self.target = target                  # registry.Target, None for discovery
        self.discovery = discovery
        self.params = params
        self.tpgt = tpgt
        self.exp_cmdsn = cmdsn & MASK
        self.max_cmdsn = (cmdsn + CMD_WINDOW - 1) & MASK
        self.connections: dict[int, Any] = {}  # CID -> connection core
        self.tasks: dict[int, Any] = {}        # ITT -> task, across connections
        self.pending: dict[int, tuple] = {}    # CmdSN -> (connection, pdu) arrived early
        self.nexus = None                      # blockserver.scsi ItNexus, set by the server
        self.ended = False

    @property
    def key(self) -> tuple:
        return (self.initiator_name, self.isid, self.target.iqn if self.target else None)

    def window(self) -> tuple[int, int]:
        """(ExpCmdSN, MaxCmdSN) to advertise: the window shrinks with tasks still in flight,
        so a session never holds more than CMD_WINDOW commands, and never moves backwards."""
        proposed = (self.exp_cmdsn + CMD_WINDOW - 1 - len(self.tasks)) & MASK
        if sn_lt(self.max_cmdsn, proposed):
            self.max_cmdsn = proposed
        return self.exp_cmdsn, self.max_cmdsn

    def classify(self, cmdsn: int) -> str:
        """'now' (the next expected), 'later' (in window, early: MC/S) or 'drop' (outside the
        window: RFC 7143 4.2.2.1 says silently ignore)."""
        if cmdsn == self.exp_cmdsn:
            return "now"
        if in_window(cmdsn, self.exp_cmdsn, self.max_cmdsn):
            return "later"
        return "drop"


class SessionTable:
    """Every live session of one target portal group, by TSIH and by (initiator, ISID, target)."""

    def __init__(self):
        self.by_tsih: dict[int, Session] = {}
        self.by_key: dict[tuple, Session] = {}
        self._next_tsih = 1

    def _allocate_tsih(self) -> int:
        for _ in range(0xFFFF):
            tsih = self._next_tsih
            self._next_tsih = tsih % 0xFFFF + 1   # 1..65535; 0 is "new session"
            if tsih not in self.by_tsih:
                return tsih
        raise RuntimeError("no free TSIH")

    def create(self, isid: bytes, initiator_name: str, target, discovery: bool,
               params: SessionParams, cmdsn: int, tpgt: int) -> Session:
        session = Session(self._allocate_tsih(), isid, initiator_name, target, discovery,
                          params, cmdsn, tpgt)
        self.by_tsih[session.tsih] = session
        if not discovery:
            self.by_key[session.key] = session
        return session

    def find(self, key: tuple) -> Session | None:
        return self.by_key.get(key)

    def remove(self, session: Session) -> None:
        session.ended = True
        if self.by_tsih.get(session.tsih) is session:
            del self.by_tsih[session.tsih]
        if self.by_key.get(session.key) is session:
            del self.by_key[session.key]

    def for_target(self, iqn: str) -> list[Session]:
        return [s for s in self.by_tsih.values() if s.target is not None and s.target.iqn == iqn]

    def __len__(self) -> int:
        return len(self.by_tsih)
