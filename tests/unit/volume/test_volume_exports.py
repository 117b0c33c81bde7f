"""IscsiExports over the real TargetRegistry and LogicalUnit (no sockets: SCSI commands are fed to
the unit directly, as the target would)."""
import concurrent.futures
import os
import uuid

import pytest

from blockserver.exports import IscsiExports, device_identity
from blockserver.iscsi import TargetRegistry
from blockserver.scsi import CHECK_CONDITION, GOOD, ItNexus, ScsiCommand

pytestmark = pytest.mark.timeout(30)
NEXUS = ItNexus("iqn.2026-11.org.strato.test:init", b"\x80\x00\x00\x00\x00\x01", 1)
READ_CAPACITY_10 = bytes([0x25]) + bytes(9)
TEST_UNIT_READY = bytes(6)


def command(cdb, tag):
    return ScsiCommand(cdb=cdb, data_out=b"", nexus=NEXUS, lun=0, task_tag=tag,
                       expected_length=8 if cdb[0] == 0x25 else 0, read=cdb[0] == 0x25,
                       write=False)


async def run_until_good(unit, cdb, tag):
    """Execute, consuming unit attentions (each reported once, as CHECK CONDITION)."""
    attentions = []
    for _ in range(5):
        result = await unit.execute(command(cdb, tag))
        if result.status == GOOD:
            return result, attentions
        assert result.status == CHECK_CONDITION
        attentions.append((result.sense[2] & 0x0F, result.sense[12], result.sense[13]))
    raise AssertionError(attentions)


@pytest.fixture
async def exports():
    pool = concurrent.futures.ThreadPoolExecutor(2)
    ex = IscsiExports(TargetRegistry("iqn.2026-11.org.strato"), "127.0.0.1:3260", pool)
    yield ex
    await ex.close()
    pool.shutdown()


async def test_export_capacity_change_and_removal(exports, tmp_path):
    volume_id = str(uuid.uuid4())
    path = tmp_path / "vol"
    with open(path, "wb") as f:
        f.truncate(1 << 20)
    iqn = f"iqn.2026-11.org.strato:volume-{volume_id}.abcd1234"
    await exports.add(iqn, str(path), chap_user="u1", chap_secret="s" * 16, volume_id=volume_id)
    await exports.add(iqn, str(path), chap_user="u1", chap_secret="s" * 16, volume_id=volume_id)
    target = exports.registry.get(iqn)
    assert (target.chap_user, target.chap_secret) == ("u1", "s" * 16)
    unit = target.lun_unit
    assert unit.identity.serial == device_identity(volume_id)[0]
    assert unit.identity.device_id[0] >> 4 == 6 and len(unit.identity.device_id) == 16

    result, _ = await run_until_good(unit, READ_CAPACITY_10, 1)
    assert int.from_bytes(result.data_in[:4], "big") == (1 << 20) // 512 - 1

    os.truncate(path, 2 << 20)  # what the backend's extend does
    await exports.capacity_changed(iqn)
    result, attentions = await run_until_good(unit, READ_CAPACITY_10, 2)
    assert (0x06, 0x2A, 0x09) in attentions  # UNIT ATTENTION: CAPACITY DATA HAS CHANGED
    assert int.from_bytes(result.data_in[:4], "big") == (2 << 20) // 512 - 1

    fd = unit.backing._fd
    await exports.remove(iqn)
    assert iqn not in exports.registry
    with pytest.raises(OSError):
        os.fstat(fd)  # the volume file is closed with its export


async def test_missing_volume_file_is_a_500_api_error(exports, tmp_path):
    from blockserver.errors import ApiError
    with pytest.raises(ApiError) as info:
        await exports.add("iqn.2026-11.org.strato:volume-x.1", str(tmp_path / "none"),
                          chap_user="u", chap_secret="s" * 16, volume_id=str(uuid.uuid4()))
    assert info.value.status == 500
    assert len(exports.registry) == 0
