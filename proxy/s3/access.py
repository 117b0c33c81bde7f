"""Who may do what: bucket policy first (explicit Deny wins, Allow grants), then ownership, then ACLs.

The account that owns a bucket (its Swift account) may do everything in it unless its policy
denies it; anyone else needs a policy Allow or an ACL grant (bucket ACL for bucket operations and
object writes, the object's ACL for object reads). Public access block settings are applied by
ignoring public ACLs/policies when they say so.
"""
from __future__ import annotations

import asyncio

from proxy.s3 import acl as acl_mod
from proxy.s3 import policy as policy_mod
from proxy.s3.common import BUCKET_SYSMETA, Bucket
from proxy.s3.errors import S3Error

PUBLIC_GROUPS = (acl_mod.ALL_USERS, acl_mod.AUTHENTICATED_USERS)
CREATOR = BUCKET_SYSMETA + "Creator"  # the "account:user" that created the bucket
LISTING_CONCURRENCY = 16
ENFORCED = "BucketOwnerEnforced"


def principal_id(s3) -> str | None:
    p = s3.principal
    if p is None:
        return None
    return p.user if ":" in p.user else f"{p.account}:{p.user}"


def shown_id(s3, account: str) -> str:
    """The canonical id to render for a stored owner/grantee account. Swift's s3api shows the
    requester's "account:user" (e.g. "test:tester"); owners are stored by account, so a requester
    acting for that account sees their own "account:user", anyone else the bare account."""
    if s3.principal is not None and s3.principal.account == account:
        return principal_id(s3)
    return account


def bucket_acl(bucket: Bucket) -> acl_mod.Acl:
    stored = bucket.sysmeta("Acl")
    if stored:
        try:
            return acl_mod.Acl.from_json(stored)
        except (ValueError, KeyError, TypeError):
            pass
    return acl_mod.canned("private", bucket.owner)


def object_acl(backend_headers, bucket: Bucket) -> acl_mod.Acl:
    stored = (backend_headers or {}).get("X-Object-Sysmeta-S3-Acl")
    if stored:
        try:
            return acl_mod.Acl.from_json(stored)
        except (ValueError, KeyError, TypeError):
            pass
    return acl_mod.canned("private", bucket.owner)


def _policy(bucket: Bucket):
    text = bucket.sysmeta("Policy")
    if not text:
        return None
    try:
        return policy_mod.parse(text, bucket.name)
    except S3Error:
        return None


def _public_block(bucket: Bucket) -> dict:
    return bucket.json("Pab", {}) or {}


def ownership(bucket: Bucket) -> str | None:
    """The bucket's Object Ownership setting. Stored as JSON (a quoted string); CreateBucket's
    x-amz-object-ownership was once stored bare, and such buckets still answer with it."""
    value = bucket.sysmeta("Ownership")
    if not value:
        return None
    return bucket.json("Ownership") if value.startswith('"') else value


def acls_disabled(bucket: Bucket) -> bool:
    """Object Ownership "BucketOwnerEnforced": ACLs neither grant nor may be set; the bucket
    owner (and a bucket policy) alone decide."""
    return ownership(bucket) == ENFORCED


def shown_acl(bucket: Bucket, acl: acl_mod.Acl) -> acl_mod.Acl:
    """The ACL GetBucketAcl/GetObjectAcl answer: with ACLs disabled, the bucket owner's full
    control alone (the bucket owner owns every object), whatever was stored before."""
    return acl_mod.canned("private", bucket.owner) if acls_disabled(bucket) else acl


def _owner_full_control(acl: acl_mod.Acl, bucket: Bucket) -> bool:
    """Only FULL_CONTROL for the object's or the bucket's owner (bucket-owner-full-control,
    private, or the same in XML): what an ACL-disabled bucket still accepts. Grants may name
    "account:user", the id GetAcl shows: its account part decides."""
    return all(g.permission == "FULL_CONTROL" and g.grantee.kind == "CanonicalUser" and
               g.grantee.value.partition(":")[0] in (acl.owner, bucket.owner) for g in acl.grants)


def grants_outside(acl: acl_mod.Acl, bucket: Bucket) -> bool:
    """The ACL grants a group or another account something."""
    return any(g.grantee.kind != "CanonicalUser" or
               g.grantee.value.partition(":")[0] != bucket.owner for g in acl.grants)


