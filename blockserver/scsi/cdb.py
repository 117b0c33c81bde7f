"""Sans-I/O decoding of SCSI CDBs: bytes in, a frozen decoded command out, or ScsiError.

Block commands (READ/WRITE/VERIFY/WRITE SAME/...) all decode to one BlockCdb: the differences that
matter to the executor are the flags, not the layout. Range checks against the capacity live in
the executor, since they need the LU's size; everything a CDB alone can get wrong is caught here.
"""
from __future__ import annotations

from dataclasses import dataclass

from .sense import ScsiError, invalid_field_in_cdb, invalid_opcode

# Operation codes (SPC-4 / SBC-3)
TEST_UNIT_READY = 0x00
REQUEST_SENSE = 0x03
FORMAT_UNIT = 0x04
READ_6 = 0x08
WRITE_6 = 0x0A
INQUIRY = 0x12
MODE_SELECT_6 = 0x15
RESERVE_6 = 0x16
RELEASE_6 = 0x17
MODE_SENSE_6 = 0x1A
START_STOP_UNIT = 0x1B
SEND_DIAGNOSTIC = 0x1D
PREVENT_ALLOW = 0x1E
READ_CAPACITY_10 = 0x25
READ_10 = 0x28
WRITE_10 = 0x2A
WRITE_VERIFY_10 = 0x2E
VERIFY_10 = 0x2F
PRE_FETCH_10 = 0x34
READ_DEFECT_DATA_10 = 0x37
SYNCHRONIZE_CACHE_10 = 0x35
WRITE_SAME_10 = 0x41
UNMAP = 0x42
SANITIZE = 0x48
MODE_SELECT_10 = 0x55
MODE_SENSE_10 = 0x5A
PERSISTENT_RESERVE_IN = 0x5E
PERSISTENT_RESERVE_OUT = 0x5F
EXTENDED_COPY = 0x83
RECEIVE_COPY_RESULTS = 0x84
READ_16 = 0x88
COMPARE_AND_WRITE = 0x89
WRITE_16 = 0x8A
ORWRITE_16 = 0x8B
WRITE_VERIFY_16 = 0x8E
VERIFY_16 = 0x8F
PRE_FETCH_16 = 0x90
SYNCHRONIZE_CACHE_16 = 0x91
WRITE_SAME_16 = 0x93
SERVICE_ACTION_IN_16 = 0x9E
REPORT_LUNS = 0xA0
MAINTENANCE_IN = 0xA3
READ_12 = 0xA8
WRITE_12 = 0xAA
WRITE_VERIFY_12 = 0xAE
READ_DEFECT_DATA_12 = 0xB7
VERIFY_12 = 0xAF

# Service actions
SAI_READ_CAPACITY_16 = 0x10
SAI_GET_LBA_STATUS = 0x12
MI_REPORT_SUPPORTED_OPCODES = 0x0C
MI_REPORT_SUPPORTED_TMFS = 0x0D

# CDB length by group code (top 3 bits of the opcode); groups 3/6/7 are reserved/vendor.
_GROUP_LEN = {0: 6, 1: 10, 2: 10, 4: 16, 5: 12}


def cdb_length(opcode: int) -> int:
    return _GROUP_LEN.get(opcode >> 5, 16)


def _u(cdb: bytes, start: int, n: int) -> int:
    return int.from_bytes(cdb[start:start + n], "big")


@dataclass(frozen=True)
class BlockCdb:
    """A command that addresses a range of logical blocks."""
    opcode: int
    lba: int
    blocks: int
    dpo: bool = False
    fua: bool = False
    bytchk: int = 0        # VERIFY / WRITE AND VERIFY: 0 = medium check only, 1 = compare
    immed: bool = False    # PRE-FETCH / SYNCHRONIZE CACHE
    unmap: bool = False    # WRITE SAME
    anchor: bool = False   # WRITE SAME / UNMAP
    ndob: bool = False     # WRITE SAME 16: no data-out buffer, write zeroes

    @property
    def end(self) -> int:
        return self.lba + self.blocks


def _protect(cdb: bytes) -> None:
    # RD/WR/VRPROTECT: this LU has no protection information, so any non-zero value is invalid.
    if cdb[1] & 0xE0:
        raise invalid_field_in_cdb(1, 7)


def _check_len(cdb: bytes) -> None:
    if len(cdb) < cdb_length(cdb[0]):
        raise invalid_field_in_cdb(0)


