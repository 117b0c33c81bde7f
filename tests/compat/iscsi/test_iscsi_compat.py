"""Real initiators end to end: qemu-img convert both ways over iscsi:// with CHAP, and subsets of
libiscsi's conformance suite (the whole suite is the slow test at the bottom)."""
import os
import re
import subprocess

import pytest

pytestmark = pytest.mark.timeout(300)

COMPLIANCE = "/work/shared/peers/tgt/compliance.sh"


def test_qemu_img_convert_both_ways_with_chap(chap_target, tools, tmp_path):
    tools.need("qemu-img")
    src = tmp_path / "src.raw"
    payload = os.urandom(3 << 20) + bytes(1 << 20) + os.urandom(123 * 512)
    src.write_bytes(payload)
    url = chap_target.url_with("alice", "wonderland12")
    tools.run("qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", str(src), url)
    with open(chap_target.file, "rb") as f:                     # landed on the volume file
        assert f.read(len(payload)) == payload
    back = tmp_path / "back.raw"
    tools.run("qemu-img", "convert", "-f", "raw", "-O", "raw", url, str(back))
    data = back.read_bytes()
    assert len(data) == 64 << 20 and data[:len(payload)] == payload
    assert not any(data[len(payload):len(payload) + 4096])


def test_qemu_img_wrong_secret_refused(chap_target, tools, tmp_path):
    tools.need("qemu-img")
    result = tools.run("qemu-img", "convert", "-f", "raw", "-O", "raw",
                       chap_target.url_with("alice", "not-it"), str(tmp_path / "x.raw"),
                       check=False)
    assert result.returncode != 0 and "Authentication failure" in result.stderr


def test_qemu_img_bench_read_write(target, tools):
    tools.need("qemu-img")
    for extra in ([], ["-w"]):
        out = tools.run("qemu-img", "bench", "-f", "raw", "-c", "2000", "-d", "8", "-s", "65536",
                        *extra, target.url, timeout=120).stdout
        assert "Run completed" in out


def _cu(target, tests, tools, *extra):
    tools.need("iscsi-test-cu")
    result = tools.run("iscsi-test-cu", "--dataloss", "-t", tests, *extra, target.url,
                       check=False, timeout=240)
    out = result.stdout + result.stderr
    summary = re.search(r"tests\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", out)
    assert summary, out[-2000:]
    ran, failed = int(summary.group(2)), int(summary.group(4))
    assert ran > 0 and failed == 0, out[-4000:]
    assert result.returncode == 0


def test_conformance_iscsi_family(target, tools):
    """CmdSN window, DataSN errors, residuals, task management, NOP, SendTargets..."""
    _cu(target, "iSCSI", tools)


def test_conformance_read_write_subset(target, tools):
    _cu(target, "SCSI.Read10,SCSI.Write10,SCSI.Read16,SCSI.Write16,SCSI.ReadCapacity16,"
                "SCSI.TestUnitReady,SCSI.Inquiry", tools)


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_full_compliance_run(tmp_path_factory, tools):
    """The acceptance run: zero failures and more passes than tgt (436 pass, 162 skip, 17 fail)."""
    if not os.path.exists(COMPLIANCE):
        pytest.skip("peers' compliance.sh is not available")
    tools.need("iscsi-test-cu")
    target = tools.StandaloneTarget(tmp_path_factory.mktemp("cu"), size="1G")
    try:
        env = dict(os.environ, RESULTS=str(tmp_path_factory.mktemp("results")),
                   CU_EXTRA="-i iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test "
                            "-I iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test-2")
        out = subprocess.run([COMPLIANCE, target.url, "strato"], env=env, capture_output=True,
                             text=True, timeout=1700).stdout
    finally:
        target.stop()
    m = re.search(r"total (\d+), pass (\d+), skip (\d+), fail (\d+)", out)
    assert m, out
    total, passed, skipped, failed = map(int, m.groups())
    assert failed == 0, out
    assert passed > 436, out
