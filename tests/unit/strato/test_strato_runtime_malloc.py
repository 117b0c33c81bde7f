"""strato.runtime.tune_malloc: streamed buffers reuse heap pages instead of faulting fresh ones.

Each case runs in a fresh interpreter (malloc settings are per process): it allocates and frees
100 buffers of 200 KiB (a proxy or node reading a body) three times and reports the minor page
faults of the third round. glibc's defaults give the heap back after each round (thousands of
faults per round); tuned, the pages stay and the round faults almost nothing."""
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


@pytest.mark.skipif(not runtime.tune_malloc(), reason="libc is not glibc")
def test_tuned_malloc_keeps_pages_of_freed_buffers():
    untuned, tuned = _third_round_faults("default"), _third_round_faults("tuned")
    assert untuned > 2000, untuned  # 20 MiB handed back and faulted in again: the cost removed
    assert tuned < 200, tuned


def test_run_tunes_malloc_only_when_configured(monkeypatch):
    calls = []
    monkeypatch.setattr(runtime, "tune_malloc", lambda: calls.append(True) or True)

    class Cluster:
        use_uvloop = False
        tune_malloc = False

    class Config:
        cluster = Cluster()

    async def main():
        return None

    runtime.run(main, Config())
    assert calls == []
    Cluster.tune_malloc = True
    runtime.run(main, Config())
    assert calls == [True]
