"""Top frames of py-spy's collapsed stacks (--format raw), grouped by role (proxy / storage).

For each role: the share of samples whose innermost frame is a given function (self time), and
the share whose stack contains it anywhere (total time), so a profile reads in a terminal.
"""
from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

TOP = 25


def load(files):
    self_t, total_t, n = Counter(), Counter(), 0
    for path in files:
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            c = int(count)
            frames = [f.split(" (")[0] + " (" + f.split(" (")[-1].split(":")[0].rsplit("/", 1)[-1]
                      for f in stack.split(";")[1:]]  # drop the process/thread root
            if not frames:
                continue
            n += c
            self_t[frames[-1]] += c
            for f in set(frames):
                total_t[f] += c
    return self_t, total_t, n


def main(out: Path) -> None:
    for role in ("proxy", "storage"):
        files = sorted(out.glob(f"{role}-*.txt"))
        if not files:
            continue
        self_t, total_t, n = load(files)
        print(f"== {role}: {n} samples from {len(files)} processes")
        print("-- self")
        for f, c in self_t.most_common(TOP):
            print(f"{100 * c / n:5.1f}%  {f}")
        print("-- total (inclusive)")
        for f, c in total_t.most_common(TOP):
            print(f"{100 * c / n:5.1f}%  {f}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
