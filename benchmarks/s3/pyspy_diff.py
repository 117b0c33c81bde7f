"""Two py-spy raw profiles (collapsed stacks), per answered request, frame by frame.

    pyspy_diff.py A.txt A_REQUESTS B.txt B_REQUESTS [--top 40] [--rate 1000]

For each function (file:name, line numbers merged) the inclusive samples (stacks it is on) and
the self samples (stacks it ends) per request of A and of B, as µs at the sampling rate, and the
difference B - A, largest first: where B's extra time per request goes (get_account.sh writes
pyspy-<kind>.txt and pyspy-<kind>.requests).
"""
from __future__ import annotations

import argparse
import collections
import re

_LINE = re.compile(r" \(([^()]*?)(?::\d+)?\)$")


def _frame(text: str) -> str:
    """'name (path/file.py:123)' -> 'name (file-ish path)' without the line number."""
    m = _LINE.search(text)
    if not m:
        return text
    path = m.group(1)
    for cut in ("site-packages/", "/work/main/", "/tmp/"):
        if cut in path:
            path = path.split(cut, 1)[1]
    return f"{text[:m.start()]} ({path})"


def load(path: str):
    inclusive, own, total = collections.Counter(), collections.Counter(), 0
    for line in open(path):
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [_frame(f) for f in stack.split(";") if f]
        for f in set(frames):
            inclusive[f] += n
        if frames:
            own[frames[-1]] += n
    return inclusive, own, total


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("a"), p.add_argument("a_requests", type=int)
    p.add_argument("b"), p.add_argument("b_requests", type=int)
    p.add_argument("--top", type=int, default=40)
    p.add_argument("--rate", type=float, default=1000.0)
    args = p.parse_args(argv)
    us = 1e6 / args.rate
    ia, sa, ta = load(args.a)
    ib, sb, tb = load(args.b)
    ra, rb = max(args.a_requests, 1), max(args.b_requests, 1)
    print(f"A: {ta} samples / {ra} requests = {ta / ra * us:.1f} µs; "
          f"B: {tb} samples / {rb} requests = {tb / rb * us:.1f} µs (GIL held, at {args.rate:g}/s)")
    for title, a, b in (("inclusive", ia, ib), ("self", sa, sb)):
        rows = [(b[f] / rb * us - a[f] / ra * us, a[f] / ra * us, b[f] / rb * us, f)
                for f in set(a) | set(b)]
        rows.sort(key=lambda r: -abs(r[0]))
        print(f"\n{title} µs per request:   A       B     B-A   function")
        for d, x, y, f in rows[:args.top]:
            print(f"  {x:24.1f} {y:7.1f} {d:+7.1f}   {f[:120]}")


if __name__ == "__main__":
    main()
