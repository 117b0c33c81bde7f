"""The volume manager over a real LMDB store and the file backend (no sockets)."""
import dataclasses
import os

import pytest

from blockserver.context import RequestContext
from blockserver.errors import ApiError
from blockserver.records import Volume

pytestmark = pytest.mark.timeout(30)


async def created(m, ctx, **kw):
    vol = await m.create_volume(ctx, **kw)
    await m.wait_idle()
    return await m.get_volume(ctx, vol.id)


async def test_create_is_asynchronous_and_lands_available(managers, admin):
    m = await managers.start()
    vol = await m.create_volume(admin, size=1, name="v1", metadata={"k": "v"})
    assert vol.status == "creating"
    await m.wait_idle()
    vol = await m.get_volume(admin, vol.id)
    assert vol.status == "available" and vol.metadata == {"k": "v"}
    assert os.path.getsize(m.backend.path_for(vol.id)) == 1 << 30


@pytest.mark.parametrize("kw", [{"size": 0}, {"size": -1}, {"size": "x"}, {"size": True},
                                {"size": 1.5}, {}, {"size": 1, "metadata": {"k": 1}},
                                {"size": 1, "availability_zone": "mars"},
                                {"size": 1, "metadata": ["a"]}])
async def test_bad_create_input_is_a_400(managers, admin, kw):
    m = await managers.start()
    with pytest.raises(ApiError) as info:
        await m.create_volume(admin, **kw)
    assert info.value.status == 400


async def test_unknown_volume_type_is_a_404(managers, admin):
    m = await managers.start()
    with pytest.raises(ApiError) as info:
        await m.create_volume(admin, size=1, volume_type="gold")
    assert info.value.status == 404


async def test_restart_loses_nothing(managers, admin):
    m = await managers.start()
    vol = await created(m, admin, size=1, name="keep")
    snap = await m.create_snapshot(admin, volume_id=vol.id, name="s")
    await m.wait_idle()
    await m.set_quota(admin, "p1", {"volumes": 7})
    m = await managers.restart()
    assert (await m.get_volume(admin, vol.id)).name == "keep"
    assert (await m.get_snapshot(admin, snap.id)).status == "available"
    limits, usage = await m.quota_report("p1")
    assert limits.volumes == 7 and usage.volumes == 1 and usage.gigabytes == 2


async def test_interrupted_work_is_settled_on_start(managers, admin):
    m = await managers.start()
    vol = await created(m, admin, size=1)
    gone = await created(m, admin, size=1)
    # What a crash mid-operation leaves behind: transient states in the records.
    m.store.put(dataclasses.replace(vol, status="creating"))
    m.store.put(dataclasses.replace(gone, status="deleting"))
    m = await managers.restart()
    await m.wait_idle()
    assert (await m.get_volume(admin, vol.id)).status == "error"
    with pytest.raises(ApiError):
        await m.get_volume(admin, gone.id)
    assert not m.backend.exists(gone.id)


async def test_delete_refuses_dependent_snapshots_unless_cascade(managers, admin):
    m = await managers.start()
    vol = await created(m, admin, size=1)
    snap = await m.create_snapshot(admin, volume_id=vol.id)
    await m.wait_idle()
    with pytest.raises(ApiError, match="dependent snapshots"):
        await m.delete_volume(admin, vol.id)
    await m.delete_volume(admin, vol.id, cascade=True)
    await m.wait_idle()
    assert await m.list_volumes(admin) == [] and await m.list_snapshots(admin) == []
    assert not os.path.exists(m.backend.snapshot_path(snap.id))


async def test_snapshot_of_in_use_needs_force(managers, admin):
    m = await managers.start()
    vol = await created(m, admin, size=1)
    await m.attacher.attach(admin, vol.id, {"instance_uuid": "i-1", "mountpoint": "/dev/vdb"})
    assert (await m.get_volume(admin, vol.id)).status == "in-use"
    with pytest.raises(ApiError) as info:
        await m.create_snapshot(admin, volume_id=vol.id)
    assert info.value.status == 400
    await m.create_snapshot(admin, volume_id=vol.id, force="True")
    await m.wait_idle()
    with pytest.raises(ApiError):
        await m.create_snapshot(admin, volume_id=vol.id, force="maybe")


async def test_clones_from_volume_and_snapshot(managers, admin):
    m = await managers.start()
    src = await created(m, admin, size=1)
    with open(m.backend.path_for(src.id), "r+b") as f:
        f.seek(4096)
        f.write(b"payload")
    snap = await m.create_snapshot(admin, volume_id=src.id)
    await m.wait_idle()
    a = await created(m, admin, source_volid=src.id)
    b = await created(m, admin, snapshot_id=snap.id, size=2)
    assert (a.size, a.status, b.size, b.status) == (1, "available", 2, "available")
    for vol in (a, b):
        with open(m.backend.path_for(vol.id), "rb") as f:
            f.seek(4096)
            assert f.read(7) == b"payload"
    with pytest.raises(ApiError):
        await m.create_volume(admin, snapshot_id=snap.id, size=1, source_volid=src.id)
    with pytest.raises(ApiError) as info:
        await m.create_volume(admin, source_volid="missing")
    assert info.value.status == 404


