"""Logical block provisioning, sans-I/O: UNMAP parameter-list validation and GET LBA STATUS data.

The byte-granular extent map of the backing file (holes from SEEK_HOLE) is turned into
block-granular descriptors: a block counts as mapped when any byte of it is allocated, so a
deallocated report is never wrong about data.
"""
from __future__ import annotations

from dataclasses import dataclass

from .sense import (invalid_field_in_cdb, invalid_field_in_param, lba_out_of_range,
                    param_list_length_error)

UNMAP_HEADER = 8
UNMAP_DESCRIPTOR = 16
LBA_STATUS_MAPPED = 0
LBA_STATUS_DEALLOCATED = 1


@dataclass(frozen=True)
class UnmapCdb:
    anchor: bool
    param_len: int


def decode_unmap_cdb(cdb: bytes) -> UnmapCdb:
    if len(cdb) < 10:
        raise invalid_field_in_cdb(0)
    return UnmapCdb(bool(cdb[1] & 0x01), int.from_bytes(cdb[7:9], "big"))


def decode_unmap_params(data: bytes, param_len: int, *, num_blocks: int, max_descriptors: int,
                        max_blocks: int) -> list[tuple[int, int]]:
    """[(lba, blocks)] of an UNMAP parameter list (SBC-3 5.28.2), validated against capacity."""
    if param_len == 0:
        return []
    if param_len < UNMAP_HEADER or len(data) < param_len:
        raise param_list_length_error()
    data = bytes(data[:param_len])
    data_len = int.from_bytes(data[0:2], "big")
    bd_len = int.from_bytes(data[2:4], "big")
    if data_len and data_len + 2 > param_len:
        raise param_list_length_error()
    if bd_len + UNMAP_HEADER > param_len:
        raise param_list_length_error()
    count = bd_len // UNMAP_DESCRIPTOR  # a trailing partial descriptor is ignored (SBC-3)
    if count > max_descriptors:
        raise invalid_field_in_param(2)
    out = []
    total = 0
    for i in range(count):
        off = UNMAP_HEADER + i * UNMAP_DESCRIPTOR
        lba = int.from_bytes(data[off:off + 8], "big")
        blocks = int.from_bytes(data[off + 8:off + 12], "big")
        if lba + blocks > num_blocks or (lba >= num_blocks and blocks):
            raise lba_out_of_range()
        total += blocks
        if blocks > max_blocks or total > max_blocks:
            raise invalid_field_in_param(off + 8)
        if blocks:
            out.append((lba, blocks))
    return out


def block_status(extents: list[tuple[int, int, bool]], start_lba: int, end_lba: int,
                 block_size: int) -> list[tuple[int, int, int]]:
    """[(lba, blocks, status)] from byte extents, merged, covering [start_lba, end_lba)."""
    out: list[list[int]] = []
    pos = start_lba
    for off, length, mapped in extents:
        if mapped:
            first = off // block_size
            last = -(-(off + length) // block_size)
        else:
            first = -(-off // block_size)
            last = (off + length) // block_size
        first, last = max(first, pos), min(last, end_lba)
        if first > pos:  # a partially deallocated block before this extent: mapped
            _append(out, pos, first, LBA_STATUS_MAPPED)
        if last > first:
            _append(out, first, last,
                    LBA_STATUS_MAPPED if mapped else LBA_STATUS_DEALLOCATED)
            pos = last
        pos = max(pos, first)
    if pos < end_lba:
        # past the end of the extent list: file tail beyond its size reads as a hole
        _append(out, pos, end_lba, LBA_STATUS_DEALLOCATED)
    return [(a, b - a, s) for a, b, s in out]


def _append(out: list[list[int]], start: int, end: int, status: int) -> None:
    if out and out[-1][2] == status and out[-1][1] == start:
        out[-1][1] = end
    else:
        out.append([start, end, status])


def lba_status_data(descriptors: list[tuple[int, int, int]], max_descriptors: int) -> bytes:
    body = b"".join(lba.to_bytes(8, "big") + min(n, 0xFFFFFFFF).to_bytes(4, "big")
                    + bytes([status & 0x0F, 0, 0, 0])
                    for lba, n, status in descriptors[:max(1, max_descriptors)])
    return (len(body) + 4).to_bytes(4, "big") + bytes(4) + body
