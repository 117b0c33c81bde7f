"""Keystone tokens on the proxy's Swift API: accounts, roles, ACLs, isolation, bad tokens."""
import time
import uuid

import pytest
import requests

pytestmark = pytest.mark.timeout(120)


def _h(token):
    return {"X-Auth-Token": token}


@pytest.fixture(scope="module")
def tester(ks):
    return ks.token("tester")


@pytest.fixture(scope="module")
def alt(ks):
    return ks.token("alt")


@pytest.fixture(scope="module")
def container(ks, tester):
    """A container of project "test" holding object "o" (b"hello")."""
    name = f"c-{uuid.uuid4().hex[:8]}"
    assert requests.put(ks.url("tester", name), headers=_h(tester), timeout=30).status_code == 201
    r = requests.put(ks.url("tester", name, "o"), data=b"hello", headers=_h(tester), timeout=30)
    assert r.status_code == 201, r.text
    return name


def test_member_owns_its_project_account(ks, tester, container):
    r = requests.get(ks.url("tester", container, "o"), headers=_h(tester), timeout=30)
    assert r.status_code == 200 and r.content == b"hello"
    r = requests.get(ks.url("tester"), headers=_h(tester), timeout=30)
    assert r.status_code == 200 and container in r.text.split()
    r = requests.post(ks.url("tester"), headers={**_h(tester), "X-Account-Meta-Colour": "blue"},
                      timeout=30)
    assert r.status_code == 204


def test_other_project_is_forbidden(ks, alt, container):
    for method, parts in (("GET", (container, "o")), ("HEAD", (container, "o")),
                          ("PUT", (container, "x")), ("DELETE", (container, "o")),
                          ("GET", (container,)), ("GET", ()), ("PUT", ("alt-made",))):
        r = requests.request(method, ks.url("tester", *parts), headers=_h(alt), timeout=30)
        assert r.status_code == 403, (method, parts, r.status_code)


def test_acl_names_keystone_users(ks, tester, alt, container):
    acl_c = f"a-{uuid.uuid4().hex[:8]}"
    url = ks.url("tester", acl_c)
    for acl in (f"{ks.project_id('alt')}:{ks.user_id('alt')}", "alt:alt",
                f"*:{ks.user_id('alt')}", "alt:*", "*:*"):
        r = requests.put(url, headers={**_h(tester), "X-Container-Read": acl,
                                       "X-Container-Write": acl}, timeout=30)
        assert r.status_code in (201, 202), r.text
        r = requests.put(url + "/by-alt", data=b"x", headers=_h(alt), timeout=30)
        assert r.status_code == 201, (acl, r.status_code)
        r = requests.get(url + "/by-alt", headers=_h(alt), timeout=30)
        assert r.status_code == 200, (acl, r.status_code)
    # A name that is not alt's grants nothing.
    r = requests.post(url, headers={**_h(tester), "X-Container-Read": "test:*",
                                    "X-Container-Write": "test:*"}, timeout=30)
    assert r.status_code == 204
    assert requests.get(url + "/by-alt", headers=_h(alt), timeout=30).status_code == 403


def test_reader_reads_but_cannot_write(ks, container):
    name, password = ks.new_user("test", "reader")
    reader = ks.token(name, password, "test")
    r = requests.get(ks.url("tester", container, "o"), headers=_h(reader), timeout=30)
    assert r.status_code == 200 and r.content == b"hello"
    assert requests.get(ks.url("tester"), headers=_h(reader), timeout=30).status_code == 200
    for method, parts in (("PUT", (container, "r")), ("DELETE", (container, "o")),
                          ("POST", (container, "o")), ("PUT", ("reader-made",)),
                          ("POST", ())):
        r = requests.request(method, ks.url("tester", *parts), data=b"r", headers=_h(reader),
                             timeout=30)
        assert r.status_code == 403, (method, parts, r.status_code)


def test_cloud_admin_is_reseller_admin(ks, container):
    admin = ks.token("admin")
    r = requests.get(ks.url("tester", container, "o"), headers=_h(admin), timeout=30)
    assert r.status_code == 200 and r.content == b"hello"


def test_project_admin_owns_only_its_project(ks, container):
    """"admin" on an ordinary project is that project's owner, not a reseller admin."""
    name, password = ks.new_user("alt", "admin")
    token = ks.token(name, password, "alt")
    assert requests.get(ks.url("tester", container, "o"), headers=_h(token),
                        timeout=30).status_code == 403
    assert requests.put(ks.url("alt", f"pa-{uuid.uuid4().hex[:8]}"), headers=_h(token),
                        timeout=30).status_code == 201


def test_tampered_garbage_and_expired_tokens_get_401(ks, tester, container):
    from identity import keys as keyrepo
    from identity.tokens import TokenCodec
    from identity.validate import TokenValidator

    url = ks.url("tester", container, "o")
    middle = len(tester) // 2
    tampered = tester[:middle] + ("A" if tester[middle] != "A" else "B") + tester[middle + 1:]
    # An expired token sealed with the real keys: everything right but the clock.
    ctx = TokenValidator(ks.aio["data_dir"]).validate(tester)
    codec = TokenCodec(keyrepo.load(keyrepo.key_dir_for(ks.aio["data_dir"])))
    expired = codec.seal(ctx.__class__(**{**ctx.__dict__, "expires_at": time.time() - 1}))
    fresh = codec.seal(ctx)  # the same forge with a live expiry works: the 401 is the expiry
    assert requests.get(url, headers=_h(fresh), timeout=30).status_code == 200
    for bad in (tampered, expired, "gAAAAAnotatoken", "AUTH_tkforged.sig"):
        r = requests.get(url, headers=_h(bad), timeout=30)
        assert r.status_code == 401, (bad[:20], r.status_code)
        assert r.headers.get("Www-Authenticate")


def test_revoked_token_stops_within_a_second(ks, container):
    token = ks.token("tester")
    url = ks.url("tester", container, "o")
    assert requests.get(url, headers=_h(token), timeout=30).status_code == 200
    ks.revoke(token)
    start = time.monotonic()
    while requests.get(url, headers=_h(token), timeout=30).status_code != 401:
        assert time.monotonic() - start < 1.0, "revoked token still accepted after 1 s"
        time.sleep(0.02)


def test_config_user_tokens_still_work(ks):
    swift = ks.aio["swift"]
    r = requests.get(swift["auth_url"], headers={"X-Auth-User": swift["user"],
                                                 "X-Auth-Key": swift["key"]}, timeout=30)
    assert r.status_code == 200, r.text
    token = r.headers["X-Auth-Token"]
    r = requests.get(r.headers["X-Storage-Url"], headers=_h(token), timeout=30)
    assert r.status_code in (200, 204)
    # ... and a config user's token is no key to a Keystone project's account.
    assert requests.get(ks.url("tester"), headers=_h(token), timeout=30).status_code == 403


def test_volumes_of_another_project_are_forbidden(ks, tester, alt):
    endpoint = ks.aio["volume"]["endpoint"]
    own = requests.get(f"{endpoint}/{ks.project_id('alt')}/volumes", headers=_h(alt), timeout=30)
    assert own.status_code == 200, own.text
    other = requests.get(f"{endpoint}/{ks.project_id('tester')}/volumes", headers=_h(alt),
                         timeout=30)
    assert other.status_code == 403, other.text
    r = requests.post(f"{endpoint}/{ks.project_id('tester')}/volumes", headers=_h(alt),
                      json={"volume": {"size": 1, "name": "intruder"}}, timeout=30)
    assert r.status_code == 403, r.text
