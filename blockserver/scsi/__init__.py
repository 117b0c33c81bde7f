"""SCSI device emulation (SBC-3 / SPC-4 subset) behind Strato's iSCSI target.

The transport builds a ScsiCommand per SCSI Command PDU and awaits LogicalUnit.execute(), which
returns a ScsiResult (status, data-in, sense). Decoders are sans-I/O; the LU does I/O through a
backing (blockserver.backing.FileBacking).

    lu = LogicalUnit(backing, serial=..., device_id=..., block_size=512, thin=True,
                     read_only=False)
    await lu.execute(cmd)          -> ScsiResult (never raises for bad input)
    lu.transfer_length(cdb)        -> bytes the CDB moves (residual accounting) or None
    lu.fast_read_source(nexus)     -> (fd, block size, blocks, max transfer) when a READ can only
                                      succeed (the transport's READ fast path), else None
    lu.fast_write(nexus, cdb, data) -> future of a plain WRITE(10/16) started without execute(),
                                      or None; lu.write_failed(exc) answers a failed one
    lu.capacity_changed()          after `await backing.refresh()`: UA 2Ah/09h for every nexus
    lu.abort_task(tag, nexus)      -> bool; the aborted execute() returns TASK ABORTED (40h)
    lu.abort_task_set(nexus)       -> number aborted
    lu.reset()                     LOGICAL UNIT RESET: aborts all, UA 29h/03h, drops RESERVE(6)
    lu.nexus_lost(nexus)           logout / connection loss of that I_T nexus
    await lu.close()               end of export: drain commands, then close the backing
"""
from .lu import LogicalUnit
from .sense import ScsiError
from .types import (CHECK_CONDITION, GOOD, RESERVATION_CONFLICT, TASK_ABORTED, ItNexus,
                    ScsiCommand, ScsiResult)

__all__ = ["LogicalUnit", "ScsiCommand", "ScsiResult", "ItNexus", "ScsiError", "GOOD",
           "CHECK_CONDITION", "RESERVATION_CONFLICT", "TASK_ABORTED"]
