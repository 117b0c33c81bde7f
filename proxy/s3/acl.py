"""S3 access control lists: canned ACLs, x-amz-grant-* headers, the XML form, and permission checks.

A user's canonical ID is its Swift identity "account:user" (as OpenStack Swift's s3api does), so
both APIs name the same people. An ACL is stored as JSON in the container's or object's system
metadata; its owner always keeps READ_ACP and WRITE_ACP.
"""
from __future__ import annotations

import dataclasses
import json
import re

from proxy.s3 import xmlio
from proxy.s3.errors import S3Error

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"
GROUPS = (ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY)
PERMISSIONS = ("FULL_CONTROL", "WRITE", "WRITE_ACP", "READ", "READ_ACP")
CANNED = ("private", "public-read", "public-read-write", "authenticated-read", "bucket-owner-read",
          "bucket-owner-full-control", "log-delivery-write", "aws-exec-read")
GRANT_HEADERS = {f"x-amz-grant-{p.lower().replace('_', '-')}": p for p in PERMISSIONS}
MAX_GRANTS = 100


@dataclasses.dataclass(frozen=True)
class Grantee:
    kind: str   # "CanonicalUser" or "Group"
    value: str  # canonical id, or group URI


@dataclasses.dataclass(frozen=True)
class Grant:
    grantee: Grantee
    permission: str


@dataclasses.dataclass(frozen=True)
class Acl:
    owner: str
    grants: tuple[Grant, ...]

    def to_json(self) -> str:
        return json.dumps({"owner": self.owner, "grants": [
            [g.grantee.kind, g.grantee.value, g.permission] for g in self.grants]})

    @classmethod
    def from_json(cls, text: str) -> "Acl":
        data = json.loads(text)
        return cls(data["owner"], tuple(Grant(Grantee(k, v), p) for k, v, p in data["grants"]))


def _user(owner: str, permission: str) -> Grant:
    return Grant(Grantee("CanonicalUser", owner), permission)


def _group(uri: str, permission: str) -> Grant:
    return Grant(Grantee("Group", uri), permission)


def canned(name: str, owner: str, bucket_owner: str | None = None) -> Acl:
    """The ACL a canned name stands for (bucket_owner matters for bucket-owner-* on objects)."""
    grants = [_user(owner, "FULL_CONTROL")]
    if name == "private":
        pass
    elif name == "public-read":
        grants.append(_group(ALL_USERS, "READ"))
    elif name == "public-read-write":
        grants += [_group(ALL_USERS, "READ"), _group(ALL_USERS, "WRITE")]
    elif name == "authenticated-read":
        grants.append(_group(AUTHENTICATED_USERS, "READ"))
    elif name == "aws-exec-read":
        pass
    elif name == "bucket-owner-read":
        if bucket_owner and bucket_owner != owner:
            grants.append(_user(bucket_owner, "READ"))
    elif name == "bucket-owner-full-control":
        if bucket_owner and bucket_owner != owner:
            grants.append(_user(bucket_owner, "FULL_CONTROL"))
    elif name == "log-delivery-write":
        grants += [_group(LOG_DELIVERY, "WRITE"), _group(LOG_DELIVERY, "READ_ACP")]
    else:
        raise S3Error("InvalidArgument", None, ArgumentName="x-amz-acl", ArgumentValue=name)
    return Acl(owner, tuple(grants))


_GRANTEE_ITEM = re.compile(r'\s*(id|uri|emailAddress)\s*=\s*"([^"]*)"\s*$', re.I)


def from_headers(headers: dict[str, str], owner: str, bucket_owner: str | None = None) -> Acl | None:
    """The ACL requested by x-amz-acl or x-amz-grant-* headers, or None if neither is present."""
    if "x-amz-acl" not in headers and GRANT_HEADERS.keys().isdisjoint(headers):
        return None  # (most PUTs: no dict of grants to build)
    grant_headers = {h: p for h, p in GRANT_HEADERS.items() if h in headers}
    if "x-amz-acl" in headers:
        if grant_headers:
            raise S3Error("InvalidRequest", "Specifying both Canned ACLs and Header Grants is not "
                          "allowed")
        return canned(headers["x-amz-acl"].strip(), owner, bucket_owner)
    if not grant_headers:
        return None
    grants = []
    for header, permission in grant_headers.items():
        for item in headers[header].split(","):
            match = _GRANTEE_ITEM.match(item)
            if not match:
                raise S3Error("InvalidArgument", "Invalid grantee", ArgumentName=header,
                              ArgumentValue=headers[header])
            kind, value = match.group(1).lower(), match.group(2)
            grants.append(Grant(_grantee(kind, value), permission))
    return Acl(owner, tuple(grants))


