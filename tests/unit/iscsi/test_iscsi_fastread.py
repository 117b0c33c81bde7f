"""The READ fast path through the connection core (no sockets): a real LogicalUnit over a real
FileBacking, PDUs delivered the way the server delivers them (get_buffer/buffer_updated).

The fast path must change no answer: the same command stream gets byte-identical PDUs from a
connection with the fast path and from one without it, and every case the LU or the transport
must answer otherwise (unit attention, reservation, stopped unit, bad range, writes, digests,
logout) goes to the general path.
"""
from __future__ import annotations

import concurrent.futures
import os
import struct

import pytest

import native.iscsiread
from blockserver.backing import FileBacking
from blockserver.iscsi.constants import Opcode
from blockserver.iscsi.events import Execute
from blockserver.iscsi.fastread import ReadFastPath
from blockserver.iscsi.registry import TargetRegistry
from blockserver.scsi import ItNexus, LogicalUnit, ScsiCommand

BS = 512
BLOCKS = 256
IQN = "iqn.2026-11.org.strato:fast"


def read10(lba, blocks):
    return struct.pack(">BBIBHB", 0x28, 0, lba, 0, blocks, 0)


def read16(lba, blocks):
    return struct.pack(">BBQIBB", 0x88, 0, lba, blocks, 0, 0)


@pytest.fixture
def executor():
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)
    yield pool
    pool.shutdown(wait=True)


@pytest.fixture
def registry(tmp_path, executor):
    path = tmp_path / "vol.img"
    path.write_bytes(b"".join(bytes([i]) * BS for i in range(BLOCKS)))
    backing = FileBacking(str(path), executor)
    unit = LogicalUnit(backing, serial="fast-0001", device_id=bytes(16))
    reg = TargetRegistry("iqn.2026-11.org.strato")
    reg.add(IQN, unit)
    yield reg
    backing.close()


class Host:
    """One logged-in initiator (the shared in-memory Initiator) plus the server's part: the
    nexus the server sets at SessionStarted, and Execute events run on the real LU."""

    def __init__(self, tools, registry, *, fast=True, isid=0x400001370000, op_keys=None):
        self.init = tools.Initiator(registry, isid=isid)
        r = self.init.login(IQN, op_keys=op_keys)
        assert r.h.w36 == 0
        self.init.events()
        session = self.init.conn.session
        session.nexus = ItNexus(session.initiator_name, session.isid, session.tpgt)
        self.unit = registry.get(IQN).lun_unit
        self.tools = tools
        if not fast:
            self.init.conn.reader.fast = None

    def wire(self, cdb, *, edtl=None, read=True, write=False, data=b"", lun=0, cmdsn=None):
        i = self.init
        itt = i.next_itt()
        sn = i.cmdsn if cmdsn is None else cmdsn
        if cmdsn is None:
            i.cmdsn += 1
        flags = 0x81 | (0x40 if read else 0) | (0x20 if write else 0)
        edtl = (len(data) if write else 0) if edtl is None else edtl
        return self.tools.bhs(Opcode.SCSI_COMMAND, flags, data=data, lun=lun << 48, itt=itt,
                              w20=edtl, w24=sn, w28=i.statsn, cdb=cdb)

    async def deliver(self, wire: bytes):
        """Hand wire to the core as received bytes; run what it queued for the LU; return
        (PDUs answered, how many went to the general path)."""
        conn = self.init.conn
        view = memoryview(wire)
        while view:
            buf = conn.get_buffer(-1)
            n = min(len(buf), len(view))
            buf[:n] = view[:n]
            conn.buffer_updated(n)
            view = view[n:]
        executed = 0
        for ev in self.init.events():
            if isinstance(ev, Execute):
                executed += 1
                task = ev.task
                session = conn.session
                result = await self.unit.execute(ScsiCommand(
                    task.cdb, task.buf, session.nexus, 0, task.itt, task.edtl, task.read,
                    task.write))
                conn.complete(task, result.status, result.data_in, result.sense,
                              self.unit.transfer_length(task.cdb) if task.write else None)
        out = b"".join(bytes(p) for p in conn.outbox)
        conn.outbox.clear()
        return self.tools.split_pdus(out), executed


