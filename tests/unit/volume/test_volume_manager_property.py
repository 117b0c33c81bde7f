"""Random sequences of API operations against the real manager: whatever the order, the records
stay consistent (a state the table knows, attachments matching the status, quota usage equal to
what exists, and a backend file for every settled volume)."""
import asyncio
import os
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from blockserver.backends.file import FileBackend
from blockserver.context import RequestContext
from blockserver.errors import ApiError
from blockserver.manager import VolumeManager
from blockserver.quotas import Amounts
from blockserver.states import AttachStatus, VolumeStatus
from blockserver.store import Store

pytestmark = pytest.mark.timeout(120)
CTX = RequestContext("p", "u", ("admin",), True, (3, 70))
CONNECTOR = {"initiator": "iqn.x", "host": "h"}


class Exports:
    iqn_prefix = "iqn.2026-11.org.strato"
    portal = "127.0.0.1:3260"

    def __init__(self):
        self.targets = set()

    async def add(self, iqn, path, **kw):
        assert os.path.exists(path)
        self.targets.add(iqn)

    async def remove(self, iqn):
        self.targets.discard(iqn)

    async def capacity_changed(self, iqn):
        assert iqn in self.targets


OPS = st.lists(st.tuples(st.sampled_from([
    "create", "clone", "snapshot", "delete", "delete_snapshot", "extend", "reserve",
    "unreserve", "connect", "attach", "begin_detaching", "roll_detaching", "detach",
    "terminate", "v3_create", "v3_complete", "v3_delete", "settle"]),
    st.integers(0, 3)), max_size=25)


async def apply(m, ex, op, pick):
    vols = await m.list_volumes(CTX)
    snaps = await m.list_snapshots(CTX)
    atts = [a for group in (await m.attachments_of()).values() for a in group]
    vid = vols[pick % len(vols)].id if vols else "none"
    a = m.attacher
    calls = {
        "create": lambda: m.create_volume(CTX, size=1 + pick % 2),
        "clone": lambda: m.create_volume(CTX, source_volid=vid),
        "snapshot": lambda: m.create_snapshot(CTX, volume_id=vid, force=bool(pick % 2)),
        "delete": lambda: m.delete_volume(CTX, vid, cascade=bool(pick % 2)),
        "delete_snapshot": lambda: m.delete_snapshot(CTX, snaps[pick % len(snaps)].id
                                                     if snaps else "none"),
        "extend": lambda: m.extend_volume(CTX, vid, 3 + pick),
        "reserve": lambda: a.reserve(CTX, vid),
        "unreserve": lambda: a.unreserve(CTX, vid),
        "connect": lambda: a.initialize_connection(CTX, vid, CONNECTOR),
        "attach": lambda: a.attach(CTX, vid, {"instance_uuid": "i"}),
        "begin_detaching": lambda: a.begin_detaching(CTX, vid),
        "roll_detaching": lambda: a.roll_detaching(CTX, vid),
        "detach": lambda: a.detach(CTX, vid),
        "terminate": lambda: a.terminate_connection(CTX, vid, CONNECTOR),
        "v3_create": lambda: a.create(CTX, volume_id=vid, connector=CONNECTOR if pick else None),
        "v3_complete": lambda: a.complete(CTX, atts[pick % len(atts)].id if atts else "none"),
        "v3_delete": lambda: a.delete(CTX, atts[pick % len(atts)].id if atts else "none"),
        "settle": m.wait_idle,
    }
    try:
        await calls[op]()
    except ApiError as exc:
        assert exc.status in (400, 404, 413), exc.message


async def check(m, ex):
    await m.wait_idle()
    vols = await m.list_volumes(CTX)
    snaps = await m.list_snapshots(CTX)
    atts = await m.attachments_of()
    for vol in vols:
        status = VolumeStatus(vol.status)
        mine = atts.get(vol.id, [])
        assert len(mine) <= 1
        if status in (VolumeStatus.AVAILABLE, VolumeStatus.ERROR):
            assert mine == []
        if status in (VolumeStatus.IN_USE, VolumeStatus.DETACHING):
            assert [x.status for x in mine] == [AttachStatus.ATTACHED]
        if status in (VolumeStatus.RESERVED, VolumeStatus.ATTACHING):
            assert mine and mine[0].status != AttachStatus.ATTACHED
        if status is not VolumeStatus.ERROR:
            assert os.path.getsize(m.backend.path_for(vol.id)) == vol.size << 30
    exported = {x.target_iqn for group in atts.values() for x in group if x.target_iqn}
    assert exported == ex.targets
    assert {s.volume_id for s in snaps} <= {v.id for v in vols}
    limits, usage = await m.quota_report("p")
    assert usage.volumes == len(vols)


async def scenario(ops):
    with tempfile.TemporaryDirectory() as tmp:
        ex = Exports()
        store = Store(os.path.join(tmp, "db"))
        m = VolumeManager(store, FileBackend(os.path.join(tmp, "v"), reflink=False),
                          quota_defaults=Amounts(4, 8, 4), exports=ex)
        await m.start()
        try:
            for op, pick in ops:
                await apply(m, ex, op, pick)
            await check(m, ex)
        finally:
            await m.close()
            store.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(OPS)
def test_random_operation_sequences_keep_records_consistent(ops):
    asyncio.run(scenario(ops))
