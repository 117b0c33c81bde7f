"""benchmarks/s3/summary.py: medians, S3/Swift ratios, paired rounds and error flags."""
from __future__ import annotations

import importlib.util
import math
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[3]
SPEC = importlib.util.spec_from_file_location("bench_s3_summary", ROOT / "benchmarks/s3/summary.py")
summary = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(summary)

COLS = ["test", "conc", "rep", "ops/s", "MB/s", "p50_ms", "p99_ms", "errors", "wrk_cpu%",
        "srv_cpu%", "machine_busy%", "proxy_us/req", "srv_us/req"]


def tsv(path, rows):
    lines = ["\t".join(COLS)] + ["\t".join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return summary.read_rows(str(path))


def row(test, conc, rep, ops, p99, errors, proxy, allsrv):
    return [test, conc, rep, ops, 0, 1, p99, errors, 5, 100, 99, proxy, allsrv]


def test_medians_ratios_and_paired_rounds(tmp_path):
    swift = tsv(tmp_path / "swift.tsv", [row("get4k", 16, 1, 1000, 10, 0, 300, 600),
                                         row("get4k", 16, 2, 2000, 20, 0, 200, 400),
                                         row("get4k", 16, 3, 1500, 30, 0, 400, 500)])
    s3 = tsv(tmp_path / "s3.tsv", [row("get4k", 16, 1, 900, 15, 0, 330, 660),
                                   row("get4k", 16, 2, 1800, 25, 1, 260, 440),
                                   row("get4k", 16, 3, 1200, 35, 0, 480, 600)])
    [r] = summary.summarize(swift, s3)
    assert (r["test"], r["conc"], r["rounds"]) == ("get4k", 16, 3)
    assert r["swift_ops"] == 1500 and r["s3_ops"] == 1200
    assert math.isclose(r["ops_ratio"], 0.8)
    assert r["swift_p99"] == 20 and r["s3_p99"] == 25
    assert r["swift_proxy"] == 300 and r["s3_proxy"] == 330
    assert math.isclose(r["proxy_ratio"], 1.1)
    assert math.isclose(r["all_ratio"], 600 / 500)
    # per round: 1.1, 1.3, 1.2 -> median 1.2 (not the ratio of the medians)
    assert math.isclose(r["proxy_paired"], 1.2)
    assert (r["swift_errors"], r["s3_errors"]) == (0, 1)
    text = summary.markdown([r])
    assert "| get4k | 16 | 1500 | 1200 | 0.80 |" in text
    # an error in any run: the table is shown, but no verdict is drawn from it
    assert "1.10, no verdict by proxy CPU" in text
    assert "had errors" in text
    s3[1]["errors"] = 0
    text = summary.markdown(summary.summarize(swift, s3))
    assert "1.10, met by proxy CPU" in text and "had errors" not in text


def test_goal_not_met_and_rows_only_when_both_apis_ran(tmp_path):
    swift = tsv(tmp_path / "swift.tsv", [row("put1m", 64, 1, 80, 900, 0, 3000, 16000),
                                         row("put4k", 64, 1, 400, 300, 0, 900, 3500)])
    s3 = tsv(tmp_path / "s3.tsv", [row("put1m", 64, 1, 70, 1000, 0, 3900, 17000)])
    rows = summary.summarize(swift, s3)
    assert [r["test"] for r in rows] == ["put1m"]
    text = summary.markdown(rows)
    assert "worst proxy CPU ratio here 1.30, not met" in text
    assert "had errors" not in text
