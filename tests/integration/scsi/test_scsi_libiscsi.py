"""The SCSI emulation judged by libiscsi: its command-line tools and subsets of iscsi-test-cu
(the full family runs as a slow test), through Strato's own iSCSI target on loopback."""
import re
import shutil

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
    lack: removable media, WRITE ATOMIC, LBPPB > 1, multipath, SANITIZE)."""
    rc, out = await exported.tool("iscsi-test-cu", "--dataloss", "-t", "SCSI", exported.url,
                                  timeout=880)
    ran, passed, failed = cunit_summary(out)
    assert failed == 0 and rc == 0, failures(out) or out[-3000:]
    assert ran == 215
    skipped = out.count("[SKIPPED]")
    assert passed - skipped >= 170, (passed, skipped)   # 176 at the time of writing


@pytest.mark.timeout(60)
async def test_iscsi_swp_write_protects_through_mode_select(exported):
    """libiscsi's iscsi-swp flips SWP in the Control mode page (MODE SENSE + MODE SELECT); while
    it is on, the LU refuses writes with DATA PROTECT."""
    from blockserver.scsi import ItNexus, ScsiCommand
    rc, out = await exported.tool("iscsi-swp", "-s", "on", exported.url)
    assert rc == 0 and "Turning SWP ON" in out, out
    rc, out = await exported.tool("iscsi-swp", exported.url)        # a new session reads it back
    assert rc == 0 and "SWP:1" in out, out
    nexus = ItNexus("iqn.test:probe", b"\0" * 6, 1)
    write = bytes([0x2A, 0, 0, 0, 0, 0, 0, 0, 1, 0])

    async def probe_write():
        # unit attentions first (POWER ON for this new nexus, then MODE PARAMETERS CHANGED
        # after another initiator's MODE SELECT), then the write's own answer
        for tag in range(4):
            res = await exported.lu.execute(ScsiCommand(write, bytes(512), nexus, 0, tag, 512,
                                                        False, True))
            if not (res.status == 2 and res.sense[2] == 0x6):
                return res
        raise AssertionError("unit attentions never cleared")

    res = await probe_write()
    assert res.status == 2 and res.sense[2] == 0x7 and res.sense[12] == 0x27
    rc, out = await exported.tool("iscsi-swp", "-s", "off", exported.url)
    assert rc == 0, out
    assert (await probe_write()).status == 0


@pytest.mark.timeout(120)
async def test_qemu_img_convert_keeps_holes_via_get_lba_status(exported, tmp_path):
    """qemu's iSCSI driver maps allocation with GET LBA STATUS and zeroes with WRITE SAME/UNMAP:
    a sparse image converted onto the LU stays sparse and reads back identical."""
    import os
    if shutil.which("qemu-img") is None:
        pytest.skip("qemu-img not installed")
    src = tmp_path / "src.raw"
    with open(src, "wb") as f:
        f.truncate(64 << 20)
        f.seek(8 << 20)
        f.write(os.urandom(4 << 20))
    rc, out = await exported.tool("qemu-img", "convert", "-n", "-f", "raw", "-O", "raw",
                                  str(src), exported.url)
    assert rc == 0, out
    rc, out = await exported.tool("qemu-img", "compare", "-f", "raw", "-F", "raw", str(src),
                                  exported.url)
    assert rc == 0 and "identical" in out, out
    rc, out = await exported.tool("qemu-img", "map", "--output=json", "-f", "raw",
                                  exported.url)
    assert rc == 0 and '"data": false' in out, out
    assert os.stat(exported.path).st_blocks * 512 < 16 << 20    # the LU file stayed sparse
