"""Transport-only ceiling: the standalone exporter with READ/WRITE(10/16) done in memory.

    python benchmarks/iscsi/null_unit.py --file F --port P

Wraps the real LogicalUnit (so login, INQUIRY, READ CAPACITY... are the real thing) but serves
READ(10/16) from one preallocated buffer and acknowledges WRITE(10/16) without storing, with no
executor hop or page-cache copy: what the iSCSI layer alone costs per command. Only for
measurements; never used by the service.
"""
import sys

from blockserver.iscsi import standalone
from blockserver.scsi import LogicalUnit, ScsiResult

_ZEROS = memoryview(bytes(1 << 20))
_real_execute = LogicalUnit.execute


async def _execute(self, cmd):
    cdb = cmd.cdb
    op = cdb[0]
    if op in (0x28, 0x88):
        blocks = int.from_bytes(cdb[10:14] if op == 0x88 else cdb[7:9], "big")
        return ScsiResult(0, _ZEROS[:blocks * self.block_size])
    if op in (0x2A, 0x8A):
        return ScsiResult(0)
    return await _real_execute(self, cmd)


if __name__ == "__main__":
    LogicalUnit.execute = _execute
    LogicalUnit.fast_read_source = lambda self, nexus: None  # every READ through _execute above
    sys.exit(standalone.main())
