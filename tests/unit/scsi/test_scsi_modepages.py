"""MODE SENSE/SELECT 6 and 10: page control, block descriptors, validation, and the switches
the LU honours (D_SENSE -> descriptor sense, SWP -> write protect, WCE)."""
from scsi_unit_support import BLOCK_SIZE, BLOCKS, NEXUS2, cdb10, sense_of

INVALID_CDB, INVALID_PARAM = (0x5, 0x24, 0), (0x5, 0x26, 0)


def sense6(page: int, pc: int = 0, dbd: int = 0, alloc: int = 255, sub: int = 0) -> bytes:
    return bytes([0x1A, dbd << 3, (pc << 6) | page, sub, alloc, 0])


def sense10(page: int, pc: int = 0, llbaa: int = 0, alloc: int = 1024) -> bytes:
    return bytes([0x5A, llbaa << 4, (pc << 6) | page, 0, 0, 0, 0]) + alloc.to_bytes(2, "big") + b"\0"


def select6(plen: int, pf: int = 1, sp: int = 0) -> bytes:
    return bytes([0x15, (pf << 4) | sp, 0, 0, plen, 0])


def pages_of(data: bytes, header: int) -> dict[int, bytes]:
    bd_len = data[3] if header == 4 else int.from_bytes(data[6:8], "big")
    pos, out = header + bd_len, {}
    while pos < len(data):
        out[data[pos] & 0x3F] = data[pos + 2:pos + 2 + data[pos + 1]]
        pos += 2 + data[pos + 1]
    return out


async def control_select(lu, byte2=0, byte4=0, nexus=None):
    cur = pages_of((await lu.run(sense6(0x0A, dbd=1))).data_in, 4)[0x0A]
    page = bytearray(cur)
    page[0] = (page[0] & ~0x04) | byte2
    page[2] = (page[2] & ~0x08) | byte4
    params = bytes(4) + bytes([0x0A, len(page)]) + bytes(page)
    kw = {"nexus": nexus} if nexus else {}
    return await lu.run(select6(len(params)), params, **kw)


async def test_all_pages_with_block_descriptor(lu):
    d = (await lu.run(sense6(0x3F))).data_in
    assert d[0] == len(d) - 1 and d[3] == 8
    assert int.from_bytes(d[4:8], "big") == BLOCKS and int.from_bytes(d[9:12], "big") == BLOCK_SIZE
    assert d[2] & 0x10                                  # DPOFUA
    assert {0x01, 0x08, 0x0A, 0x1C} <= set(pages_of(d, 4))


async def test_mode_sense10_long_lba(lu):
    d = (await lu.run(sense10(0x08, llbaa=1))).data_in
    assert int.from_bytes(d[0:2], "big") == len(d) - 2 and d[4] & 1
    assert int.from_bytes(d[6:8], "big") == 16
    assert int.from_bytes(d[8:16], "big") == BLOCKS
    assert pages_of(d, 8)[0x08][0] & 0x04                # WCE


async def test_page_control(lu):
    ch = pages_of((await lu.run(sense6(0x0A, pc=1, dbd=1))).data_in, 4)[0x0A]
    assert ch[0] & 0x04 and ch[2] & 0x08                  # D_SENSE, SWP changeable
    df = pages_of((await lu.run(sense6(0x0A, pc=2, dbd=1))).data_in, 4)[0x0A]
    assert df[0] & 0x04 == 0
    assert sense_of(await lu.run(sense6(0x0A, pc=3))) == (0x5, 0x39, 0x00)


async def test_unknown_page_and_subpage(lu):
    assert sense_of(await lu.run(sense6(0x15))) == INVALID_CDB
    assert sense_of(await lu.run(sense6(0x3F, sub=0x05))) == INVALID_CDB


async def test_alloc_length_residual(lu):
    for n in (0, 1, 4, 12):
        assert len((await lu.run(sense6(0x3F, alloc=n))).data_in) == n


