"""Side-by-side table of two bench.sh outputs (swift.tsv, strato.tsv in one run directory).

Each (test, concurrency) row is the mean over bench.sh's repetitions; ratios are Strato / Swift for
ops/s and MB/s and Swift / Strato for p99 (above 1 means Strato is better on every column);
errors are summed over the repetitions.
"""
from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

COLUMNS = ("ops", "mbs", "p50", "p99", "errors", "srv_cpu", "busy")


def parse(path: Path) -> dict[tuple[str, int], dict[str, float]]:
    sums: dict[tuple[str, int], list[list[float]]] = defaultdict(list)
    if not path.exists():
        return {}
    for line in path.read_text().splitlines():
        f = line.split("\t")
        if len(f) != 11 or f[0] not in ("get4k", "put4k", "get1m", "put1m"):
            continue
        sums[(f[0], int(f[1]))].append([float(x) for x in (f[3], f[4], f[5], f[6], f[7], f[9], f[10])])
    out = {}
    for key, rows in sums.items():
        out[key] = dict(zip(COLUMNS, (sum(c) / len(rows) for c in zip(*rows))))
        out[key]["errors"] = sum(row[COLUMNS.index("errors")] for row in rows)  # a total, not a mean
    return out


def table(run: Path) -> str:
    swift, strato = parse(run / "swift.tsv"), parse(run / "strato.tsv")
    out = ["| test | conc | Swift ops/s | Swift MB/s | Swift p50/p99 ms | Strato ops/s | Strato MB/s "
           "| Strato p50/p99 ms | ops ratio | p99 ratio | errors (Sw/St) |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for key in sorted(set(swift) | set(strato), key=lambda k: (k[0][-2:], k[0], k[1])):
        a, b = swift.get(key), strato.get(key)
        cell = lambda r, c, fmt: format(r[c], fmt) if r else "-"  # noqa: E731
        lat = lambda r: f"{r['p50']:.1f} / {r['p99']:.1f}" if r else "-"  # noqa: E731
        ratio = f"{b['ops'] / a['ops']:.1f}x" if a and b and a["ops"] else "-"
        p99 = f"{a['p99'] / b['p99']:.1f}x" if a and b and b["p99"] else "-"
        errs = f"{cell(a, 'errors', '.0f')}/{cell(b, 'errors', '.0f')}"
        out.append(f"| {key[0]} | {key[1]} | {cell(a, 'ops', '.0f')} | {cell(a, 'mbs', '.1f')} "
                   f"| {lat(a)} | {cell(b, 'ops', '.0f')} | {cell(b, 'mbs', '.1f')} | {lat(b)} "
                   f"| {ratio} | {p99} | {errs} |")
    return "\n".join(out)


if __name__ == "__main__":
    print(table(Path(sys.argv[1])))