def decode_block(cdb: bytes) -> BlockCdb:
    """Decode a block-addressed CDB; raises ScsiError for a malformed one."""
    if not cdb:
        raise invalid_opcode()
    _check_len(cdb)
    op = cdb[0]
    b1 = cdb[1]
    dpo, fua = bool(b1 & 0x10), bool(b1 & 0x08)
    if op in (READ_6, WRITE_6):
        blocks = cdb[4] or 256  # SBC: a TRANSFER LENGTH of 0 means 256 blocks for the 6-byte form
        return BlockCdb(op, _u(cdb, 1, 3) & 0x1FFFFF, blocks)
    if op in (READ_10, WRITE_10):
        _protect(cdb)
        return BlockCdb(op, _u(cdb, 2, 4), _u(cdb, 7, 2), dpo, fua)
    if op in (READ_12, WRITE_12):
        _protect(cdb)
        return BlockCdb(op, _u(cdb, 2, 4), _u(cdb, 6, 4), dpo, fua)
    if op in (READ_16, WRITE_16, ORWRITE_16):
        _protect(cdb)
        return BlockCdb(op, _u(cdb, 2, 8), _u(cdb, 10, 4), dpo, fua)
    if op in (VERIFY_10, VERIFY_12, VERIFY_16, WRITE_VERIFY_10, WRITE_VERIFY_12, WRITE_VERIFY_16):
        _protect(cdb)
        bytchk = (b1 >> 1) & 0x03
        if op in (VERIFY_10, VERIFY_12, VERIFY_16):
            # BYTCHK 10b is reserved; 11b (compare one block against all) is not offered here.
            if bytchk in (2, 3):
                raise invalid_field_in_cdb(1, 2)
        elif bytchk > 1:
            raise invalid_field_in_cdb(1, 2)
        fua = op in (WRITE_VERIFY_10, WRITE_VERIFY_12, WRITE_VERIFY_16)  # verify ⇒ from medium
        if op in (VERIFY_10, WRITE_VERIFY_10):
            lba, blocks = _u(cdb, 2, 4), _u(cdb, 7, 2)
        elif op in (VERIFY_12, WRITE_VERIFY_12):
            lba, blocks = _u(cdb, 2, 4), _u(cdb, 6, 4)
        else:
            lba, blocks = _u(cdb, 2, 8), _u(cdb, 10, 4)
        return BlockCdb(op, lba, blocks, dpo, fua, bytchk=bytchk)
    if op in (PRE_FETCH_10, SYNCHRONIZE_CACHE_10):
        return BlockCdb(op, _u(cdb, 2, 4), _u(cdb, 7, 2), immed=bool(b1 & 0x02))
    if op in (PRE_FETCH_16, SYNCHRONIZE_CACHE_16):
        return BlockCdb(op, _u(cdb, 2, 8), _u(cdb, 10, 4), immed=bool(b1 & 0x02))
    if op == WRITE_SAME_10:
        _protect(cdb)
        if b1 & 0x01:  # NDOB only exists in the 16-byte form
            raise invalid_field_in_cdb(1, 0)
        return BlockCdb(op, _u(cdb, 2, 4), _u(cdb, 7, 2), unmap=bool(b1 & 0x08),
                        anchor=bool(b1 & 0x10))
    if op == WRITE_SAME_16:
        _protect(cdb)
        return BlockCdb(op, _u(cdb, 2, 8), _u(cdb, 10, 4), unmap=bool(b1 & 0x08),
                        anchor=bool(b1 & 0x10), ndob=bool(b1 & 0x01))
    if op == COMPARE_AND_WRITE:
        _protect(cdb)
        return BlockCdb(op, _u(cdb, 2, 8), cdb[13], dpo, fua)
    raise invalid_opcode()


BLOCK_OPCODES = frozenset({
    READ_6, WRITE_6, READ_10, WRITE_10, READ_12, WRITE_12, READ_16, WRITE_16, ORWRITE_16,
    VERIFY_10, VERIFY_12, VERIFY_16, WRITE_VERIFY_10, WRITE_VERIFY_12, WRITE_VERIFY_16,
    PRE_FETCH_10, PRE_FETCH_16, SYNCHRONIZE_CACHE_10, SYNCHRONIZE_CACHE_16,
    WRITE_SAME_10, WRITE_SAME_16, COMPARE_AND_WRITE,
})
READ_OPCODES = frozenset({READ_6, READ_10, READ_12, READ_16})
WRITE_OPCODES = frozenset({WRITE_6, WRITE_10, WRITE_12, WRITE_16})
VERIFY_OPCODES = frozenset({VERIFY_10, VERIFY_12, VERIFY_16})
WRITE_VERIFY_OPCODES = frozenset({WRITE_VERIFY_10, WRITE_VERIFY_12, WRITE_VERIFY_16})
# Commands that change the medium: refused on a read-only LU and under a write reservation.
MEDIUM_WRITERS = WRITE_OPCODES | WRITE_VERIFY_OPCODES | frozenset({
    WRITE_SAME_10, WRITE_SAME_16, UNMAP, COMPARE_AND_WRITE, ORWRITE_16, SANITIZE, FORMAT_UNIT,
    EXTENDED_COPY})


