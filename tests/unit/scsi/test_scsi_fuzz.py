"""Property test: random CDBs and data-out from two I_T nexuses never raise out of execute(),
always end in a status the SCSI model allows (with well-formed sense when CHECK CONDITION), and
never touch bytes outside the logical unit's file."""
import asyncio
import concurrent.futures
import os
import shutil
import tempfile

import pytest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blockserver.backing import FileBacking
from blockserver.scsi import ItNexus, LogicalUnit, ScsiCommand
from blockserver.scsi.cdb import cdb_length

BLOCKS, BS = 64, 512
NEXUSES = (ItNexus("iqn.fuzz", b"\x00" * 6, 1),
           ItNexus("iqn.fuzz-2", b"\x00" * 5 + b"\x01", 1))
# Opcodes the LU knows, weighted in so that decoders see more than "invalid opcode".
KNOWN = [0x00, 0x03, 0x08, 0x0A, 0x12, 0x15, 0x16, 0x17, 0x1A, 0x1B, 0x1E, 0x25, 0x28, 0x2A,
         0x2E, 0x2F, 0x34, 0x35, 0x37, 0x41, 0x42, 0x55, 0x5A, 0x5E, 0x5F, 0x83, 0x84, 0x88,
         0x89, 0x8A, 0x8B,
         0x8E, 0x8F, 0x90, 0x91, 0x93, 0x9E, 0xA0, 0xA3, 0xA8, 0xAA, 0xAE, 0xAF, 0xB7]


@st.composite
def commands(draw):
    op = draw(st.one_of(st.sampled_from(KNOWN), st.integers(0, 255)))
    n = draw(st.sampled_from([cdb_length(op), 16, draw(st.integers(1, 16))]))
    body = bytearray(draw(st.binary(min_size=n, max_size=n)))
    body[0] = op
    # small LBAs/lengths are where the interesting (in-range) paths are
    if draw(st.booleans()) and n >= 10:
        body[2:6] = draw(st.integers(0, BLOCKS + 2)).to_bytes(4, "big")
        body[7:9] = draw(st.integers(0, 4)).to_bytes(2, "big")
    data = draw(st.binary(max_size=3 * BS))
    if op in (0x5F, 0x15, 0x55) and draw(st.booleans()):  # well-formed-ish parameter lists
        data = draw(st.binary(min_size=24, max_size=64))
    return bytes(body), data, draw(st.sampled_from(NEXUSES))


class Guarded:
    """The LU's file sits between two guard files whose contents must never change."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="scsi-fuzz-")
        self.guards = {}
        for name in ("before", "after"):
            path = os.path.join(self.dir, name)
            data = os.urandom(4096)
            with open(path, "wb") as f:
                f.write(data)
            self.guards[path] = data
        self.path = os.path.join(self.dir, "lu.img")
        with open(self.path, "wb") as f:
            f.truncate(BLOCKS * BS)
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)
        self.backing = FileBacking(self.path, self.pool)
        self.lu = LogicalUnit(self.backing, serial="fuzz", device_id=b"\x60" + bytes(15))

    def close(self):
        self.backing.close()
        self.pool.shutdown()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def guarded():
    g = Guarded()
    yield g
    g.close()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(commands(), min_size=1, max_size=6))
def test_random_cdbs(guarded, cmds):
    STATE = guarded

    async def run():
        for i, (cdb, data, nexus) in enumerate(cmds):
            res = await STATE.lu.execute(ScsiCommand(cdb, data, nexus, 0, i, len(data), True,
                                                     bool(data)))
            assert res.status in (0x00, 0x02, 0x18)
            if res.status == 0x02:
                s = res.sense
                assert s[0] in (0x70, 0x72)
                assert len(s) == (18 if s[0] == 0x70 else 8 + s[7])
            else:
                assert res.sense == b""
    asyncio.run(run())
    assert os.path.getsize(STATE.path) == BLOCKS * BS
    for path, data in STATE.guards.items():
        with open(path, "rb") as f:
            assert f.read() == data
