"""One iSCSI connection, sans-I/O: bytes in -> wire parts (outbox) and work items (events) out.

The login phase is LoginMachine's; after it, this core runs the full feature phase: CmdSN
ordering, NOP, Text (SendTargets), Logout, Task Management and SCSI commands (datamover.py
gathers Data-Out and produces Data-In/R2T). Every protocol violation is a ProtocolError turned
into a Reject here (and the end of the connection when fatal); nothing else reaches the wire.
"""
from __future__ import annotations

import enum
import logging

from .constants import (CONTINUE, FINAL, RESERVED_TAG, LogoutReason, LogoutResponse, Opcode,
                        RejectReason, TmfFunction, TmfResponse)
from .datamover import DataMover, Task
from .errors import ProtocolError
from .events import (Close, DropConnection, Execute, SessionEnded, SessionStarted,
                     TaskManagement)
from .fastread import ReadFastPath
from .login import LoginMachine, LoginState
from .params import NOT_UNDERSTOOD, SessionParams
from .pdu import Framer, Pdu, PduReader, build, field_to_lun
from .session import MASK, SessionTable
from .text import TextError, encode_text, parse_text

log = logging.getLogger(__name__)


class ConnState(enum.Enum):
    LOGIN = "login"
    FULL_FEATURE = "full-feature"
    LOGGING_OUT = "logging-out"
    CLOSED = "closed"


TRANSITIONS = {
    ConnState.LOGIN: frozenset({ConnState.FULL_FEATURE, ConnState.CLOSED}),
    ConnState.FULL_FEATURE: frozenset({ConnState.LOGGING_OUT, ConnState.CLOSED}),
    ConnState.LOGGING_OUT: frozenset({ConnState.CLOSED}),
    ConnState.CLOSED: frozenset(),
}

# Opcodes that carry a CmdSN and so go through the session's command ordering.
_ORDERED = frozenset({Opcode.NOP_OUT, Opcode.SCSI_COMMAND, Opcode.TASK_MGMT_REQUEST,
                      Opcode.TEXT_REQUEST, Opcode.LOGOUT_REQUEST})


