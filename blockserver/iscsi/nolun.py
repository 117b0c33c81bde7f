"""Answers for a LUN this target does not have (SPC-4 4.6.4 / SAM-5 5.8.2), sans-I/O.

Every target exports one LU at LUN 0. For any other LUN, INQUIRY reports "peripheral qualifier
3: no device" and REPORT LUNS lists LUN 0, so initiators can scan; everything else is CHECK
CONDITION, ILLEGAL REQUEST, LOGICAL UNIT NOT SUPPORTED.
"""
from __future__ import annotations

GOOD = 0x00
CHECK_CONDITION = 0x02
INQUIRY = 0x12
REPORT_LUNS = 0xA0
REQUEST_SENSE = 0x03
ILLEGAL_REQUEST = 0x05
LU_NOT_SUPPORTED = (0x25, 0x00)
HARDWARE_ERROR = 0x04
INTERNAL_TARGET_FAILURE = (0x44, 0x00)


def fixed_sense(key: int, asc: int, ascq: int) -> bytes:
    """18 bytes of fixed-format (70h) sense data."""
    return bytes([0x70, 0, key, 0, 0, 0, 0, 10, 0, 0, 0, 0, asc, ascq, 0, 0, 0, 0])


def respond(cdb: bytes) -> tuple[int, bytes, bytes]:
    """(status, data_in, sense) for `cdb` sent to a LUN that does not exist."""
    op = cdb[0] if cdb else -1
    if op == INQUIRY and len(cdb) >= 6:
        if cdb[1] & 1:              # EVPD for a missing LU: no pages
            return CHECK_CONDITION, b"", fixed_sense(ILLEGAL_REQUEST, *LU_NOT_SUPPORTED)
        alloc = int.from_bytes(cdb[3:5], "big")
        data = bytes([0x7F, 0, 0x06, 0x02, 31, 0, 0, 0]) + b"STRATO  " + b"NO LUN".ljust(16) \
            + b"0001"
        return GOOD, data[:alloc], b""
    if op == REPORT_LUNS and len(cdb) >= 12:
        alloc = int.from_bytes(cdb[6:10], "big")
        data = (8).to_bytes(4, "big") + bytes(4) + bytes(8)
        return GOOD, data[:alloc], b""
    if op == REQUEST_SENSE and len(cdb) >= 6:
        return GOOD, fixed_sense(ILLEGAL_REQUEST, *LU_NOT_SUPPORTED)[:cdb[4]], b""
    return CHECK_CONDITION, b"", fixed_sense(ILLEGAL_REQUEST, *LU_NOT_SUPPORTED)
