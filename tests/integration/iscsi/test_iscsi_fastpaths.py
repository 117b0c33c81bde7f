"""The target's READ and WRITE fast paths, in process on loopback: a hand-rolled initiator
talks to start_target_server over a real socket, and the LU counts execute() calls, so each test
sees which path answered. The fast paths must answer exactly what execute() would, and leave
every other case to it."""
import asyncio
import concurrent.futures
import os
import struct

import pytest

from blockserver.backing import FileBacking
from blockserver.iscsi import TargetRegistry, start_target_server
from blockserver.iscsi.text import encode_text
from blockserver.scsi import LogicalUnit
from native.iscsipdu import build_bhs, parse_bhs

pytestmark = pytest.mark.timeout(60)
BS = 512


class CountingUnit(LogicalUnit):
    executed: list

    async def execute(self, cmd):
        self.executed.append(cmd.cdb[0])
        return await super().execute(cmd)


@pytest.fixture
async def portal(tmp_path):
    pool = concurrent.futures.ThreadPoolExecutor(2)
    path = tmp_path / "vol.img"
    path.write_bytes(b"".join(bytes([i]) * BS for i in range(256)))
    backing = FileBacking(str(path), pool)
    unit = CountingUnit(backing, serial="fastpath", device_id=bytes([0x61]) * 16)
    unit.executed = []
    registry = TargetRegistry("iqn.2026-11.org.strato")
    iqn = registry.make_iqn("fast")
    registry.add(iqn, unit)
    server = await start_target_server(registry, "127.0.0.1", 0)
    yield server, iqn, unit, path
    await server.close()
    backing.close()
    pool.shutdown()


class Raw:
    """One session: login straight to full feature phase, then SCSI commands in CmdSN order."""

    async def open(self, port, iqn):
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
        text = encode_text([("InitiatorName", "iqn.2026-11.org.test:fast"),
                            ("TargetName", iqn), ("AuthMethod", "None"),
                            ("ImmediateData", "Yes"), ("InitialR2T", "No"),
                            ("MaxRecvDataSegmentLength", "262144")])
        n = len(text)
        self.writer.write(build_bhs(0x03, 1, 0x83, 0, 0, 0, n, 0x400001240000 << 16, 1, 0, 1,
                                    0, 0, 0, 0, 0) + text + bytes(-n & 3))
        fields, _ = await self.pdu()
        assert fields[0] == 0x23 and fields[13] >> 16 == 0
        self.cmdsn, self.itt = 1, 1
        return self

    async def pdu(self):
        header = await self.reader.readexactly(48)
        fields = parse_bhs(header)
        n = fields[6]
        body = await self.reader.readexactly(n + (-n & 3))
        return fields, body[:n]

    def send(self, cdb, *, edtl=0, read=False, data=b""):
        self.itt += 1
        flags = 0x80 | (0x40 if read else 0) | (0x20 if data else 0) | 1
        header = bytearray(build_bhs(0x01, 0, flags, 0, 0, 0, len(data), 0, self.itt, edtl,
                                     self.cmdsn, 0, 0, 0, 0, 0))
        header[32:32 + len(cdb)] = cdb
        self.cmdsn += 1
        self.writer.write(bytes(header) + data + bytes(-len(data) & 3))
        return self.itt

    async def command(self, cdb, **kw):
        """(status, data-in, sense) of one command."""
        itt = self.send(cdb, **kw)
        data = b""
        while True:
            fields, body = await self.pdu()
            assert fields[8] == itt
            if fields[0] == 0x25:                        # Data-In
                data += body
                if fields[2] & 0x01:                     # with status
                    return fields[4], data, b""
            else:                                        # SCSI Response
                return fields[4], data, body[2:]


def read10(lba, blocks):
    return struct.pack(">BBIBHB", 0x28, 0, lba, 0, blocks, 0)


def write10(lba, blocks, cdb1=0):
    return struct.pack(">BBIBHB", 0x2A, cdb1, lba, 0, blocks, 0)


async def session(portal):
    server, iqn, unit, path = portal
    raw = await Raw().open(server.port, iqn)
    status, _, sense = await raw.command(bytes(6))             # TEST UNIT READY: POWER ON UA
    assert status == 2 and sense[12] == 0x29
    unit.executed.clear()
    return raw


