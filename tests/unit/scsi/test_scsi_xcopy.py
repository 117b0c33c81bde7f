"""EXTENDED COPY (LID1) within the LU and RECEIVE COPY RESULTS, with every refusal path."""
import os

from scsi_unit_support import BLOCK_SIZE, BLOCKS, NEXUS2, cdb10, sense_of

from blockserver.scsi import xcopy

PLEN_ERR = (0x5, 0x1A, 0x00)
NAA = bytes.fromhex("6001405deadbeef00123456789abcdef")


def cscd(kind=0xE4, naa=NAA, flags=0, block=BLOCK_SIZE) -> bytes:
    d = bytearray(32)
    d[0], d[1] = kind, flags
    d[4], d[5], d[7] = 0x01, 0x03, len(naa)
    d[8:8 + len(naa)] = naa
    d[29:32] = block.to_bytes(3, "big")
    return bytes(d)


def seg(src_lba, dst_lba, blocks, src=0, dst=0, kind=0x02) -> bytes:
    d = bytearray(28)
    d[0], d[3] = kind, 0x18
    d[4:6], d[6:8] = src.to_bytes(2, "big"), dst.to_bytes(2, "big")
    d[10:12] = blocks.to_bytes(2, "big")
    d[12:20], d[20:28] = src_lba.to_bytes(8, "big"), dst_lba.to_bytes(8, "big")
    return bytes(d)


def plist(targets, segments, list_id=1, usage=0) -> bytes:
    t, s = b"".join(targets), b"".join(segments)
    hdr = bytes([list_id, usage << 3]) + len(t).to_bytes(2, "big") + bytes(4) + \
        len(s).to_bytes(4, "big") + bytes(4)
    return hdr + t + s


def xcopy_cdb(plen: int, sa: int = 0) -> bytes:
    return bytes([0x83, sa]) + bytes(8) + plen.to_bytes(4, "big") + b"\0\0"


def rcr(sa: int, list_id: int = 1, alloc: int = 1024) -> bytes:
    return bytes([0x84, sa, list_id]) + bytes(7) + alloc.to_bytes(4, "big") + b"\0\0"


async def test_copy_moves_blocks_and_reports_status(lu, file_bytes):
    data = os.urandom(16 * BLOCK_SIZE)
    assert (await lu.run(cdb10(0x2A, 0, 16), data)).status == 0
    p = plist([cscd()], [seg(0, 100, 16), seg(4, 200, 4)])
    assert (await lu.run(xcopy_cdb(len(p)), p)).status == 0
    assert file_bytes(100 * BLOCK_SIZE, len(data)) == data
    assert file_bytes(200 * BLOCK_SIZE, 4 * BLOCK_SIZE) == data[4 * BLOCK_SIZE:8 * BLOCK_SIZE]
    st = (await lu.run(rcr(0))).data_in
    assert st[4] == 0x01 and int.from_bytes(st[5:7], "big") == 2
    assert int.from_bytes(st[8:12], "big") == 20 * BLOCK_SIZE
    assert sense_of(await lu.run(rcr(0))) == (0x5, 0x24, 0x00)   # reported once
    assert sense_of(await lu.run(rcr(0), nexus=NEXUS2)) == (0x5, 0x24, 0x00)


async def test_overlapping_copy_forward(lu, file_bytes):
    data = os.urandom(8 * BLOCK_SIZE)
    assert (await lu.run(cdb10(0x2A, 10, 8), data)).status == 0
    p = plist([cscd()], [seg(10, 12, 8)], usage=2)
    assert (await lu.run(xcopy_cdb(len(p)), p)).status == 0
    assert file_bytes(12 * BLOCK_SIZE, len(data)) == data
    assert sense_of(await lu.run(rcr(0))) == (0x5, 0x24, 0x00)   # usage 10b: not held


async def test_refusals_change_nothing(lu, file_bytes):
    cases = [
        (plist([cscd()], [seg(0, 100, 1)])[:40], PLEN_ERR),
        (plist([cscd()] * 3, [seg(0, 1, 1)]), (0x5, 0x26, 0x06)),
        (plist([cscd()], [seg(0, 1, 1)] * 9), (0x5, 0x26, 0x08)),
        (plist([cscd(kind=0xE0)], [seg(0, 1, 1)]), (0x5, 0x26, 0x07)),
        (plist([cscd()], [seg(0, 1, 1, kind=0x03)]), (0x5, 0x26, 0x09)),
        (plist([cscd(naa=b"\x60" + bytes(15))], [seg(0, 1, 1)]), (0xA, 0x0D, 0x02)),
        (plist([cscd(flags=0x20)], [seg(0, 1, 1)]), (0xA, 0x0D, 0x02)),
        (plist([cscd(block=4096)], [seg(0, 1, 1)]), (0xA, 0x0D, 0x02)),
        (plist([cscd()], [seg(0, 1, 1, dst=1)]), (0xA, 0x0D, 0x02)),
        (plist([cscd()], [seg(0, 1, 1), seg(0, BLOCKS - 1, 2)]), (0xA, 0x00, 0x00)),
    ]
    assert (await lu.run(cdb10(0x2A, 0, 2), b"\x42" * 2 * BLOCK_SIZE)).status == 0
    for params, expected in cases:
        res = await lu.run(xcopy_cdb(len(params)), params)
        assert sense_of(res) == expected, expected
    assert file_bytes(BLOCK_SIZE, BLOCK_SIZE) == b"\x42" * BLOCK_SIZE      # block 1 untouched
    assert file_bytes((BLOCKS - 1) * BLOCK_SIZE) == bytes(BLOCK_SIZE)
    assert (await lu.run(xcopy_cdb(0))).status == 0                         # empty list: no-op
    p = plist([cscd()], [seg(0, 1, 1)])
    assert sense_of(await lu.run(xcopy_cdb(len(p), sa=1), p)) == (0x5, 0x24, 0x00)  # LID4


async def test_operating_parameters_and_vpd(lu):
    d = (await lu.run(rcr(3))).data_in
    assert int.from_bytes(d[0:4], "big") == len(d) - 4
    assert int.from_bytes(d[8:10], "big") == xcopy.MAX_CSCD_DESCRIPTORS
    assert int.from_bytes(d[10:12], "big") == xcopy.MAX_SEGMENT_DESCRIPTORS
    assert set(d[44:44 + d[43]]) == {0x02, 0xE4}
    inq = (await lu.run(bytes([0x12, 0, 0, 0, 96, 0]))).data_in
    assert inq[5] & 0x08                                                    # 3PC
    vpd = (await lu.run(bytes([0x12, 1, 0x8F, 1, 0, 0]))).data_in
    assert vpd[1] == 0x8F and vpd[4:6] == b"\x00\x01"                      # supported commands
    assert bytes([0x83, 1, 0x00]) in vpd and bytes([0x84, 2, 0x00, 0x03]) in vpd


async def test_read_only_lu_refuses_copy(backing):
    from blockserver.scsi import LogicalUnit
    from scsi_unit_support import Driver
    d = Driver(LogicalUnit(backing, serial="vol-0001", device_id=NAA, read_only=True))
    await d.login()
    p = plist([cscd()], [seg(0, 1, 1)])
    assert sense_of(await d.run(xcopy_cdb(len(p)), p)) == (0x7, 0x27, 0x00)
