import pytest

from proxy.s3 import acl
from proxy.s3.errors import S3Error


def test_canned_acls():
    private = acl.canned("private", "test:tester")
    assert acl.allows(private, "test:tester", "WRITE")
    assert not acl.allows(private, "alt:alt", "READ")
    assert not acl.allows(private, None, "READ")
    public = acl.canned("public-read", "test:tester")
    assert acl.allows(public, None, "READ") and not acl.allows(public, None, "WRITE")
    authenticated = acl.canned("authenticated-read", "test:tester")
    assert acl.allows(authenticated, "alt:alt", "READ") and not acl.allows(authenticated, None, "READ")
    owner_full = acl.canned("bucket-owner-full-control", "alt:alt", bucket_owner="test:tester")
    assert acl.allows(owner_full, "test:tester", "WRITE_ACP")
    with pytest.raises(S3Error) as info:
        acl.canned("world-writable", "x:y")
    assert info.value.code == "InvalidArgument"


def test_grant_headers():
    parsed = acl.from_headers({"x-amz-grant-read": 'id="alt:alt", uri="' + acl.ALL_USERS + '"',
                               "x-amz-grant-write-acp": 'id="alt:alt"'}, "test:tester")
    assert acl.allows(parsed, "alt:alt", "READ") and acl.allows(parsed, None, "READ")
    assert acl.allows(parsed, "alt:alt", "WRITE_ACP") and not acl.allows(parsed, "alt:alt", "WRITE")
    assert acl.from_headers({}, "o") is None
    with pytest.raises(S3Error) as info:
        acl.from_headers({"x-amz-acl": "private", "x-amz-grant-read": 'id="a"'}, "o")
    assert info.value.code == "InvalidRequest"
    with pytest.raises(S3Error) as info:
        acl.from_headers({"x-amz-grant-read": "alt"}, "o")
    assert info.value.code == "InvalidArgument"
    with pytest.raises(S3Error) as info:
        acl.from_headers({"x-amz-grant-read": 'emailAddress="a@b"'}, "o")
    assert info.value.status == 501


def test_xml_round_trip_and_json_storage():
    original = acl.canned("public-read-write", "test:tester")
    body = acl.to_xml(original)
    assert b"AccessControlPolicy" in body and b'xsi:type="Group"' in body
    parsed = acl.from_xml(body, "test:tester")
    assert parsed == original
    assert acl.Acl.from_json(parsed.to_json()) == parsed


@pytest.mark.parametrize("body", [
    b"",
    b"<AccessControlPolicy>",
    b"<Other/>",
    b"<AccessControlPolicy><AccessControlList><Grant><Permission>READ</Permission></Grant>"
    b"</AccessControlList></AccessControlPolicy>",
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><AccessControlPolicy>&a;</AccessControlPolicy>',
])
def test_malformed_acl_xml(body):
    with pytest.raises(S3Error) as info:
        acl.from_xml(body, "test:tester")
    assert info.value.code == "MalformedACLError"


def test_acl_xml_with_another_owner_is_denied():
    body = acl.to_xml(acl.canned("private", "alt:alt"))
    with pytest.raises(S3Error) as info:
        acl.from_xml(body, "test:tester")
    assert info.value.code == "AccessDenied"