async def test_d_sense_switches_to_descriptor_format(lu):
    assert (await control_select(lu, byte2=0x04)).status == 0
    res = await lu.run(cdb10(0x28, BLOCKS, 1))
    assert res.sense[0] == 0x72 and sense_of(res) == (0x5, 0x21, 0x00)
    res = await lu.run(bytes([0x12, 0x01, 0xC7, 0, 255, 0]))     # field pointer descriptor
    assert res.sense[0] == 0x72 and res.sense[8:10] == b"\x02\x06" and res.sense[12] & 0x80
    assert (await control_select(lu, byte2=0)).status == 0
    res = await lu.run(cdb10(0x28, BLOCKS, 1))
    assert res.sense[0] == 0x70


async def test_swp_write_protects_and_other_nexus_gets_ua(lu, file_bytes):
    assert (await control_select(lu, byte4=0x08)).status == 0
    res = await lu.run(cdb10(0x2A, 0, 1), b"\1" * BLOCK_SIZE)
    assert sense_of(res) == (0x7, 0x27, 0x00)
    assert file_bytes(0, BLOCK_SIZE) == bytes(BLOCK_SIZE)
    ms = (await lu.run(sense6(0x3F))).data_in
    assert ms[2] & 0x80
    res = await lu.run(bytes(6), nexus=NEXUS2)          # MODE PARAMETERS CHANGED
    assert sense_of(res) == (0x6, 0x2A, 0x01)
    assert (await control_select(lu, byte4=0)).status == 0
    assert (await lu.run(cdb10(0x2A, 0, 1), b"\1" * BLOCK_SIZE)).status == 0


async def test_mode_select_validation(lu):
    cur = pages_of((await lu.run(sense6(0x0A, dbd=1))).data_in, 4)[0x0A]
    bad = bytearray(cur)
    bad[3] ^= 0x40                                   # TAS: not changeable
    params = bytes(4) + bytes([0x0A, len(bad)]) + bytes(bad)
    assert sense_of(await lu.run(select6(len(params)), params)) == INVALID_PARAM
    assert sense_of(await lu.run(select6(len(params), sp=1), params)) == INVALID_CDB
    assert sense_of(await lu.run(select6(len(params), pf=0), params)) == INVALID_CDB
    wrong_len = bytes(4) + bytes([0x0A, 4]) + bytes(4)
    assert sense_of(await lu.run(select6(len(wrong_len)), wrong_len)) == INVALID_PARAM
    unknown = bytes(4) + bytes([0x15, 2, 0, 0])
    assert sense_of(await lu.run(select6(len(unknown)), unknown)) == INVALID_PARAM
    bdesc = bytes([0, 0, 0, 8]) + bytes(5) + (4096).to_bytes(3, "big")   # block size change
    assert sense_of(await lu.run(select6(len(bdesc)), bdesc)) == INVALID_PARAM
    assert sense_of(await lu.run(select6(20), bytes(4))) == (0x5, 0x1A, 0x00)
    assert (await lu.run(select6(0))).status == 0


async def test_wce_off_still_writes(lu, file_bytes):
    cur = pages_of((await lu.run(sense6(0x08, dbd=1))).data_in, 4)[0x08]
    page = bytearray(cur)
    page[0] &= ~0x04
    params = bytes(4) + bytes([0x08, len(page)]) + bytes(page)
    assert (await lu.run(select6(len(params)), params)).status == 0
    assert not lu.lu.mode.wce
    assert (await lu.run(cdb10(0x2A, 3, 1), b"\7" * BLOCK_SIZE)).status == 0
    assert file_bytes(3 * BLOCK_SIZE, BLOCK_SIZE) == b"\7" * BLOCK_SIZE


async def test_lun_reset_restores_defaults(lu):
    assert (await control_select(lu, byte2=0x04)).status == 0
    lu.lu.reset()
    assert not lu.lu.mode.d_sense
    res = await lu.run(bytes(6))
    assert sense_of(res) == (0x6, 0x29, 0x03)