async def test_extend_available_and_in_use(managers, admin):
    m = await managers.start()
    vol = await created(m, admin, size=1)
    await m.extend_volume(admin, vol.id, 2)
    await m.wait_idle()
    assert (await m.get_volume(admin, vol.id)).size == 2
    with pytest.raises(ApiError, match="greater than current size"):
        await m.extend_volume(admin, vol.id, 2)
    await m.attacher.attach(admin, vol.id, {"instance_uuid": "i"})
    old = RequestContext("p1", "u", ("admin",), True, (3, 41))
    with pytest.raises(ApiError, match="3.42"):
        await m.extend_volume(old, vol.id, 3)
    await m.extend_volume(admin, vol.id, 3)
    await m.wait_idle()
    vol = await m.get_volume(admin, vol.id)
    assert (vol.size, vol.status) == (3, "in-use")


async def test_quotas_refuse_with_413_and_count_snapshots(managers, admin):
    m = await managers.start()
    await m.set_quota(admin, "p1", {"volumes": 2, "gigabytes": 3, "snapshots": 1})
    v = await created(m, admin, size=1)
    await created(m, admin, size=1)
    with pytest.raises(ApiError) as info:
        await m.create_volume(admin, size=1)
    assert info.value.status == 413
    await m.create_snapshot(admin, volume_id=v.id)
    await m.wait_idle()  # 1 + 1 + 1 snapshot GiB = 3: at the gigabytes limit
    with pytest.raises(ApiError) as info:
        await m.extend_volume(admin, v.id, 2)
    assert info.value.status == 413
    with pytest.raises(ApiError):
        await m.create_snapshot(admin, volume_id=v.id)


async def test_members_cannot_set_quotas_or_reset_status(managers, member):
    m = await managers.start()
    for call in (m.set_quota(member, "p1", {"volumes": 1}),
                 m.reset_status(member, "x", {"status": "error"})):
        with pytest.raises(ApiError) as info:
            await call
        assert info.value.status == 403


async def test_reset_status_bypasses_the_table_but_checks_the_value(managers, admin):
    m = await managers.start()
    vol = await created(m, admin, size=1)
    await m.reset_status(admin, vol.id, {"status": "error"})
    assert (await m.get_volume(admin, vol.id)).status == "error"
    with pytest.raises(ApiError) as info:
        await m.reset_status(admin, vol.id, {"status": "broken"})
    assert info.value.status == 400


async def test_projects_are_isolated(managers, member):
    m = await managers.start()
    other = RequestContext("p2", "u9", ("member",), False, (3, 70))
    vol = await created(m, other, size=1)
    with pytest.raises(ApiError) as info:
        await m.get_volume(member, vol.id)
    assert info.value.status == 404
    assert await m.list_volumes(member, all_tenants=True) == []


async def test_legacy_attach_flow_without_exports(managers, admin):
    m = await managers.start()
    vol = await created(m, admin, size=1)
    await m.attacher.reserve(admin, vol.id)
    assert (await m.get_volume(admin, vol.id)).status == "reserved"
    with pytest.raises(ApiError):
        await m.attacher.reserve(admin, vol.id)
    with pytest.raises(ApiError) as info:  # no iSCSI target in this process
        await m.attacher.initialize_connection(admin, vol.id, {"initiator": "iqn.x"})
    assert info.value.status == 503
    await m.attacher.unreserve(admin, vol.id)
    await m.attacher.attach(admin, vol.id, {"instance_uuid": "i", "mountpoint": "/dev/vdb"})
    with pytest.raises(ApiError):
        await m.delete_volume(admin, vol.id)
    await m.attacher.begin_detaching(admin, vol.id)
    await m.attacher.roll_detaching(admin, vol.id)
    await m.attacher.begin_detaching(admin, vol.id)
    await m.attacher.detach(admin, vol.id)
    assert (await m.get_volume(admin, vol.id)).status == "available"
    assert await m.attachments_of() == {}


class RecordingExports:
    """An in-memory stand-in for the iSCSI target registry (the real one is tested end to end in
    tests/integration/volume); records what the manager asked for."""

    iqn_prefix = "iqn.2026-11.org.strato"
    portal = "127.0.0.1:3260"

    def __init__(self):
        self.targets = {}
        self.capacity_events = []

    async def add(self, iqn, path, *, chap_user, chap_secret, volume_id, read_only):
        self.targets[iqn] = (path, chap_user, chap_secret)

    async def remove(self, iqn):
        self.targets.pop(iqn, None)

    async def capacity_changed(self, iqn):
        self.capacity_events.append(iqn)


