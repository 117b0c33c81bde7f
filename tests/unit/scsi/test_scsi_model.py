"""Stateful property test: random WRITE / WRITE SAME (pattern, UNMAP, NDOB) / UNMAP / COMPARE AND
WRITE / XCOPY sequences against a real sparse file, checked after every step against a plain
bytearray model of the LU, through READ(16) and the file itself."""
import asyncio
import concurrent.futures
import os
import shutil
import tempfile

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from blockserver.backing import FileBacking
from blockserver.scsi import ItNexus, LogicalUnit, ScsiCommand

BS, BLOCKS = 512, 48
NEXUS = ItNexus("iqn.model", b"\x00" * 6, 1)
NAA = bytes.fromhex("60014050000000000000000000000001")

lbas = st.integers(0, BLOCKS - 1)


def cdb16(op, lba, n, flags=0):
    return bytes([op, flags]) + lba.to_bytes(8, "big") + n.to_bytes(4, "big") + b"\0\0"


class LuModel(RuleBasedStateMachine):
    @initialize()
    def setup(self):
        self.dir = tempfile.mkdtemp(prefix="scsi-model-")
        self.path = os.path.join(self.dir, "lu.img")
        with open(self.path, "wb") as f:
            f.truncate(BLOCKS * BS)
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)
        self.loop = asyncio.new_event_loop()
        self.backing = FileBacking(self.path, self.pool)
        self.lu = LogicalUnit(self.backing, serial="model", device_id=NAA)
        self.model = bytearray(BLOCKS * BS)
        self.tag = 0
        self.run(bytes(16))  # clears the POWER ON unit attention

    def teardown(self):
        if hasattr(self, "loop"):
            self.backing.close()
            self.pool.shutdown()
            self.loop.close()
            shutil.rmtree(self.dir, ignore_errors=True)

    def run(self, cdb, data=b""):
        self.tag += 1
        return self.loop.run_until_complete(self.lu.execute(
            ScsiCommand(cdb, data, NEXUS, 0, self.tag, len(data), True, bool(data))))

    @rule(lba=lbas, n=st.integers(1, 8), byte=st.integers(0, 255), fua=st.booleans())
    def write(self, lba, n, byte, fua):
        n = min(n, BLOCKS - lba)
        data = bytes([byte]) * (n * BS)
        assert self.run(cdb16(0x8A, lba, n, 0x08 if fua else 0), data).status == 0
        self.model[lba * BS:(lba + n) * BS] = data

    @rule(lba=lbas, n=st.integers(0, 8), byte=st.integers(0, 255),
          mode=st.sampled_from(["pattern", "unmap", "ndob"]))
    def write_same(self, lba, n, byte, mode):
        n = min(n, BLOCKS - lba)
        flags = {"pattern": 0, "unmap": 0x08, "ndob": 0x01}[mode]
        block = b"" if mode == "ndob" else bytes([byte]) * BS
        assert self.run(cdb16(0x93, lba, n, flags), block).status == 0
        count = n or BLOCKS - lba  # 0 blocks: to the end of the LU
        fill = bytes([byte]) if mode == "pattern" else b"\0"
        self.model[lba * BS:(lba + count) * BS] = fill * (count * BS)

    @rule(ranges=st.lists(st.tuples(lbas, st.integers(0, 6)), max_size=4))
    def unmap(self, ranges):
        ranges = [(lba, min(n, BLOCKS - lba)) for lba, n in ranges]
        descs = b"".join(l.to_bytes(8, "big") + n.to_bytes(4, "big") + bytes(4) for l, n in ranges)
        params = (len(descs) + 6).to_bytes(2, "big") + len(descs).to_bytes(2, "big") + bytes(4) \
            + descs
        cdb = bytes([0x42, 0, 0, 0, 0, 0, 0]) + len(params).to_bytes(2, "big") + b"\0"
        assert self.run(cdb, params).status == 0
        for lba, n in ranges:
            self.model[lba * BS:(lba + n) * BS] = bytes(n * BS)

    @rule(lba=lbas, n=st.integers(1, 4), match=st.booleans(), byte=st.integers(0, 255))
    def compare_and_write(self, lba, n, match, byte):
        n = min(n, BLOCKS - lba)
        current = bytes(self.model[lba * BS:(lba + n) * BS])
        verify = current if match else bytes([current[0] ^ 0xFF]) + current[1:]
        new = bytes([byte]) * (n * BS)
        cdb = bytes([0x89, 0]) + lba.to_bytes(8, "big") + bytes(3) + bytes([n, 0, 0])
        res = self.run(cdb, verify + new)
        if match:
            assert res.status == 0
            self.model[lba * BS:(lba + n) * BS] = new
        else:
            assert res.status == 2 and res.sense[2] == 0xE
            assert int.from_bytes(res.sense[3:7], "big") == 0

    @rule(src=lbas, dst=lbas, n=st.integers(1, 8))
    def extended_copy(self, src, dst, n):
        n = min(n, BLOCKS - src, BLOCKS - dst)
        cscd = bytearray(32)
        cscd[0], cscd[4], cscd[5], cscd[7] = 0xE4, 0x01, 0x03, 16
        cscd[8:24] = NAA
        cscd[29:32] = BS.to_bytes(3, "big")
        seg = bytearray(28)
        seg[0], seg[3] = 0x02, 0x18
        seg[10:12] = n.to_bytes(2, "big")
        seg[12:20], seg[20:28] = src.to_bytes(8, "big"), dst.to_bytes(8, "big")
        params = bytes([0, 2 << 3, 0, 32]) + bytes(4) + (28).to_bytes(4, "big") + bytes(4) \
            + bytes(cscd) + bytes(seg)
        cdb = bytes([0x83, 0]) + bytes(8) + len(params).to_bytes(4, "big") + b"\0\0"
        assert self.run(cdb, params).status == 0
        self.model[dst * BS:(dst + n) * BS] = bytes(self.model[src * BS:(src + n) * BS])

    @rule(lba=lbas, n=st.integers(1, 8))
    def read(self, lba, n):
        n = min(n, BLOCKS - lba)
        res = self.run(cdb16(0x88, lba, n))
        assert res.status == 0 and res.data_in == bytes(self.model[lba * BS:(lba + n) * BS])

    @invariant()
    def file_matches_model(self):
        if hasattr(self, "path"):
            with open(self.path, "rb") as f:
                assert f.read() == bytes(self.model)


TestLuModel = LuModel.TestCase
TestLuModel.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)
