"""REPORT SUPPORTED OPERATION CODES and REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS data.

One table lists every command this LU executes with its CDB usage map (which bits of each CDB
byte it looks at, SPC-4 6.35.3); the LU's dispatcher and this table are checked against each
other by a unit test so that the report cannot drift from what is implemented.
"""
from __future__ import annotations

from . import cdb as C
from .sense import invalid_field_in_cdb

F = 0xFF
CTL = 0x07  # CONTROL byte: NACA/obsolete bits as SPC-4 lists them

# (opcode, service action or None, usage map)
_TABLE = (
    (C.TEST_UNIT_READY, None, [0x00, 0, 0, 0, 0, CTL]),
    (C.REQUEST_SENSE, None, [0x03, 0x01, 0, 0, F, CTL]),
    (C.READ_6, None, [0x08, 0x1F, F, F, F, CTL]),
    (C.WRITE_6, None, [0x0A, 0x1F, F, F, F, CTL]),
    (C.INQUIRY, None, [0x12, 0x01, F, F, F, CTL]),
    (C.MODE_SELECT_6, None, [0x15, 0x11, 0, 0, F, CTL]),
    (C.RESERVE_6, None, [0x16, 0, 0, 0, 0, CTL]),
    (C.RELEASE_6, None, [0x17, 0, 0, 0, 0, CTL]),
    (C.MODE_SENSE_6, None, [0x1A, 0x08, F, F, F, CTL]),
    (C.START_STOP_UNIT, None, [0x1B, 0x01, 0, 0x0F, 0xF7, CTL]),
    (C.PREVENT_ALLOW, None, [0x1E, 0, 0, 0, 0x03, CTL]),
    (C.READ_CAPACITY_10, None, [0x25, 0, 0, 0, 0, 0, 0, 0, 0, CTL]),
    (C.READ_10, None, [0x28, 0x18, F, F, F, F, 0x1F, F, F, CTL]),
    (C.WRITE_10, None, [0x2A, 0x18, F, F, F, F, 0x1F, F, F, CTL]),
    (C.WRITE_VERIFY_10, None, [0x2E, 0x12, F, F, F, F, 0x1F, F, F, CTL]),
    (C.VERIFY_10, None, [0x2F, 0x12, F, F, F, F, 0x1F, F, F, CTL]),
    (C.PRE_FETCH_10, None, [0x34, 0x02, F, F, F, F, 0x1F, F, F, CTL]),
    (C.SYNCHRONIZE_CACHE_10, None, [0x35, 0x02, F, F, F, F, 0x1F, F, F, CTL]),
    (C.READ_DEFECT_DATA_10, None, [0x37, 0, 0x1F, 0, 0, 0, 0, F, F, CTL]),
    (C.WRITE_SAME_10, None, [0x41, 0x08, F, F, F, F, 0x1F, F, F, CTL]),
    (C.UNMAP, None, [0x42, 0x00, 0, 0, 0, 0, 0x1F, F, F, CTL]),
    (C.MODE_SELECT_10, None, [0x55, 0x11, 0, 0, 0, 0, 0, F, F, CTL]),
    (C.MODE_SENSE_10, None, [0x5A, 0x18, F, F, 0, 0, 0, F, F, CTL]),
    (C.PERSISTENT_RESERVE_IN, 0x00, [0x5E, 0x1F, 0, 0, 0, 0, 0, F, F, CTL]),
    (C.PERSISTENT_RESERVE_IN, 0x01, [0x5E, 0x1F, 0, 0, 0, 0, 0, F, F, CTL]),
    (C.PERSISTENT_RESERVE_IN, 0x02, [0x5E, 0x1F, 0, 0, 0, 0, 0, F, F, CTL]),
    (C.PERSISTENT_RESERVE_IN, 0x03, [0x5E, 0x1F, 0, 0, 0, 0, 0, F, F, CTL]),
    *((C.PERSISTENT_RESERVE_OUT, sa, [0x5F, 0x1F, F, 0, 0, F, F, F, F, CTL]) for sa in range(7)),
    (C.EXTENDED_COPY, 0x00, [0x83, 0x1F, 0, 0, 0, 0, 0, 0, 0, 0, F, F, F, F, 0, CTL]),
    (C.RECEIVE_COPY_RESULTS, 0x00, [0x84, 0x1F, F, 0, 0, 0, 0, 0, 0, 0, F, F, F, F, 0, CTL]),
    (C.RECEIVE_COPY_RESULTS, 0x03, [0x84, 0x1F, 0, 0, 0, 0, 0, 0, 0, 0, F, F, F, F, 0, CTL]),
    (C.READ_16, None, [0x88, 0x18, F, F, F, F, F, F, F, F, F, F, F, F, 0x1F, CTL]),
    (C.COMPARE_AND_WRITE, None, [0x89, 0x18, F, F, F, F, F, F, F, F, 0, 0, 0, F, 0x1F, CTL]),
    (C.WRITE_16, None, [0x8A, 0x18, F, F, F, F, F, F, F, F, F, F, F, F, 0x1F, CTL]),
    (C.ORWRITE_16, None, [0x8B, 0x18, F, F, F, F, F, F, F, F, F, F, F, F, 0x1F, CTL]),
    (C.WRITE_VERIFY_16, None, [0x8E, 0x12, F, F, F, F, F, F, F, F, F, F, F, F, 0x1F, CTL]),
    (C.VERIFY_16, None, [0x8F, 0x12, F, F, F, F, F, F, F, F, F, F, F, F, 0x1F, CTL]),
    (C.PRE_FETCH_16, None, [0x90, 0x02, F, F, F, F, F, F, F, F, F, F, F, F, 0x1F, CTL]),
    (C.SYNCHRONIZE_CACHE_16, None, [0x91, 0x02, F, F, F, F, F, F, F, F, F, F, F, F, 0x1F, CTL]),
    (C.WRITE_SAME_16, None, [0x93, 0x09, F, F, F, F, F, F, F, F, F, F, F, F, 0x1F, CTL]),
    (C.SERVICE_ACTION_IN_16, C.SAI_READ_CAPACITY_16,
     [0x9E, 0x1F, 0, 0, 0, 0, 0, 0, 0, 0, F, F, F, F, 0, CTL]),
    (C.SERVICE_ACTION_IN_16, C.SAI_GET_LBA_STATUS,
     [0x9E, 0x1F, F, F, F, F, F, F, F, F, F, F, F, F, 0, CTL]),
    (C.REPORT_LUNS, None, [0xA0, 0, F, 0, 0, 0, F, F, F, F, 0, CTL]),
    (C.MAINTENANCE_IN, C.MI_REPORT_SUPPORTED_OPCODES,
     [0xA3, 0x1F, 0x87, F, F, F, F, F, F, F, 0, CTL]),
    (C.MAINTENANCE_IN, C.MI_REPORT_SUPPORTED_TMFS, [0xA3, 0x1F, 0x80, 0, 0, 0, F, F, F, F, 0, CTL]),
    (C.READ_12, None, [0xA8, 0x18, F, F, F, F, F, F, F, F, 0x1F, CTL]),
    (C.WRITE_12, None, [0xAA, 0x18, F, F, F, F, F, F, F, F, 0x1F, CTL]),
    (C.READ_DEFECT_DATA_12, None, [0xB7, 0x1F, 0, 0, 0, 0, F, F, F, F, 0, CTL]),
    (C.WRITE_VERIFY_12, None, [0xAE, 0x12, F, F, F, F, F, F, F, F, 0x1F, CTL]),
    (C.VERIFY_12, None, [0xAF, 0x12, F, F, F, F, F, F, F, F, 0x1F, CTL]),
)
COMMANDS: tuple[tuple[int, int | None, bytes], ...] = tuple(
    (op, sa, bytes(usage)) for op, sa, usage in _TABLE)

