"""JSON shapes of volumes, snapshots, attachments and quota sets, per microversion (Cinder's keys).

Pure functions of records and the request context; OPENSTACK_API.md lists what clients read.
"""
from __future__ import annotations

from blockserver.attaching import volume_attachments_view
from blockserver.context import RequestContext
from blockserver.manager import AVAILABILITY_ZONE, DEFAULT_TYPE, DEFAULT_TYPE_ID
from blockserver.quotas import Amounts
from blockserver.records import Attachment, Snapshot, Volume
from blockserver.states import SnapshotStatus

SERVICE_UUID = "5e1f5a3e-0b7c-4d5e-9c8a-57a7a7000001"


def _links(base: str, project: str, coll: str, item_id: str) -> list[dict]:
    return [{"rel": "self", "href": f"{base}/v3/{project}/{coll}/{item_id}"},
            {"rel": "bookmark", "href": f"{base}/{project}/{coll}/{item_id}"}]


def volume_summary(vol: Volume, base: str) -> dict:
    return {"id": vol.id, "name": vol.name, "links": _links(base, vol.project_id, "volumes", vol.id)}


def volume_detail(vol: Volume, atts: list[Attachment], ctx: RequestContext, base: str,
                  host: str) -> dict:
    body = {
        "id": vol.id,
        "name": vol.name,
        "status": vol.status,
        "size": vol.size,
        "attachments": volume_attachments_view(vol, atts),
        "availability_zone": vol.availability_zone or AVAILABILITY_ZONE,
        "bootable": "true" if vol.bootable else "false",
        "encrypted": False,
        "multiattach": False,
        "description": vol.description,
        "volume_type": vol.volume_type or DEFAULT_TYPE,
        "snapshot_id": vol.snapshot_id,
        "source_volid": vol.source_volid,
        "metadata": dict(vol.metadata),
        "created_at": vol.created_at,
        "updated_at": vol.updated_at,
        "user_id": vol.user_id,
        "os-vol-tenant-attr:tenant_id": vol.project_id,
        "os-vol-host-attr:host": host,
        "os-vol-mig-status-attr:migstat": None,
        "os-vol-mig-status-attr:name_id": None,
        "migration_status": None,
        "replication_status": None,
        "consistencygroup_id": None,
        "links": _links(base, vol.project_id, "volumes", vol.id),
    }
    if ctx.at_least(13):
        body["group_id"] = None
    if ctx.at_least(21):
        body["provider_id"] = None
    if ctx.at_least(48):
        body["shared_targets"] = False
        body["service_uuid"] = SERVICE_UUID
    if ctx.at_least(61):
        body["cluster_name"] = None
    if ctx.at_least(63):
        body["volume_type_id"] = DEFAULT_TYPE_ID
    if ctx.at_least(65):
        body["consumes_quota"] = True
    return body


def snapshot_detail(snap: Snapshot, ctx: RequestContext) -> dict:
    body = {
        "id": snap.id,
        "name": snap.name,
        "status": snap.status,
        "size": snap.size,
        "volume_id": snap.volume_id,
        "description": snap.description,
        "metadata": dict(snap.metadata),
        "created_at": snap.created_at,
        "updated_at": snap.updated_at,
        "os-extended-snapshot-attributes:progress":
            "100%" if snap.status == SnapshotStatus.AVAILABLE else "0%",
        "os-extended-snapshot-attributes:project_id": snap.project_id,
    }
    if ctx.at_least(14):
        body["group_snapshot_id"] = None
    if ctx.at_least(41):
        body["user_id"] = snap.user_id
    if ctx.at_least(65):
        body["consumes_quota"] = True
    return body


def snapshot_summary(snap: Snapshot, ctx: RequestContext) -> dict:
    return snapshot_detail(snap, ctx)  # Cinder's snapshot summary is the same object


def attachment_summary(att: Attachment) -> dict:
    return {"id": att.id, "status": att.status, "instance": att.instance_uuid,
            "volume_id": att.volume_id}


def attachment_detail(att: Attachment, info: dict | None) -> dict:
    body = attachment_summary(att)
    body.update({"attached_at": att.attached_at, "detached_at": att.detached_at,
                 "attach_mode": att.attach_mode, "connection_info": info or {}})
    return body


def volume_type() -> dict:
    return {"id": DEFAULT_TYPE_ID, "name": DEFAULT_TYPE, "description": "Default Volume Type",
            "is_public": True, "os-volume-type-access:is_public": True, "extra_specs": {},
            "qos_specs_id": None}


def quota_set(project_id: str, limits: Amounts, usage: Amounts | None) -> dict:
    def value(resource: str):
        limit = getattr(limits, resource)
        if usage is None:
            return limit
        return {"limit": limit, "in_use": getattr(usage, resource), "reserved": 0, "allocated": 0}
    body = {"id": project_id}
    for resource in ("volumes", "gigabytes", "snapshots"):
        body[resource] = value(resource)
        body[f"{resource}_{DEFAULT_TYPE}"] = value(resource)
    # Features we do not offer: reported as such rather than left out (clients print them).
    for resource, limit in (("per_volume_gigabytes", -1), ("backups", 0),
                            ("backup_gigabytes", 0), ("groups", 0)):
        body[resource] = limit if usage is None else {"limit": limit, "in_use": 0, "reserved": 0,
                                                      "allocated": 0}
    return body


def limits(limits: Amounts, usage: Amounts) -> dict:
    return {"limits": {"rate": [], "absolute": {
        "maxTotalVolumes": limits.volumes,
        "maxTotalSnapshots": limits.snapshots,
        "maxTotalVolumeGigabytes": limits.gigabytes,
        "maxTotalBackups": 0,
        "maxTotalBackupGigabytes": 0,
        "totalVolumesUsed": usage.volumes,
        "totalSnapshotsUsed": usage.snapshots,
        "totalGigabytesUsed": usage.gigabytes,
        "totalBackupsUsed": 0,
        "totalBackupGigabytesUsed": 0,
    }}}