class Connection:
    def __init__(self, registry, sessions: SessionTable, portal: str = "127.0.0.1:3260",
                 tpgt: int = 1, random_bytes=None):
        self.registry = registry
        self.sessions = sessions
        self.portal = portal
        self.tpgt = tpgt
        self.state = ConnState.LOGIN
        self.reader = PduReader()
        self.framer = Framer()
        self.login = LoginMachine(registry, sessions, self.framer, tpgt, random_bytes)
        self.outbox: list = []
        self.events: list = []
        self.session = None
        self.cid = 0
        self.params = SessionParams()
        self.stat_sn = 0
        self.mover: DataMover | None = None
        self._text_pending: tuple | None = None   # (ttt, remaining bytes) of a long Text reply
        self._text_partial = bytearray()
        self._text_ttt = 0                          # TTT of the text exchange in progress
        self._logout: tuple | None = None          # (itt, response, closes_session)
        self.owner = None                          # the server's object for this connection
        self.early_data: dict[int, list] = {}     # ITT -> Data-Out of a command not yet in order

    # -- state ------------------------------------------------------------------------------
    def _goto(self, new: ConnState) -> None:
        if new not in TRANSITIONS[self.state]:
            raise AssertionError(f"connection cannot go from {self.state} to {new}")
        self.state = new
        if new is not ConnState.FULL_FEATURE:
            self.reader.fast = None

    @property
    def closed(self) -> bool:
        return self.state is ConnState.CLOSED

    def next_stat_sn(self) -> int:
        sn = self.stat_sn
        self.stat_sn = (sn + 1) & MASK
        return sn

    # -- input ------------------------------------------------------------------------------
    def receive(self, data) -> None:
        """Consume bytes from the initiator; results land in outbox and events."""
        self._consume(self.reader.feed, data)

    def get_buffer(self, sizehint: int = -1) -> memoryview:
        """Buffered-protocol input: where the next bytes should be received..."""
        return self.reader.get_buffer(sizehint)

    def buffer_updated(self, nbytes: int) -> None:
        """...and how many landed there (results in outbox and events, as receive())."""
        self._consume(self.reader.buffer_updated, nbytes)

    def _consume(self, parse, arg) -> None:
        while self.state is not ConnState.CLOSED:
            try:
                pdus = parse(arg)
            except ProtocolError as exc:
                for pdu in self.reader.take_pending():
                    self._dispatch(pdu)
                self._protocol_error(exc)
                parse, arg = self.reader.feed, b""      # what follows the bad PDU
                continue
            for pdu in pdus:
                if self.state is ConnState.CLOSED:
                    break
                self._dispatch(pdu)
            return

    def _dispatch(self, pdu: Pdu) -> None:
        try:
            if self.state is ConnState.LOGIN:
                self._login(pdu)
            else:
                self._full_feature(pdu)
        except ProtocolError as exc:
            if not exc.header:
                exc.header = pdu.header
            self._protocol_error(exc)

    def _protocol_error(self, exc: ProtocolError) -> None:
        log.info("iSCSI protocol error: %s (%s%s)", exc, exc.reason.name,
                 ", closing" if exc.fatal else "")
        if self.state is ConnState.LOGIN:
            self._close("protocol error during login")
            return
        self.reject(exc.reason, exc.header)
        if exc.fatal:
            self._close(str(exc))

    def reject(self, reason: RejectReason, header: bytes) -> None:
        exp, high = self.session.window()
        hdr = build(Opcode.REJECT, FINAL, int(reason), 0, len(header), 0, RESERVED_TAG, 0,
                    self.next_stat_sn(), exp, high)
        self.outbox += self.framer.frame(hdr, header)

    def _close(self, reason: str) -> None:
        if self.state is not ConnState.CLOSED:
            self._goto(ConnState.CLOSED)
            self.events.append(Close(reason))

    # -- login ------------------------------------------------------------------------------
    def _login(self, pdu: Pdu) -> None:
        self.outbox += self.login.handle(pdu)
        done = self.login.done
        if self.login.state is LoginState.FAILED:
            self._close("login failed")
            return
        if done is None:
            return
        self.session = session = done.session
        self.cid = done.cid
        self.params = done.params
        self.stat_sn = done.stat_sn
        self.framer.header_digest = self.reader.header_digest = done.params.header_digest
        self.framer.data_digest = self.reader.data_digest = done.params.data_digest
        self.reader.max_data_segment = done.params.max_recv_data_segment
        previous = session.connections.get(self.cid)
        session.connections[self.cid] = self       # first, so the session outlives `previous`
        for old in done.replaced:
            if old is previous:                    # connection reinstatement: same CID
                old.abandon()
                self.events.append(DropConnection(old))
            elif old is not session:               # session reinstatement: same ISID
                self.events.append(SessionEnded(old))
        self.mover = DataMover(self)
        self._goto(ConnState.FULL_FEATURE)
        # plain READs are answered as they are received (fastread.py), only in this state
        self.reader.fast = ReadFastPath.for_connection(self)
        if len(session.connections) == 1 and not session.discovery:
            self.events.append(SessionStarted(session))

    # -- full feature phase -------------------------------------------------------------------
    def _full_feature(self, pdu: Pdu) -> None:
        bhs = pdu.bhs
        op = bhs.opcode
        if op == Opcode.DATA_OUT:
            self.mover.data_out(pdu)
            return
        if op == Opcode.LOGIN_REQUEST:
            raise ProtocolError(RejectReason.PROTOCOL_ERROR, "login in full feature phase")
        if op == Opcode.SNACK_REQUEST:
            raise ProtocolError(RejectReason.SNACK_REJECT, "SNACK needs ErrorRecoveryLevel > 0")
        if self.state is ConnState.LOGGING_OUT:
            raise ProtocolError(RejectReason.WAITING_FOR_LOGOUT, "logout in progress")
        if op not in _ORDERED:
            raise ProtocolError(RejectReason.COMMAND_NOT_SUPPORTED, f"opcode {op:#x}")
        session = self.session
        if bhs.immediate:
            self._command(pdu)
            return
        verdict = session.classify(bhs.w24)
        if verdict == "drop":
            log.info("CmdSN %d outside [%d, %d]: ignored", bhs.w24, session.exp_cmdsn,
                     session.max_cmdsn)
            return
        if verdict == "later":
            session.pending[bhs.w24] = (self, pdu)
            if op == Opcode.SCSI_COMMAND:
                self.early_data[bhs.itt] = []     # its Data-Out waits with it
            return
        session.exp_cmdsn = (session.exp_cmdsn + 1) & MASK
        self._command(pdu)
        while session.pending:
            entry = session.pending.pop(session.exp_cmdsn, None)
            if entry is None:
                break
            session.exp_cmdsn = (session.exp_cmdsn + 1) & MASK
            conn, queued = entry
            if not conn.closed:
                conn._dispatch_ordered(queued)

    def _dispatch_ordered(self, pdu: Pdu) -> None:
        try:
            self._command(pdu)
            for data_out in self.early_data.pop(pdu.bhs.itt, ()):
                self.mover.data_out(data_out)
        except ProtocolError as exc:
            if not exc.header:
                exc.header = pdu.header
            self._protocol_error(exc)

    def _command(self, pdu: Pdu) -> None:
        op = pdu.bhs.opcode
        if op == Opcode.SCSI_COMMAND:
            if self.session.discovery:
                raise ProtocolError(RejectReason.PROTOCOL_ERROR, "SCSI in a discovery session")
            self.mover.scsi_command(pdu)
        elif op == Opcode.NOP_OUT:
            self._nop_out(pdu)
        elif op == Opcode.TEXT_REQUEST:
            self._text(pdu)
        elif op == Opcode.TASK_MGMT_REQUEST:
            self._task_management(pdu)
        else:
            self._logout_request(pdu)

    # -- NOP ------------------------------------------------------------------------------
    def _nop_out(self, pdu: Pdu) -> None:
        bhs = pdu.bhs
        if bhs.itt == RESERVED_TAG:
            return                    # a ping answer or a one-way ping: nothing to say
        data = pdu.data[:self.params.max_send_data_segment]
        exp, high = self.session.window()
        hdr = build(Opcode.NOP_IN, FINAL, 0, 0, len(data), bhs.lun, bhs.itt, RESERVED_TAG,
                    self.next_stat_sn(), exp, high)
        self.outbox += self.framer.frame(hdr, data)

    # -- Text -----------------------------------------------------------------------------
    def _text(self, pdu: Pdu) -> None:
        bhs = pdu.bhs
        if bhs.w20 != RESERVED_TAG:
            # the TTT we gave: the initiator asks for more of our answer, or sends more of
            # its request
            if bhs.w20 != self._text_ttt:
                raise ProtocolError(RejectReason.INVALID_PDU_FIELD, "unknown Text TTT")
            if self._text_pending is not None:
                self._send_text(bhs, self._text_pending[1])
                return
        elif self._text_pending is not None or self._text_partial:
            self._text_pending = None            # a new exchange ends an unfinished one
            self._text_partial.clear()
        self._text_partial += pdu.data
        if len(self._text_partial) > 65536:
            self._text_partial.clear()
            raise ProtocolError(RejectReason.PROTOCOL_ERROR, "text request too long")
        if bhs.flags & CONTINUE:
            self._send_text(bhs, b"", more=True)
            return
        try:
            keys = parse_text(self._text_partial)
        except TextError as exc:
            raise ProtocolError(RejectReason.PROTOCOL_ERROR, f"bad text: {exc}") from None
        finally:
            self._text_partial.clear()
        answer = []
        for key, value in keys:
            if key == "SendTargets":
                answer.extend(self._send_targets(value))
            else:
                answer.append((key, NOT_UNDERSTOOD))
        self._send_text(bhs, encode_text(answer))

    def _send_targets(self, value: str) -> list:
        if self.session.discovery:
            if value == "All":
                targets = self.registry.targets()
            else:
                target = self.registry.get(value)
                targets = [target] if target else []
        else:
            mine = self.session.target
            targets = [mine] if value in ("", mine.iqn) and mine.iqn in self.registry else []
        out = []
        for target in targets:
            out.append(("TargetName", target.iqn))
            out.append(("TargetAddress", f"{self.portal},{self.tpgt}"))
        return out

    def _send_text(self, bhs, text: bytes, more: bool = False) -> None:
        limit = self.params.max_send_data_segment
        chunk, rest = text[:limit], text[limit:]
        if rest or more:
            # more to come (from us, or from the initiator): a TTT to continue with
            self._text_ttt = ttt = (self._text_ttt + 1) & 0x7FFFFFFF
            self._text_pending = (ttt, rest) if rest else None
            flags = CONTINUE if rest else 0
        else:
            ttt = RESERVED_TAG
            self._text_pending = None
            flags = FINAL
        exp, high = self.session.window()
        hdr = build(Opcode.TEXT_RESPONSE, flags, 0, 0, len(chunk), bhs.lun, bhs.itt, ttt,
                    self.next_stat_sn(), exp, high)
        self.outbox += self.framer.frame(hdr, chunk)

    # -- Task management ------------------------------------------------------------------------
    def _task_management(self, pdu: Pdu) -> None:
        bhs = pdu.bhs
        session = self.session
        if session.discovery:
            raise ProtocolError(RejectReason.PROTOCOL_ERROR, "TMF in a discovery session")
        function = bhs.flags & 0x7F
        lun = field_to_lun(bhs.lun)
        target = session.target
        tasks: list[Task] = []
        units: tuple = ()
        response = TmfResponse.COMPLETE
        lu_level = function in (TmfFunction.ABORT_TASK, TmfFunction.ABORT_TASK_SET,
                                TmfFunction.CLEAR_TASK_SET, TmfFunction.LOGICAL_UNIT_RESET,
                                TmfFunction.CLEAR_ACA)
        if lu_level and lun != 0:
            response = TmfResponse.LUN_DOES_NOT_EXIST
        elif function == TmfFunction.ABORT_TASK:
            task = session.tasks.get(bhs.w20)
            if task is not None and task.lun == lun:
                tasks.append(task)
            elif not _cmdsn_pending(session, bhs.w32):
                response = TmfResponse.TASK_DOES_NOT_EXIST
        elif function == TmfFunction.ABORT_TASK_SET:
            tasks = [t for t in session.tasks.values() if t.lun == lun]
        elif function == TmfFunction.CLEAR_TASK_SET:
            tasks = [t for s in self.sessions.for_target(target.iqn)
                     for t in s.tasks.values() if t.lun == lun]
        elif function in (TmfFunction.LOGICAL_UNIT_RESET, TmfFunction.TARGET_WARM_RESET,
                          TmfFunction.TARGET_COLD_RESET):
            tasks = [t for s in self.sessions.for_target(target.iqn)
                     for t in s.tasks.values()]
            units = (target.lun_unit,)
        elif function == TmfFunction.CLEAR_ACA:
            response = TmfResponse.NOT_SUPPORTED
        elif function == TmfFunction.TASK_REASSIGN:
            response = TmfResponse.REASSIGNMENT_NOT_SUPPORTED
        else:
            response = TmfResponse.REJECTED
        tasks = [t for t in tasks if t.itt != bhs.itt]
        for task in tasks:
            task.abort()
        self.events.append(TaskManagement(bhs.itt, function, lun, bhs.w20, tuple(tasks), units,
                                          int(response)))

    def tmf_done(self, tmf: TaskManagement) -> None:
        """The server finished the TMF's work: send its response (and end sessions on a cold
        reset, which also resets every I_T nexus of the target)."""
        if self.closed:
            return
        exp, high = self.session.window()
        hdr = build(Opcode.TASK_MGMT_RESPONSE, FINAL, tmf.response, 0, 0, 0, tmf.itt, 0,
                    self.next_stat_sn(), exp, high)
        self.outbox += self.framer.frame(hdr)
        if (tmf.function == TmfFunction.TARGET_COLD_RESET
                and tmf.response == TmfResponse.COMPLETE):
            for session in self.sessions.for_target(self.session.target.iqn):
                self.sessions.remove(session)
                self.events.append(SessionEnded(session))

    # -- Logout ------------------------------------------------------------------------------
    def _logout_request(self, pdu: Pdu) -> None:
        bhs = pdu.bhs
        reason = bhs.flags & 0x7F
        cid = bhs.w20 >> 16
        session = self.session
        if reason == LogoutReason.CLOSE_SESSION:
            self._logout = (bhs.itt, LogoutResponse.CLOSED, True)
        elif reason == LogoutReason.CLOSE_CONNECTION:
            if cid == self.cid:
                self._logout = (bhs.itt, LogoutResponse.CLOSED, False)
            else:
                other = session.connections.get(cid)
                if other is None:
                    self._logout_response(bhs.itt, LogoutResponse.CID_NOT_FOUND)
                else:
                    other.abandon()
                    self.events.append(DropConnection(other))
                    self._logout_response(bhs.itt, LogoutResponse.CLOSED)
                return
        elif reason == LogoutReason.REMOVE_FOR_RECOVERY:
            self._logout_response(bhs.itt, LogoutResponse.RECOVERY_NOT_SUPPORTED)
            return
        else:
            raise ProtocolError(RejectReason.INVALID_PDU_FIELD, f"logout reason {reason}")
        self._goto(ConnState.LOGGING_OUT)
        self.maybe_finish_logout()

    def maybe_finish_logout(self) -> None:
        """Answer a pending logout once this connection's (or session's) tasks are done."""
        if self._logout is None or self.closed:
            return
        itt, response, whole_session = self._logout
        session = self.session
        busy = (session.tasks.values() if whole_session else
                (t for t in session.tasks.values() if t.conn is self))
        if any(True for _ in busy):
            return
        self._logout = None
        self._logout_response(itt, response)
        if whole_session:
            for other in list(session.connections.values()):
                if other is not self:
                    other.abandon()
                    self.events.append(DropConnection(other))
        self._close("logout")

    def _logout_response(self, itt: int, response: LogoutResponse) -> None:
        exp, high = self.session.window()
        times = (self.params.default_time2wait << 16) | self.params.default_time2retain
        hdr = build(Opcode.LOGOUT_RESPONSE, FINAL, int(response), 0, 0, 0, itt, 0,
                    self.next_stat_sn(), exp, high, 0, times)
        self.outbox += self.framer.frame(hdr)

    # -- SCSI completion (called by the server) ---------------------------------------------------
    def complete(self, task: Task, status: int, data_in=b"", sense=b"",
                 transfer_length: int | None = None) -> None:
        """The LU finished task: send its Data-In and status."""
        self.mover.complete(task, status, data_in, sense, transfer_length)
        if self._logout is not None:
            self.maybe_finish_logout()

    def execute(self, task: Task) -> None:
        self.events.append(Execute(task))

    # -- teardown ------------------------------------------------------------------------------
    def abandon(self) -> None:
        """This connection is being replaced or logged out by another: stop answering."""
        if self.state is not ConnState.CLOSED:
            self.state = ConnState.CLOSED
        self.reader.fast = None
        self._release()

    def connection_lost(self) -> list:
        """The socket is gone: release tasks and, with the last connection, the session.
        Returns the events to act on (SessionEnded)."""
        if self.state is not ConnState.CLOSED:
            self.state = ConnState.CLOSED
        self.reader.fast = None
        return self._release()

    def _release(self) -> list:
        events = []
        session = self.session
        if session is None:
            return events
        for itt, task in list(session.tasks.items()):
            if task.conn is self:
                task.abort()
        for sn, (conn, _) in list(session.pending.items()):
            if conn is self:
                del session.pending[sn]
        if session.connections.get(self.cid) is self:
            del session.connections[self.cid]
        if not session.connections and not session.ended:
            self.sessions.remove(session)
            events.append(SessionEnded(session))
        return events


def _cmdsn_pending(session, ref_cmdsn: int) -> bool:
    """RFC 7143 11.5.1: a task not found whose RefCmdSN is still ahead of ExpCmdSN has not
    arrived yet; ABORT TASK then answers Function Complete (and the task will never run)."""
    exp, high = session.exp_cmdsn, session.max_cmdsn
    return ((ref_cmdsn - exp) & MASK) <= ((high - exp) & MASK)
