"""SCSI command transfer for one connection (RFC 7143 4.2.4, 11.3-11.8), sans-I/O.

Write data arrives as immediate data, unsolicited Data-Out (up to FirstBurstLength) and Data-Out
answering our R2Ts (MaxBurstLength each, MaxOutstandingR2T at a time); it is gathered into one
buffer before the command runs: received segments are kept as they arrived and joined once
(a write that came in one PDU is passed on without any copy), so memory follows the data actually
received, never a hostile Expected Data Transfer Length. Read data leaves as Data-In PDUs of
at most the initiator's MaxRecvDataSegmentLength, the last one carrying the status when there
is no sense (phase collapse). Residuals compare the Expected Data Transfer Length with what the
command moved.
"""
from __future__ import annotations

import logging

from .constants import (CMD_READ, CMD_WRITE, DATAIN_STATUS, FINAL, RESERVED_TAG, RESP_OVERFLOW,
                        RESP_UNDERFLOW, Opcode, RejectReason)
from .errors import ProtocolError
from .pdu import Pdu, build, field_to_lun
from .session import MASK

log = logging.getLogger(__name__)

_build = build
_DATA_IN = int(Opcode.DATA_IN)
_AHS_EXTENDED_CDB = 1
_AHS_BIDI_LENGTH = 2


class Task:
    """One SCSI command in flight: its CDB and transfer bookkeeping."""
    __slots__ = ("conn", "itt", "lun", "lun_field", "cdb", "edtl", "read", "write", "buf",
                 "parts", "received", "unsol_open", "unsol_datasn", "r2t_next", "r2ts", "r2tsn",
                 "executing", "aborted", "handle")

    def __init__(self, conn, itt: int, lun: int, lun_field: int, cdb: bytes, edtl: int,
                 read: bool, write: bool):
        self.conn = conn
        self.itt = itt
        self.lun = lun
        self.lun_field = lun_field
        self.cdb = cdb
        self.edtl = edtl
        self.read = read
        self.write = write
        self.buf = b""
        self.parts: list = []             # write data segments, in offset order
        self.received = 0                 # bytes of write data so far (the next offset)
        self.unsol_open = False
        self.unsol_datasn = 0
        self.r2t_next = 0
        self.r2ts: dict[int, list] = {}    # TTT -> [next offset, end, next DataSN]
        self.r2tsn = 0
        self.executing = False
        self.aborted = False
        self.handle = None                 # the server's handle on the running command

    @property
    def data_out(self):
        return self.buf

    def abort(self) -> None:
        """Forget the task: no response will be sent; Data-Out for it is discarded."""
        self.aborted = True
        session = self.conn.session
        if session is not None and session.tasks.get(self.itt) is self:
            del session.tasks[self.itt]

    def __repr__(self) -> str:
        return f"<Task itt={self.itt:#x} cdb={self.cdb[:1].hex()} edtl={self.edtl}>"


CHECK_CONDITION = 0x02
ABORTED_COMMAND = 0x0B
DATA_PHASE_ERROR = (0x4B, 0x00)
INVALID_TTT = (0x4B, 0x01)
TOO_MUCH_WRITE_DATA = (0x4B, 0x02)
DATA_OFFSET_ERROR = (0x4B, 0x05)


def _sense(key: int, asc: int, ascq: int) -> bytes:
    """Fixed-format sense data (SPC-4 4.5.3)."""
    return bytes([0x70, 0, key, 0, 0, 0, 0, 10, 0, 0, 0, 0, asc, ascq, 0, 0, 0, 0])


def _extended_cdb(ahs: bytes) -> tuple[bytes, bool]:
    """(extra CDB bytes, bidirectional?) from the AHS list of a SCSI Command."""
    extra = b""
    bidi = False
    pos = 0
    while pos < len(ahs):
        if len(ahs) - pos < 4:
            raise ProtocolError(RejectReason.INVALID_PDU_FIELD, "truncated AHS")
        length = int.from_bytes(ahs[pos:pos + 2], "big")
        kind = ahs[pos + 2]
        end = pos + 3 + length
        if length == 0 or end > len(ahs):
            raise ProtocolError(RejectReason.INVALID_PDU_FIELD, "bad AHS length")
        if kind == _AHS_EXTENDED_CDB:
            extra = bytes(ahs[pos + 4:end])
        elif kind == _AHS_BIDI_LENGTH:
            bidi = True
        else:
            raise ProtocolError(RejectReason.INVALID_PDU_FIELD, f"AHS type {kind}")
        pos = end + (-(end - pos) & 3)
    return extra, bidi