async def ready(host):
    """Clear the POWER ON unit attention the way initiators do (TEST UNIT READY)."""
    pdus, executed = await host.deliver(host.wire(bytes(6), read=False))
    assert executed == 1 and pdus[0].h.byte3 == 2          # CHECK CONDITION: the UA


def masked(header: bytes) -> bytes:
    return header[:28] + bytes(8) + header[36:]


def stream(host):
    return b"".join([host.wire(read10(0, 8), edtl=4096), host.wire(read16(240, 16), edtl=8192),
                     host.wire(read10(3, 1), edtl=512), host.wire(read16(255, 1), edtl=512)])


async def test_fast_answers_equal_the_general_path(tools, registry):
    fast, slow = Host(tools, registry), Host(tools, registry, fast=False, isid=0x400001370001)
    assert isinstance(fast.init.conn.reader.fast, ReadFastPath)
    await ready(fast)
    await ready(slow)
    fast_pdus, fast_exec = await fast.deliver(stream(fast))
    slow_pdus, slow_exec = await slow.deliver(stream(slow))
    assert (fast_exec, slow_exec) == (0, 4)
    # identical but for ExpCmdSN/MaxCmdSN: each fast answer reports the window as of its own
    # command, the general path's as of when the LU finished (after all four arrived)
    assert [masked(p.header) for p in fast_pdus] == [masked(p.header) for p in slow_pdus]
    sn = fast.init.cmdsn - 4
    assert [p.h.w28 for p in fast_pdus] == [sn + 1, sn + 2, sn + 3, sn + 4]
    assert [p.h.w28 for p in slow_pdus] == [sn + 4] * 4
    assert [p.data for p in fast_pdus] == [p.data for p in slow_pdus]
    assert fast_pdus[1].data == b"".join(bytes([i]) * BS for i in range(240, 256))
    assert fast_pdus[0].h.flags == 0x81 and fast_pdus[0].h.byte3 == 0


async def test_unit_attention_goes_to_the_lu(tools, registry):
    host = Host(tools, registry)
    pdus, executed = await host.deliver(host.wire(read10(0, 1), edtl=512))
    assert executed == 1
    assert pdus[0].op is Opcode.SCSI_RESPONSE and pdus[0].h.byte3 == 2     # POWER ON UA
    pdus, executed = await host.deliver(host.wire(read10(0, 1), edtl=512))
    assert executed == 0 and pdus[0].op is Opcode.DATA_IN


@pytest.mark.parametrize("cdb,edtl,asc", [
    (read10(BLOCKS, 1), 512, 0x21),           # LBA OUT OF RANGE
    (read16(BLOCKS - 1, 2), 1024, 0x21),
    (bytes([0x28, 0x20, 0, 0, 0, 0, 0, 0, 1, 0]), 512, 0x24),   # RDPROTECT: INVALID FIELD IN CDB
])
async def test_refused_reads_get_their_sense_from_the_lu(tools, registry, cdb, edtl, asc):
    host = Host(tools, registry)
    await ready(host)
    pdus, executed = await host.deliver(host.wire(cdb, edtl=edtl))
    assert executed == 1
    (r,) = pdus
    assert r.op is Opcode.SCSI_RESPONSE and r.h.byte3 == 2 and r.data[2 + 12] == asc


async def test_residual_read_goes_to_the_general_path(tools, registry):
    host = Host(tools, registry)
    await ready(host)
    pdus, executed = await host.deliver(host.wire(read10(0, 8), edtl=2048))
    assert executed == 1 and pdus[0].h.flags == 0x81 | 0x04 and len(pdus[0].data) == 2048


async def test_read_longer_than_one_data_in_goes_to_the_general_path(tools, registry):
    host = Host(tools, registry)          # the initiator's MaxRecvDataSegmentLength is 8192
    await ready(host)
    pdus, executed = await host.deliver(host.wire(read10(0, 17), edtl=17 * BS))
    assert executed == 1 and [len(p.data) for p in pdus] == [8192, 512]


