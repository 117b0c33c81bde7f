"""Turn pytest-benchmark JSON from benchmarks/native into the Markdown rows of benchmarks/RESULTS.md.

    python benchmarks/native/report.py /tmp/bench_checksum.json [more.json ...]

One table per benchmark group: best time (min, the least disturbed run on a shared machine), mean,
GB/s from the best time, and the ratio to the group's fastest case.
"""
import json
import sys


def rows(paths):
    groups = {}
    for path in paths:
        with open(path) as f:
            doc = json.load(f)
        for bench in doc["benchmarks"]:
            groups.setdefault(bench["group"], []).append(bench)
    for group, benches in groups.items():
        benches.sort(key=lambda b: b["stats"]["min"])
        best = benches[0]["stats"]["min"]
        yield f"\n**{group}**\n"
        yield "| case | best | mean | GB/s | time vs fastest |"
        yield "| --- | ---: | ---: | ---: | ---: |"
        for b in benches:
            case = b["params"].get("case") or b["params"].get("impl_name") or b["name"]
            gbs = b.get("extra_info", {}).get("GB/s", "")
            yield (f"| {case} | {b['stats']['min'] * 1e6:.2f} µs | {b['stats']['mean'] * 1e6:.2f} µs "
                   f"| {gbs} | {b['stats']['min'] / best:.2f}x |")


if __name__ == "__main__":
    print("\n".join(rows(sys.argv[1:])))
