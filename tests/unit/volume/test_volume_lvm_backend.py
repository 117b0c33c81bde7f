"""The lvm backend's command layer, against RecordedLvmCommandsFake.

This machine has no device-mapper, so lvm cannot run here: the fake below is a recording of the
commands the backend must issue (exact argv, in order) and of lvm2's answers to them (the JSON of
`lvs --reportformat json`, exit codes and LC_ALL=C error text), replayed in sequence.
docs/block-storage.md says how to run the backend against a real thin pool.
"""
import json

import pytest

from blockserver.backends.base import GIB
from blockserver.backends.lvm import CommandResult, LvmBackend
from blockserver.errors import BackendError


class RecordedLvmCommandsFake:
    """A CommandRunner that checks each argv against the recording and replays its result."""

    def __init__(self, recording):
        self.recording = list(recording)
        self.calls = []

    def run(self, argv):
        self.calls.append(list(argv))
        assert self.recording, f"unexpected command {argv}"
        expected, result = self.recording.pop(0)
        assert list(argv) == expected
        return result

    def assert_done(self):
        assert not self.recording, f"commands never issued: {[r[0] for r in self.recording]}"


def lvs_json(*rows):
    """lvm2's `lvs --reportformat json` document, as 2.03 prints it."""
    return json.dumps({"report": [{"lv": [dict(r) for r in rows]}]}, indent=2) + "\n"


def lv_row(name, size, attr="Vwi-a-tz--", pool="pool0", origin=""):
    return {"lv_name": name, "lv_attr": attr, "lv_size": str(size), "pool_lv": pool,
            "origin": origin}


LVS = ["lvs", "--reportformat", "json", "--units", "b", "--nosuffix",
       "-o", "lv_name,lv_attr,lv_size,pool_lv,origin"]
OK = CommandResult(0, "", "")
MISSING = CommandResult(5, "", '  Failed to find logical volume "vg0/volume-x"\n')


def backend(recording):
    fake = RecordedLvmCommandsFake(recording)
    return LvmBackend("vg0", "pool0", fake), fake


def test_check_setup_accepts_a_thin_pool_and_refuses_anything_else():
    be, fake = backend([
        (LVS + ["vg0/pool0"], CommandResult(0, lvs_json(lv_row("pool0", 10 * GIB, "twi-aotz--",
                                                               pool="")))),
        (LVS + ["vg0/pool0"], CommandResult(0, lvs_json(lv_row("pool0", GIB, "-wi-a-----",
                                                               pool="")))),
        (LVS + ["vg0/pool0"], MISSING),
    ])
    be.check_setup()
    with pytest.raises(BackendError, match="not an lvm thin pool"):
        be.check_setup()
    with pytest.raises(BackendError):
        be.check_setup()
    fake.assert_done()


def test_create_extend_delete_argv():
    be, fake = backend([
        (["lvcreate", "-T", "vg0/pool0", "-V", "2g", "-n", "volume-x"], OK),
        (["lvextend", "-L", "5g", "vg0/volume-x"], OK),
        (["lvremove", "-f", "vg0/volume-x"], OK),
        (["lvremove", "-f", "vg0/volume-x"], MISSING),  # already gone: not an error
    ])
    be.create("x", 2)
    be.extend("x", 5)
    be.delete("x")
    be.delete("x")
    fake.assert_done()
    assert be.path_for("x") == "/dev/vg0/volume-x"


def test_snapshots_are_thin_snapshots_that_activate():
    be, fake = backend([
        (["lvcreate", "-s", "--setactivationskip", "n", "-n", "snapshot-s", "vg0/volume-x"], OK),
        (["lvremove", "-f", "vg0/snapshot-s"], OK),
    ])
    be.create_snapshot("s", "x")
    be.delete_snapshot("s")
    fake.assert_done()


def test_clone_grows_only_when_asked_for_more():
    be, fake = backend([
        (["lvcreate", "-s", "--setactivationskip", "n", "-n", "volume-c", "vg0/snapshot-s"], OK),
        (LVS + ["vg0/volume-c"], CommandResult(0, lvs_json(lv_row("volume-c", 2 * GIB,
                                                                  origin="snapshot-s")))),
        (["lvextend", "-L", "4g", "vg0/volume-c"], OK),
        (["lvcreate", "-s", "--setactivationskip", "n", "-n", "volume-d", "vg0/volume-x"], OK),
        (LVS + ["vg0/volume-d"], CommandResult(0, lvs_json(lv_row("volume-d", 2 * GIB,
                                                                  origin="volume-x")))),
    ])
    be.clone_from_snapshot("c", "s", 4)
    be.clone_from_volume("d", "x", 2)
    fake.assert_done()


def test_exists_reads_the_json_report():
    be, fake = backend([
        (LVS + ["vg0/volume-x"], CommandResult(0, lvs_json(lv_row("volume-x", GIB)))),
        (LVS + ["vg0/volume-y"], MISSING),
    ])
    assert be.exists("x") is True
    assert be.exists("y") is False
    fake.assert_done()


def test_failures_carry_lvm_error_text():
    be, fake = backend([
        (["lvcreate", "-T", "vg0/pool0", "-V", "100g", "-n", "volume-x"],
         CommandResult(5, "", "  Insufficient free space for thin pool metadata\n")),
        (LVS + ["vg0/volume-z"], CommandResult(0, "not json")),
    ])
    with pytest.raises(BackendError, match="Insufficient free space"):
        be.create("x", 100)
    with pytest.raises(BackendError, match="unexpected lvs output"):
        be.exists("z")
    fake.assert_done()


def test_the_fake_refuses_a_wrong_argv():
    be, _fake = backend([(["lvremove", "-f", "vg0/volume-x"], OK)])
    with pytest.raises(AssertionError):
        be.delete("other")