def refuse_acl(bucket: Bucket, acl: acl_mod.Acl | None) -> None:
    """The checks on a bucket ACL, object ACL or object write (PUT, copy, multipart, POST) that
    sets one: AccessControlListNotSupported when the bucket's ACLs are disabled (unless it only
    gives the owner full control), AccessDenied when BlockPublicAcls is on and it grants a public
    group (ACLs already stored stay as they are)."""
    if acl is None:
        return
    if acls_disabled(bucket) and not _owner_full_control(acl, bucket):
        raise S3Error("AccessControlListNotSupported")
    if _public_block(bucket).get("BlockPublicAcls") and \
            any(g.grantee.value in PUBLIC_GROUPS for g in acl.grants):
        raise S3Error("AccessDenied")


def _context(s3) -> dict:
    remote = s3.request.remote or ""
    return {"aws:sourceip": remote, "aws:securetransport": "false",
            "aws:username": s3.principal.user if s3.principal else "",
            "s3:prefix": s3.query.get("prefix", ""), "s3:delimiter": s3.query.get("delimiter", ""),
            "s3:max-keys": s3.query.get("max-keys", ""),
            "aws:userid": principal_id(s3) or "", "aws:principaltype":
            "Anonymous" if s3.principal is None else "User"}


def is_owner(s3, bucket: Bucket) -> bool:
    """The caller owns the bucket: its account, and the user that created it when one is
    recorded (Swift's s3api with s3_acl: a sibling user of the account needs a grant)."""
    if s3.principal is None or s3.principal.account != bucket.owner:
        return False
    creator = bucket.info.get(CREATOR)
    return not creator or creator == principal_id(s3)


def _sibling(s3, bucket: Bucket) -> bool:
    """Another user of the owner's account: grants naming the account mean the creator."""
    return s3.principal is not None and s3.principal.account == bucket.owner and \
        not is_owner(s3, bucket)


def _acl_allows(s3, acl: acl_mod.Acl, permission: str, bucket: Bucket) -> bool:
    pid = principal_id(s3)
    if _public_block(bucket).get("IgnorePublicAcls"):
        acl = acl_mod.Acl(acl.owner, tuple(g for g in acl.grants
                                           if g.grantee.value not in PUBLIC_GROUPS))
    if acl_mod.allows(acl, pid, permission):
        return True
    # Grants may name the account alone (the canonical id our listings show).
    return s3.principal is not None and not _sibling(s3, bucket) and \
        acl_mod.allows(acl, s3.principal.account, permission)


def check(s3, bucket: Bucket, action: str, permission: str, key: str | None = None,
          obj_acl: acl_mod.Acl | None = None) -> None:
    """Raise AccessDenied unless the caller may do `action` (e.g. "s3:GetObject")."""
    policy = _policy(bucket)
    if policy is not None and _public_block(bucket).get("RestrictPublicBuckets") and \
            not is_owner(s3, bucket):
        policy = None
    decision = None
    if policy is not None:  # (most buckets have none: no request context to build)
        resource = f"arn:aws:s3:::{bucket.name}" + (f"/{key}" if key is not None else "")
        decision = policy_mod.evaluate(policy, policy_mod.Request(
            principal_id(s3), s3.principal.account if s3.principal else None, action, resource,
            _context(s3)))
    if decision == "Deny":
        raise S3Error("AccessDenied")
    if decision == "Allow" or is_owner(s3, bucket):
        return
    if acls_disabled(bucket):
        raise S3Error("AccessDenied")
    acl = obj_acl if obj_acl is not None else bucket_acl(bucket)
    if _acl_allows(s3, acl, permission, bucket):
        return
    raise S3Error("AccessDenied")


def creator_headers(s3) -> dict[str, str]:
    """Container headers that record who created a bucket (for listed_buckets)."""
    pid = principal_id(s3)
    return {CREATOR: pid} if pid else {}


async def listed_buckets(s3, account: str, rows: list) -> list:
    """The account listing rows ListBuckets shows this user. Like Swift's s3api with s3_acl and
    check_bucket_owner, each user of an account owns the buckets it created: another user of the
    same account sees a bucket only when an ACL grant names it (or a public group). Buckets with
    no recorded creator (made through the Swift API) are shown to every user of the account.
    This is the listing only; what a user may do with a bucket is still check()'s account rule."""
    me = principal_id(s3)
    limit = asyncio.Semaphore(LISTING_CONCURRENCY)

    async def shown(row) -> bool:
        name = row.get("name", "")
        if name.endswith("+segments"):
            return True  # not a bucket; ListBuckets drops it anyway
        async with limit:
            info = await s3.core.container_info(account, name)
        creator = info.get(CREATOR) if info.exists else None
        if not creator or creator == me:
            return True
        return acl_mod.allows(bucket_acl(Bucket(name, account, info)), me, "READ")

    keep = await asyncio.gather(*(shown(row) for row in rows))
    return [row for row, ok in zip(rows, keep) if ok]
