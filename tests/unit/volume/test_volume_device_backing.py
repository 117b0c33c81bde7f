"""Exports of block devices (the lvm backend's thin LVs): size from the device, not st_size.

A loop device stands in for the thin LV where this machine allows one (root and /dev/loop-control);
elsewhere that case is skipped, saying why. The regular-file checks always run.
"""
import concurrent.futures
import os
import subprocess
import uuid

import pytest

from blockserver.device_backing import DeviceBacking, open_backing
from blockserver.exports import IscsiExports
from blockserver.iscsi import TargetRegistry
from blockserver.scsi import GOOD, ItNexus, ScsiCommand

pytestmark = pytest.mark.timeout(60)
MIB = 1 << 20


@pytest.fixture
def pool():
    p = concurrent.futures.ThreadPoolExecutor(2)
    yield p
    p.shutdown()


@pytest.fixture
def loop_device(tmp_path):
    image = tmp_path / "pv.img"
    with open(image, "wb") as f:
        f.truncate(64 * MIB)
    try:
        done = subprocess.run(["losetup", "--find", "--show", str(image)], capture_output=True,
                              text=True, timeout=30)
    except (FileNotFoundError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"no loop devices here: {exc}")
    if done.returncode != 0:
        pytest.skip(f"no loop devices here: {done.stderr.strip()}")
    device = done.stdout.strip()
    yield device, image
    subprocess.run(["losetup", "--detach", device], timeout=30, check=False)


async def test_a_regular_file_keeps_file_backing(tmp_path, pool):
    path = tmp_path / "vol"
    with open(path, "wb") as f:
        f.truncate(MIB)
    backing = open_backing(str(path), pool)
    assert type(backing) is not DeviceBacking and backing.size == MIB
    await backing.aclose()


async def test_device_size_extents_unmap_and_capacity_change(loop_device, pool):
    device, image = loop_device
    backing = open_backing(device, pool)
    assert isinstance(backing, DeviceBacking) and backing.size == 64 * MIB
    await backing.write(MIB, b"d" * 4096, fua=True)
    assert await backing.read(MIB, 4) == b"dddd"
    await backing.unmap(MIB, 4096)
    assert await backing.read(MIB, 4096) == bytes(4096)
    assert await backing.mapped_extents(0, 128 * MIB) == [(0, 64 * MIB, True)]
    await backing.aclose()

    # Through the export, as the service does after an lvextend.
    exports = IscsiExports(TargetRegistry("iqn.2026-11.org.strato"), "127.0.0.1:3260", pool)
    volume_id = str(uuid.uuid4())
    iqn = f"iqn.2026-11.org.strato:volume-{volume_id}.00000000"
    await exports.add(iqn, device, chap_user="u", chap_secret="s" * 16, volume_id=volume_id)
    unit = exports.registry.get(iqn).lun_unit
    nexus = ItNexus("iqn.test:i", b"\x80\0\0\0\0\1", 1)
    cdb = bytes([0x25]) + bytes(9)
    for tag in range(3):  # the first answers carry the power-on unit attention
        result = await unit.execute(ScsiCommand(cdb, b"", nexus, 0, tag, 8, True, False))
        if result.status == GOOD:
            break
    assert int.from_bytes(result.data_in[:4], "big") == 64 * MIB // 512 - 1
    os.truncate(image, 128 * MIB)
    subprocess.run(["losetup", "--set-capacity", device], check=True, timeout=30)
    await exports.capacity_changed(iqn)
    assert unit.backing.size == 128 * MIB
    await exports.close()
