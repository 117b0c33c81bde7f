"""The SCSI emulation judged by libiscsi: its command-line tools and subsets of iscsi-test-cu
(the full family runs as a slow test), through Strato's own iSCSI target on loopback."""
import re

import pytest

# A quick cross-section of the compliance suite: every command family, the error paths and
# two-initiator reservation rules. Each name is FAMILY.Suite[.Test] as `iscsi-test-cu -l` lists.
QUICK = ",".join([
    "SCSI.TestUnitReady", "SCSI.Inquiry", "SCSI.ReadCapacity10", "SCSI.ReadCapacity16",
    "SCSI.Read10", "SCSI.Write16", "SCSI.Verify10", "SCSI.WriteVerify12", "SCSI.Prefetch16",
    "SCSI.Unmap", "SCSI.GetLBAStatus", "SCSI.WriteSame10.Unmap", "SCSI.WriteSame16.BeyondEol",
    "SCSI.CompareAndWrite.Miscompare", "SCSI.OrWrite", "SCSI.ModeSense6",
    "SCSI.ReportSupportedOpcodes", "SCSI.PrinReadKeys", "SCSI.ProutReserve.AccessWE",
    "SCSI.ProutReserve.OwnershipEAAR", "SCSI.ProutPreempt", "SCSI.Reserve6.2Initiators",
    "SCSI.Mandatory",
])


def cunit_summary(out: str) -> tuple[int, int, int]:
    """(tests run, passed, failed) from CUnit's Run Summary."""
    m = re.search(r"^\s+tests\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", out, re.M)
    assert m, out[-3000:]
    _total, ran, passed, failed = map(int, m.groups())
    return ran, passed, failed


def failures(out: str) -> list[str]:
    return re.findall(r"Test: (\S+) \.\.\.(?:.*\n)*?FAILED", out)[:10]


@pytest.mark.timeout(60)
async def test_iscsi_inq_standard_and_vpd(exported):
    rc, out = await exported.tool("iscsi-inq", exported.url)
    assert rc == 0, out
    assert "Vendor:STRATO" in out and "Peripheral Device Type:DIRECT_ACCESS" in out
    assert "SBC-3" in out and "SPC-4" in out
    rc, out = await exported.tool("iscsi-inq", "-e", "1", "-c", "128", exported.url)
    assert rc == 0 and "scsiit0001" in out, out
    rc, out = await exported.tool("iscsi-inq", "-e", "1", "-c", "178", exported.url)
    assert rc == 0 and "lbpu:1" in out and "lbprz:1" in out, out


@pytest.mark.timeout(60)
async def test_iscsi_readcapacity16(exported):
    rc, out = await exported.tool("iscsi-readcapacity16", exported.url)
    assert rc == 0, out
    assert f"Total size:{64 << 20}" in out
    assert "LBPME:1 LBPRZ:1" in out


@pytest.mark.timeout(60)
async def test_capacity_change_seen_after_extend(exported):
    import os
    os.truncate(exported.path, 128 << 20)
    await exported.lu.backing.refresh()
    exported.lu.capacity_changed()
    rc, out = await exported.tool("iscsi-readcapacity16", exported.url)
    assert rc == 0 and f"Total size:{128 << 20}" in out, out


@pytest.mark.timeout(120)
async def test_compliance_quick_subset(exported):
    rc, out = await exported.tool("iscsi-test-cu", "--dataloss", "-t", QUICK, exported.url,
                                  timeout=110)
    ran, passed, failed = cunit_summary(out)
    assert failed == 0 and rc == 0, failures(out) or out[-3000:]
    assert ran >= 60


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_compliance_scsi_family(exported):
    """Every SCSI test of libiscsi's suite: zero failures (skips are what SPC allows us to
    lack: removable media, WRITE ATOMIC, EXTENDED COPY, multipath, SANITIZE)."""
    rc, out = await exported.tool("iscsi-test-cu", "--dataloss", "-t", "SCSI", exported.url,
                                  timeout=880)
    ran, passed, failed = cunit_summary(out)
    assert failed == 0 and rc == 0, failures(out) or out[-3000:]
    assert ran == 215
    skipped = out.count("[SKIPPED]")
    assert passed - skipped >= 150, (passed, skipped)