@dataclass(frozen=True)
class AllocCdb:
    """A command whose only interesting fields are a selector and an allocation length."""
    opcode: int
    alloc_len: int
    evpd: bool = False
    page: int = 0
    service_action: int = 0


def decode_inquiry(cdb: bytes) -> AllocCdb:
    _check_len(cdb)
    evpd = bool(cdb[1] & 0x01)
    if cdb[1] & 0xFE:  # CMDDT (obsolete) and reserved bits
        raise invalid_field_in_cdb(1, 1 if cdb[1] & 0x02 else None)
    if not evpd and cdb[2]:
        raise invalid_field_in_cdb(2)
    return AllocCdb(INQUIRY, _u(cdb, 3, 2), evpd, cdb[2])


def decode_report_luns(cdb: bytes) -> AllocCdb:
    _check_len(cdb)
    select = cdb[2]
    alloc = _u(cdb, 6, 4)
    if select not in (0x00, 0x01, 0x02, 0x10, 0x11, 0x12):
        raise invalid_field_in_cdb(2)
    if alloc < 16:  # SPC-4: fewer than 16 bytes of allocation length is an invalid field
        raise invalid_field_in_cdb(6)
    return AllocCdb(REPORT_LUNS, alloc, page=select)


@dataclass(frozen=True)
class ModeSenseCdb:
    opcode: int
    dbd: bool
    llbaa: bool
    pc: int          # page control: 0 current, 1 changeable, 2 default, 3 saved
    page: int
    subpage: int
    alloc_len: int


def decode_mode_sense(cdb: bytes) -> ModeSenseCdb:
    _check_len(cdb)
    op = cdb[0]
    alloc = cdb[4] if op == MODE_SENSE_6 else _u(cdb, 7, 2)
    llbaa = op == MODE_SENSE_10 and bool(cdb[1] & 0x10)
    return ModeSenseCdb(op, bool(cdb[1] & 0x08), llbaa, cdb[2] >> 6, cdb[2] & 0x3F, cdb[3], alloc)


@dataclass(frozen=True)
class ModeSelectCdb:
    opcode: int
    pf: bool
    sp: bool
    param_len: int


def decode_mode_select(cdb: bytes) -> ModeSelectCdb:
    _check_len(cdb)
    op = cdb[0]
    plen = cdb[4] if op == MODE_SELECT_6 else _u(cdb, 7, 2)
    return ModeSelectCdb(op, bool(cdb[1] & 0x10), bool(cdb[1] & 0x01), plen)


def transfer_length(cdb: bytes, block_size: int) -> int | None:
    """Bytes of data the CDB itself asks to move (data-out for writes, at most this much data-in
    for reads), for the transport's residual accounting; None when the CDB does not say."""
    if not cdb:
        return None
    op = cdb[0]
    if len(cdb) < cdb_length(op):
        return None
    try:
        if op in BLOCK_OPCODES:
            req = decode_block(cdb)
            if op in (PRE_FETCH_10, PRE_FETCH_16, SYNCHRONIZE_CACHE_10, SYNCHRONIZE_CACHE_16):
                return 0
            if op in VERIFY_OPCODES and req.bytchk == 0:
                return 0
            if op in (WRITE_SAME_10, WRITE_SAME_16):
                return 0 if req.ndob else block_size
            if op == COMPARE_AND_WRITE:
                return 2 * req.blocks * block_size
            return req.blocks * block_size
    except ScsiError:
        return None
    if op in (INQUIRY, MODE_SENSE_6, REQUEST_SENSE):
        return int.from_bytes(cdb[3:5], "big") if op == INQUIRY else cdb[4]
    if op in (MODE_SELECT_6,):
        return cdb[4]
    if op in (MODE_SENSE_10, MODE_SELECT_10, PERSISTENT_RESERVE_IN, UNMAP):
        return int.from_bytes(cdb[7:9], "big")
    if op == PERSISTENT_RESERVE_OUT:
        return int.from_bytes(cdb[5:9], "big")
    if op in (REPORT_LUNS, MAINTENANCE_IN):
        return int.from_bytes(cdb[6:10], "big")
    if op in (SERVICE_ACTION_IN_16, EXTENDED_COPY, RECEIVE_COPY_RESULTS):
        return int.from_bytes(cdb[10:14], "big")
    if op == READ_CAPACITY_10:
        return 8
    if op == READ_DEFECT_DATA_10:
        return int.from_bytes(cdb[7:9], "big")
    if op == READ_DEFECT_DATA_12:
        return int.from_bytes(cdb[6:10], "big")
    if op in (TEST_UNIT_READY, START_STOP_UNIT, PREVENT_ALLOW, RESERVE_6, RELEASE_6):
        return 0
    return None
