"""Thin provisioning: UNMAP (parameter-list validation), WRITE SAME (UNMAP/NDOB/ANCHOR/0 blocks),
GET LBA STATUS, and the pure helpers behind them."""
import os

import pytest
from scsi_unit_support import BLOCK_SIZE, BLOCKS, cdb10, cdb16, sense_of

from blockserver.scsi import provisioning as P
from blockserver.scsi.sense import ScsiError

OOB, INVALID_CDB, INVALID_PARAM = (0x5, 0x21, 0), (0x5, 0x24, 0), (0x5, 0x26, 0)
PLEN_ERR = (0x5, 0x1A, 0)


def unmap_cdb(plen: int, anchor: int = 0) -> bytes:
    return bytes([0x42, anchor, 0, 0, 0, 0, 0]) + plen.to_bytes(2, "big") + b"\0"


def unmap_params(*ranges, bd_len=None) -> bytes:
    descs = b"".join(l.to_bytes(8, "big") + n.to_bytes(4, "big") + bytes(4) for l, n in ranges)
    bd = len(descs) if bd_len is None else bd_len
    return (len(descs) + 6).to_bytes(2, "big") + bd.to_bytes(2, "big") + bytes(4) + descs


def get_lba_status(lba: int, alloc: int = 64) -> bytes:
    return bytes([0x9E, 0x12]) + lba.to_bytes(8, "big") + alloc.to_bytes(4, "big") + b"\0\0"


def descriptors(data: bytes):
    n = (int.from_bytes(data[0:4], "big") - 4) // 16
    return [(int.from_bytes(data[8 + 16 * i:16 + 16 * i], "big"),
             int.from_bytes(data[16 + 16 * i:20 + 16 * i], "big"), data[20 + 16 * i] & 0x0F)
            for i in range(n)]


async def fill(lu, lba, n, byte=b"\xAA"):
    res = await lu.run(cdb10(0x2A, lba, n), byte * (n * BLOCK_SIZE))
    assert res.status == 0


async def test_unmap_deallocates_and_reads_zero(lu, volume_path):
    await fill(lu, 0, 256)
    params = unmap_params((0, 128))
    res = await lu.run(unmap_cdb(len(params)), params)
    assert res.status == 0
    data = (await lu.run(cdb10(0x28, 0, 256))).data_in
    assert data[:128 * BLOCK_SIZE] == bytes(128 * BLOCK_SIZE)
    assert data[128 * BLOCK_SIZE:] == b"\xAA" * (128 * BLOCK_SIZE)
    st = descriptors((await lu.run(get_lba_status(0))).data_in)
    assert st[0] == (0, 128, 1) and st[1][0] == 128 and st[1][2] == 0


async def test_unmap_validation(lu):
    p = unmap_params((BLOCKS - 1, 2))
    assert sense_of(await lu.run(unmap_cdb(len(p)), p)) == OOB
    assert sense_of(await lu.run(unmap_cdb(4), bytes(4))) == PLEN_ERR
    p = unmap_params((0, 1), bd_len=64)   # block descriptor length beyond the list
    assert sense_of(await lu.run(unmap_cdb(len(p)), p)) == PLEN_ERR
    p = unmap_params((0, 1))
    assert sense_of(await lu.run(unmap_cdb(len(p), anchor=1), p)) == INVALID_CDB
    assert (await lu.run(unmap_cdb(0))).status == 0                     # empty list: no-op
    p = unmap_params((0, 0))
    assert (await lu.run(unmap_cdb(len(p)), p)).status == 0             # zero blocks: no-op


def test_unmap_params_limits():
    p = unmap_params(*[(i, 1) for i in range(5)])
    with pytest.raises(ScsiError) as e:
        P.decode_unmap_params(p, len(p), num_blocks=100, max_descriptors=4, max_blocks=100)
    assert (e.value.asc, e.value.in_cdb) == (0x26, False)
    with pytest.raises(ScsiError):
        P.decode_unmap_params(p, len(p), num_blocks=100, max_descriptors=8, max_blocks=3)
    # a trailing partial descriptor is ignored
    p = unmap_params((1, 2)) + bytes(4)
    p = (len(p) - 2).to_bytes(2, "big") + (20).to_bytes(2, "big") + p[4:]
    assert P.decode_unmap_params(p, len(p), num_blocks=100, max_descriptors=8,
                                 max_blocks=100) == [(1, 2)]


