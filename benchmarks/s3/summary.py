"""The S3-vs-Swift table of side_by_side.sh: per test and concurrency, medians over the rounds.

  summary.py SWIFT_TSV S3_TSV
Both files have bench_s3.sh's columns (bench.sh's plus proxy_us/req and srv_us/req, the server
CPU per answered request of the proxy processes and of all server processes). Prints a Markdown
table: median ops/s and p99 of each API, S3/Swift ops/s, CPU per request of each and S3/Swift for
the proxy alone and for proxy + storage nodes, the median of the per-round S3/Swift proxy CPU
ratios (each S3 run against the Swift run of the same round: drift between rounds cancels), and
the errors of each API summed over the rounds (any error makes the row suspect).
"""
from __future__ import annotations

import csv
import statistics
import sys

GOAL = 1.15  # issue 4: the S3 path costs at most 15 % over the Swift API path


def read_rows(path: str) -> list[dict]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    for row in rows:
        for key, value in row.items():
            if key != "test":
                row[key] = float(value)
    return rows


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def summarize(swift: list[dict], s3: list[dict]) -> list[dict]:
    """One dict per (test, conc) found in both, in the order the Swift runs came."""
    keys = list(dict.fromkeys((r["test"], r["conc"]) for r in swift))
    out = []
    for key in keys:
        a = [r for r in swift if (r["test"], r["conc"]) == key]
        b = [r for r in s3 if (r["test"], r["conc"]) == key]
        if not b:
            continue

        def med(rows, col):
            return statistics.median(r[col] for r in rows)
        by_rep = {r["rep"]: r for r in a}
        paired = [_ratio(r["proxy_us/req"], by_rep[r["rep"]]["proxy_us/req"])
                  for r in b if r["rep"] in by_rep]
        row = {"test": key[0], "conc": int(key[1]), "rounds": min(len(a), len(b))}
        for api, rows in (("swift", a), ("s3", b)):
            row[f"{api}_ops"] = med(rows, "ops/s")
            row[f"{api}_p99"] = med(rows, "p99_ms")
            row[f"{api}_proxy"] = med(rows, "proxy_us/req")
            row[f"{api}_all"] = med(rows, "srv_us/req")
            row[f"{api}_errors"] = int(sum(r["errors"] for r in rows))
        row["ops_ratio"] = _ratio(row["s3_ops"], row["swift_ops"])
        row["proxy_ratio"] = _ratio(row["s3_proxy"], row["swift_proxy"])
        row["all_ratio"] = _ratio(row["s3_all"], row["swift_all"])
        row["proxy_paired"] = statistics.median(paired) if paired else float("nan")
        out.append(row)
    return out


def markdown(rows: list[dict]) -> str:
    lines = [
        "| test | conc | Swift ops/s | S3 ops/s | S3/Swift ops | Swift p99 ms | S3 p99 ms "
        "| Swift proxy µs/req | S3 proxy µs/req | S3/Swift proxy CPU | paired rounds "
        "| Swift all µs/req | S3 all µs/req | S3/Swift all CPU | errors Swift/S3 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['test']} | {r['conc']} | {r['swift_ops']:.0f} | {r['s3_ops']:.0f} "
            f"| {r['ops_ratio']:.2f} | {r['swift_p99']:.1f} | {r['s3_p99']:.1f} "
            f"| {r['swift_proxy']:.0f} | {r['s3_proxy']:.0f} | {r['proxy_ratio']:.2f} "
            f"| {r['proxy_paired']:.2f} | {r['swift_all']:.0f} | {r['s3_all']:.0f} "
            f"| {r['all_ratio']:.2f} | {r['swift_errors']}/{r['s3_errors']} |")
    worst = max((r["proxy_ratio"] for r in rows), default=float("nan"))
    errors = any(r["swift_errors"] or r["s3_errors"] for r in rows)
    verdict = "no verdict" if errors else "met" if worst <= GOAL else "not met"
    lines.append("")
    lines.append(f"Medians over {min((r['rounds'] for r in rows), default=0)} rounds. Goal (issue 4): "
                 f"S3 costs at most {GOAL:.2f} x the Swift path; worst proxy CPU ratio here "
                 f"{worst:.2f}, {verdict} by proxy CPU per request.")
    if errors:
        lines.append("**Some runs had errors: those rows do not measure the API.**")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    print(markdown(summarize(read_rows(argv[0]), read_rows(argv[1]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
