"""native.iscsiread in isolation: ns per cached 4 KiB READ answered, compiled and pure twins.

32 READ(10) PDUs per call (a queue-depth burst), the file in the page cache, best of 7 x 2000
calls. Usage: .venv/bin/python benchmarks/native/iscsiread_micro.py
"""
import os
import struct
import tempfile
import time

from native import _iscsiread_py

try:
    from native import _iscsiread_c
except ImportError:            # pure-Python build: only the twin is measured
    _iscsiread_c = None

PDUS, CALLS, ROUNDS = 32, 2000, 7


def read_pdu(i: int) -> bytes:
    cdb = struct.pack(">BBIBHB", 0x28, 0, i % 200, 0, 8, 0) + bytes(6)
    return struct.pack(">BBxxIQIII", 0x01, 0xC1, 0, 0, i, 4096, i + 1) + bytes(4) + cdb


def measure(impl, fd: int) -> float:
    wire = memoryview(bytearray(b"".join(read_pdu(i) for i in range(PDUS))))
    best = float("inf")
    for _ in range(ROUNDS):
        t = time.perf_counter()
        for _ in range(CALLS):
            out = []
            pos = impl.serve_reads(wire, 0, len(wire), fd, 512, 2048, 2048, 262144, {}, 1, 0, 0,
                                   128, out)[0]
        best = min(best, (time.perf_counter() - t) / (CALLS * PDUS))
    assert pos == len(wire) and len(out) == PDUS, "the READs were not all answered"
    return best


def main() -> None:
    fd, path = tempfile.mkstemp()
    try:
        os.write(fd, bytes(1 << 20))
        for name, impl in (("c", _iscsiread_c), ("py", _iscsiread_py)):
            if impl is not None:
                print(f"{name}: {measure(impl, fd) * 1e9:.0f} ns per 4 KiB READ answered")
    finally:
        os.close(fd)
        os.unlink(path)


if __name__ == "__main__":
    main()
