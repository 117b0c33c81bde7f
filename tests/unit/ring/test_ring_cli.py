"""`strato ring ...` through strato.cli.main, and once as a real subprocess."""
import os
import subprocess
import sys

import pytest

from ring import Ring, RingBuilder
from strato.cli import main

pytestmark = pytest.mark.timeout(60)


def run(capsys, *args):
    code = main(["ring", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def built(tmp_path, capsys):
    path = tmp_path / "object.builder"
    assert run(capsys, "create", path, "--part-power", 8, "--replicas", 3, "--seed", 4)[0] == 0
    for z in range(4):
        code, out, _ = run(capsys, "add", path, "--region", 1, "--zone", z, "--ip", "127.0.0.1",
                           "--port", 6200 + z, "--device", "sdb", "--weight", 100)
        assert code == 0 and f"added device {z}" in out
    return path


def test_create_add_rebalance_show_validate(built, capsys, tmp_path):
    code, out, _ = run(capsys, "rebalance", built)
    assert code == 0 and "placed 768 new" in out
    ring_file = tmp_path / "object.ring"
    assert ring_file.exists()
    ring = Ring.load(str(ring_file))
    assert ring.part_power == 8 and ring.replica_count == 3
    code, out, _ = run(capsys, "show", built)
    assert code == 0 and "4 devices" in out and "balance 0.00%" in out
    code, out, _ = run(capsys, "show", ring_file)
    assert code == 0 and "ring, part power 8" in out and " 192 " in out
    assert run(capsys, "validate", built)[0] == 0
    assert run(capsys, "validate", ring_file)[0] == 0
    # change the topology: set a weight, remove, add; rebalance reports the movement
    assert run(capsys, "set-weight", built, 0, 50)[0] == 0
    assert run(capsys, "remove", built, 3)[0] == 0
    assert run(capsys, "add", built, "--region", 1, "--zone", 9, "--ip", "127.0.0.2",
               "--port", 6200, "--device", "sdc", "--weight", 100)[0] == 0
    code, out, _ = run(capsys, "rebalance", built, "--ring", tmp_path / "other.ring")
    assert code == 0 and "moved " in out and (tmp_path / "other.ring").exists()
    b = RingBuilder.load(str(built))
    assert b.devices[3] is None and b.devices[4].device == "sdc"


@pytest.mark.parametrize("args, reason", [
    (["add", "{b}", "--region", 1, "--zone", 1, "--ip", "127.0.0.1", "--port", 6200,
      "--device", "sdb", "--weight", 1], "duplicate device"),
    (["add", "{b}", "--region", 1, "--zone", 1, "--ip", "127.0.0.1", "--port", 6300,
      "--device", "sdb", "--weight", -5], "weight"),
    (["add", "{b}", "--region", 1, "--zone", 1, "--ip", "127.0.0.1", "--port", 6300,
      "--device", "sdb"], "required"),
    (["set-weight", "{b}", 0, "heavy"], "invalid float"),
    (["set-weight", "{b}", 42, 5], "no device"),
    (["remove", "{b}", 42], "no device"),
    (["create", "{b}", "--part-power", 8, "--replicas", 3], "already exists"),
    (["create", "{d}/new.builder", "--part-power", 30, "--replicas", 3], "part_power"),
    (["rebalance", "{d}/missing.builder"], "cannot read"),
    (["validate", "{d}/missing.ring"], "cannot read"),
    (["frobnicate"], "invalid choice"),
    ([], "usage"),
])
def test_bad_input_is_one_line_and_exit_2(built, capsys, args, reason):
    args = [str(a).format(b=built, d=built.parent) for a in args]
    code, out, err = run(capsys, *args)
    assert code == 2
    if args:
        assert err.count("\n") == 1 and err.startswith("strato ring: ") and reason in err, err
    else:
        assert reason in out


def test_too_few_devices_and_unbalanced_validate(tmp_path, capsys):
    path = tmp_path / "x.builder"
    run(capsys, "create", path, "--part-power", 4, "--replicas", 3)
    run(capsys, "add", path, "--region", 1, "--zone", 1, "--ip", "127.0.0.1", "--port", 6200,
        "--device", "a", "--weight", 1)
    code, _, err = run(capsys, "validate", path)
    assert code == 2 and "not rebalanced" in err
    code, _, err = run(capsys, "rebalance", path)
    assert code == 2 and "cannot hold 3 replicas" in err
    bad = tmp_path / "bad.ring"
    bad.write_bytes(b"\x1f\x8b garbage")
    code, _, err = run(capsys, "validate", bad)
    assert code == 2 and "corrupt" in err


def test_strato_ring_subprocess(built, tmp_path):
    strato = os.path.join(os.path.dirname(sys.executable), "strato")
    ok = subprocess.run([strato, "ring", "rebalance", str(built)], capture_output=True,
                        text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert "wrote" in ok.stdout and (tmp_path / "object.ring").exists()
    bad = subprocess.run([strato, "ring", "set-weight", str(built), "0", "-1"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "strato ring: weight must be a finite number >= 0, got -1.0"]
