"""READ/WRITE 6/10/12/16, capacity, TUR and the basic sense paths against a real sparse file."""
import os

import pytest
from scsi_unit_support import BLOCK_SIZE, BLOCKS, cdb10, cdb12, cdb16, sense_of

ILLEGAL, OOB, INVALID_CDB = 0x5, (0x5, 0x21, 0x00), (0x5, 0x24, 0x00)


async def test_write_read_roundtrip_all_sizes(lu, file_bytes):
    pattern = os.urandom(4 * BLOCK_SIZE)
    for wop, rop, make in ((0x2A, 0x28, cdb10), (0xAA, 0xA8, cdb12), (0x8A, 0x88, cdb16)):
        res = await lu.run(make(wop, 100, 4), pattern)
        assert res.status == 0, res
        res = await lu.run(make(rop, 100, 4))
        assert res.status == 0 and res.data_in == pattern
    assert file_bytes(100 * BLOCK_SIZE, len(pattern)) == pattern


async def test_read6_write6_zero_means_256(lu):
    data = bytes([7]) * (256 * BLOCK_SIZE)
    res = await lu.run(bytes([0x0A, 0, 0, 10, 0, 0]), data)
    assert res.status == 0
    res = await lu.run(bytes([0x08, 0, 0, 10, 0, 0]))
    assert res.data_in == data


@pytest.mark.parametrize("make,op", [(cdb10, 0x28), (cdb12, 0xA8), (cdb16, 0x88),
                                     (cdb10, 0x2A), (cdb16, 0x8A)])
async def test_beyond_end_is_lba_out_of_range(lu, make, op):
    data = bytes(2 * BLOCK_SIZE)
    for lba, n in ((BLOCKS - 1, 2), (BLOCKS, 1), (BLOCKS + 1, 0), (0xFFFFFFFF, 1)):
        res = await lu.run(make(op, lba, n), data)
        assert res.status == 2 and sense_of(res) == OOB, (lba, n)
    if make is cdb16:
        res = await lu.run(make(op, 2 ** 64 - 1, 1), data)
        assert sense_of(res) == OOB


async def test_zero_blocks_is_good(lu):
    res = await lu.run(cdb10(0x28, 0, 0))
    assert res.status == 0 and res.data_in == b""


async def test_rdprotect_is_invalid_field(lu):
    res = await lu.run(cdb10(0x28, 0, 1, 0x20))
    assert res.status == 2 and sense_of(res) == INVALID_CDB
    # field pointer: SKSV | C/D, byte 1 (fixed format bytes 15-17)
    assert res.sense[15] & 0xC0 == 0xC0 and res.sense[16:18] == b"\x00\x01"


async def test_fua_write_reaches_file(lu, file_bytes):
    res = await lu.run(cdb10(0x2A, 5, 1, 0x08), b"\xAB" * BLOCK_SIZE)
    assert res.status == 0
    assert file_bytes(5 * BLOCK_SIZE, BLOCK_SIZE) == b"\xAB" * BLOCK_SIZE


async def test_short_data_out_writes_only_whole_blocks_received(lu, file_bytes):
    # iSCSI EDTL below the CDB length: the target writes what arrived (RFC 7143 residuals).
    res = await lu.run(cdb10(0x2A, 0, 2), b"\x11" * BLOCK_SIZE)
    assert res.status == 0
    assert file_bytes(0, 2 * BLOCK_SIZE) == b"\x11" * BLOCK_SIZE + bytes(BLOCK_SIZE)
    res = await lu.run(cdb10(0x2A, 4, 1), b"\x22" * 200)   # a partial block is never written
    assert res.status == 0 and file_bytes(4 * BLOCK_SIZE, BLOCK_SIZE) == bytes(BLOCK_SIZE)
    assert lu.lu.transfer_length(cdb10(0x2A, 0, 2)) == 2 * BLOCK_SIZE


async def test_read_capacity_10_and_16(lu):
    res = await lu.run(bytes([0x25]) + bytes(9))
    assert res.data_in == (BLOCKS - 1).to_bytes(4, "big") + BLOCK_SIZE.to_bytes(4, "big")
    res = await lu.run(bytes([0x9E, 0x10]) + bytes(8) + (32).to_bytes(4, "big") + bytes(2))
    assert len(res.data_in) == 32
    assert int.from_bytes(res.data_in[0:8], "big") == BLOCKS - 1
    assert res.data_in[14] & 0xC0 == 0xC0  # LBPME, LBPRZ
    res = await lu.run(bytes([0x9E, 0x10]) + bytes(8) + (15).to_bytes(4, "big") + bytes(2))
    assert len(res.data_in) == 15
    # READ CAPACITY 10 with an LBA but no PMI
    res = await lu.run(bytes([0x25, 0, 0, 0, 0, 1, 0, 0, 0, 0]))
    assert sense_of(res) == INVALID_CDB


async def test_unknown_opcode(lu):
    res = await lu.run(bytes([0xC5]) + bytes(15))
    assert res.status == 2 and sense_of(res) == (0x5, 0x20, 0x00)


