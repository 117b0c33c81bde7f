"""Bucket operations: ListBuckets, CreateBucket, DeleteBucket, HeadBucket, GetBucketLocation."""
from __future__ import annotations

import json

from proxy.s3 import access, addressing, common, xmlio
from proxy.s3 import acl as acl_mod
from proxy.s3.body import read_small
from proxy.s3.errors import S3Error

SEGMENTS_SUFFIX = "+segments"


def _need_principal(s3) -> None:
    if s3.principal is None:
        raise S3Error("AccessDenied")


async def list_buckets(s3):
    _need_principal(s3)
    account = s3.principal.storage_account
    names, marker = [], ""
    while True:
        result = await s3.core.account_read("GET", account, {"format": "json", "marker": marker})
        if result.status // 100 != 2:
            raise S3Error("ServiceUnavailable")
        rows = json.loads(result.body or b"[]")
        if not rows:
            break
        names += [r for r in rows if "name" in r]
        marker = rows[-1].get("name", "")
    root = xmlio.document("ListAllMyBucketsResult")
    owner = xmlio.add(root, "Owner")
    xmlio.add(owner, "ID", access.principal_id(s3))
    xmlio.add(owner, "DisplayName", access.principal_id(s3))
    buckets = xmlio.add(root, "Buckets")
    prefix = s3.query.get("prefix", "")
    names = await access.listed_buckets(s3, account, names)
    for row in names:
        name = row["name"]
        if name.endswith(SEGMENTS_SUFFIX) or not name.startswith(prefix):
            continue
        bucket = xmlio.add(buckets, "Bucket")
        xmlio.add(bucket, "Name", name)
        xmlio.add(bucket, "CreationDate", common.iso8601(_row_time(row)))
    return common.xml_response(root)


def _row_time(row) -> float:
    import datetime as dt
    value = row.get("last_modified")
    if value:
        try:
            return dt.datetime.fromisoformat(value).replace(tzinfo=dt.timezone.utc).timestamp()
        except ValueError:
            pass
    return 0.0


async def create(s3):
    _need_principal(s3)
    name = s3.bucket
    addressing.check_bucket_name(name)
    body = await read_small(s3, 64 * 1024)
    location = ""
    if body.strip():
        root = xmlio.parse(body, "CreateBucketConfiguration")
        location = xmlio.text(root, "LocationConstraint", "") or ""
        if xmlio.child(root, "LocationConstraint") is not None and not location.strip():
            # Present but empty (an entity that was dropped, say): not a region we serve.
            raise S3Error("InvalidLocationConstraint", LocationConstraint=location)
    region = s3.settings.region
    if location and location != region and not (region == "us-east-1" and location == "US"):
        raise S3Error("InvalidLocationConstraint", LocationConstraint=location)
    owner_acl = acl_mod.from_headers(s3.headers, s3.principal.account) or \
        acl_mod.canned("private", s3.principal.account)
    if not _may_create_buckets(s3):
        # Not even whether the bucket exists is told to a user that may not create any.
        raise S3Error("AccessDenied")
    own = s3.principal.storage_account
    info = await s3.core.container_info(own, name)
    if info.exists:
        if access.is_owner(s3, common.Bucket(name, own, info)):
            raise S3Error("BucketAlreadyOwnedByYou", BucketName=name)
        raise S3Error("BucketAlreadyExists", BucketName=name)  # a sibling user's bucket
    other = await common.registry_owner(s3.core, name)
    if other is not None and other != own:
        other_info = await s3.core.container_info(other, name)
        if other_info.exists:
            raise S3Error("BucketAlreadyExists", BucketName=name)
    ownership = s3.headers.get("x-amz-object-ownership")
    headers = {common.BUCKET_SYSMETA + "Acl": owner_acl.to_json(),
               common.BUCKET_SYSMETA + "Location": location}
    headers.update(access.creator_headers(s3))
    if ownership:
        if ownership not in ("BucketOwnerPreferred", "ObjectWriter", "BucketOwnerEnforced"):
            raise S3Error("InvalidArgument", "Invalid x-amz-object-ownership header",
                          ArgumentName="x-amz-object-ownership", ArgumentValue=ownership)
        if ownership == access.ENFORCED and any(
                g.grantee.value != owner_acl.owner for g in owner_acl.grants):
            raise S3Error("InvalidBucketAclWithObjectOwnership")
        headers[common.BUCKET_SYSMETA + "Ownership"] = json.dumps(ownership)  # as PUT stores it
    result = await s3.core.container_write("PUT", own, name, headers)
    if result.status // 100 != 2:
        raise S3Error("ServiceUnavailable")
    await common.register(s3.core, name, own)
    return common.empty(200, {"Location": f"/{name}"})


def _may_create_buckets(s3) -> bool:
    """Only an account's admins create containers (tempauth's .admin group, as Swift's proxy
    enforces under its s3api). Keys of users Swift auth does not list (identity's EC2
    credentials) act for their project as before."""
    from proxy.context import AUTH
    user = s3.request.app[AUTH].users.get(f"{s3.principal.account}:{s3.principal.user}")
    return user is None or ".admin" in user.groups or ".reseller_admin" in user.groups


async def delete(s3):
    bucket = await common.find_bucket(s3)
    access.check(s3, bucket, "s3:DeleteBucket", "FULL_CONTROL")
    if not access.is_owner(s3, bucket) and s3.principal is None:
        raise S3Error("AccessDenied")
    fresh = await s3.core.container_read("HEAD", bucket.account, bucket.name)
    if int(fresh.headers.get("X-Container-Object-Count", "0") or 0) > 0:
        raise S3Error("BucketNotEmpty", BucketName=bucket.name)
    from proxy.s3 import versioning
    await versioning.before_bucket_delete(s3, bucket)  # versions left: 409; else they go
    segments = bucket.name + SEGMENTS_SUFFIX
    seg_info = await s3.core.container_info(bucket.account, segments)
    if seg_info.exists:
        # No objects left: unfinished uploads and parts orphaned by overwrites go with the bucket.
        from proxy.s3 import multipart
        await multipart.drop_all(s3, bucket)
        await s3.core.container_write("DELETE", bucket.account, segments, {})
    result = await s3.core.container_write("DELETE", bucket.account, bucket.name, {})
    if result.status == 409:
        raise S3Error("BucketNotEmpty", BucketName=bucket.name)
    if result.status == 404:
        raise S3Error("NoSuchBucket", BucketName=bucket.name)
    if result.status // 100 != 2:
        raise S3Error("ServiceUnavailable")
    await common.unregister(s3.core, bucket.name)
    return common.empty(204)


async def head(s3):
    try:
        bucket = await common.find_bucket(s3)
    except S3Error as exc:
        raise S3Error(exc.code, status=exc.status) from None
    access.check(s3, bucket, "s3:ListBucket", "READ")
    # Swift's s3api answers HEAD with the headers GET would have (clients read the type).
    return common.empty(200, {"x-amz-bucket-region": s3.settings.region,
                              "Content-Type": "application/xml"})


async def location(s3):
    bucket = await common.find_bucket(s3)
    access.check(s3, bucket, "s3:GetBucketLocation", "READ")
    root = xmlio.document("LocationConstraint")
    value = bucket.sysmeta("Location", "")
    if value and value != "us-east-1":
        root.text = value
    return common.xml_response(root)
