"""A real Strato iSCSI target for tests: the standalone exporter in a subprocess on an ephemeral
port, serving a sparse file, and the fixtures the iSCSI test tiers share (imported by their
conftest.py files; tests/ is on sys.path through tests/conftest.py)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class StandaloneTarget:
    def __init__(self, tmp_path, size="64M", chap=None, mutual=None, iqn=None):
        self.file = str(tmp_path / "lun0.img")
        cmd = [sys.executable, "-m", "blockserver.iscsi.standalone", "--file", self.file,
               "--size", size, "--port", "0", "--threads", "4"]
        if chap:
            cmd += ["--chap", ":".join(chap)]
        if mutual:
            cmd += ["--mutual", ":".join(mutual)]
        if iqn:
            cmd += ["--iqn", iqn]
        self.proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("READY "):
            self.proc.kill()
            raise RuntimeError(f"target did not start: {line!r} {self.proc.stderr.read()}")
        self.url = line.split()[1]                 # iscsi://127.0.0.1:PORT/IQN/0
        rest = self.url[len("iscsi://"):]
        self.portal, self.iqn, _ = rest.split("/")
        self.port = int(self.portal.rsplit(":", 1)[1])

    def url_with(self, user: str, secret: str) -> str:
        return f"iscsi://{user}%{secret}@{self.portal}/{self.iqn}/0"

    def stop(self) -> str:
        self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err


def run(*cmd, timeout=60, check=True) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{cmd} failed ({result.returncode}): {result.stdout}"
                             f"{result.stderr}")
    return result


def need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (Debian libiscsi-bin / qemu-utils)")


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    t = StandaloneTarget(tmp_path_factory.mktemp("iscsi"))
    yield t
    t.stop()


@pytest.fixture(scope="module")
def chap_target(tmp_path_factory):
    t = StandaloneTarget(tmp_path_factory.mktemp("iscsi-chap"), chap=("alice", "wonderland12"),
                         mutual=("tgt", "looking-glass"))
    yield t
    t.stop()


@pytest.fixture
def tools():
    import types
    return types.SimpleNamespace(run=run, need=need, StandaloneTarget=StandaloneTarget,
                                 wait=time.sleep)
