"""VERIFY (BYTCHK 0/1), WRITE AND VERIFY, COMPARE AND WRITE, ORWRITE, SYNCHRONIZE CACHE and
PRE-FETCH."""
import asyncio

import pytest
from scsi_unit_support import BLOCK_SIZE, BLOCKS, cdb10, cdb12, cdb16, sense_of

OOB, INVALID_CDB = (0x5, 0x21, 0), (0x5, 0x24, 0)
MISCOMPARE = (0xE, 0x1D, 0x00)


async def fill(lu, lba, data):
    assert (await lu.run(cdb10(0x2A, lba, len(data) // BLOCK_SIZE), data)).status == 0


@pytest.mark.parametrize("make,op", [(cdb10, 0x2F), (cdb12, 0xAF), (cdb16, 0x8F)])
async def test_verify_bytchk(lu, make, op):
    data = b"\x5A" * (4 * BLOCK_SIZE)
    await fill(lu, 8, data)
    assert (await lu.run(make(op, 8, 4, 0x02), data)).status == 0
    bad = bytearray(data)
    bad[1000] ^= 1
    res = await lu.run(make(op, 8, 4, 0x02), bytes(bad))
    assert res.status == 2 and sense_of(res) == MISCOMPARE
    assert res.sense[0] & 0x80 and int.from_bytes(res.sense[3:7], "big") == 1000
    assert (await lu.run(make(op, 8, 4, 0x00))).status == 0           # medium check only
    assert sense_of(await lu.run(make(op, BLOCKS, 1, 0x02), data)) == OOB
    assert sense_of(await lu.run(make(op, 8, 4, 0x04), data)) == INVALID_CDB  # BYTCHK 10b
    assert sense_of(await lu.run(make(op, 8, 4, 0x20), data)) == INVALID_CDB  # VRPROTECT


async def test_write_and_verify(lu, file_bytes):
    data = b"\x3C" * (2 * BLOCK_SIZE)
    for make, op in ((cdb10, 0x2E), (cdb12, 0xAE), (cdb16, 0x8E)):
        assert (await lu.run(make(op, 30, 2, 0x02), data)).status == 0
        assert sense_of(await lu.run(make(op, BLOCKS - 1, 2), data)) == OOB
    assert file_bytes(30 * BLOCK_SIZE, len(data)) == data


def caw(lba: int, blocks: int, flags: int = 0) -> bytes:
    return bytes([0x89, flags]) + lba.to_bytes(8, "big") + bytes(3) + bytes([blocks, 0, 0])


async def test_compare_and_write(lu, file_bytes):
    old, new = b"A" * (2 * BLOCK_SIZE), b"B" * (2 * BLOCK_SIZE)
    await fill(lu, 50, old)
    assert (await lu.run(caw(50, 2), old + new)).status == 0
    assert file_bytes(50 * BLOCK_SIZE, len(new)) == new
    res = await lu.run(caw(50, 2), old + new)          # medium is B now: miscompare at 0
    assert sense_of(res) == MISCOMPARE and int.from_bytes(res.sense[3:7], "big") == 0
    wrong = bytearray(new)
    wrong[777] = 0
    res = await lu.run(caw(50, 2), bytes(wrong) + old)
    assert sense_of(res) == MISCOMPARE and int.from_bytes(res.sense[3:7], "big") == 777
    assert file_bytes(50 * BLOCK_SIZE, len(new)) == new   # untouched after a miscompare
    assert sense_of(await lu.run(caw(50, 2), new)) == INVALID_CDB          # data size
    assert sense_of(await lu.run(caw(50, 0), new)) == INVALID_CDB          # "256" blocks
    assert sense_of(await lu.run(caw(BLOCKS - 1, 2), new + old)) == OOB


async def test_compare_and_write_is_atomic_between_racers(lu, file_bytes):
    old = b"A" * BLOCK_SIZE
    await fill(lu, 70, old)
    results = await asyncio.gather(*(lu.run(caw(70, 1), old + bytes([65 + i]) * BLOCK_SIZE)
                                     for i in range(1, 9)))
    assert sum(r.status == 0 for r in results) == 1     # exactly one saw the old data


async def test_orwrite(lu, file_bytes):
    await fill(lu, 90, b"\x0F" * BLOCK_SIZE)
    res = await lu.run(cdb16(0x8B, 90, 1), b"\xF0" * BLOCK_SIZE)
    assert res.status == 0 and file_bytes(90 * BLOCK_SIZE, BLOCK_SIZE) == b"\xFF" * BLOCK_SIZE
    assert sense_of(await lu.run(cdb16(0x8B, BLOCKS, 1), b"\0" * BLOCK_SIZE)) == OOB


async def test_sync_cache_and_prefetch(lu):
    for make, op in ((cdb10, 0x35), (cdb16, 0x91), (cdb10, 0x34), (cdb16, 0x90)):
        assert (await lu.run(make(op, 0, 0))).status == 0
        assert (await lu.run(make(op, 0, 16, 0x02))).status == 0
        assert sense_of(await lu.run(make(op, BLOCKS, 1))) == OOB
        assert sense_of(await lu.run(make(op, BLOCKS - 1, 2))) == OOB


async def test_write_protected_lu(backing):
    from blockserver.scsi import LogicalUnit
    from scsi_unit_support import Driver
    d = Driver(LogicalUnit(backing, serial="ro", device_id=b"\x02" * 8, read_only=True))
    await d.login()
    for cdb, data in ((cdb10(0x2A, 0, 1), bytes(BLOCK_SIZE)), (cdb10(0x41, 0, 1), bytes(BLOCK_SIZE)),
                      (caw(0, 1), bytes(2 * BLOCK_SIZE)), (cdb10(0x2E, 0, 1), bytes(BLOCK_SIZE))):
        assert sense_of(await d.run(cdb, data)) == (0x7, 0x27, 0x00)
    assert (await d.run(cdb10(0x28, 0, 1))).status == 0
    ms = (await d.run(bytes([0x1A, 0, 0x3F, 0, 255, 0]))).data_in
    assert ms[2] & 0x80                                      # WP in the mode header
