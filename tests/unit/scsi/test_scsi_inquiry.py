"""INQUIRY: standard data, every VPD page, allocation-length trimming and bad fields."""
import pytest
from scsi_unit_support import sense_of

INVALID_CDB = (0x5, 0x24, 0x00)


def inq(evpd: int, page: int, alloc: int) -> bytes:
    return bytes([0x12, evpd, page]) + alloc.to_bytes(2, "big") + b"\0"


async def test_standard_inquiry(lu):
    res = await lu.run(inq(0, 0, 255))
    d = res.data_in
    assert res.status == 0 and len(d) == 96 and d[4] == 91
    assert d[0] == 0 and d[1] & 0x80 == 0 and d[2] == 6 and d[3] & 0x0F == 2
    assert d[7] & 0x02                       # CMDQUE
    assert d[8:16] == b"STRATO  " and d[16:32] == b"VOLUME".ljust(16)
    descs = {int.from_bytes(d[58 + 2 * i:60 + 2 * i], "big") for i in range(8)}
    assert {0x0460, 0x04C0, 0x0960} <= descs


async def test_alloc_length_trims(lu):
    for n in (0, 1, 5, 36):
        res = await lu.run(inq(0, 0, n))
        assert res.status == 0 and len(res.data_in) == n


async def test_page_code_without_evpd_is_invalid(lu):
    res = await lu.run(inq(0, 0x80, 255))
    assert sense_of(res) == INVALID_CDB


async def test_unknown_vpd_page_is_invalid(lu):
    res = await lu.run(inq(1, 0xC7, 255))
    assert sense_of(res) == INVALID_CDB
    assert res.sense[15] == 0xC0 and res.sense[16:18] == b"\x00\x02"  # field pointer: byte 2


async def test_supported_pages_all_answer(lu):
    res = await lu.run(inq(1, 0, 255))
    pages = res.data_in[4:4 + res.data_in[3]]
    assert list(pages) == sorted(pages) and {0x00, 0x80, 0x83, 0xB0, 0xB1, 0xB2} <= set(pages)
    for page in pages:
        r = await lu.run(inq(1, page, 255))
        assert r.status == 0 and r.data_in[1] == page
        assert len(r.data_in) == 4 + int.from_bytes(r.data_in[2:4], "big")


async def test_serial_and_device_id(lu):
    res = await lu.run(inq(1, 0x80, 255))
    assert res.data_in[4:] == b"vol-0001"
    res = await lu.run(inq(1, 0x83, 255))
    d = res.data_in
    # first designator: NAA (type 3), binary, LU association, our 16-byte id
    assert d[4] & 0x0F == 1 and d[5] & 0x3F == 0x03 and d[7] == 16
    assert d[8:24] == bytes.fromhex("6001405deadbeef00123456789abcdef")


async def test_block_limits_and_provisioning(lu):
    bl = (await lu.run(inq(1, 0xB0, 64))).data_in
    assert len(bl) == 64 and bl[3] == 0x3C
    assert int.from_bytes(bl[20:24], "big") > 0        # MAXIMUM UNMAP LBA COUNT
    assert int.from_bytes(bl[24:28], "big") > 0        # MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT
    assert bl[5] == 255                                # MAXIMUM COMPARE AND WRITE LENGTH
    lbp = (await lu.run(inq(1, 0xB2, 64))).data_in
    assert lbp[5] & 0xE0 == 0xE0 and lbp[5] & 0x04      # LBPU LBPWS LBPWS10, LBPRZ


async def test_thick_lu_reports_no_provisioning(backing):
    from blockserver.scsi import LogicalUnit
    from scsi_unit_support import Driver
    d = Driver(LogicalUnit(backing, serial="t", device_id=b"\x01" * 8, thin=False))
    await d.login()
    lbp = (await d.run(inq(1, 0xB2, 64))).data_in
    assert lbp[5] == 0
    res = await d.run(bytes([0x42]) + bytes(9))
    assert sense_of(res) == (0x5, 0x20, 0x00)          # UNMAP: invalid opcode
    rc = (await d.run(bytes([0x9E, 0x10]) + bytes(8) + (32).to_bytes(4, "big") + bytes(2)))
    assert rc.data_in[14] & 0x80 == 0
    st = (await d.run(bytes([0x9E, 0x12]) + (5).to_bytes(8, "big") + (24).to_bytes(4, "big")
                      + bytes(2))).data_in
    assert int.from_bytes(st[8:16], "big") == 5 and st[20] == 0           # all mapped
    one = bytes([0xA3, 0x0C, 0x01, 0x42, 0, 0]) + (64).to_bytes(4, "big") + bytes(2)
    assert (await d.run(one)).data_in[1] & 0x07 == 1                      # UNMAP not listed


@pytest.mark.parametrize("cdb", [bytes([0x12, 0x02, 0, 0, 255, 0]), bytes([0x12, 0x04, 0, 0, 9, 0])])
async def test_reserved_bits_are_invalid(lu, cdb):
    assert sense_of(await lu.run(cdb)) == INVALID_CDB


async def test_write_same_limit_is_consistent_with_transfer_limit(tmp_path, executor):
    """With 4 KiB blocks MAXIMUM TRANSFER LENGTH is below 65536 blocks, so WRITE SAME is capped
    at 65535 blocks; 512-byte LUs report no write-same limit."""
    from blockserver.backing import FileBacking
    from blockserver.scsi import LogicalUnit
    from scsi_unit_support import Driver
    path = tmp_path / "4k.img"
    path.write_bytes(b"")
    import os
    os.truncate(path, 512 << 20)                                # sparse: 131072 blocks
    backing = FileBacking(str(path), executor)
    try:
        d = Driver(LogicalUnit(backing, serial="4k", device_id=bytes(8), block_size=4096))
        await d.login()
        bl = (await d.run(inq(1, 0xB0, 64))).data_in
        max_xfer = int.from_bytes(bl[8:12], "big")
        max_ws = int.from_bytes(bl[36:44], "big")
        assert max_xfer < 0x10000 and max_ws == 0xFFFF
        def ws10(lba, blocks):
            return (bytes([0x41, 0]) + lba.to_bytes(4, "big") + b"\0"
                    + blocks.to_bytes(2, "big") + b"\0")
        assert (await d.run(ws10(0, 16), b"\1" * 4096)).status == 0
        res = await d.run(ws10(0, 0), b"\1" * 4096)           # "to the end": 131072 > 65535
        assert res.status == 2 and res.sense[12] == 0x24
    finally:
        backing.close()


async def test_512_byte_lu_has_no_write_same_limit(lu):
    bl = (await lu.run(inq(1, 0xB0, 64))).data_in
    assert int.from_bytes(bl[36:44], "big") == 0 and bl[4] & 0x01 == 0       # WSNZ=0
