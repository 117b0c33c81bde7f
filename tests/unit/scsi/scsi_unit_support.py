"""Helpers shared by the SCSI unit tests (imported by conftest and the test modules)."""
from __future__ import annotations

from blockserver.scsi import ItNexus, LogicalUnit, ScsiCommand

BLOCKS = 2048          # 1 MiB at 512-byte blocks
BLOCK_SIZE = 512
NEXUS = ItNexus("iqn.2026-11.org.strato:test-a", b"\x00\x02\x3d\x00\x00\x01", 1)
NEXUS2 = ItNexus("iqn.2026-11.org.strato:test-b", b"\x00\x02\x3d\x00\x00\x02", 1)


class Driver:
    """Sends CDBs to a LU the way the transport does, with the UA of a fresh nexus cleared."""

    def __init__(self, lu: LogicalUnit):
        self.lu = lu
        self.tag = 0

    async def run(self, cdb: bytes, data_out: bytes = b"", *, nexus: ItNexus = NEXUS,
                  expected_length: int = 1 << 20):
        self.tag += 1
        cdb = bytes(cdb)
        return await self.lu.execute(ScsiCommand(cdb, data_out, nexus, 0, self.tag,
                                                 expected_length, True, bool(data_out)))

    async def login(self, nexus: ItNexus = NEXUS) -> None:
        while True:
            res = await self.run(b"\x00" * 6, nexus=nexus)
            if res.status == 0:
                return


def sense_of(res) -> tuple[int, int, int]:
    s = res.sense
    if s[0] & 0x7F in (0x72, 0x73):
        return s[1] & 0x0F, s[2], s[3]
    return s[2] & 0x0F, s[12], s[13]


def cdb10(op: int, lba: int, blocks: int, flags: int = 0) -> bytes:
    return bytes([op, flags]) + lba.to_bytes(4, "big") + b"\0" + blocks.to_bytes(2, "big") + b"\0"


def cdb16(op: int, lba: int, blocks: int, flags: int = 0) -> bytes:
    return bytes([op, flags]) + lba.to_bytes(8, "big") + blocks.to_bytes(4, "big") + b"\0\0"


def cdb12(op: int, lba: int, blocks: int, flags: int = 0) -> bytes:
    return bytes([op, flags]) + lba.to_bytes(4, "big") + blocks.to_bytes(4, "big") + b"\0\0"


