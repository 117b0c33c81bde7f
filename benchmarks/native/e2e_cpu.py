"""CPU seconds of a Strato all-in-one's processes, by role, for benchmarks/native/e2e_native_vs_pure.sh.

    e2e_cpu.py snap AIO_PID            -> one JSON line {"proxy": s, "storage": s, "other": s}
    e2e_cpu.py mode AIO_PID            -> which processes mapped native's compiled .so files
    e2e_cpu.py report TSV              -> the paired native/pure table (markdown)

Roles come from the command line (`strato serve proxy|storage ...`, proxy workers are its
children). psutil cpu_times (user+system) are less disturbed by other load than ops/s.
"""
import json
import statistics
import sys

import psutil


def _tree(pid):
    root = psutil.Process(pid)
    return [root] + root.children(recursive=True)


def _role(proc):
    try:
        cmd = proc.cmdline()
    except psutil.Error:
        return None
    if "serve" in cmd:
        return cmd[cmd.index("serve") + 1]
    return "aio"


def snap(pid):
    out = {"proxy": 0.0, "storage": 0.0, "other": 0.0}
    for proc in _tree(pid):
        role = _role(proc)
        try:
            t = proc.cpu_times()
        except psutil.Error:
            continue
        key = role if role in ("proxy", "storage") else "other"
        out[key] += t.user + t.system
    print(json.dumps(out))


def mode(pid):
    # The proof that a process runs the twins: none of native/_*_c.*.so is mapped into it.
    for proc in _tree(pid):
        role = _role(proc)
        if role not in ("proxy", "storage"):
            continue
        with open(f"/proc/{proc.pid}/maps") as f:
            mapped = sorted({line.split()[-1].rsplit("/", 1)[-1].split(".")[0]
                             for line in f if "/native/_" in line and "_c.cpython" in line})
        print(f"{role} pid {proc.pid}: native .so mapped: {', '.join(mapped) or 'none'}")


def report(tsv):
    rows = [line.rstrip("\n").split("\t") for line in open(tsv) if not line.startswith("round")]
    # round mode test ops cpu_proxy cpu_storage requests
    by = {}
    for rnd, mode_, test, ops, cp, cs, req in rows:
        by[(int(rnd), mode_, test)] = (float(ops), float(cp), float(cs), int(req))
    tests = sorted({k[2] for k in by})
    print("| test | round | native ops/s | pure ops/s | ratio | native CPU ms/req proxy+storage "
          "| pure CPU ms/req proxy+storage | CPU ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for test in tests:
        ratios, cratios = [], []
        for rnd in sorted({k[0] for k in by}):
            n, p = by.get((rnd, "native", test)), by.get((rnd, "pure", test))
            if not n or not p:
                continue
            nms = [1000 * x / n[3] for x in n[1:3]]
            pms = [1000 * x / p[3] for x in p[1:3]]
            r, cr = n[0] / p[0], sum(pms) / sum(nms)
            ratios.append(r)
            cratios.append(cr)
            print(f"| {test} | {rnd} | {n[0]:.0f} | {p[0]:.0f} | {r:.2f} | {nms[0]:.2f}+{nms[1]:.2f} "
                  f"| {pms[0]:.2f}+{pms[1]:.2f} | {cr:.2f} |")
        if ratios:
            print(f"| {test} | median | | | {statistics.median(ratios):.2f} | | | "
                  f"{statistics.median(cratios):.2f} |")


if __name__ == "__main__":
    cmd, arg = sys.argv[1], sys.argv[2]
    {"snap": lambda: snap(int(arg)), "mode": lambda: mode(int(arg)), "report": lambda: report(arg)}[cmd]()
