"""Object Ownership and public access block checks on ACL writes (proxy/s3/access.py), no I/O."""
import json

import pytest
from multidict import CIMultiDict

from proxy.core import Info
from proxy.s3 import access
from proxy.s3 import acl as acl_mod
from proxy.s3.common import BUCKET_SYSMETA, Bucket
from proxy.s3.errors import S3Error


def _bucket(**sysmeta) -> Bucket:
    return Bucket("b", "AUTH_test", Info(204, CIMultiDict(
        {BUCKET_SYSMETA + k: v for k, v in sysmeta.items()})))


def test_ownership_read_as_stored_and_as_once_stored_bare():
    assert access.ownership(_bucket()) is None
    assert access.ownership(_bucket(Ownership=json.dumps("BucketOwnerEnforced"))) == \
        "BucketOwnerEnforced"
    assert access.ownership(_bucket(Ownership="ObjectWriter")) == "ObjectWriter"  # older buckets
    assert access.acls_disabled(_bucket(Ownership="BucketOwnerEnforced"))
    assert not access.acls_disabled(_bucket(Ownership='"BucketOwnerPreferred"'))


@pytest.mark.parametrize("canned,allowed", [("private", True), ("bucket-owner-full-control", True),
                                            ("public-read", False), ("authenticated-read", False),
                                            ("bucket-owner-read", False)])
def test_acls_disabled_take_owner_full_control_only(canned, allowed):
    bucket = _bucket(Ownership='"BucketOwnerEnforced"')
    acl = acl_mod.canned(canned, "writer", bucket.owner)
    if allowed:
        access.refuse_acl(bucket, acl)
    else:
        with pytest.raises(S3Error) as exc:
            access.refuse_acl(bucket, acl)
        assert exc.value.code == "AccessControlListNotSupported"
    # the same ACL from XML, naming the owner as GetAcl shows it ("account:user")
    shown = acl_mod.Acl("test", (acl_mod.Grant(acl_mod.Grantee("CanonicalUser",
                                                                    "test:tester"),
                                                    "FULL_CONTROL"),))
    access.refuse_acl(bucket, shown)
    assert access.shown_acl(bucket, acl) == acl_mod.canned("private", "test")


def test_block_public_acls_refuses_public_grants_only():
    bucket = _bucket(Pab=json.dumps({"BlockPublicAcls": True}))
    access.refuse_acl(bucket, acl_mod.canned("private", "test"))
    access.refuse_acl(bucket, None)
    for canned in ("public-read", "public-read-write", "authenticated-read"):
        with pytest.raises(S3Error) as exc:
            access.refuse_acl(bucket, acl_mod.canned(canned, "test"))
        assert exc.value.code == "AccessDenied"
    access.refuse_acl(_bucket(), acl_mod.canned("public-read", "test"))  # no block: fine


def test_grants_outside_the_account():
    bucket = _bucket()
    assert not access.grants_outside(acl_mod.canned("private", "test"), bucket)
    sibling = acl_mod.Acl("test", (acl_mod.Grant(acl_mod.Grantee("CanonicalUser", "test:tester2"),
                                                 "READ"),))
    assert not access.grants_outside(sibling, bucket)
    assert access.grants_outside(acl_mod.canned("public-read", "test"), bucket)
    other = acl_mod.Acl("test", (acl_mod.Grant(acl_mod.Grantee("CanonicalUser", "alt:alt"),
                                               "READ"),))
    assert access.grants_outside(other, bucket)
