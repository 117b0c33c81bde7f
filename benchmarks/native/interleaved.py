"""Ratios that decide the issue-5 goals, measured so that a shared, loaded machine cannot bias them.

    .venv/bin/python benchmarks/native/interleaved.py [seconds]

pytest-benchmark times one case after another, so load that comes and goes between cases skews
their ratio. Here the contenders take turns (A, B, C, A, B, C, ...) in short bursts and each keeps
its best burst: the least disturbed run, measured under the same conditions as its rivals'.
"""
import hashlib
import os
import sys
import time
import zlib

import crc32c as crc32c_package
import xxhash

import native

C = native.load_both("checksum")["c"]


def md5_alone(data):
    return hashlib.md5(data).hexdigest()


def md5_then_xxh3_libraries(data):
    return hashlib.md5(data).hexdigest(), xxhash.xxh3_64(data).hexdigest()


def md5_xxh3_one_pass(data):
    h = C.Md5Xxh3(data)
    return h.md5_hexdigest(), h.xxh3_hexdigest()


def best_times(cases, data, seconds):
    best = {name: float("inf") for name in cases}
    reps = max(1, int(2e-3 * 1e9 / (len(data) * 2)))  # bursts of about 2 ms at ~1 GB/s
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        for name, func in cases.items():
            start = time.perf_counter()
            for _ in range(reps):
                func(data)
            best[name] = min(best[name], (time.perf_counter() - start) / reps)
    return best


def report(title, cases, baseline, seconds):
    print(f"\n{title}")
    for size in (4096, 65536, 1 << 20):
        data = os.urandom(size)
        best = best_times(cases, data, seconds)
        cells = [f"{name} {size / t / 1e9:6.2f} GB/s ({t / best[baseline]:.3f}x)" for name, t in best.items()]
        print(f"  {size:>8} B: " + " | ".join(cells))


def main():
    if C is None:
        sys.exit("native._checksum_c is not built")
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    report("MD5 + xxh3 (time relative to hashlib md5 alone)",
           {"md5 alone": md5_alone, "Md5Xxh3 c": md5_xxh3_one_pass,
            "hashlib+xxhash": md5_then_xxh3_libraries}, "md5 alone", seconds)
    report("CRC32C (time relative to the crc32c package)",
           {"crc32c package": crc32c_package.crc32c, "crc32c c": C.crc32c}, "crc32c package", seconds)
    report("CRC32 / CRC64-NVME (time relative to zlib.crc32)",
           {"zlib.crc32": zlib.crc32, "crc32 c": C.crc32, "crc64nvme c": C.crc64nvme}, "zlib.crc32", seconds)


if __name__ == "__main__":
    main()