async def test_write_same_pattern_unmap_ndob(lu, file_bytes):
    block = os.urandom(BLOCK_SIZE)
    res = await lu.run(cdb10(0x41, 10, 20), block)
    assert res.status == 0 and file_bytes(10 * BLOCK_SIZE, 20 * BLOCK_SIZE) == block * 20
    res = await lu.run(cdb16(0x93, 10, 20, 0x08), block)               # UNMAP bit
    assert res.status == 0 and file_bytes(10 * BLOCK_SIZE, 20 * BLOCK_SIZE) == bytes(20 * BLOCK_SIZE)
    await fill(lu, 40, 4)
    res = await lu.run(cdb16(0x93, 40, 4, 0x01))                        # NDOB: zeroes, no data
    assert res.status == 0 and file_bytes(40 * BLOCK_SIZE, 4 * BLOCK_SIZE) == bytes(4 * BLOCK_SIZE)


async def test_write_same_errors(lu, file_bytes):
    block = b"\x55" * BLOCK_SIZE
    assert sense_of(await lu.run(cdb10(0x41, 0, 1, 0x10), block)) == INVALID_CDB   # ANCHOR
    assert sense_of(await lu.run(cdb10(0x41, 0, 1, 0x01), block)) == INVALID_CDB   # NDOB in 10
    assert sense_of(await lu.run(cdb10(0x41, 0, 1), block[:100])) == INVALID_CDB   # short data
    assert sense_of(await lu.run(cdb10(0x41, 0, 1), block * 2)) == INVALID_CDB    # long data
    assert sense_of(await lu.run(cdb10(0x41, BLOCKS - 1, 2), block)) == OOB
    assert sense_of(await lu.run(cdb16(0x93, 2 ** 63, 1), block)) == OOB
    assert sense_of(await lu.run(cdb10(0x41, 0, 1, 0x20), block)) == INVALID_CDB   # WRPROTECT
    assert file_bytes(0, BLOCK_SIZE) == bytes(BLOCK_SIZE)


async def test_write_same_zero_blocks_runs_to_the_end(lu, file_bytes):
    block = b"\x77" * BLOCK_SIZE
    res = await lu.run(cdb10(0x41, BLOCKS - 3, 0), block)
    assert res.status == 0
    assert file_bytes((BLOCKS - 3) * BLOCK_SIZE) == block * 3
    assert sense_of(await lu.run(cdb10(0x41, BLOCKS, 0), block)) == OOB


async def test_get_lba_status_errors_and_alloc(lu):
    assert sense_of(await lu.run(get_lba_status(BLOCKS))) == OOB
    res = await lu.run(get_lba_status(0, alloc=24))
    assert len(res.data_in) == 24 and descriptors(res.data_in)[0][0] == 0
    res = await lu.run(get_lba_status(5, alloc=4))
    assert len(res.data_in) == 4


async def test_get_lba_status_descriptor_starts_at_requested_lba(lu):
    await fill(lu, 0, 64)
    st = descriptors((await lu.run(get_lba_status(3))).data_in)
    assert st[0][0] == 3 and st[0][2] == 0


def test_block_status_rounding():
    # bytes: [0,4096) hole, [4096,8192) data, [8192, 10240) hole; 512-byte blocks
    ext = [(0, 4096, False), (4096, 4096, True), (8192, 2048, False)]
    assert P.block_status(ext, 0, 20, 512) == [(0, 8, 1), (8, 8, 0), (16, 4, 1)]
    # a hole that does not cover a whole block leaves it mapped
    ext = [(0, 700, True), (700, 1348, False)]
    assert P.block_status(ext, 0, 4, 512) == [(0, 2, 0), (2, 2, 1)]
