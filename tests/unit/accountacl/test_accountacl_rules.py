"""Account ACLs and service tokens, pure: header validation, storage form, who may do what."""
import json
import time

import pytest
from hypothesis import given, strategies as st

from proxy import account_acl
from proxy.account_acl import AccountACL, Level
from proxy.auth import TempAuth, parse_users
from proxy.errors import SwiftError
from proxy.limits import MAX_HEADER_SIZE

USERS = parse_users(["test:tester:testing:.admin", "test:tester3:testing3",
                     "test2:tester2:testing2:.admin", "test5:tester5:testing5:service",
                     "admin:admin:admin:.admin,.reseller_admin"])


@pytest.fixture
def auth():
    return TempAuth(USERS, b"k" * 32, 3600)


def identity(auth, user):
    return auth.login(user, USERS[user].key)[1]


@pytest.mark.parametrize("value, message", [
    ("invalid", "Syntax error in input"),
    ("[]", "Syntax error in input"),
    ('{"admin": ["a"], "invalid_key": "x"}', 'Key "invalid_key" not recognized'),
    ('{"admin": "x"}', 'Value for key "admin" must be a list'),
    ('{"read-only": [1]}', 'Elements of "read-only" list must be strings'),
])
def test_invalid_headers_are_400_with_tempauths_message(value, message):
    with pytest.raises(SwiftError) as err:
        account_acl.validate(value)
    assert err.value.status == 400 and message in err.value.body.decode()


def test_header_longer_than_swifts_header_line_is_400():
    size = MAX_HEADER_SIZE // 8
    too_long = json.dumps({"admin": [c * size for c in "abcdefgh"]})
    with pytest.raises(SwiftError) as err:
        account_acl.validate(too_long)
    assert err.value.status == 400
    fits = json.dumps({"admin": [c * size for c in "abcdefg"]})
    assert account_acl.validate(fits).admin[0] == "a" * size


def test_stored_form_is_swifts_format_acl_and_empty_clears():
    assert account_acl.sysmeta_for('{"read-only": ["b"], "admin": ["a"]}') == {
        account_acl.SYSMETA: '{"admin":["a"],"read-only":["b"]}'}
    assert account_acl.sysmeta_for("{}") == {account_acl.SYSMETA: ""}
    assert account_acl.sysmeta_for("") == {account_acl.SYSMETA: ""}
    assert account_acl.to_client("") is None and account_acl.to_client("{}") is None
    assert account_acl.to_client('{"admin":["a"]}') == '{"admin":["a"]}'
    assert account_acl.parse_stored("not json") is None  # ignored, like Swift (logged there)


def test_levels_match_exact_group_names_strongest_first():
    acl = AccountACL(admin=("test:tester3",), read_write=("test2",), read_only=("test",))
    assert acl.level_for({"test", "test:tester3"}) is Level.ADMIN
    assert acl.level_for({"test2", "test2:x"}) is Level.READ_WRITE
    assert acl.level_for({"test"}) is Level.READ_ONLY
    assert acl.level_for({"*", "test3"}) is None


@pytest.mark.parametrize("level, container, method, allowed", [
    (Level.READ_ONLY, None, "GET", True), (Level.READ_ONLY, "c", "HEAD", True),
    (Level.READ_ONLY, "c", "PUT", False), (Level.READ_ONLY, None, "POST", False),
    (Level.READ_WRITE, None, "HEAD", True), (Level.READ_WRITE, None, "POST", False),
    (Level.READ_WRITE, "c", "PUT", True), (Level.READ_WRITE, "c", "DELETE", True),
    (Level.ADMIN, None, "POST", True),
])
def test_what_each_level_allows(auth, level, container, method, allowed):
    who = identity(auth, "test:tester3")
    assert not who.owns("AUTH_test2")
    granted = who.with_grant("AUTH_test2", level)
    obj = "o" if container else None
    if allowed:
        auth.authorize(granted, "AUTH_test2", container, obj, method)
    else:
        with pytest.raises(SwiftError) as err:
            auth.authorize(granted, "AUTH_test2", container, obj, method)
        assert err.value.status == 403
    with pytest.raises(SwiftError):  # the grant is for that account only
        auth.authorize(granted, "AUTH_other", container, obj, "GET")
    assert granted.owns("AUTH_test2") is (level is Level.ADMIN)


def test_service_account_needs_the_service_group(auth):
    tester = identity(auth, "test:tester")
    assert tester.owns("AUTH_test") and not tester.owns("SERVICE_test")
    with pytest.raises(SwiftError) as err:
        auth.authorize(tester, "SERVICE_test", None, None, "POST")
    assert err.value.status == 403
    user_token = auth.login("test:tester", "testing")[0]
    service_token = auth.login("test5:tester5", "testing5")[0]
    both = auth.authenticate({"X-Auth-Token": user_token, "X-Service-Token": service_token})
    assert both.owns("SERVICE_test")
    auth.authorize(both, "SERVICE_test", None, None, "POST")
    auth.authorize(both, "SERVICE_test", "c", "o", "PUT")
    # the service user alone, or twice, owns nothing there
    alone = auth.authenticate({"X-Auth-Token": service_token, "X-Service-Token": service_token})
    assert not alone.owns("SERVICE_test") and not alone.owns("SERVICE_test5")
    # a bad service token adds nothing (the user token still counts)
    bad = auth.authenticate({"X-Auth-Token": user_token, "X-Service-Token": "AUTH_tkforged"})
    assert not bad.owns("SERVICE_test") and bad.owns("AUTH_test")


def test_unknown_prefix_and_dot_accounts_are_nobodys(auth):
    admin = identity(auth, "admin:admin")
    auth.authorize(admin, "SERVICE_test", None, None, "GET")
    for account in ("OTHER_test", "AUTH_.expiring_objects", "SERVICE_.x"):
        with pytest.raises(SwiftError):
            auth.authorize(admin, account, None, None, "GET")


@given(st.dictionaries(st.sampled_from(account_acl.KEYS),
                       st.lists(st.text(max_size=20), max_size=4)))
def test_round_trip_through_sysmeta(doc):
    stored = account_acl.sysmeta_for(json.dumps(doc))[account_acl.SYSMETA]
    shown = account_acl.to_client(stored)
    if any(doc.values()):
        assert json.loads(shown) == {k: v for k, v in doc.items() if v}
    else:
        assert stored == "" and shown is None


async def test_resolve_reads_the_account_acl_once_for_non_owners(auth):
    from multidict import CIMultiDict
    from proxy.core import Info

    class Core:
        calls = 0

        async def account_info(self, account):
            Core.calls += 1
            return Info(204, CIMultiDict({account_acl.SYSMETA: '{"read-only":["test:tester3"]}'}))

    core = Core()
    owner = identity(auth, "test:tester")
    assert await account_acl.resolve(core, owner, "AUTH_test") is owner and Core.calls == 0
    assert await account_acl.resolve(core, None, "AUTH_test") is None and Core.calls == 0
    reader = await account_acl.resolve(core, identity(auth, "test:tester3"), "AUTH_test")
    assert reader.grant("AUTH_test") is Level.READ_ONLY and Core.calls == 1
    stranger = identity(auth, "test2:tester2")
    assert await account_acl.resolve(core, stranger, "AUTH_test") is stranger
    assert time.time() < reader.expires