async def test_v3_attachments_export_each_with_own_secret_and_survive_restart(managers, admin):
    exports = RecordingExports()
    m = await managers.start(exports)
    a = await created(m, admin, size=1)
    b = await created(m, admin, size=1)
    att_a = await m.attacher.create(admin, volume_id=a.id, instance_uuid="i1",
                                    connector={"initiator": "iqn.1993-08.org.debian:01:x"})
    att_b = await m.attacher.create(admin, volume_id=b.id, instance_uuid="i1")
    assert (await m.get_volume(admin, b.id)).status == "reserved" and att_b.target_iqn is None
    att_b = await m.attacher.update(admin, att_b.id, {"initiator": "iqn.x", "host": "h"})
    info_a, info_b = m.attacher.info(att_a)["data"], m.attacher.info(att_b)["data"]
    assert info_a["target_iqn"].startswith(f"iqn.2026-11.org.strato:volume-{a.id}.")
    assert info_a["target_iqn"] != info_b["target_iqn"]
    assert info_a["auth_password"] != info_b["auth_password"]
    assert set(exports.targets) == {info_a["target_iqn"], info_b["target_iqn"]}
    await m.attacher.complete(admin, att_a.id)
    assert (await m.get_volume(admin, a.id)).status == "in-use"
    await m.extend_volume(admin, a.id, 2)
    await m.wait_idle()
    assert exports.capacity_events == [info_a["target_iqn"]]

    fresh = RecordingExports()
    m = await managers.restart(fresh)
    assert fresh.targets == exports.targets  # same IQNs, same CHAP secrets after a restart
    await m.attacher.delete(admin, att_a.id)
    await m.attacher.delete(admin, att_b.id)
    assert fresh.targets == {}
    assert {v.status for v in await m.list_volumes(admin)} == {"available"}


async def test_records_decode_ignores_unknown_keys():
    from blockserver import records
    raw = records.encode(Volume(id="x", project_id="p", user_id="u", size=1, status="available"))
    assert records.decode(Volume, raw.replace(b'{"', b'{"future":1,"', 1)).id == "x"


@pytest.mark.parametrize("field", ["name", "description"])
@pytest.mark.parametrize("value", [5, ["x"], "x" * 256])
async def test_names_and_descriptions_are_short_strings(managers, admin, field, value):
    m = await managers.start()
    with pytest.raises(ApiError) as info:
        await m.create_volume(admin, size=1, **{field: value})
    assert info.value.status == 400
    vol = await created(m, admin, size=1)
    with pytest.raises(ApiError):
        await m.update_volume(admin, vol.id, {field: value})
    with pytest.raises(ApiError):
        await m.create_snapshot(admin, volume_id=vol.id, **{field: value})


async def test_backend_failures_land_in_error_states(managers, admin):
    m = await managers.start()
    vol = await created(m, admin, size=1)
    os.unlink(m.backend.path_for(vol.id))  # the disk lost the file under us
    snap = await m.create_snapshot(admin, volume_id=vol.id)
    clone = await m.create_volume(admin, source_volid=vol.id)
    await m.wait_idle()
    await m.extend_volume(admin, vol.id, 2)
    await m.wait_idle()
    assert (await m.get_snapshot(admin, snap.id)).status == "error"
    assert (await m.get_volume(admin, vol.id)).status == "error_extending"
    assert (await m.get_volume(admin, clone.id)).status == "error"
    # Error states can still be deleted (the table allows it) and leave nothing behind.
    await m.delete_snapshot(admin, snap.id)
    await m.wait_idle()
    for vid in (vol.id, clone.id):
        await m.delete_volume(admin, vid)
    await m.wait_idle()
    assert await m.list_volumes(admin) == []
    assert os.listdir(m.backend.volume_dir) == []


async def test_interrupted_extend_of_an_attached_volume_settles_in_use(managers, admin):
    m = await managers.start()
    vol = await created(m, admin, size=1)
    await m.attacher.attach(admin, vol.id, {"instance_uuid": "i"})
    m.store.put(dataclasses.replace(await m.get_volume(admin, vol.id), status="extending"))
    m = await managers.restart()
    assert (await m.get_volume(admin, vol.id)).status == "in-use"
    await m.attacher.detach(admin, vol.id)  # and it can still be detached


async def test_cascade_delete_waits_for_clones_of_its_snapshots(managers, admin):
    m = await managers.start()
    vol = await created(m, admin, size=1)
    snap = await m.create_snapshot(admin, volume_id=vol.id)
    await m.wait_idle()
    clone = await created(m, admin, snapshot_id=snap.id)
    m.store.put(dataclasses.replace(clone, status="creating"))  # as if still copying
    with pytest.raises(ApiError, match="being cloned"):
        await m.delete_volume(admin, vol.id, cascade=True)
