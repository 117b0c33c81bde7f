"""Pure-Python reference for native.iscsiread: the iSCSI target's READ fast path (RFC 7143, SBC-3).

serve_reads() walks the SCSI Command PDUs at the head of a receive buffer and answers each plain
READ(10)/READ(16) itself: header checks, CmdSN ordering, the CDB, a page-cache read of the blocks
(preadv2 with RWF_NOWAIT, so it never waits for the disk) and the one Data-In PDU that carries
data and GOOD status (phase collapse). It stops, consuming nothing more, at the first PDU that is
anything else or needs the general path: not a complete 48-byte SCSI Command, immediate or out of
CmdSN order, an AHS, a data segment, a LUN other than 0, an ITT in use, a CDB field the general
decoder would refuse, a range or length it would answer with sense or residuals, a transfer longer
than one Data-In PDU, or blocks not in the page cache. Those PDUs are left in the buffer for the
general path, which answers them exactly as before; so the fast path changes no answer, only how
cheaply the common one is made. The compiled twin (native/_iscsiread_c.pyx) must agree byte for byte.
"""
import os
import struct

BHS_LEN = 48
_RWF_NOWAIT = getattr(os, "RWF_NOWAIT", 8)
_MASK = 0xFFFFFFFF
_HALF = 0x80000000
_RESERVED_TAG = 0xFFFFFFFF

# SCSI Command BHS: byte 0, flags, -, -, TotalAHSLength + DataSegmentLength, LUN, ITT, EDTL,
# CmdSN, (ExpStatSN), CDB bytes 0-1, ...; read as a prefix plus the CDB separately.
_CMD = struct.Struct(">BBxxIQIII")
# Data-In with status: opcode, F|S, 0, status 0, DataSegmentLength, LUN 0, ITT, TTT, StatSN,
# ExpCmdSN, MaxCmdSN, DataSN 0, Buffer Offset 0, Residual 0.
_DATA_IN = struct.Struct(">BBBBIQIIIIIIII")
_U32 = struct.Struct(">I")
_U64_U32 = struct.Struct(">QI")
_U16 = struct.Struct(">H")

OP_SCSI_COMMAND = 0x01
OP_DATA_IN = 0x25
READ_10 = 0x28
READ_16 = 0x88


def serve_reads(buf, start, end, fd, block_size, num_blocks, max_blocks, max_data, tasks,
                exp_cmdsn, max_cmdsn, stat_sn, window, out):
    """Answer the plain READs in buf[start:end]; returns (pos, exp_cmdsn, max_cmdsn, stat_sn).

    buf: the receive buffer; fd: the volume file; block_size, num_blocks: the LU's geometry;
    max_blocks: its MAXIMUM TRANSFER LENGTH; max_data: the most data one Data-In PDU may carry
    (min of the initiator's MaxRecvDataSegmentLength and MaxBurstLength); tasks: the session's
    ITT -> task table (an ITT in it is answered by the general path); exp_cmdsn, max_cmdsn: the
    session's window; stat_sn: the connection's next StatSN; window: the session's command window
    (MaxCmdSN = ExpCmdSN + window - 1 - tasks in flight, never moving back). Each answer is
    appended to out as one bytes-like object (header + data). pos is where the general path
    takes over; the three numbers are the window and StatSN after the answered commands.
    """
    if start < 0 or end > len(buf) or start > end:
        raise ValueError("start/end outside the buffer")
    pos = start
    pack_into = _DATA_IN.pack_into
    unpack_from = _CMD.unpack_from
    while end - pos >= BHS_LEN:
        b0, flags, lengths, lun, itt, edtl, cmdsn = unpack_from(buf, pos)
        if (b0 != OP_SCSI_COMMAND or flags & 0xE0 != 0xC0 or lengths or lun
                or itt == _RESERVED_TAG or cmdsn != exp_cmdsn or itt in tasks):
            break
        cdb = pos + 32
        op = buf[cdb]
        if op == READ_10:
            lba = _U32.unpack_from(buf, cdb + 2)[0]
            blocks = _U16.unpack_from(buf, cdb + 7)[0]
            control = buf[cdb + 9]
        elif op == READ_16:
            lba, blocks = _U64_U32.unpack_from(buf, cdb + 2)
            control = buf[cdb + 15]
        else:
            break
        # RDPROTECT (no protection information here) and NACA: the general decoder refuses them
        if buf[cdb + 1] & 0xE0 or control & 0x04:
            break
        if not blocks or blocks > max_blocks or lba >= num_blocks or lba + blocks > num_blocks:
            break
        length = blocks * block_size
        if length != edtl or length > max_data:
            break
        pdu = bytearray(BHS_LEN + length)
        try:
            got = os.preadv(fd, [memoryview(pdu)[BHS_LEN:]], lba * block_size, _RWF_NOWAIT)
        except OSError:        # EAGAIN (not cached), EOPNOTSUPP...: the general path decides
            break
        if got != length:
            break
        exp_cmdsn = (exp_cmdsn + 1) & _MASK
        proposed = (exp_cmdsn + window - 1 - len(tasks)) & _MASK
        if max_cmdsn != proposed and ((proposed - max_cmdsn) & _MASK) < _HALF:
            max_cmdsn = proposed
        pack_into(pdu, 0, OP_DATA_IN, 0x81, 0, 0, length, 0, itt, _RESERVED_TAG, stat_sn,
                  exp_cmdsn, max_cmdsn, 0, 0, 0)
        stat_sn = (stat_sn + 1) & _MASK
        out.append(pdu)
        pos += BHS_LEN
    return pos, exp_cmdsn, max_cmdsn, stat_sn
