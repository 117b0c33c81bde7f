"""How much of a pure-mode Strato run's CPU samples sit in native's pure twins: the most the
compiled modules could save end to end (Amdahl: speedup <= 1 / (1 - share)).

    e2e_twin_share.py DIR     DIR = a benchmarks/e2e/profile.sh output (py-spy --format raw files,
                                    <role>-<pid>.txt), recorded with STRATO_NO_EXTENSIONS=1
A sample counts for the twins when any frame of its stack is in native/_*_py.py (the frames of
the C libraries those twins call, hashlib/xxhash/crc32c, are attributed to the twin's frame).
"""
import collections
import pathlib
import re
import sys

TWIN = re.compile(r"\(native/_(\w+)_py\.py:\d+\)|native/_(\w+)_py\.py")


def main(out: str) -> None:
    total = collections.Counter()
    twin = collections.defaultdict(collections.Counter)
    for path in sorted(pathlib.Path(out).glob("*-*.txt")):
        role = path.name.split("-")[0]
        if role not in ("proxy", "storage"):
            continue
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            n = int(count)
            total[role] += n
            m = TWIN.search(stack)
            if m:
                twin[role][m.group(1) or m.group(2)] += n
    for role in sorted(total):
        share = sum(twin[role].values()) / total[role] if total[role] else 0.0
        parts = ", ".join(f"{k} {v / total[role]:.1%}" for k, v in twin[role].most_common())
        print(f"{role}: {total[role]} samples, in pure twins {share:.1%} ({parts or 'none'}); "
              f"bound on native speedup {1 / (1 - share):.3f}x")


if __name__ == "__main__":
    main(sys.argv[1])
