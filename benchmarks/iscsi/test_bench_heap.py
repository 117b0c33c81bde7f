"""blockserver.iscsi.heap: per-command I/O buffers must come from the heap, not from mmap(2).

Checked in a fresh interpreter (glibc raises its mmap threshold by itself after the first free of
a large block, so only a clean process shows the default): a 2 MiB bytearray is an mmapped block
(mallinfo2().hblks grows) under glibc's defaults and a heap block once heap.apply() ran. The CPU
this saves is in benchmarks/RESULTS.md (iSCSI, 128 KiB reads).
"""
import subprocess
import sys

import pytest

PROBE = """
import ctypes, sys
from blockserver.iscsi import heap
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                 "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = Info
if sys.argv[1] == "tuned":
    assert heap.apply() and heap.apply()          # idempotent
before = libc.mallinfo2().hblks
buf = bytearray(2 << 20)
print(libc.mallinfo2().hblks - before)
"""


def _mmapped_blocks(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True,
                         timeout=60, check=True)
    return int(out.stdout.strip())


@pytest.mark.timeout(120)
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc mallopt/mallinfo2")
def test_io_buffers_come_from_the_heap_once_tuned():
    assert _mmapped_blocks("default") == 1
    assert _mmapped_blocks("tuned") == 0