async def test_first_command_of_a_nexus_gets_power_on_ua(backing):
    from scsi_unit_support import Driver, NEXUS
    from blockserver.scsi import LogicalUnit
    d = Driver(LogicalUnit(backing, serial="s", device_id=bytes(8)))
    res = await d.run(bytes([0x12, 0, 0, 0, 36, 0]))  # INQUIRY does not report the UA
    assert res.status == 0
    res = await d.run(bytes(6))
    assert res.status == 2 and sense_of(res) == (0x6, 0x29, 0x00)
    res = await d.run(bytes(6))
    assert res.status == 0
    d.lu.nexus_lost(NEXUS)
    res = await d.run(bytes(6))
    assert sense_of(res) == (0x6, 0x29, 0x00)


async def test_capacity_change_ua_after_extend(lu, volume_path):
    with open(volume_path, "r+b") as f:
        f.truncate((BLOCKS + 8) * BLOCK_SIZE)
    await lu.lu.backing.refresh()
    lu.lu.capacity_changed()
    res = await lu.run(bytes(6))
    assert sense_of(res) == (0x6, 0x2A, 0x09)
    res = await lu.run(bytes([0x25]) + bytes(9))
    assert int.from_bytes(res.data_in[:4], "big") == BLOCKS + 7


async def test_request_sense_returns_and_clears_ua(lu):
    lu.lu.reset()
    res = await lu.run(bytes([0x03, 0, 0, 0, 18, 0]))
    assert res.status == 0 and res.data_in[0] == 0x70
    assert (res.data_in[2], res.data_in[12], res.data_in[13]) == (0x6, 0x29, 0x03)
    res = await lu.run(bytes([0x03, 1, 0, 0, 252, 0]))  # DESC: descriptor format, no sense
    assert res.data_in[:4] == bytes([0x72, 0, 0, 0])


async def test_tur_and_report_luns(lu):
    assert (await lu.run(bytes(6))).status == 0
    res = await lu.run(bytes([0xA0, 0, 0, 0, 0, 0]) + (16).to_bytes(4, "big") + bytes(2))
    assert res.data_in == (8).to_bytes(4, "big") + bytes(4) + bytes(8)
    res = await lu.run(bytes([0xA0, 0, 0, 0, 0, 0]) + (8).to_bytes(4, "big") + bytes(2))
    assert sense_of(res) == INVALID_CDB


async def test_start_stop_unit(lu):
    res = await lu.run(bytes([0x1B, 0, 0, 0, 0x02, 0]))  # LOEJ on non-removable
    assert sense_of(res) == INVALID_CDB
    assert (await lu.run(bytes([0x1B, 0, 0, 0, 0x00, 0]))).status == 0   # stop
    res = await lu.run(cdb10(0x28, 0, 1))
    assert sense_of(res) == (0x2, 0x04, 0x02)
    assert (await lu.run(bytes([0x1B, 0, 0, 0, 0x01, 0]))).status == 0   # start
    assert (await lu.run(cdb10(0x28, 0, 1))).status == 0


async def test_abort_task_and_lun_reset_end_a_stalled_command(volume_path):
    """A command stuck behind a stalled disk thread is aborted (TASK ABORTED) and the LU keeps
    serving once the disk moves again."""
    import asyncio
    import concurrent.futures
    import threading

    from blockserver.backing import FileBacking
    from blockserver.scsi import LogicalUnit
    from scsi_unit_support import NEXUS, Driver

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    gate = threading.Event()
    backing = FileBacking(volume_path, pool)
    try:
        d = Driver(LogicalUnit(backing, serial="s", device_id=bytes(8)))
        await d.login()
        pool.submit(gate.wait)                              # the only disk thread is busy
        # a write: reads of cached data never wait for a disk thread
        running = asyncio.ensure_future(d.run(cdb10(0x2A, 0, 1), bytes(BLOCK_SIZE)))
        await asyncio.sleep(0.05)
        assert d.lu.abort_task(d.tag, NEXUS)
        assert (await asyncio.wait_for(running, 5)).status == 0x40
        assert not d.lu.abort_task(d.tag, NEXUS)          # nothing left to abort
        running = asyncio.ensure_future(d.run(cdb10(0x2A, 0, 1), bytes(BLOCK_SIZE)))
        await asyncio.sleep(0.05)
        d.lu.reset()
        assert (await asyncio.wait_for(running, 5)).status == 0x40
        gate.set()
        res = await d.run(bytes(6))
        assert sense_of(res) == (0x6, 0x29, 0x03)
        assert (await d.run(cdb10(0x28, 0, 1))).status == 0
    finally:
        gate.set()
        backing.close()
        pool.shutdown(wait=True)


async def test_naca_in_control_byte_is_refused(lu):
    res = await lu.run(cdb10(0x28, 0, 1)[:9] + b"\x04")
    assert sense_of(res) == INVALID_CDB and res.sense[16:18] == b"\x00\x09"
    res = await lu.run(bytes([0, 0, 0, 0, 0, 0x04]))
    assert sense_of(res) == INVALID_CDB
