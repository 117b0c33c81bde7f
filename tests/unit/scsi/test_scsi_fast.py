"""LogicalUnit.fast_read_source / fast_write: when the transport may skip execute(), and that a
fast write is the same write execute() would make (FUA and WCE=0 honoured)."""
import pytest

from scsi_unit_support import BLOCK_SIZE, BLOCKS, NEXUS, NEXUS2, cdb10, cdb16, sense_of
from blockserver.scsi import ItNexus

NEW = ItNexus("iqn.2026-11.org.strato:never-seen", b"\0\0\0\0\0\x09", 1)
DATA = b"\x5a" * BLOCK_SIZE


@pytest.fixture
def fua_calls(lu, monkeypatch):
    calls = []
    real = lu.lu.backing.start_write

    def spy(offset, data, fua=False):
        calls.append((offset, len(data), fua))
        return real(offset, data, fua)
    monkeypatch.setattr(lu.lu.backing, "start_write", spy)
    return calls


async def test_fast_write_lands_like_execute(lu, fua_calls, file_bytes):
    unit = lu.lu
    await unit.fast_write(NEXUS, cdb10(0x2A, 3, 1), DATA)
    await unit.fast_write(NEXUS, cdb16(0x8A, 4, 2, flags=0x08), DATA * 2)     # FUA
    assert file_bytes(3 * BLOCK_SIZE, 3 * BLOCK_SIZE) == DATA * 3
    assert fua_calls == [(3 * BLOCK_SIZE, BLOCK_SIZE, False), (4 * BLOCK_SIZE, 2 * BLOCK_SIZE, True)]
    caching = bytearray(unit.mode.current[0x08])        # what MODE SELECT of WCE=0 leaves
    caching[0] &= ~0x04
    unit.mode.current[0x08] = bytes(caching)
    assert not unit.mode.wce
    await unit.fast_write(NEXUS, cdb10(0x2A, 9, 1), DATA)
    assert fua_calls[-1] == (9 * BLOCK_SIZE, BLOCK_SIZE, True)


@pytest.mark.parametrize("cdb,data", [
    (cdb10(0x28, 0, 1), DATA),                       # not a write
    (cdb10(0x2E, 0, 1), DATA),                       # WRITE AND VERIFY
    (cdb10(0x2A, 0, 1, flags=0x20), DATA),           # WRPROTECT
    (cdb10(0x2A, 0, 1)[:9] + b"\x04", DATA),         # NACA
    (cdb10(0x2A, 0, 0), b""),                        # zero blocks
    (cdb10(0x2A, BLOCKS, 1), DATA),                  # out of range
    (cdb16(0x8A, BLOCKS - 1, 2), DATA * 2),
    (cdb10(0x2A, 0, 2), DATA),                       # less data than the CDB says
    (cdb10(0x2A, 0, 1), DATA * 2),                   # more
])
async def test_fast_write_declines(lu, fua_calls, cdb, data):
    assert lu.lu.fast_write(NEXUS, cdb, data) is None and fua_calls == []


async def test_fast_paths_off_while_execute_must_answer(lu, fua_calls):
    unit = lu.lu
    w = cdb10(0x2A, 0, 1)
    assert unit.fast_read_source(NEW) is None and unit.fast_write(NEW, w, DATA) is None  # POWER ON
    fd, bs, blocks, max_blocks = unit.fast_read_source(NEXUS)
    assert (bs, blocks) == (BLOCK_SIZE, BLOCKS) and fd >= 0 and max_blocks > 0
    res = await lu.run(bytes([0x16, 0, 0, 0, 0, 0]), nexus=NEXUS2)              # RESERVE(6)
    assert res.status == 0
    assert unit.fast_read_source(NEXUS) is None and unit.fast_write(NEXUS, w, DATA) is None
    assert unit.fast_read_source(NEXUS2) is None         # even the holder: execute() decides
    await lu.run(bytes([0x17, 0, 0, 0, 0, 0]), nexus=NEXUS2)                      # RELEASE(6)
    unit.read_only = True
    assert unit.fast_write(NEXUS, w, DATA) is None and unit.fast_read_source(NEXUS) is not None
    unit.read_only = False
    unit.capacity_changed()                                                        # a UA
    assert unit.fast_read_source(NEXUS) is None and unit.fast_write(NEXUS, w, DATA) is None
    res = await lu.run(bytes(6))
    assert sense_of(res)[1:] == (0x2A, 0x09)
    unit.stopped = True
    assert unit.fast_read_source(NEXUS) is None and unit.fast_write(NEXUS, w, DATA) is None
    unit.stopped = False
    await unit.backing.aclose()
    assert unit.fast_read_source(NEXUS) is None
    assert fua_calls == []


async def test_fast_paths_off_under_a_persistent_reservation(lu, fua_calls):
    unit = lu.lu
    w = cdb10(0x2A, 0, 1)

    def prout(sa, key=0, sa_key=0, pr_type=0):
        cdb = bytes([0x5F, sa, pr_type, 0, 0]) + (24).to_bytes(4, "big") + b"\0"
        return cdb, key.to_bytes(8, "big") + sa_key.to_bytes(8, "big") + bytes(8)

    assert (await lu.run(*prout(0, sa_key=0xAB), nexus=NEXUS2)).status == 0       # REGISTER
    assert unit.fast_read_source(NEXUS) is not None          # a registration alone: still fast
    assert (await lu.run(*prout(1, key=0xAB, pr_type=1), nexus=NEXUS2)).status == 0  # RESERVE WE
    assert unit.fast_read_source(NEXUS) is None and unit.fast_write(NEXUS, w, DATA) is None
    assert unit.fast_read_source(NEXUS2) is None          # even the holder: execute() decides
    assert (await lu.run(*prout(2, key=0xAB, pr_type=1), nexus=NEXUS2)).status == 0  # RELEASE
    assert unit.fast_read_source(NEXUS) is not None
    assert fua_calls == []


async def test_io_errors_answer_medium_error_on_both_paths(lu, monkeypatch):
    unit = lu.lu

    async def eio(*_args, **_kw):
        raise OSError(5, "Input/output error")
    monkeypatch.setattr(unit.backing, "read", eio)
    monkeypatch.setattr(unit.backing, "write", eio)
    res = await lu.run(cdb10(0x28, 0, 1))
    assert res.status == 2 and sense_of(res) == (0x03, 0x11, 0x00)   # UNRECOVERED READ ERROR
    res = await lu.run(cdb10(0x2A, 0, 1), DATA)
    assert res.status == 2 and sense_of(res) == (0x03, 0x0C, 0x00)   # WRITE ERROR
    # a failed fast write is answered exactly as execute() answers the failed write
    assert unit.write_failed(OSError(5, "Input/output error")) == res
