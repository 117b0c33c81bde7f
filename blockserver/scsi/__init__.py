"""SCSI device emulation (SBC-3 / SPC-4 subset) behind Strato's iSCSI target.

The transport builds a ScsiCommand per SCSI Command PDU and awaits LogicalUnit.execute(), which
returns a ScsiResult (status, data-in, sense). Decoders are sans-I/O; the LU does I/O through a
backing (blockserver.backing.FileBacking).
"""
from .lu import LogicalUnit
from .sense import ScsiError
from .types import (CHECK_CONDITION, GOOD, RESERVATION_CONFLICT, ItNexus, ScsiCommand,
                    ScsiResult)

__all__ = ["LogicalUnit", "ScsiCommand", "ScsiResult", "ItNexus", "ScsiError", "GOOD",
           "CHECK_CONDITION", "RESERVATION_CONFLICT"]