class DataMover:
    def __init__(self, conn):
        self.conn = conn
        self._ttt = 0

    # -- commands ----------------------------------------------------------------------------
    def scsi_command(self, pdu: Pdu) -> None:
        bhs = pdu.bhs
        conn = self.conn
        session = conn.session
        params = conn.params
        itt = bhs.itt
        if itt in session.tasks or itt == RESERVED_TAG:
            raise ProtocolError(RejectReason.TASK_IN_PROGRESS, f"ITT {itt:#x} is in use")
        flags = bhs.flags
        read = bool(flags & CMD_READ)
        write = bool(flags & CMD_WRITE)
        edtl = bhs.w20
        cdb = pdu.header[32:48]
        if bhs.ahs_length:
            extra, bidi = _extended_cdb(pdu.ahs)
            if bidi:
                raise ProtocolError(RejectReason.COMMAND_NOT_SUPPORTED,
                                    "bidirectional commands are not supported")
            cdb += extra
        data = pdu.data
        immediate = len(data)
        if immediate:
            if not write:
                raise ProtocolError(RejectReason.PROTOCOL_ERROR, "data for a non-write command")
            if not params.immediate_data:
                raise ProtocolError(RejectReason.PROTOCOL_ERROR, "ImmediateData=No")
            if immediate > edtl or immediate > params.first_burst_length:
                raise ProtocolError(RejectReason.PROTOCOL_ERROR, "too much immediate data")
        final = bool(flags & FINAL)
        if not final and (not write or params.initial_r2t):
            raise ProtocolError(RejectReason.PROTOCOL_ERROR,
                                "unsolicited Data-Out announced but not allowed")
        task = Task(conn, itt, field_to_lun(bhs.lun), bhs.lun, cdb, edtl, read, write)
        session.tasks[itt] = task
        if not write or edtl == 0 or immediate == edtl:
            task.buf = data
            self._execute(task)
            return
        if immediate:
            task.parts.append(data)
        task.received = immediate
        task.unsol_open = not final
        task.r2t_next = immediate
        if final:
            self._solicit(task)

    def _execute(self, task: Task) -> None:
        parts = task.parts
        if parts:
            task.buf = parts[0] if len(parts) == 1 else b"".join(parts)
            task.parts = []
        task.executing = True
        self.conn.execute(task)

    def _solicit(self, task: Task) -> None:
        """Send R2Ts for the data still missing, up to MaxOutstandingR2T at a time."""
        conn = self.conn
        params = conn.params
        edtl = task.edtl
        while task.r2t_next < edtl and len(task.r2ts) < params.max_outstanding_r2t:
            offset = task.r2t_next
            length = min(params.max_burst_length, edtl - offset)
            self._ttt = ttt = (self._ttt + 1) & 0x7FFFFFFF
            task.r2ts[ttt] = [offset, offset + length, 0]
            task.r2t_next = offset + length
            exp, high = conn.session.window()
            hdr = _build(Opcode.R2T, FINAL, 0, 0, 0, task.lun_field, task.itt, ttt,
                         conn.stat_sn, exp, high, task.r2tsn, offset, length)
            task.r2tsn += 1
            conn.outbox += conn.framer.frame(hdr)
        if not task.r2ts and not task.unsol_open and task.r2t_next >= edtl:
            self._execute(task)

    def data_out(self, pdu: Pdu) -> None:
        bhs = pdu.bhs
        conn = self.conn
        task = conn.session.tasks.get(bhs.itt)
        if task is None and bhs.itt in conn.early_data:
            # its command arrived ahead of CmdSN order (MC/S) and waits: so does its data,
            # within the command's FirstBurstLength (nothing is solicited before it runs)
            early = conn.early_data[bhs.itt]
            if sum(len(p.data) for p in early) + len(pdu.data) <= conn.params.first_burst_length:
                early.append(pdu)
            return
        if task is None or task.conn is not conn or task.executing:
            # Data for a task that was aborted, dropped (CmdSN outside the window) or that
            # already has all its data: discarded, as RFC 7143 4.2.2.1 / 11.5.1 allow.
            log.debug("Data-Out for unknown or complete ITT %#x discarded", bhs.itt)
            return
        data = pdu.data
        n = len(data)
        offset = bhs.w40
        datasn = bhs.w36
        ttt = bhs.w20
        if ttt == RESERVED_TAG:
            if not task.unsol_open:
                return self._fail(task, DATA_PHASE_ERROR, "unsolicited Data-Out not expected")
            if datasn != task.unsol_datasn:
                return self._fail(task, DATA_PHASE_ERROR,
                                  f"DataSN {datasn} != expected {task.unsol_datasn}")
            if offset != task.received:
                return self._fail(task, DATA_OFFSET_ERROR, "Data-Out offset out of order")
            if offset + n > min(conn.params.first_burst_length, task.edtl):
                return self._fail(task, TOO_MUCH_WRITE_DATA, "unsolicited data beyond "
                                  "FirstBurstLength")
            task.parts.append(data)
            task.received = offset + n
            task.unsol_datasn = datasn + 1
            if bhs.flags & FINAL:
                task.unsol_open = False
                task.r2t_next = task.received
                self._solicit(task)
            return
        r2t = task.r2ts.get(ttt)
        if r2t is None:
            return self._fail(task, INVALID_TTT, f"Data-Out for unknown TTT {ttt:#x}")
        if datasn != r2t[2]:
            return self._fail(task, DATA_PHASE_ERROR, f"DataSN {datasn} != expected {r2t[2]}")
        # DataSequenceInOrder=Yes: sequences arrive in offset order, so every segment must
        # continue exactly where the write data so far ends.
        if offset != r2t[0] or offset != task.received or offset + n > r2t[1]:
            return self._fail(task, DATA_OFFSET_ERROR, "Data-Out outside the R2T's range")
        task.parts.append(data)
        task.received = offset + n
        r2t[0] = offset + n
        r2t[2] = datasn + 1
        if bhs.flags & FINAL:
            if r2t[0] != r2t[1]:
                return self._fail(task, DATA_PHASE_ERROR, "Data-Out sequence ended early")
            del task.r2ts[ttt]
            self._solicit(task)

    def _fail(self, task: Task, asc_ascq: tuple[int, int], message: str) -> None:
        """A broken Data-Out sequence ends its command, not the connection: CHECK CONDITION,
        ABORTED COMMAND (SAM-5 / RFC 7143 7.1.4.2); later Data-Out for it is discarded."""
        log.info("ITT %#x: %s", task.itt, message)
        task.r2ts.clear()
        task.executing = True
        self.complete(task, CHECK_CONDITION, b"", _sense(ABORTED_COMMAND, *asc_ascq), None)

    # -- completion ------------------------------------------------------------------------------
    def complete(self, task: Task, status: int, data_in, sense, transfer_length) -> None:
        conn = self.conn
        session = conn.session
        if session.tasks.get(task.itt) is task:
            del session.tasks[task.itt]
        if task.aborted or conn.closed:
            return
        edtl = task.edtl
        res_flags = 0
        residual = 0
        send = 0
        if task.read:
            moved = len(data_in)
            send = moved if moved < edtl else edtl
        else:
            moved = transfer_length
        if moved is None:
            moved = edtl
        if moved > edtl:
            res_flags, residual = RESP_OVERFLOW, moved - edtl
        elif moved < edtl:
            res_flags, residual = RESP_UNDERFLOW, edtl - moved
        exp, high = session.window()
        collapse = send and status == 0 and not sense
        framer = conn.framer
        outbox = conn.outbox
        datasn = 0
        if send:
            params = conn.params
            seg = params.max_send_data_segment
            burst = params.max_burst_length
            if seg > burst:
                seg = burst
            # Whole-buffer single PDUs go out as they are; anything else as memoryview slices.
            view = None if send == len(data_in) and send <= seg else memoryview(data_in)
            lun_field = task.lun_field
            itt = task.itt
            offset = 0
            in_burst = 0
            while offset < send:
                n = send - offset
                if n > seg:
                    n = seg
                end = offset + n
                chunk = data_in if view is None else view[offset:end]
                in_burst += n
                if end == send:
                    if collapse:
                        hdr = _build(_DATA_IN, FINAL | DATAIN_STATUS | res_flags, 0, status, n,
                                     lun_field, itt, RESERVED_TAG, conn.next_stat_sn(), exp,
                                     high, datasn, offset, residual)
                    else:
                        hdr = _build(_DATA_IN, FINAL, 0, 0, n, lun_field, itt, RESERVED_TAG, 0,
                                     exp, high, datasn, offset, 0)
                else:
                    flags = 0
                    if in_burst + seg > burst:
                        flags = FINAL
                        in_burst = 0
                    hdr = _build(_DATA_IN, flags, 0, 0, n, lun_field, itt, RESERVED_TAG, 0,
                                 exp, high, datasn, offset, 0)
                outbox += framer.frame(hdr, chunk)
                datasn += 1
                offset = end
            if collapse:
                return
        payload = (len(sense).to_bytes(2, "big") + bytes(sense)) if sense else b""
        exp_datasn = datasn if task.read else task.r2tsn
        hdr = _build(Opcode.SCSI_RESPONSE, FINAL | res_flags, 0, status, len(payload), 0,
                     task.itt, 0, conn.next_stat_sn(), exp, high, exp_datasn & MASK, 0, residual)
        outbox += framer.frame(hdr, payload)
