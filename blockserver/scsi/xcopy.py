"""EXTENDED COPY (LID1) and RECEIVE COPY RESULTS, sans-I/O: parameter-list parsing and validation
into a frozen plan, and the data pages that describe this copy manager.

The copy manager copies block ranges within this logical unit only (block-to-block segment
descriptors, 02h) and accepts identification CSCD descriptors (E4h) that name this LU. Every
descriptor is validated before the first block moves, so a refused copy changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass

from .sense import ILLEGAL_REQUEST, ScsiError, invalid_field_in_cdb, invalid_field_in_param, \
    param_list_length_error

COPY_ABORTED = 0xA

HEADER_LEN = 16
CSCD_IDENTIFICATION = 0xE4
CSCD_LEN = 32
SEG_BLOCK_TO_BLOCK = 0x02
SEG_BLOCK_TO_BLOCK_LEN = 28

MAX_CSCD_DESCRIPTORS = 2
MAX_SEGMENT_DESCRIPTORS = 8
MAX_DESCRIPTOR_LIST_LENGTH = 1024
MAX_SEGMENT_BYTES = 32 << 20   # one segment: at most 65535 blocks, bounded in bytes too
HELD_RESULTS = 16              # copy statuses kept per LU for RECEIVE COPY RESULTS

# RECEIVE COPY RESULTS service actions
RCR_COPY_STATUS = 0x00
RCR_OPERATING_PARAMETERS = 0x03

# LIST ID USAGE (SPC-4 table 108)
LIST_ID_HOLD = (0, 1)
LIST_ID_DISCARD = 2
LIST_ID_NONE = 3


def too_many_cscd() -> ScsiError:
    return ScsiError(ILLEGAL_REQUEST, 0x26, 0x06)


def too_many_segments() -> ScsiError:
    return ScsiError(ILLEGAL_REQUEST, 0x26, 0x08)


def unsupported_cscd_type(byte: int) -> ScsiError:
    return ScsiError(ILLEGAL_REQUEST, 0x26, 0x07, field_byte=byte, in_cdb=False)


def unsupported_segment_type(byte: int) -> ScsiError:
    return ScsiError(ILLEGAL_REQUEST, 0x26, 0x09, field_byte=byte, in_cdb=False)


def target_unreachable() -> ScsiError:
    return ScsiError(COPY_ABORTED, 0x0D, 0x02)  # COPY TARGET DEVICE NOT REACHABLE


def copy_failed() -> ScsiError:
    return ScsiError(COPY_ABORTED, 0x00, 0x00)


@dataclass(frozen=True)
class Segment:
    src_lba: int
    dst_lba: int
    blocks: int


@dataclass(frozen=True)
class CopyPlan:
    list_id: int
    list_id_usage: int
    segments: tuple[Segment, ...]


def decode_xcopy(cdb: bytes, data: bytes, *, designators: list[bytes], block_size: int,
                 num_blocks: int) -> CopyPlan | None:
    """Validate an EXTENDED COPY (LID1) parameter list; None when the list is empty.

    designators: the identification descriptors (code set, type, length, value: bytes 4-27 of an
    E4h CSCD descriptor) that name this LU.
    """
    if cdb[1] & 0x1F != 0:  # LID4 (01h) and the token-based service actions are not offered
        raise invalid_field_in_cdb(1, 4)
    plen = int.from_bytes(cdb[10:14], "big")
    if plen == 0:
        return None
    if plen < HEADER_LEN or len(data) < plen:
        raise param_list_length_error()
    data = bytes(data[:plen])
    list_id, usage = data[0], (data[1] >> 3) & 0x03
    if data[1] & 0x20:  # STR (sequential striped): not offered
        raise invalid_field_in_param(1, 5)
    cscd_len = int.from_bytes(data[2:4], "big")
    seg_len = int.from_bytes(data[8:12], "big")
    inline_len = int.from_bytes(data[12:16], "big")
    if HEADER_LEN + cscd_len + seg_len + inline_len > plen:
        raise param_list_length_error()
    if cscd_len + seg_len > MAX_DESCRIPTOR_LIST_LENGTH:
        raise param_list_length_error()
    if inline_len:
        raise invalid_field_in_param(12)
    if usage == LIST_ID_NONE and list_id != 0:
        raise invalid_field_in_param(0)
    if cscd_len % CSCD_LEN:
        raise invalid_field_in_param(2)
    if cscd_len // CSCD_LEN > MAX_CSCD_DESCRIPTORS:
        raise too_many_cscd()
    targets = []
    for i in range(cscd_len // CSCD_LEN):
        off = HEADER_LEN + i * CSCD_LEN
        targets.append(_cscd(data[off:off + CSCD_LEN], off, designators, block_size))
    segments = []
    pos, end = HEADER_LEN + cscd_len, HEADER_LEN + cscd_len + seg_len
    while pos < end:
        if pos + 4 > end:
            raise param_list_length_error()
        kind = data[pos]
        length = 4 + int.from_bytes(data[pos + 2:pos + 4], "big")
        if len(segments) >= MAX_SEGMENT_DESCRIPTORS:
            raise too_many_segments()
        if kind != SEG_BLOCK_TO_BLOCK:
            raise unsupported_segment_type(pos)
        if length != SEG_BLOCK_TO_BLOCK_LEN or pos + length > end:
            raise param_list_length_error()
        segments.append(_segment(data[pos:pos + length], len(targets), block_size, num_blocks))
        pos += length
    return CopyPlan(list_id, usage, tuple(segments))


def _cscd(desc: bytes, off: int, designators: list[bytes], block_size: int) -> int:
    if desc[0] != CSCD_IDENTIFICATION:
        raise unsupported_cscd_type(off)
    # Byte 1 bits 7-6 (LU ID TYPE) are ignored: SPC-4 made them obsolete (libiscsi checks that
    # an SPC-4 device ignores a reserved value there).
    if desc[1] & 0x20:            # NUL (obsolete): the null device is not a copy target here
        raise target_unreachable()
    if desc[1] & 0x1F != 0:       # peripheral device type: block devices only
        raise target_unreachable()
    length = desc[7]
    designator = bytes(desc[4:8 + min(length, 20)])
    if not any(designator[:2] == d[:2] and designator[3:] == d[3:] for d in designators):
        raise target_unreachable()
    disk_block = int.from_bytes(desc[29:32], "big")
    if disk_block != block_size:
        raise target_unreachable()
    return 0


def _segment(desc: bytes, n_targets: int, block_size: int, num_blocks: int) -> Segment:
    src, dst = int.from_bytes(desc[4:6], "big"), int.from_bytes(desc[6:8], "big")
    if src >= n_targets or dst >= n_targets:
        raise target_unreachable()
    blocks = int.from_bytes(desc[10:12], "big")
    src_lba, dst_lba = int.from_bytes(desc[12:20], "big"), int.from_bytes(desc[20:28], "big")
    if src_lba + blocks > num_blocks or dst_lba + blocks > num_blocks:
        raise copy_failed()
    if blocks * block_size > MAX_SEGMENT_BYTES:
        raise copy_failed()
    return Segment(src_lba, dst_lba, blocks)


def copy_status(segments: int, bytes_moved: int) -> bytes:
    """COPY STATUS data for a copy that completed without errors."""
    units, count = 0, bytes_moved
    while count > 0xFFFFFFFF:  # TRANSFER COUNT UNITS: bytes, KiB, MiB, ... (powers of 2^10)
        units, count = units + 1, count >> 10
    body = bytes([0x01]) + segments.to_bytes(2, "big") + bytes([units]) + count.to_bytes(4, "big")
    return len(body).to_bytes(4, "big") + body


def operating_parameters() -> bytes:
    body = bytearray(44 - 4)
    body[0] = 0x01                                           # SNLID: LIST ID USAGE 11b allowed
    body[4:6] = MAX_CSCD_DESCRIPTORS.to_bytes(2, "big")
    body[6:8] = MAX_SEGMENT_DESCRIPTORS.to_bytes(2, "big")
    body[8:12] = MAX_DESCRIPTOR_LIST_LENGTH.to_bytes(4, "big")
    body[12:16] = MAX_SEGMENT_BYTES.to_bytes(4, "big")
    body[16:20] = (0).to_bytes(4, "big")                     # no inline data
    body[20:24] = (0).to_bytes(4, "big")                     # no held data
    body[30:32] = (1).to_bytes(2, "big")                     # total concurrent copies
    body[32] = 1                                             # maximum concurrent copies
    body[33] = 9                                             # data segment granularity: 512
    implemented = bytes([SEG_BLOCK_TO_BLOCK, CSCD_IDENTIFICATION])
    body[39] = len(implemented)
    out = bytes(body) + implemented
    return len(out).to_bytes(4, "big") + out


def _tpc_descriptor(kind: int, body: bytes) -> bytes:
    body += bytes(-len(body) % 4)
    return kind.to_bytes(2, "big") + len(body).to_bytes(2, "big") + body


def third_party_copy_vpd() -> bytes:
    """Third-party Copy VPD page (8Fh) body: what a LID1 copy manager must describe."""
    commands = bytes([0x83, 1, 0x00, 0x84, 2, RCR_COPY_STATUS, RCR_OPERATING_PARAMETERS])
    supported_commands = _tpc_descriptor(0x0001, bytes([len(commands)]) + commands)
    params = bytearray(28)
    params[4:6] = MAX_CSCD_DESCRIPTORS.to_bytes(2, "big")
    params[6:8] = MAX_SEGMENT_DESCRIPTORS.to_bytes(2, "big")
    params[8:12] = MAX_DESCRIPTOR_LIST_LENGTH.to_bytes(4, "big")
    parameter_data = _tpc_descriptor(0x0004, bytes(params))
    descs = bytes([SEG_BLOCK_TO_BLOCK, CSCD_IDENTIFICATION])
    supported_descriptors = _tpc_descriptor(0x0008, bytes([len(descs)]) + descs)
    supported_cscd_ids = _tpc_descriptor(0x000C, (0).to_bytes(2, "big"))
    return supported_commands + parameter_data + supported_descriptors + supported_cscd_ids
