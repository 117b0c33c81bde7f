"""The values that cross the boundary between the iSCSI transport and the SCSI device: frozen."""
from __future__ import annotations

from dataclasses import dataclass, field

GOOD = 0x00
CHECK_CONDITION = 0x02
CONDITION_MET = 0x04
BUSY = 0x08
RESERVATION_CONFLICT = 0x18
TASK_SET_FULL = 0x28
TASK_ABORTED = 0x40


@dataclass(frozen=True)
class ItNexus:
    """One I_T nexus: initiator port (name + ISID) and the target portal group it logged in to."""
    initiator_name: str
    isid: bytes
    tpgt: int

    @property
    def transport_id(self) -> bytes:
        """The iSCSI TransportID (SPC-4 7.6.4.6, format 01b) of the initiator port."""
        name = f"{self.initiator_name},i,0x{self.isid.hex()}".encode()
        name += b"\0"
        name += bytes(-len(name) % 4)
        return bytes([0x40 | 0x05, 0]) + len(name).to_bytes(2, "big") + name


@dataclass(frozen=True)
class ScsiCommand:
    cdb: bytes
    data_out: bytes | memoryview
    nexus: ItNexus
    lun: int
    task_tag: int
    expected_length: int
    read: bool
    write: bool


@dataclass(frozen=True)
class ScsiResult:
    status: int
    data_in: bytes = b""
    sense: bytes = field(default=b"")

    @property
    def good(self) -> bool:
        return self.status == GOOD