async def test_a_reservation_sends_reads_to_the_lu(tools, registry):
    host, other = Host(tools, registry), Host(tools, registry, isid=0x400001370009)
    await ready(host)
    await ready(other)
    # the other initiator takes RESERVE(6): this one's READ must get RESERVATION CONFLICT
    pdus, _ = await other.deliver(other.wire(bytes([0x16, 0, 0, 0, 0, 0]), read=False))
    assert pdus[0].h.byte3 == 0
    pdus, executed = await host.deliver(host.wire(read10(0, 1), edtl=512))
    assert executed == 1 and pdus[0].h.byte3 == 0x18
    await other.deliver(other.wire(bytes([0x17, 0, 0, 0, 0, 0]), read=False))   # RELEASE(6)
    pdus, executed = await host.deliver(host.wire(read10(0, 1), edtl=512))
    assert executed == 0 and pdus[0].op is Opcode.DATA_IN


async def test_stopped_unit_answers_not_ready(tools, registry):
    host = Host(tools, registry)
    await ready(host)
    await host.deliver(host.wire(bytes([0x1B, 0, 0, 0, 0x04, 0]), read=False))  # STOP, NO_FLUSH
    pdus, executed = await host.deliver(host.wire(read10(0, 1), edtl=512))
    assert executed == 1 and pdus[0].h.byte3 == 2 and pdus[0].data[2 + 2] & 0x0F == 0x02


async def test_mixed_stream_keeps_order_and_statsn(tools, registry):
    host = Host(tools, registry)
    await ready(host)
    wire = (host.wire(read10(1, 1), edtl=512)
            + host.wire(bytes([0x2A, 0, 0, 0, 0, 9, 0, 0, 1, 0]), read=False, write=True,
                        data=b"\x77" * 512)
            + host.wire(read10(9, 1), edtl=512))
    pdus, executed = await host.deliver(wire)
    assert executed == 2          # the first READ was answered fast; the rest in order after it
    statsns = [p.h.w24 for p in pdus]
    assert statsns == sorted(statsns) and len(set(statsns)) == 3
    assert pdus[-1].data == b"\x77" * 512       # the READ after the WRITE sees its data


async def test_out_of_order_cmdsn_waits_for_the_general_path(tools, registry):
    host = Host(tools, registry)
    await ready(host)
    sn = host.init.cmdsn
    late = host.wire(read10(2, 1), edtl=512, cmdsn=sn + 1)
    pdus, executed = await host.deliver(late)
    assert (pdus, executed) == ([], 0)          # held until CmdSN sn arrives
    pdus, executed = await host.deliver(host.wire(read10(1, 1), edtl=512, cmdsn=sn))
    assert executed == 2 and [p.data[0] for p in pdus] == [1, 2]


def test_not_installed_with_digests_or_without_a_source(tools, registry):
    keys = [("HeaderDigest", "CRC32C"), ("DataDigest", "None"), ("InitialR2T", "No"),
            ("ImmediateData", "Yes"), ("MaxRecvDataSegmentLength", "8192")]
    host = Host(tools, registry, op_keys=keys)
    assert host.init.conn.params.header_digest and host.init.conn.reader.fast is None
    other = TargetRegistry("iqn.2026-11.org.strato")
    other.add(IQN, object())             # no fast_read_source: e.g. a test double
    assert Host(tools, other).init.conn.reader.fast is None


async def test_logout_turns_it_off(tools, registry):
    host = Host(tools, registry)
    await ready(host)
    host.init.cmdsn += 1
    logout = tools.bhs(Opcode.LOGOUT_REQUEST, 0x80, immediate=1, itt=host.init.next_itt(),
                       w24=host.init.cmdsn)
    await host.deliver(logout)
    assert host.init.conn.reader.fast is None


def test_native_module_in_use():
    expected = "py" if os.environ.get("STRATO_NO_EXTENSIONS") == "1" else "c"
    assert native.iscsiread.IMPLEMENTATION == expected