# Nominal and recommended timeouts (seconds) in the command timeouts descriptor.
NOMINAL_TIMEOUT = 5
RECOMMENDED_TIMEOUT = 30

_WITH_SA = {op for op, sa, _ in COMMANDS if sa is not None}


def supported(opcode: int, sa: int | None) -> bool:
    return any(op == opcode and s == sa for op, s, _ in COMMANDS)


def _timeouts() -> bytes:
    return (bytes([0x00, 0x0A, 0, 0]) + NOMINAL_TIMEOUT.to_bytes(4, "big")
            + RECOMMENDED_TIMEOUT.to_bytes(4, "big"))


def report_supported_opcodes(cdb: bytes, exclude: frozenset[int] = frozenset()) -> bytes:
    """The RSOC answer; `exclude` drops opcodes this particular LU refuses (UNMAP when thick)."""
    commands = [c for c in COMMANDS if c[0] not in exclude]
    rctd = bool(cdb[2] & 0x80)
    options = cdb[2] & 0x07
    req_op = cdb[3]
    req_sa = int.from_bytes(cdb[4:6], "big")
    if options == 0:
        out = b""
        for op, sa, usage in commands:
            flags = (0x02 if rctd else 0) | (0x01 if sa is not None else 0)
            out += bytes([op, 0]) + (sa or 0).to_bytes(2, "big") + bytes([0, flags])
            out += len(usage).to_bytes(2, "big")
            if rctd:
                out += _timeouts()
        return len(out).to_bytes(4, "big") + out
    if options == 1:
        if req_op in _WITH_SA:
            raise invalid_field_in_cdb(2, 2)
        match = [u for op, sa, u in commands if op == req_op and sa is None]
    elif options == 2:
        if req_op not in _WITH_SA:
            raise invalid_field_in_cdb(2, 2)
        match = [u for op, sa, u in commands if op == req_op and sa == req_sa]
    elif options == 3:
        match = [u for op, sa, u in commands
                 if op == req_op and (sa == req_sa if op in _WITH_SA else req_sa == 0)]
    else:
        raise invalid_field_in_cdb(2, 2)
    if not match:
        return bytes([0, 0x01, 0, 0])  # SUPPORT 001b: not supported
    usage = match[0]
    head = bytes([0, (0x80 if rctd else 0) | 0x03]) + len(usage).to_bytes(2, "big")
    return head + usage + (_timeouts() if rctd else b"")


def report_supported_tmfs(cdb: bytes) -> bytes:
    # ABORT TASK, ABORT TASK SET, CLEAR TASK SET, LOGICAL UNIT RESET; I_T NEXUS RESET.
    if cdb[2] & 0x80:  # REPD: the extended format
        return bytes([0xD8, 0x01, 0, 0x0C]) + bytes(12)
    return bytes([0xD8, 0x01, 0, 0])