async def test_plain_reads_and_writes_skip_execute(portal):
    _, _, unit, path = portal
    raw = await session(portal)
    assert await raw.command(read10(4, 2), edtl=2 * BS, read=True) == (
        0, bytes([4]) * BS + bytes([5]) * BS, b"")
    assert await raw.command(write10(8, 2), edtl=2 * BS, data=b"\xab" * 2 * BS) == (0, b"", b"")
    assert (await raw.command(write10(10, 1, cdb1=0x08), edtl=BS, data=b"\xcd" * BS))[0] == 0
    assert await raw.command(read10(8, 3), edtl=3 * BS, read=True) == (
        0, b"\xab" * 2 * BS + b"\xcd" * BS, b"")
    assert unit.executed == []
    assert path.read_bytes()[8 * BS:11 * BS] == b"\xab" * 2 * BS + b"\xcd" * BS
    raw.writer.close()


async def test_queued_writes_then_reads_in_one_burst(portal):
    _, _, unit, path = portal
    raw = await session(portal)
    itts = [raw.send(write10(100 + i, 1), edtl=BS, data=bytes([0x80 + i]) * BS) for i in range(16)]
    seen = set()
    for _ in itts:
        fields, _ = await raw.pdu()
        assert fields[0] == 0x21 and fields[4] == 0
        seen.add(fields[8])
    assert seen == set(itts) and unit.executed == []
    status, data, _ = await raw.command(read10(100, 16), edtl=16 * BS, read=True)
    assert data == b"".join(bytes([0x80 + i]) * BS for i in range(16))
    raw.writer.close()


@pytest.mark.parametrize("cdb,kw,status,asc", [
    (write10(256, 1), dict(edtl=BS, data=bytes(BS)), 2, 0x21),       # LBA out of range
    (write10(0, 1, cdb1=0x20), dict(edtl=BS, data=bytes(BS)), 2, 0x24),  # WRPROTECT
    (read10(255, 2), dict(edtl=2 * BS, read=True), 2, 0x21),
])
async def test_refused_commands_are_answered_by_execute(portal, cdb, kw, status, asc):
    _, _, unit, _ = portal
    raw = await session(portal)
    got, _, sense = await raw.command(cdb, **kw)
    assert (got, sense[12]) == (status, asc)
    assert unit.executed == [cdb[0]]
    raw.writer.close()


async def test_write_protected_unit_answers_data_protect(portal):
    _, _, unit, path = portal
    raw = await session(portal)
    unit.read_only = True
    status, _, sense = await raw.command(write10(0, 1), edtl=BS, data=b"\xff" * BS)
    assert status == 2 and sense[2] & 0x0F == 0x07                    # DATA PROTECT
    assert unit.executed == [0x2A] and path.read_bytes()[:BS] == bytes(BS)
    raw.writer.close()


async def test_failed_fast_write_gets_medium_error(portal, monkeypatch):
    _, _, unit, _ = portal
    raw = await session(portal)

    def broken(fd, items):
        return [OSError(5, os.strerror(5))] * len(items)
    monkeypatch.setattr("blockserver.backing._write_batch", broken)
    status, _, sense = await raw.command(write10(0, 1), edtl=BS, data=b"\x01" * BS)
    assert status == 2 and sense[2] & 0x0F == 0x03 and sense[12] == 0x0C   # WRITE ERROR
    assert unit.executed == []
    raw.writer.close()


async def test_failures_inside_the_target_answer_internal_target_failure(portal, monkeypatch):
    _, _, unit, _ = portal
    raw = await session(portal)

    def bug(fd, items):
        raise RuntimeError("a bug, not the medium")
    monkeypatch.setattr("blockserver.backing._write_batch", bug)
    status, _, sense = await raw.command(write10(0, 1), edtl=BS, data=b"\x01" * BS)
    assert status == 2 and sense[2] & 0x0F == 0x04 and sense[12:14] == b"\x44\x00"  # fast path
    assert unit.executed == []

    async def broken_execute(cmd):
        raise RuntimeError("a bug in the LU")
    monkeypatch.setattr(unit, "execute", broken_execute)
    status, _, sense = await raw.command(bytes(6))                       # TEST UNIT READY
    assert status == 2 and sense[2] & 0x0F == 0x04 and sense[12:14] == b"\x44\x00"  # execute()
    raw.writer.close()
