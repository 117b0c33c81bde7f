"""A small mounted tmpfs: a real file system that fills up (ENOSPC) for the tests that need one.
Skips the test where this process may not mount (not root, or no tmpfs here)."""
from __future__ import annotations

import contextlib
import os
import subprocess

import pytest


@contextlib.contextmanager
def mounted_tmpfs(where, size: str):
    """Mount a tmpfs of `size` (mount's form: "1m", "4m") on the existing directory `where`."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs (a real full file system) needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
