"""REPORT SUPPORTED OPERATION CODES / TASK MANAGEMENT FUNCTIONS, and the opcode table's honesty:
every listed command is dispatched, every dispatched command is listed."""
import pytest
from scsi_unit_support import sense_of

from blockserver.scsi import lu as lu_module
from blockserver.scsi import opcodes

INVALID_CDB = (0x5, 0x24, 0x00)


def rsoc(options: int, op: int = 0, sa: int = 0, rctd: int = 0, alloc: int = 8192) -> bytes:
    return (bytes([0xA3, 0x0C, (rctd << 7) | options, op]) + sa.to_bytes(2, "big")
            + alloc.to_bytes(4, "big") + b"\0\0")


def test_table_matches_dispatcher():
    listed = {op for op, _, _ in opcodes.COMMANDS}
    # REQUEST SENSE is answered before dispatch (it has to see the unit attentions)
    assert listed == set(lu_module._HANDLERS) | {0x03}
    for op, _, usage in opcodes.COMMANDS:
        assert usage[0] == op and len(usage) in (6, 10, 12, 16)


async def test_all_commands(lu):
    d = (await lu.run(rsoc(0))).data_in
    n = int.from_bytes(d[0:4], "big")
    assert n == 8 * len(opcodes.COMMANDS) and len(d) == 4 + n
    d = (await lu.run(rsoc(0, rctd=1))).data_in
    assert int.from_bytes(d[0:4], "big") == 20 * len(opcodes.COMMANDS)
    assert d[4 + 5] & 0x02 and d[4 + 8:4 + 10] == b"\x00\x0A"    # CTDP + timeouts descriptor


async def test_one_command(lu):
    d = (await lu.run(rsoc(1, 0x28))).data_in
    assert d[1] & 0x07 == 3 and int.from_bytes(d[2:4], "big") == 10 and d[4] == 0x28
    d = (await lu.run(rsoc(1, 0xE7))).data_in
    assert d[1] & 0x07 == 1                                          # not supported
    assert sense_of(await lu.run(rsoc(1, 0x9E))) == INVALID_CDB      # has service actions
    d = (await lu.run(rsoc(2, 0x9E, 0x10))).data_in
    assert d[1] & 0x07 == 3 and d[4] == 0x9E
    assert sense_of(await lu.run(rsoc(2, 0x28))) == INVALID_CDB      # no service actions
    d = (await lu.run(rsoc(1, 0x28, rctd=1))).data_in
    assert d[1] & 0x80 and len(d) == 4 + 10 + 12
    assert sense_of(await lu.run(rsoc(7))) == INVALID_CDB


async def test_alloc_length(lu):
    assert len((await lu.run(rsoc(0, alloc=10))).data_in) == 10


async def test_report_tmfs(lu):
    d = (await lu.run(bytes([0xA3, 0x0D, 0, 0, 0, 0]) + (4).to_bytes(4, "big") + b"\0\0")).data_in
    assert d[0] & 0x80 and d[0] & 0x08                               # ABORT TASK, LU RESET


@pytest.mark.parametrize("sa", [0x00, 0x0B, 0x1F])
async def test_unknown_maintenance_in(lu, sa):
    assert sense_of(await lu.run(bytes([0xA3, sa]) + bytes(10))) == INVALID_CDB


async def test_read_defect_data_is_an_empty_list(lu):
    d = (await lu.run(bytes([0x37, 0, 0x18 | 0x05, 0, 0, 0, 0, 0, 32, 0]))).data_in
    assert d == bytes([0, 0x1D, 0, 0])
    d = (await lu.run(bytes([0xB7, 0x08 | 0x04, 0, 0, 0, 0]) + (64).to_bytes(4, "big") + b"\0\0"))
    assert d.data_in == bytes([0, 0x0C]) + bytes(6)
    assert len((await lu.run(bytes([0x37, 0, 0x18, 0, 0, 0, 0, 0, 2, 0]))).data_in) == 2
