"""strato.runtime.tune_malloc: streamed buffers reuse heap pages instead of faulting fresh ones;
strato.runtime.tune_gc: the collector's thresholds raised and start-up objects frozen.

Each case runs in a fresh interpreter (malloc settings are per process): it allocates and frees
100 buffers of 200 KiB (a proxy or node reading a body) three times and reports the minor page
faults of the third round. glibc's defaults give the heap back after each round (thousands of
faults per round); tuned, the pages stay and the round faults almost nothing."""
import platform
import subprocess
import sys

import pytest

from strato import runtime

ROUNDS = r"""
import resource, sys
from strato import runtime
if sys.argv[1] == "tuned":
    assert runtime.tune_malloc()

def one_round():
    blocks = [b"x" * (200 * 1024) for _ in range(100)]  # filled: every page touched
    del blocks

one_round(); one_round()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
one_round()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _third_round_faults(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", ROUNDS, mode], check=True, capture_output=True,
                         text=True, timeout=60)
    return int(out.stdout.strip())


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="libc is not glibc")
def test_tuned_malloc_keeps_pages_of_freed_buffers():
    untuned, tuned = _third_round_faults("default"), _third_round_faults("tuned")
    assert untuned > 2000, untuned  # 20 MiB handed back and faulted in again: the cost removed
    assert tuned < 200, tuned


def test_run_tunes_malloc_and_gc_only_when_configured(monkeypatch):
    calls = []
    monkeypatch.setattr(runtime, "tune_malloc", lambda: calls.append("malloc") or True)
    monkeypatch.setattr(runtime, "tune_gc", lambda: calls.append("gc"))

    class Cluster:
        use_uvloop = False
        tune_malloc = False
        tune_gc = False

    class Config:
        cluster = Cluster()

    async def main():
        return None

    runtime.run(main, Config())
    assert calls == []
    Cluster.tune_malloc = Cluster.tune_gc = True
    runtime.run(main, Config())
    assert calls == ["malloc", "gc"]


def test_tune_gc_freezes_start_up_objects_and_raises_thresholds():
    script = ("import gc; from strato import runtime; before = gc.get_threshold(); "
              "runtime.tune_gc(); print(before, gc.get_threshold(), gc.get_freeze_count() > 1000, "
              "sep='|')")
    before, after, frozen = subprocess.run([sys.executable, "-c", script], check=True,
                                           capture_output=True, text=True,
                                           timeout=60).stdout.strip().split("|")
    assert before == "(700, 10, 10)"  # CPython's defaults: what the tuning replaces
    assert after == str(runtime.GC_THRESHOLDS) and frozen == "True"
