"""glibc malloc tuning for a process that allocates a fresh 4 KiB-1 MiB I/O buffer per command.

Measured on the 128 KiB read path (benchmarks/RESULTS.md, iSCSI): with glibc's defaults about a
third of the target's CPU went to `bytearray(131072)` alone - allocations at or above the mmap
threshold (128 KiB, raised only dynamically) come from mmap(2) or from a heap top that free()
trims straight back, so every command paid ~32 page faults to zero fresh pages and a munmap. With
the thresholds below the same buffers are recycled from the heap: 132-151 -> 74 us of CPU per
128 KiB READ. The cost is memory the heap keeps after a burst (at most TRIM_THRESHOLD above
what is in use), which a storage daemon sized for its I/O queue can afford.

apply() is process-wide and idempotent; it is a no-op where libc is not glibc. It belongs in the
process runtime (strato/runtime.py) once the lead takes it there; until then the iSCSI target
server applies it when it starts listening.
"""
from __future__ import annotations

import ctypes
import logging

log = logging.getLogger(__name__)

# mallopt(3) parameter numbers (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

# Above the largest per-command buffer the target allocates (a 1 MiB read/Data-Out burst), so
# those never take the mmap path; a 64 MiB trim threshold lets a queue of them (32 x 1 MiB)
# come and go without the heap being shrunk and refaulted in between.
MMAP_THRESHOLD = 4 << 20
TRIM_THRESHOLD = 64 << 20

_applied = False


def apply() -> bool:
    """Set the thresholds once per process; True when glibc accepted them."""
    global _applied
    if _applied:
        return True
    try:
        # the process's own symbols, libc's among them: find_library() would run ldconfig in
        # a subprocess, and apply() is called on the event loop
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt): nothing to tune
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    ok = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    if not ok:
        log.warning("mallopt refused the I/O buffer thresholds; large reads will page-fault")
    _applied = ok
    return ok
