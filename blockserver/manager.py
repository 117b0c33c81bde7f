"""The volume manager: volumes, snapshots and quotas over the store, the backend and the state tables.

Every change is: check the state table and quota inside one LMDB write transaction, answer the API
at once (Cinder is asynchronous: 202 + "creating"), then do the backend work in a background task
on the backend executor and record the outcome with the table's completion event. Operations on
one volume are serialised by a per-volume lock. Attachments live in blockserver/attaching.py.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from typing import Any, Callable

from blockserver import quotas
from blockserver.attaching import Attacher
from blockserver.backends.base import Backend
from blockserver.context import RequestContext
from blockserver.errors import BackendError, bad_request, forbidden, not_found
from blockserver.records import Attachment, Quota, Snapshot, Volume, now_iso
from blockserver.states import (SNAPSHOT_TRANSIENT, VOLUME_TRANSIENT, AttachStatus, SnapshotEvent,
                                SnapshotStatus, VolumeEvent, VolumeStatus, snapshot_transition,
                                volume_transition)
from blockserver.store import Store, Txn
from blockserver.validation import (check_metadata, check_text, optional_str, parse_bool,
                                    parse_size)
from strato.executors import DeviceExecutors

log = logging.getLogger("blockserver.manager")

DEFAULT_TYPE = "__DEFAULT__"
DEFAULT_TYPE_ID = "00000000-0000-4000-8000-000000000001"  # stable across restarts
AVAILABILITY_ZONE = "nova"
MAX_IDLE_LOCKS = 4096


def _visible(ctx: RequestContext, record) -> bool:
    return ctx.is_admin or record.project_id == ctx.project_id




class VolumeManager:
    def __init__(self, store: Store, backend: Backend, *, quota_defaults: quotas.Amounts,
                 exports=None, host: str = "strato@file#file", backend_threads: int = 4):
        self.store = store
        self.backend = backend
        self.quota_defaults = quota_defaults
        self.host = host
        self._db_pool = DeviceExecutors(1)  # one thread: serialises LMDB writers in this process
        self._backend_pool = DeviceExecutors(backend_threads)
        self._tasks: set[asyncio.Task] = set()
        self._locks: dict[str, asyncio.Lock] = {}
        self.attacher = Attacher(self, exports)

    # -- plumbing ------------------------------------------------------------------------------
    async def db(self, fn: Callable[[Txn], Any], *, write: bool = False) -> Any:
        call = self.store.write if write else self.store.read
        return await self._db_pool.run("db", call, fn)

    async def run_backend(self, fn: Callable, *args) -> Any:
        return await self._backend_pool.run("backend", fn, *args)

    def lock(self, volume_id: str) -> asyncio.Lock:
        lock = self._locks.get(volume_id)
        if lock is None:
            if len(self._locks) >= MAX_IDLE_LOCKS:
                # Requests for ids that never existed leave locks behind; drop the idle ones.
                for key in [k for k, v in self._locks.items() if not v.locked()]:
                    del self._locks[key]
            lock = self._locks[volume_id] = asyncio.Lock()
        return lock

    def spawn(self, coro) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def wait_idle(self) -> None:
        """Wait for every background task (tests, clean shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def start(self) -> None:
        """Settle work interrupted by a stop, then export attachments again."""
        await self.run_backend(self.backend.check_setup)

        def settle(t: Txn) -> list[str]:
            resumed = []
            attached = {a.volume_id for a in t.scan(Attachment)
                        if a.status == AttachStatus.ATTACHED}
            for vol in list(t.scan(Volume)):
                event = VOLUME_TRANSIENT.get(VolumeStatus(vol.status))
                if event is VolumeEvent.EXTEND_FAILED and vol.id in attached:
                    # An attached volume keeps serving at its recorded size.
                    event = VolumeEvent.EXTENDED_IN_USE
                if event is VolumeEvent.DELETE_FAILED:
                    resumed.append(vol.id)  # finish the delete the stop interrupted
                elif event is not None:
                    t.put(dataclasses.replace(vol, status=volume_transition(vol.status, event).value,
                                              updated_at=now_iso()))
            for snap in list(t.scan(Snapshot)):
                event = SNAPSHOT_TRANSIENT.get(SnapshotStatus(snap.status))
                if event is not None:
                    t.put(dataclasses.replace(snap, updated_at=now_iso(),
                                              status=snapshot_transition(snap.status, event).value))
            return resumed

        for volume_id in await self.db(settle, write=True):
            self.spawn(self._delete_volume_work(volume_id))
        await self.attacher.restore()

    async def close(self) -> None:
        await self.wait_idle()
        await self.attacher.close()
        self._backend_pool.close()
        self._db_pool.close()

    # -- lookups -------------------------------------------------------------------------------
    @staticmethod
    def get_volume_in(t: Txn, ctx: RequestContext, volume_id: str) -> Volume:
        vol = t.get(Volume, volume_id)
        if vol is None or not _visible(ctx, vol):
            raise not_found(f"Volume {volume_id} could not be found.")
        return vol

    @staticmethod
    def get_snapshot_in(t: Txn, ctx: RequestContext, snapshot_id: str) -> Snapshot:
        snap = t.get(Snapshot, snapshot_id)
        if snap is None or not _visible(ctx, snap):
            raise not_found(f"Snapshot {snapshot_id} could not be found.")
        return snap

    async def get_volume(self, ctx: RequestContext, volume_id: str) -> Volume:
        return await self.db(lambda t: self.get_volume_in(t, ctx, volume_id))

    async def get_snapshot(self, ctx: RequestContext, snapshot_id: str) -> Snapshot:
        return await self.db(lambda t: self.get_snapshot_in(t, ctx, snapshot_id))

    async def list_volumes(self, ctx: RequestContext, all_tenants: bool = False) -> list[Volume]:
        everyone = all_tenants and ctx.is_admin
        return await self.db(lambda t: list(t.scan(
            Volume, lambda v: everyone or v.project_id == ctx.project_id)))

    async def list_snapshots(self, ctx: RequestContext, all_tenants: bool = False) -> list[Snapshot]:
        everyone = all_tenants and ctx.is_admin
        return await self.db(lambda t: list(t.scan(
            Snapshot, lambda s: everyone or s.project_id == ctx.project_id)))

    async def attachments_of(self, volume_ids: set[str] | None = None) -> dict[str, list[Attachment]]:
        """volume id -> its attachments (all volumes when volume_ids is None)."""
        found = await self.db(lambda t: list(t.scan(
            Attachment, lambda a: volume_ids is None or a.volume_id in volume_ids)))
        by_volume: dict[str, list[Attachment]] = {}
        for att in found:
            by_volume.setdefault(att.volume_id, []).append(att)
        return by_volume

    # -- quotas --------------------------------------------------------------------------------
    def usage_in(self, t: Txn, project_id: str) -> quotas.Amounts:
        return quotas.usage_of(t.scan(Volume, lambda v: v.project_id == project_id),
                               t.scan(Snapshot, lambda s: s.project_id == project_id))

    def limits_in(self, t: Txn, project_id: str) -> quotas.Amounts:
        return quotas.limits_for(self.quota_defaults, t.get(Quota, project_id))

    def check_quota_in(self, t: Txn, project_id: str, delta: quotas.Amounts) -> None:
        quotas.check(self.limits_in(t, project_id), self.usage_in(t, project_id), delta)

    async def quota_report(self, project_id: str) -> tuple[quotas.Amounts, quotas.Amounts]:
        """(limits, usage) of a project."""
        return await self.db(lambda t: (self.limits_in(t, project_id), self.usage_in(t, project_id)))

    async def set_quota(self, ctx: RequestContext, project_id: str, values: dict) -> None:
        if not ctx.is_admin:
            raise forbidden()
        changes = {}
        for key, value in values.items():
            if key not in quotas.RESOURCES:
                continue  # Cinder ignores keys of features it lacks (backups, groups...)
            if isinstance(value, str) and value.lstrip("-").isdigit():
                value = int(value)
            if isinstance(value, bool) or not isinstance(value, int) or value < -1:
                raise bad_request(f"Invalid input received: Quota limit {value!r} for {key} must "
                                  "be an integer >= -1.")
            changes[key] = value

        def update(t: Txn) -> None:
            current = t.get(Quota, project_id) or Quota(project_id)
            t.put(dataclasses.replace(current, **changes))
        await self.db(update, write=True)

    async def reset_quota(self, ctx: RequestContext, project_id: str) -> None:
        if not ctx.is_admin:
            raise forbidden()
        await self.db(lambda t: t.delete(Quota, project_id), write=True)

    # -- volumes -------------------------------------------------------------------------------
    async def create_volume(self, ctx: RequestContext, *, size: Any = None, name: str | None = None,
                            description: str | None = None, metadata: dict | None = None,
                            snapshot_id: str | None = None, source_volid: str | None = None,
                            volume_type: str | None = None,
                            availability_zone: str | None = None) -> Volume:
        snapshot_id = optional_str(snapshot_id, "snapshot_id")
        source_volid = optional_str(source_volid, "source_volid")
        volume_type = optional_str(volume_type, "volume_type")
        availability_zone = optional_str(availability_zone, "availability_zone")
        if volume_type not in (None, "", DEFAULT_TYPE, DEFAULT_TYPE_ID):
            raise not_found(f"Volume type with name {volume_type} could not be found.")
        if availability_zone not in (None, "", AVAILABILITY_ZONE):
            raise bad_request(f"Invalid input received: Availability zone '{availability_zone}' "
                              "is invalid.")
        if snapshot_id and source_volid:
            raise bad_request("Invalid input received: give snapshot_id or source_volid, not both.")
        check_text(name=name, description=description)
        check_metadata(metadata)
        wanted = None if size is None else parse_size(size)
        volume_id = str(uuid.uuid4())

        def insert(t: Txn) -> Volume:
            size_gb = wanted
            if snapshot_id:
                snap = self.get_snapshot_in(t, ctx, snapshot_id)
                if snap.status != SnapshotStatus.AVAILABLE:
                    raise bad_request(f"Invalid snapshot: Originating snapshot status must be "
                                      f"available, not {snap.status}.")
                size_gb = snap.size if size_gb is None else size_gb
                if size_gb < snap.size:
                    raise bad_request(f"Invalid input received: Volume size '{size_gb}'GB cannot "
                                      f"be smaller than the snapshot size {snap.size}GB.")
            elif source_volid:
                src = self.get_volume_in(t, ctx, source_volid)
                if src.status not in (VolumeStatus.AVAILABLE, VolumeStatus.IN_USE):
                    raise bad_request(f"Invalid volume: Source volume status must be available or "
                                      f"in-use, not {src.status}.")
                size_gb = src.size if size_gb is None else size_gb
                if size_gb < src.size:
                    raise bad_request(f"Invalid input received: Clones of a {src.size}GB volume "
                                      f"must be at least {src.size}GB.")
            if size_gb is None:
                raise bad_request("Invalid input received: size is required.")
            self.check_quota_in(t, ctx.project_id, quotas.Amounts(volumes=1, gigabytes=size_gb))
            vol = Volume(id=volume_id, project_id=ctx.project_id, user_id=ctx.user_id,
                         size=size_gb, status=VolumeStatus.CREATING.value, name=name,
                         description=description, metadata=dict(metadata or {}),
                         snapshot_id=snapshot_id or None, source_volid=source_volid or None,
                         created_at=now_iso())
            t.put(vol)
            return vol

        vol = await self.db(insert, write=True)
        self.spawn(self._create_volume_work(vol))
        return vol

    async def _create_volume_work(self, vol: Volume) -> None:
        try:
            if vol.snapshot_id:
                await self.run_backend(self.backend.clone_from_snapshot, vol.id, vol.snapshot_id, vol.size)
            elif vol.source_volid:
                await self.run_backend(self.backend.clone_from_volume, vol.id, vol.source_volid, vol.size)
            else:
                await self.run_backend(self.backend.create, vol.id, vol.size)
            event = VolumeEvent.CREATED
        except (BackendError, OSError) as exc:
            log.error("volume %s: create failed: %s", vol.id, exc)
            event = VolumeEvent.CREATE_FAILED
        await self.apply_volume_event(vol.id, event)

    async def apply_volume_event(self, volume_id: str, event: VolumeEvent, **changes) -> Volume | None:
        """Move a volume through the table (internal completions; no project check)."""
        def change(t: Txn) -> Volume | None:
            vol = t.get(Volume, volume_id)
            if vol is None:
                return None
            nxt = volume_transition(vol.status, event)
            if nxt is None:
                t.delete(Volume, volume_id)
                return None
            vol = dataclasses.replace(vol, status=nxt.value, updated_at=now_iso(), **changes)
            t.put(vol)
            return vol
        return await self.db(change, write=True)

    async def update_volume(self, ctx: RequestContext, volume_id: str, changes: dict) -> Volume:
        allowed = {k: v for k, v in changes.items() if k in ("name", "description", "metadata")}
        if "metadata" in allowed:
            check_metadata(allowed["metadata"])
            allowed["metadata"] = dict(allowed["metadata"] or {})
        check_text(**{k: v for k, v in allowed.items() if k in ("name", "description")})

        def update(t: Txn) -> Volume:
            vol = self.get_volume_in(t, ctx, volume_id)
            vol = dataclasses.replace(vol, updated_at=now_iso(), **allowed)
            t.put(vol)
            return vol
        return await self.db(update, write=True)

    async def set_volume_metadata(self, ctx: RequestContext, volume_id: str, metadata: dict,
                                  *, replace: bool, delete_key: str | None = None) -> dict:
        check_metadata(metadata)

        def update(t: Txn) -> dict:
            vol = self.get_volume_in(t, ctx, volume_id)
            merged = {} if replace else dict(vol.metadata)
            if delete_key is not None:
                if delete_key not in merged:
                    raise not_found(f"Volume {volume_id} has no metadata with key {delete_key}.")
                del merged[delete_key]
            merged.update(metadata)
            t.put(dataclasses.replace(vol, metadata=merged, updated_at=now_iso()))
            return merged
        return await self.db(update, write=True)

    async def delete_volume(self, ctx: RequestContext, volume_id: str, *, cascade: bool = False,
                            force: bool = False) -> None:
        """Delete (202 + "deleting"). force (admin; DELETE ?force=True, os-force_delete) skips the
        state table, as Cinder's force delete does, but never deletes under an attachment or a
        running delete."""
        if force and not ctx.is_admin:
            raise forbidden()
        async with self.lock(volume_id):
            def mark(t: Txn) -> None:
                vol = self.get_volume_in(t, ctx, volume_id)
                if any(a.volume_id == volume_id for a in t.scan(Attachment)):
                    raise bad_request(f"Invalid volume: Volume {volume_id} has attachments; "
                                      "detach it first.")
                if force and vol.status != VolumeStatus.DELETING:
                    nxt = VolumeStatus.DELETING
                else:
                    nxt = volume_transition(vol.status, VolumeEvent.DELETE)
                snaps = list(t.scan(Snapshot, lambda s: s.volume_id == volume_id))
                if snaps and not cascade:
                    raise bad_request(f"Invalid volume: Volume {volume_id} has dependent "
                                      "snapshots.")
                for snap in snaps:
                    t.put(dataclasses.replace(snap, updated_at=now_iso(), status=snapshot_transition(
                        snap.status, SnapshotEvent.DELETE).value))
                snap_ids = {snap.id for snap in snaps}
                if any(v.status == VolumeStatus.CREATING and (v.source_volid == volume_id
                                                              or v.snapshot_id in snap_ids)
                       for v in t.scan(Volume)):
                    raise bad_request(f"Invalid volume: Volume {volume_id} or one of its "
                                      "snapshots is being cloned.")
                t.put(dataclasses.replace(vol, status=nxt.value, updated_at=now_iso()))
            await self.db(mark, write=True)
        self.spawn(self._delete_volume_work(volume_id))

    async def _delete_volume_work(self, volume_id: str) -> None:
        try:
            snaps = await self.db(lambda t: list(t.scan(Snapshot, lambda s: s.volume_id == volume_id)))
            for snap in snaps:
                await self.run_backend(self.backend.delete_snapshot, snap.id)
                await self.db(lambda t, sid=snap.id: t.delete(Snapshot, sid), write=True)
            await self.run_backend(self.backend.delete, volume_id)
            await self.apply_volume_event(volume_id, VolumeEvent.DELETED)
            self._locks.pop(volume_id, None)
        except (BackendError, OSError) as exc:
            log.error("volume %s: delete failed: %s", volume_id, exc)
            await self.apply_volume_event(volume_id, VolumeEvent.DELETE_FAILED)

    async def extend_volume(self, ctx: RequestContext, volume_id: str, new_size: Any) -> None:
        new_size = parse_size(new_size, "new_size")
        async with self.lock(volume_id):
            def mark(t: Txn) -> Volume:
                vol = self.get_volume_in(t, ctx, volume_id)
                if vol.status == VolumeStatus.IN_USE and not ctx.at_least(42):
                    raise bad_request("Invalid volume: extending an in-use volume needs "
                                      "microversion 3.42 or later.")
                nxt = volume_transition(vol.status, VolumeEvent.EXTEND)
                if new_size <= vol.size:
                    raise bad_request(f"Invalid input received: New size for extend must be "
                                      f"greater than current size. (current: {vol.size}, "
                                      f"extended: {new_size}).")
                self.check_quota_in(t, vol.project_id,
                                    quotas.Amounts(gigabytes=new_size - vol.size))
                t.put(dataclasses.replace(vol, status=nxt.value, updated_at=now_iso()))
                return vol
            before = await self.db(mark, write=True)
        self.spawn(self._extend_work(before, new_size))

    async def _extend_work(self, before: Volume, new_size: int) -> None:
        attached = before.status == VolumeStatus.IN_USE
        done = VolumeEvent.EXTENDED_IN_USE if attached else VolumeEvent.EXTENDED
        async with self.lock(before.id):
            try:
                await self.run_backend(self.backend.extend, before.id, new_size)
            except (BackendError, OSError) as exc:
                log.error("volume %s: extend failed: %s", before.id, exc)
                # An attached volume keeps serving at its old size rather than hiding in an
                # error state its initiator cannot leave.
                await self.apply_volume_event(
                    before.id, done if attached else VolumeEvent.EXTEND_FAILED)
                return
            await self.apply_volume_event(before.id, done, size=new_size)
            if attached:
                await self.attacher.capacity_changed(before.id)

    async def reset_status(self, ctx: RequestContext, volume_id: str, body: dict) -> None:
        if not ctx.is_admin:
            raise forbidden()
        status = body.get("status")
        try:
            status = VolumeStatus(status).value if status is not None else None
        except ValueError:
            raise bad_request(f"Invalid input received: '{status}' is not a volume status.") from None

        def reset(t: Txn) -> None:
            vol = self.get_volume_in(t, ctx, volume_id)
            if status is not None:
                t.put(dataclasses.replace(vol, status=status, updated_at=now_iso()))
        await self.db(reset, write=True)

    async def set_bootable(self, ctx: RequestContext, volume_id: str, bootable: Any) -> None:
        flag = parse_bool(bootable, "bootable")

        def update(t: Txn) -> None:
            vol = self.get_volume_in(t, ctx, volume_id)
            t.put(dataclasses.replace(vol, bootable=flag, updated_at=now_iso()))
        await self.db(update, write=True)

    # -- snapshots -----------------------------------------------------------------------------
    async def create_snapshot(self, ctx: RequestContext, *, volume_id: Any, name: str | None = None,
                              description: str | None = None, metadata: dict | None = None,
                              force: Any = False) -> Snapshot:
        if not isinstance(volume_id, str) or not volume_id:
            raise bad_request("Invalid input received: volume_id is required.")
        force = parse_bool(force, "force")
        check_text(name=name, description=description)
        check_metadata(metadata)
        snapshot_id = str(uuid.uuid4())
        async with self.lock(volume_id):
            def insert(t: Txn) -> Snapshot:
                vol = self.get_volume_in(t, ctx, volume_id)
                ok = (VolumeStatus.AVAILABLE,) + ((VolumeStatus.IN_USE,) if force else ())
                if vol.status not in ok:
                    raise bad_request(f"Invalid volume: Volume {volume_id} status must be "
                                      f"{' or '.join(ok)}, but current status is: {vol.status}.")
                self.check_quota_in(t, ctx.project_id,
                                    quotas.Amounts(snapshots=1, gigabytes=vol.size))
                snap = Snapshot(id=snapshot_id, project_id=ctx.project_id, user_id=ctx.user_id,
                                volume_id=volume_id, size=vol.size,
                                status=SnapshotStatus.CREATING.value, name=name,
                                description=description, metadata=dict(metadata or {}),
                                created_at=now_iso())
                t.put(snap)
                return snap
            snap = await self.db(insert, write=True)
        self.spawn(self._create_snapshot_work(snap))
        return snap

    async def _create_snapshot_work(self, snap: Snapshot) -> None:
        async with self.lock(snap.volume_id):  # no extend or delete of the volume mid-copy
            try:
                await self.run_backend(self.backend.create_snapshot, snap.id, snap.volume_id)
                event = SnapshotEvent.CREATED
            except (BackendError, OSError) as exc:
                log.error("snapshot %s: create failed: %s", snap.id, exc)
                event = SnapshotEvent.CREATE_FAILED
            await self.apply_snapshot_event(snap.id, event)

    async def apply_snapshot_event(self, snapshot_id: str, event: SnapshotEvent) -> None:
        def change(t: Txn) -> None:
            snap = t.get(Snapshot, snapshot_id)
            if snap is None:
                return
            nxt = snapshot_transition(snap.status, event)
            if nxt is None:
                t.delete(Snapshot, snapshot_id)
            else:
                t.put(dataclasses.replace(snap, status=nxt.value, updated_at=now_iso()))
        await self.db(change, write=True)

    async def update_snapshot(self, ctx: RequestContext, snapshot_id: str, changes: dict) -> Snapshot:
        allowed = {k: v for k, v in changes.items() if k in ("name", "description", "metadata")}
        check_text(**{k: v for k, v in allowed.items() if k in ("name", "description")})
        if "metadata" in allowed:
            check_metadata(allowed["metadata"])
            allowed["metadata"] = dict(allowed["metadata"] or {})

        def update(t: Txn) -> Snapshot:
            snap = self.get_snapshot_in(t, ctx, snapshot_id)
            snap = dataclasses.replace(snap, updated_at=now_iso(), **allowed)
            t.put(snap)
            return snap
        return await self.db(update, write=True)

    async def delete_snapshot(self, ctx: RequestContext, snapshot_id: str, *,
                              force: bool = False) -> None:
        if force and not ctx.is_admin:
            raise forbidden()

        def mark(t: Txn) -> None:
            snap = self.get_snapshot_in(t, ctx, snapshot_id)
            if force and snap.status != SnapshotStatus.DELETING:
                nxt = SnapshotStatus.DELETING
            else:
                nxt = snapshot_transition(snap.status, SnapshotEvent.DELETE)
            if any(v.snapshot_id == snapshot_id and v.status == VolumeStatus.CREATING
                   for v in t.scan(Volume)):
                raise bad_request(f"Invalid snapshot: a volume is being created from {snapshot_id}.")
            t.put(dataclasses.replace(snap, status=nxt.value, updated_at=now_iso()))
        await self.db(mark, write=True)
        self.spawn(self._delete_snapshot_work(snapshot_id))

    async def reset_snapshot_status(self, ctx: RequestContext, snapshot_id: str,
                                    body: dict) -> None:
        if not ctx.is_admin:
            raise forbidden()
        try:
            status = SnapshotStatus(body.get("status")).value
        except ValueError:
            raise bad_request(f"Invalid input received: {body.get('status')!r} is not a snapshot "
                              "status.") from None

        def reset(t: Txn) -> None:
            snap = self.get_snapshot_in(t, ctx, snapshot_id)
            t.put(dataclasses.replace(snap, status=status, updated_at=now_iso()))
        await self.db(reset, write=True)

    async def set_snapshot_metadata(self, ctx: RequestContext, snapshot_id: str, metadata: dict,
                                    *, replace: bool, delete_key: str | None = None) -> dict:
        check_metadata(metadata)

        def update(t: Txn) -> dict:
            snap = self.get_snapshot_in(t, ctx, snapshot_id)
            merged = {} if replace else dict(snap.metadata)
            if delete_key is not None:
                if delete_key not in merged:
                    raise not_found(f"Snapshot {snapshot_id} has no metadata with key "
                                    f"{delete_key}.")
                del merged[delete_key]
            merged.update(metadata)
            t.put(dataclasses.replace(snap, metadata=merged, updated_at=now_iso()))
            return merged
        return await self.db(update, write=True)

    async def _delete_snapshot_work(self, snapshot_id: str) -> None:
        try:
            await self.run_backend(self.backend.delete_snapshot, snapshot_id)
            event = SnapshotEvent.DELETED
        except (BackendError, OSError) as exc:
            log.error("snapshot %s: delete failed: %s", snapshot_id, exc)
            event = SnapshotEvent.DELETE_FAILED
        await self.apply_snapshot_event(snapshot_id, event)
