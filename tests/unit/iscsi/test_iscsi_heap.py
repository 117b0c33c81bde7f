"""blockserver.iscsi.heap: the malloc thresholds are applied on glibc, without a subprocess
(apply() runs on the event loop when the target starts listening)."""
import subprocess

import pytest

from blockserver.iscsi import heap


def test_apply_takes_glibc_mallopt_without_spawning(monkeypatch):
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        pytest.skip("not glibc: apply() has nothing to tune")    # named: this box is glibc

    def no_spawn(*args, **kwargs):
        # ctypes.util.find_library() runs ldconfig this way
        raise AssertionError(f"apply() spawned {args[0]!r}")
    monkeypatch.setattr(subprocess, "Popen", no_spawn)
    monkeypatch.setattr(heap, "_applied", False)
    assert heap.apply() is True
    assert heap.apply() is True          # idempotent
