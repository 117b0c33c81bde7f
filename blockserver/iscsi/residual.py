"""Write residuals (RFC 7143 11.4.5.2): what a write CDB asks to move vs. the iSCSI EDTL.

The LU returns read data in full, so read residuals fall out of its length. For writes the
transport works out the SCSI transfer length from the CDB, and when the initiator's Expected
Data Transfer Length is shorter it clamps the CDB's block count to what EDTL covers: the target
then writes only data it received (libiscsi's iSCSIResiduals checks exactly this).
"""
from __future__ import annotations

# opcode -> (offset, size) of the TRANSFER LENGTH field in blocks
_WRITE_LENGTH = {
    0x2A: (7, 2), 0x2E: (7, 2),               # WRITE(10), WRITE AND VERIFY(10)
    0xAA: (6, 4), 0xAE: (6, 4),               # WRITE(12), WRITE AND VERIFY(12)
    0x8A: (10, 4), 0x8E: (10, 4), 0x8B: (10, 4),  # WRITE(16), WRITE AND VERIFY(16), ORWRITE(16)
}
WRITE_6 = 0x0A
WRITE_SAME_10 = 0x41
WRITE_SAME_16 = 0x93
COMPARE_AND_WRITE = 0x89


def write_transfer(cdb: bytes, edtl: int, block_size: int) -> tuple[int | None, bytes]:
    """(bytes the CDB transfers or None when unknown, the CDB to execute)."""
    if not cdb:
        return None, cdb
    op = cdb[0]
    field = _WRITE_LENGTH.get(op)
    if field is not None:
        offset, size = field
        if len(cdb) < offset + size:
            return None, cdb
        blocks = int.from_bytes(cdb[offset:offset + size], "big")
        wanted = blocks * block_size
        if wanted > edtl:
            clamped = (edtl // block_size).to_bytes(size, "big")
            cdb = cdb[:offset] + clamped + cdb[offset + size:]
        return wanted, cdb
    if op == WRITE_6 and len(cdb) >= 6:
        return (cdb[4] or 256) * block_size, cdb
    if op in (WRITE_SAME_10, WRITE_SAME_16) and len(cdb) >= 10:
        ndob = op == WRITE_SAME_16 and cdb[1] & 0x01
        return 0 if ndob else block_size, cdb
    if op == COMPARE_AND_WRITE and len(cdb) >= 14:
        return 2 * cdb[13] * block_size, cdb
    return None, cdb
