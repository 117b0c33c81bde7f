"""Attachments: the v3 attachments API and the older volume actions, one export per attachment.

A volume has at most one attachment (multiattach is not offered). Each attachment that receives a
connector is exported as its own target IQN `{iqn_prefix}:volume-<id>.<attachment>` with its own
random CHAP user and secret; both are stored with the attachment so a restarted service exports
the same target again. Removing the attachment (or terminate_connection) ends the export.
"""
from __future__ import annotations

import dataclasses
import logging
import secrets
import uuid
from typing import TYPE_CHECKING, Any

from blockserver.context import RequestContext
from blockserver.errors import ApiError, bad_request, not_found
from blockserver.validation import optional_str
from blockserver.records import Attachment, Volume, now_iso
from blockserver.states import AttachStatus, VolumeEvent, VolumeStatus, volume_transition
from blockserver.store import Txn

if TYPE_CHECKING:
    from blockserver.manager import VolumeManager

log = logging.getLogger("blockserver.attach")
MODES = ("rw", "ro")
CHAP_SECRET_BYTES = 8  # 16 hex characters: inside the 12..16 that every initiator accepts


def check_connector(connector: Any) -> dict:
    if not isinstance(connector, dict):
        raise bad_request("Invalid input received: connector must be an object.")
    return connector


def connection_info(att: Attachment, portal: str, *, discard: bool) -> dict:
    """Cinder's iSCSI connection info, as os-brick and Nova read it."""
    return {
        "driver_volume_type": "iscsi",
        "data": {
            "target_portal": portal,
            "target_iqn": att.target_iqn,
            "target_lun": 0,
            "target_discovered": False,
            "auth_method": "CHAP",
            "auth_username": att.chap_user,
            "auth_password": att.chap_secret,
            "volume_id": att.volume_id,
            "encrypted": False,
            "access_mode": att.attach_mode,
            "discard": discard,
            "qos_specs": None,
        },
        "attachment_id": att.id,
    }