def _grantee(kind: str, value: str) -> Grantee:
    if kind == "id":
        return Grantee("CanonicalUser", value)
    if kind == "uri":
        if value not in GROUPS:
            raise S3Error("InvalidArgument", "Invalid group uri", ArgumentName="uri",
                          ArgumentValue=value)
        return Grantee("Group", value)
    raise S3Error("NotImplemented", "Grants by e-mail address are not implemented.")


def from_xml(body: bytes, owner: str, shown_owner: str | None = None) -> Acl:
    """Parse an AccessControlPolicy document (PutBucketAcl / PutObjectAcl body); the Owner ID may be
    the stored owner or the id GetAcl showed for it (shown_owner, "account:user")."""
    root = xmlio.parse(body, "AccessControlPolicy", error="MalformedACLError")
    owner_el = xmlio.child(root, "Owner")
    if owner_el is not None and xmlio.text(owner_el, "ID") not in (None, owner, shown_owner):
        raise S3Error("AccessDenied")
    acl_el = xmlio.child(root, "AccessControlList")
    if acl_el is None:
        raise S3Error("MalformedACLError")
    grants = []
    for grant_el in xmlio.children(acl_el, "Grant"):
        grantee_el = xmlio.child(grant_el, "Grantee")
        permission = xmlio.text(grant_el, "Permission")
        if grantee_el is None or permission not in PERMISSIONS:
            raise S3Error("MalformedACLError")
        kind = grantee_el.get(f"{{{xmlio.XSI}}}type")
        if kind == "CanonicalUser":
            value = xmlio.text(grantee_el, "ID")
            if not value:
                raise S3Error("MalformedACLError")
            grants.append(Grant(Grantee("CanonicalUser", value), permission))
        elif kind == "Group":
            grants.append(Grant(_grantee("uri", xmlio.text(grantee_el, "URI") or ""), permission))
        elif kind == "AmazonCustomerByEmail":
            raise S3Error("NotImplemented", "Grants by e-mail address are not implemented.")
        else:
            raise S3Error("MalformedACLError")
    if len(grants) > MAX_GRANTS:
        raise S3Error("MalformedACLError", "Too many grants")
    return Acl(owner, tuple(grants))


def to_xml(acl: Acl, show=None) -> bytes:
    """show(id) -> the id to render for a stored account id (access.shown_id), identity by default."""
    show = show or (lambda value: value)
    root = xmlio.document("AccessControlPolicy")
    owner = xmlio.add(root, "Owner")
    xmlio.add(owner, "ID", show(acl.owner))
    xmlio.add(owner, "DisplayName", show(acl.owner))
    listing = xmlio.add(root, "AccessControlList")
    for grant in acl.grants:
        grant_el = xmlio.add(listing, "Grant")
        grantee = xmlio.add(grant_el, "Grantee")
        grantee.set("xmlns:xsi", xmlio.XSI)
        grantee.set("xsi:type", grant.grantee.kind)
        if grant.grantee.kind == "CanonicalUser":
            xmlio.add(grantee, "ID", show(grant.grantee.value))
            xmlio.add(grantee, "DisplayName", show(grant.grantee.value))
        else:
            xmlio.add(grantee, "URI", grant.grantee.value)
        xmlio.add(grant_el, "Permission", grant.permission)
    return xmlio.render(root)


def allows(acl: Acl, principal: str | None, permission: str) -> bool:
    """Does the ACL give `principal` ("account:user", None = anonymous) this permission?"""
    if principal is not None and principal == acl.owner and permission in ("READ_ACP", "WRITE_ACP"):
        return True
    for grant in acl.grants:
        if grant.permission not in (permission, "FULL_CONTROL"):
            continue
        grantee = grant.grantee
        if grantee.kind == "Group":
            if grantee.value == ALL_USERS:
                return True
            if grantee.value == AUTHENTICATED_USERS and principal is not None:
                return True
        elif principal is not None and grantee.value == principal:
            return True
    return False
