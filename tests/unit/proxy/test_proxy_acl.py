"""Container ACL parsing and matching (proxy/acl.py) and tempauth's authorize rules."""
import pytest

from proxy import acl
from proxy.auth import Identity, TempAuth, parse_users, signing_key
from proxy.errors import SwiftError


def test_parse_acl_splits_referrers_groups_and_rlistings():
    parsed = acl.parse_acl(".r:*, .rlistings, test:tester2, other")
    assert parsed.referrers == ("*",)
    assert parsed.rlistings
    assert parsed.groups == ("test:tester2", "other")
    assert acl.parse_acl("") == acl.ACL()


@pytest.mark.parametrize("referrer,refs,allowed", [
    (None, ("*",), True),
    ("http://www.example.com/page", (".example.com",), True),
    ("http://example.org/", (".example.com",), False),
    ("http://bad.example.com/", (".example.com", "-bad.example.com"), False),
    ("http://good.example.com/", ("*", "-bad.example.com"), True),
    (None, (), False),
])
def test_referrer_allowed(referrer, refs, allowed):
    assert acl.referrer_allowed(referrer, refs) is allowed


def test_clean_acl_normalises_and_refuses_referrers_in_write_acls():
    assert acl.clean_acl("X-Container-Read", " .r:http://example.com/x , a:b ") == ".r:example.com,a:b"
    with pytest.raises(SwiftError) as err:
        acl.clean_acl("X-Container-Write", ".r:*")
    assert err.value.status == 400
    with pytest.raises(SwiftError):
        acl.clean_acl("X-Container-Read", ".bogus:x")
    with pytest.raises(SwiftError):
        acl.clean_acl("X-Container-Read", ".r:")


def test_groups_match():
    groups = frozenset({"test:tester3", "test"})
    assert acl.groups_match(("test:tester3",), groups)
    assert acl.groups_match(("test",), groups)
    assert acl.groups_match(("*:tester3",), groups)
    assert not acl.groups_match(("test2:tester2",), groups)


@pytest.fixture
def tempauth():
    users = parse_users(["test:tester:testing:.admin", "test:tester3:testing3",
                         "admin:admin:admin:.admin,.reseller_admin", "test2:tester2:testing2:.admin"])
    return TempAuth(users, signing_key("p", "s"), 3600)


def who(auth, name, key):
    return auth.login(name, key)[1]


def status_of(fn):
    try:
        fn()
    except SwiftError as exc:
        return exc.status
    return 200


def test_owner_reseller_acl_and_anonymous_rules(tempauth):
    owner = who(tempauth, "test:tester", "testing")
    plain = who(tempauth, "test:tester3", "testing3")
    other = who(tempauth, "test2:tester2", "testing2")
    reseller = who(tempauth, "admin:admin", "admin")
    az = tempauth.authorize
    assert status_of(lambda: az(owner, "AUTH_test", None, None, "GET")) == 200
    assert status_of(lambda: az(owner, "AUTH_test", "c", "o", "PUT")) == 200
    assert status_of(lambda: az(owner, "AUTH_test", None, None, "PUT")) == 403  # account PUT
    assert status_of(lambda: az(reseller, "AUTH_test", None, None, "PUT")) == 200
    assert status_of(lambda: az(plain, "AUTH_test", None, None, "GET")) == 403  # not .admin
    assert status_of(lambda: az(plain, "AUTH_test", "c", "o", "GET", "test:tester3")) == 200
    assert status_of(lambda: az(other, "AUTH_test", "c", None, "GET")) == 403
    assert status_of(lambda: az(other, "AUTH_test", "c", "o", "PUT", "test2")) == 200
    assert status_of(lambda: az(None, "AUTH_test", "c", "o", "GET")) == 401
    assert status_of(lambda: az(None, "AUTH_test", "c", "o", "GET", ".r:*")) == 200
    assert status_of(lambda: az(None, "AUTH_test", "c", None, "GET", ".r:*")) == 401  # no listing
    assert status_of(lambda: az(None, "AUTH_test", "c", None, "GET", ".r:*,.rlistings")) == 200
    assert status_of(lambda: az(owner, "BAD_test", "c", None, "GET")) == 403


def test_tokens_are_signed_and_expire(tempauth):
    token, identity = tempauth.login("test:tester", "testing")
    assert token.startswith("AUTH_tk")
    assert tempauth.verify(token) == identity
    assert tempauth.verify(token, now=identity.expires + 1) is None
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert tempauth.verify(forged) is None
    other = TempAuth(tempauth.users, signing_key("p", "other"), 3600)
    assert other.verify(token) is None             # another cluster's key
    assert tempauth.verify("AUTH_tkgarbage") is None
    assert identity.owns("AUTH_test") and not identity.owns("AUTH_test2")


def test_bad_credentials_are_401(tempauth):
    for name, key in [("test:tester", "wrong"), ("nobody:x", "testing"), (None, None)]:
        with pytest.raises(SwiftError) as err:
            tempauth.login(name, key)
        assert err.value.status == 401


def test_authenticate_bad_token_is_401(tempauth):
    assert tempauth.authenticate({}) is None
    with pytest.raises(SwiftError) as err:
        tempauth.authenticate({"X-Auth-Token": "AUTH_tkbogus"})
    assert err.value.status == 401


def test_identity_owns():
    ident = Identity("a:b", "a", frozenset({"a:b", "a", ".reseller_admin"}), 0)
    assert ident.owns("AUTH_x")
    assert not ident.owns("AUTH_.expiring_objects")