class Attacher:
    def __init__(self, manager: VolumeManager, exports):
        self.m = manager
        self.exports = exports

    # -- life cycle ----------------------------------------------------------------------------
    async def restore(self) -> None:
        """Export every attachment that was exported when the service stopped."""
        exported = await self.m.db(lambda t: [a for a in t.scan(Attachment) if a.target_iqn])
        for att in exported:
            try:
                await self._export(att)
            except ApiError as exc:
                log.error("attachment %s: cannot export %s again: %s", att.id, att.target_iqn,
                          exc.message)

    async def close(self) -> None:
        pass  # the exports object belongs to the service, which closes it

    async def capacity_changed(self, volume_id: str) -> None:
        atts = (await self.m.attachments_of({volume_id})).get(volume_id, [])
        for att in atts:
            if att.target_iqn and self.exports is not None:
                await self.exports.capacity_changed(att.target_iqn)

    # -- helpers -------------------------------------------------------------------------------
    def info(self, att: Attachment) -> dict | None:
        if not att.target_iqn or self.exports is None:
            return None
        return connection_info(att, self.exports.portal, discard=self.m.backend.supports_unmap)

    async def _export(self, att: Attachment) -> None:
        if self.exports is None:
            raise ApiError(503, "The iSCSI target is not running in this process.")
        path = self.m.backend.path_for(att.volume_id)
        await self.exports.add(att.target_iqn, path, chap_user=att.chap_user,
                               chap_secret=att.chap_secret, volume_id=att.volume_id,
                               read_only=att.attach_mode == "ro")

    async def _unexport(self, att: Attachment) -> None:
        if att.target_iqn and self.exports is not None:
            await self.exports.remove(att.target_iqn)

    def _get_in(self, t: Txn, ctx: RequestContext, attachment_id: str) -> Attachment:
        att = t.get(Attachment, attachment_id)
        if att is None or not (ctx.is_admin or att.project_id == ctx.project_id):
            raise not_found(f"Attachment {attachment_id} could not be found.")
        return att

    @staticmethod
    def _of_volume(t: Txn, volume_id: str) -> Attachment | None:
        return next(iter(t.scan(Attachment, lambda a: a.volume_id == volume_id)), None)

    async def _volume_of(self, ctx: RequestContext, attachment_id: str) -> str:
        return (await self.m.db(lambda t: self._get_in(t, ctx, attachment_id))).volume_id

    # -- the steps every flow is built from ----------------------------------------------------
    async def _reserve(self, ctx: RequestContext, volume_id: str, *, instance_uuid=None,
                       mode: str = "rw") -> Attachment:
        if mode not in MODES:
            raise bad_request(f"Invalid input received: mode must be one of {', '.join(MODES)}.")

        def reserve(t: Txn) -> Attachment:
            vol = self.m.get_volume_in(t, ctx, volume_id)
            if vol.status != VolumeStatus.AVAILABLE and self._of_volume(t, volume_id):
                raise bad_request(f"Invalid volume: Volume {volume_id} is already attached and "
                                  "multiattach is not supported.")
            nxt = volume_transition(vol.status, VolumeEvent.RESERVE)
            t.put(dataclasses.replace(vol, status=nxt.value, updated_at=now_iso()))
            att = Attachment(id=str(uuid.uuid4()), volume_id=volume_id, project_id=vol.project_id,
                             status=AttachStatus.RESERVED.value, instance_uuid=instance_uuid,
                             attach_mode=mode, created_at=now_iso())
            t.put(att)
            return att
        return await self.m.db(reserve, write=True)

    async def _connect(self, ctx: RequestContext, att: Attachment, connector: dict) -> Attachment:
        """Export the attachment (own IQN, own CHAP secret) for this connector."""
        connector = check_connector(connector)
        vol = await self.m.get_volume(ctx, att.volume_id)
        volume_transition(vol.status, VolumeEvent.CONNECT)  # refuse early, before exporting
        if not att.target_iqn:
            att = dataclasses.replace(
                att, target_iqn=f"{self.exports.iqn_prefix if self.exports else 'iqn'}:"
                                f"volume-{att.volume_id}.{att.id[:8]}",
                chap_user=f"strato-{secrets.token_hex(4)}",
                chap_secret=secrets.token_hex(CHAP_SECRET_BYTES))
        await self._export(att)
        host = connector.get("host")
        # Cinder's attachment_update keeps the connector's mountpoint (what Nova attached it as):
        # the volume's attachments then name the device ("Attached to vm1 on /dev/vdb")
        mountpoint = connector.get("mountpoint")
        status = att.status if att.status == AttachStatus.ATTACHED else AttachStatus.ATTACHING.value

        def commit(t: Txn) -> Attachment:
            v = self.m.get_volume_in(t, ctx, att.volume_id)
            t.put(dataclasses.replace(v, updated_at=now_iso(), status=volume_transition(
                v.status, VolumeEvent.CONNECT).value))
            new = dataclasses.replace(
                att, connector=connector, status=status,
                host_name=host if isinstance(host, str) else att.host_name,
                mountpoint=mountpoint if isinstance(mountpoint, str) else att.mountpoint)
            t.put(new)
            return new
        return await self.m.db(commit, write=True)

    async def _complete(self, ctx: RequestContext, att: Attachment, *, instance_uuid=None,
                        mountpoint=None, host_name=None) -> Attachment:
        def complete(t: Txn) -> Attachment:
            vol = self.m.get_volume_in(t, ctx, att.volume_id)
            t.put(dataclasses.replace(vol, updated_at=now_iso(), status=volume_transition(
                vol.status, VolumeEvent.ATTACHED).value))
            new = dataclasses.replace(
                att, status=AttachStatus.ATTACHED.value, attached_at=now_iso(),
                instance_uuid=instance_uuid or att.instance_uuid,
                mountpoint=mountpoint or att.mountpoint, host_name=host_name or att.host_name)
            t.put(new)
            return new
        return await self.m.db(complete, write=True)

    async def _remove(self, ctx: RequestContext, att: Attachment) -> None:
        """End the export, drop the attachment, and free the volume."""
        await self._unexport(att)

        def remove(t: Txn) -> None:
            vol = self.m.get_volume_in(t, ctx, att.volume_id)
            event = (VolumeEvent.UNRESERVE if vol.status in (VolumeStatus.RESERVED,
                                                             VolumeStatus.ATTACHING)
                     else VolumeEvent.DETACHED)
            t.put(dataclasses.replace(vol, updated_at=now_iso(),
                                      status=volume_transition(vol.status, event).value))
            t.delete(Attachment, att.id)
        await self.m.db(remove, write=True)

    async def _current(self, ctx: RequestContext, volume_id: str, *, required=True) -> Attachment | None:
        def find(t: Txn) -> Attachment | None:
            self.m.get_volume_in(t, ctx, volume_id)
            return self._of_volume(t, volume_id)
        att = await self.m.db(find)
        if att is None and required:
            raise bad_request(f"Invalid volume: Volume {volume_id} is not attached or reserved.")
        return att

    # -- v3 attachments API (3.27+) ------------------------------------------------------------
    async def create(self, ctx: RequestContext, *, volume_id: Any, instance_uuid: Any = None,
                     connector: Any = None, mode: Any = "rw") -> Attachment:
        if not isinstance(volume_id, str) or not volume_id:
            raise bad_request("Invalid input received: volume_uuid is required.")
        instance_uuid = optional_str(instance_uuid, "instance_uuid")
        mode = optional_str(mode, "mode")
        async with self.m.lock(volume_id):
            att = await self._reserve(ctx, volume_id, instance_uuid=instance_uuid, mode=mode or "rw")
            if connector:
                try:
                    att = await self._connect(ctx, att, connector)
                except ApiError:
                    await self._remove(ctx, att)
                    raise
            return att

    async def update(self, ctx: RequestContext, attachment_id: str, connector: Any) -> Attachment:
        volume_id = await self._volume_of(ctx, attachment_id)
        async with self.m.lock(volume_id):
            att = await self.m.db(lambda t: self._get_in(t, ctx, attachment_id))
            return await self._connect(ctx, att, connector)

    async def complete(self, ctx: RequestContext, attachment_id: str) -> None:
        volume_id = await self._volume_of(ctx, attachment_id)
        async with self.m.lock(volume_id):
            att = await self.m.db(lambda t: self._get_in(t, ctx, attachment_id))
            await self._complete(ctx, att)

    async def delete(self, ctx: RequestContext, attachment_id: str) -> None:
        volume_id = await self._volume_of(ctx, attachment_id)
        async with self.m.lock(volume_id):
            att = await self.m.db(lambda t: self._get_in(t, ctx, attachment_id))
            await self._remove(ctx, att)

    async def get(self, ctx: RequestContext, attachment_id: str) -> Attachment:
        return await self.m.db(lambda t: self._get_in(t, ctx, attachment_id))

    async def list(self, ctx: RequestContext, all_tenants: bool = False) -> list[Attachment]:
        everyone = all_tenants and ctx.is_admin
        return await self.m.db(lambda t: list(t.scan(
            Attachment, lambda a: everyone or a.project_id == ctx.project_id)))

    # -- the older volume actions --------------------------------------------------------------
    async def reserve(self, ctx: RequestContext, volume_id: str) -> None:
        async with self.m.lock(volume_id):
            await self._reserve(ctx, volume_id)

    async def unreserve(self, ctx: RequestContext, volume_id: str) -> None:
        async with self.m.lock(volume_id):
            att = await self._current(ctx, volume_id)
            if att.status == AttachStatus.ATTACHED:
                raise bad_request(f"Invalid volume: Volume {volume_id} is attached; detach it.")
            await self._remove(ctx, att)

    async def initialize_connection(self, ctx: RequestContext, volume_id: str, connector: Any) -> dict:
        connector = check_connector(connector)
        async with self.m.lock(volume_id):
            att = await self._current(ctx, volume_id, required=False)
            if att is None:  # no os-reserve first: reserve on the caller's behalf
                att = await self._reserve(ctx, volume_id)
                try:
                    att = await self._connect(ctx, att, connector)
                except ApiError:
                    await self._remove(ctx, att)
                    raise
            else:
                att = await self._connect(ctx, att, connector)
            return self.info(att)

    async def attach(self, ctx: RequestContext, volume_id: str, body: dict) -> None:
        mode = optional_str(body.get("mode"), "mode") or "rw"
        fields = {key: optional_str(body.get(key), key)
                  for key in ("instance_uuid", "mountpoint", "host_name")}
        async with self.m.lock(volume_id):
            att = await self._current(ctx, volume_id, required=False)
            if att is None:
                att = await self._reserve(ctx, volume_id, mode=mode)
            elif att.status == AttachStatus.ATTACHED:
                raise bad_request(f"Invalid volume: Volume {volume_id} is already attached.")
            await self._complete(ctx, att, **fields)

    async def begin_detaching(self, ctx: RequestContext, volume_id: str) -> None:
        await self._volume_event(ctx, volume_id, VolumeEvent.BEGIN_DETACH)

    async def roll_detaching(self, ctx: RequestContext, volume_id: str) -> None:
        await self._volume_event(ctx, volume_id, VolumeEvent.ROLL_DETACH)

    async def _volume_event(self, ctx: RequestContext, volume_id: str, event: VolumeEvent) -> None:
        async with self.m.lock(volume_id):
            def change(t: Txn) -> None:
                vol = self.m.get_volume_in(t, ctx, volume_id)
                t.put(dataclasses.replace(vol, updated_at=now_iso(),
                                          status=volume_transition(vol.status, event).value))
            await self.m.db(change, write=True)

    async def detach(self, ctx: RequestContext, volume_id: str, attachment_id: Any = None) -> None:
        attachment_id = optional_str(attachment_id, "attachment_id")
        async with self.m.lock(volume_id):
            att = await self._current(ctx, volume_id)
            if attachment_id and attachment_id != att.id:
                raise not_found(f"Attachment {attachment_id} could not be found.")
            await self._remove(ctx, att)

    async def terminate_connection(self, ctx: RequestContext, volume_id: str, connector: Any) -> None:
        check_connector(connector)
        async with self.m.lock(volume_id):
            att = await self._current(ctx, volume_id, required=False)
            if att is None:
                return  # nothing exported: terminating twice is harmless
            if att.status != AttachStatus.ATTACHED:
                await self._remove(ctx, att)
                return
            # Attached: end the export now; os-detach then drops the record.
            await self._unexport(att)
            await self.m.db(lambda t: t.put(dataclasses.replace(
                att, target_iqn=None, chap_user=None, chap_secret=None)), write=True)


def volume_attachments_view(vol: Volume, atts: list[Attachment]) -> list[dict]:
    """The `attachments` list of a volume: completed attachments, each with server_id and device."""
    return [{"id": vol.id, "attachment_id": a.id, "volume_id": vol.id, "server_id": a.instance_uuid,
             "host_name": a.host_name, "device": a.mountpoint, "attached_at": a.attached_at}
            for a in atts if a.status == AttachStatus.ATTACHED]
