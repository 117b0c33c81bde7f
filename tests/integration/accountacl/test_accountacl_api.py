"""Account ACLs and service tokens end to end: real storage nodes and proxy on loopback, driven
with requests and python-swiftclient as the users of Swift's functional suite."""
import json
import time
import uuid

import pytest
import requests
import swiftclient

from proxy import tempurl

pytestmark = pytest.mark.timeout(120)

OWNER, READER, OTHER, SERVICE = "test:tester", "test:tester3", "test2:tester2", "test5:tester5"


def set_acl(users, acl, account="AUTH_test", who=OWNER):
    return users[who]("POST", account, headers={"X-Account-Access-Control": json.dumps(acl)})


@pytest.fixture
def clean_acl(users):
    yield
    assert set_acl(users, {}).status_code == 204


def test_info_says_account_acls(cluster):
    assert requests.get(cluster.base + "/info", timeout=10).json()["tempauth"] == {
        "account_acls": True}


@pytest.mark.parametrize("value, status", [
    ("invalid", 400), ('{"admin": ["x"], "bogus": []}', 400), ('{"admin": "x"}', 400),
    ('{"read-only": [3]}', 400), (json.dumps({"admin": ["a" * 8200]}), 400)])
def test_invalid_acls_are_400(users, value, status):
    resp = users[OWNER]("POST", "AUTH_test", headers={"X-Account-Access-Control": value})
    assert resp.status_code == status
    assert "X-Account-Access-Control" not in resp.headers


def test_only_owners_set_acls(users, clean_acl):
    assert set_acl(users, {"admin": [READER]}, who=READER).status_code == 403
    assert set_acl(users, {"admin": [OTHER]}, who=OTHER).status_code == 403
    assert users[OWNER]("HEAD", "AUTH_test").headers.get("X-Account-Access-Control") is None


def test_read_only(users, clean_acl):
    owner, reader = users[OWNER], users[READER]
    c = f"ro-{uuid.uuid4().hex[:8]}"
    assert owner("PUT", "AUTH_test", f"/{c}").status_code == 201
    assert owner("PUT", "AUTH_test", f"/{c}/o", data=b"data").status_code == 201
    assert owner("POST", "AUTH_test", headers={"X-Account-Meta-Color": "red",
                                                "X-Account-Meta-Temp-Url-Key": "s3cret"}
                 ).status_code == 204
    assert reader("GET", "AUTH_test").status_code == 403
    assert set_acl(users, {"read-only": [READER]}).status_code == 204
    head = reader("HEAD", "AUTH_test")
    assert head.status_code == 204 and head.headers["X-Account-Meta-Color"] == "red"
    assert "X-Account-Access-Control" not in head.headers
    assert "X-Account-Meta-Temp-Url-Key" not in head.headers
    assert reader("GET", "AUTH_test", f"/{c}/o").content == b"data"
    assert c in reader("GET", "AUTH_test").text.split()
    assert reader("PUT", "AUTH_test", f"/{c}/o2", data=b"x").status_code == 403
    assert reader("DELETE", "AUTH_test", f"/{c}/o").status_code == 403
    assert reader("PUT", "AUTH_test", "/newc").status_code == 403
    assert reader("POST", "AUTH_test", headers={"X-Account-Meta-X": "y"}).status_code == 403
    # a grant on AUTH_test opens nothing in AUTH_test2
    assert reader("GET", "AUTH_test2").status_code == 403


def test_read_write(users, clean_acl):
    owner, rw = users[OWNER], users[OTHER]  # another account's user, named by the ACL
    c = f"rw-{uuid.uuid4().hex[:8]}"
    assert rw("PUT", "AUTH_test", f"/{c}").status_code == 403
    assert set_acl(users, {"read-write": [OTHER]}).status_code == 204
    assert rw("HEAD", "AUTH_test").status_code == 204
    assert rw("PUT", "AUTH_test", f"/{c}").status_code == 201
    assert rw("PUT", "AUTH_test", f"/{c}/o", data=b"hello").status_code == 201
    assert owner("GET", "AUTH_test", f"/{c}/o").content == b"hello"
    # container writes, but not the owner's headers (silently dropped, as Swift does)
    assert rw("POST", "AUTH_test", f"/{c}", headers={"X-Container-Read": ".r:*",
                                                      "X-Container-Meta-Tag": "t"}
              ).status_code == 204
    head = owner("HEAD", "AUTH_test", f"/{c}")
    assert head.headers["X-Container-Meta-Tag"] == "t" and "X-Container-Read" not in head.headers
    assert rw("POST", "AUTH_test", headers={"X-Account-Meta-X": "y"}).status_code == 403
    assert rw("DELETE", "AUTH_test", f"/{c}/o").status_code == 204
    assert rw("DELETE", "AUTH_test", f"/{c}").status_code == 204


def test_admin_with_swiftclient(cluster, users, clean_acl):
    url, token = cluster.login(READER, "testing3")
    test_url = url  # tester3's storage URL is AUTH_test itself
    with pytest.raises(swiftclient.ClientException) as err:
        swiftclient.head_account(test_url, token)
    assert err.value.http_status == 403
    acl = json.dumps({"admin": [READER]}, separators=(",", ":"))
    assert set_acl(users, {"admin": [READER]}).status_code == 204
    headers = swiftclient.head_account(test_url, token)
    assert headers["x-account-access-control"] == acl
    swiftclient.post_account(test_url, token, {"X-Account-Meta-Admin": "yes",
                                               "X-Account-Meta-Temp-Url-Key": "k2"})
    headers = swiftclient.head_account(test_url, token)
    assert headers["x-account-meta-admin"] == "yes"
    assert headers["x-account-meta-temp-url-key"] == "k2"
    c = f"adm-{uuid.uuid4().hex[:8]}"
    swiftclient.put_container(test_url, token, c, headers={"X-Container-Read": "test2"})
    assert users[OWNER]("HEAD", "AUTH_test", f"/{c}").headers["X-Container-Read"] == "test2"
    # an admin may even revoke its own access
    swiftclient.post_account(test_url, token, {"X-Account-Access-Control": "{}"})
    with pytest.raises(swiftclient.ClientException) as err:
        swiftclient.head_account(test_url, token)
    assert err.value.http_status == 403


def test_service_account_needs_user_and_service_tokens(cluster, users):
    user_token = users[OWNER].token
    service_token = users[SERVICE].token

    def call(method, path="", **headers):
        return requests.request(method, f"{cluster.base}/v1/SERVICE_test{path}",
                                headers=headers, timeout=30)

    assert call("POST", **{"X-Auth-Token": user_token}).status_code == 403
    assert call("HEAD", **{"X-Auth-Token": service_token}).status_code == 403
    assert call("HEAD", **{"X-Auth-Token": service_token,
                           "X-Service-Token": service_token}).status_code == 403
    both = {"X-Auth-Token": user_token, "X-Service-Token": service_token}
    assert call("POST", **both).status_code == 204
    assert call("PUT", "/c", **both).status_code == 201
    assert requests.put(f"{cluster.base}/v1/SERVICE_test/c/o", data=b"svc",
                        headers=both, timeout=30).status_code == 201
    assert call("GET", "/c/o", **both).content == b"svc"
    assert call("GET", "/c/o", **{"X-Auth-Token": user_token}).status_code == 403
    assert call("PUT", **both).status_code // 100 == 4  # accounts are not created by users
    # a TempURL of the service account stands for its owner, service group included
    assert call("POST", **both, **{"X-Account-Meta-Temp-Url-Key": "svc-key"}).status_code == 204
    expires = int(time.time()) + 60
    sig = tempurl.sign("svc-key", "GET", expires, "/v1/SERVICE_test/c/o")
    signed = requests.get(f"{cluster.base}/v1/SERVICE_test/c/o", timeout=30,
                          params={"temp_url_sig": sig, "temp_url_expires": expires})
    assert signed.status_code == 200 and signed.content == b"svc"
    assert call("DELETE", "/c/o", **both).status_code == 204
    assert call("DELETE", "/c", **both).status_code == 204
    # the user's own account needs no service token
    assert users[OWNER]("HEAD", "AUTH_test").status_code == 204


def test_copy_across_accounts_uses_the_destination_accounts_acl(users, clean_acl):
    owner, other = users[OWNER], users[OTHER]
    c = f"cp-{uuid.uuid4().hex[:8]}"
    assert other("PUT", "AUTH_test2", f"/{c}").status_code == 201
    assert other("PUT", "AUTH_test2", f"/{c}/src", data=b"copied").status_code == 201
    assert owner("PUT", "AUTH_test", f"/{c}").status_code == 201
    copy = {"Destination-Account": "AUTH_test", "Destination": f"{c}/dst"}
    # test2:tester2 may not write into AUTH_test ...
    assert other("COPY", "AUTH_test2", f"/{c}/src", headers=copy).status_code == 403
    # ... unless AUTH_test's account ACL says so
    assert set_acl(users, {"read-write": [OTHER]}).status_code == 204
    assert other("COPY", "AUTH_test2", f"/{c}/src", headers=copy).status_code == 201
    assert owner("GET", "AUTH_test", f"/{c}/dst").content == b"copied"
    # and a read-only grant lets it copy from AUTH_test into its own account
    assert set_acl(users, {"read-only": [OTHER]}).status_code == 204
    back = {"X-Copy-From-Account": "AUTH_test", "X-Copy-From": f"{c}/dst"}
    assert other("PUT", "AUTH_test2", f"/{c}/back", headers=back).status_code == 201
    assert other("COPY", "AUTH_test2", f"/{c}/src", headers=copy).status_code == 403


def test_copy_of_a_missing_source_is_404_before_the_destination_is_checked(users):
    other = users[OTHER]
    c = f"miss-{uuid.uuid4().hex[:8]}"
    assert other("PUT", "AUTH_test2", f"/{c}").status_code == 201
    assert other("PUT", "AUTH_test2", f"/{c}/there", data=b"x").status_code == 201
    copy = {"Destination-Account": "AUTH_test", "Destination": "nowhere/x"}
    assert other("COPY", "AUTH_test2", f"/{c}/missing", headers=copy).status_code == 404
    assert other("COPY", "AUTH_test2", "/nocontainer/missing", headers=copy).status_code == 404
    assert other("COPY", "AUTH_test2", f"/{c}/there", headers=copy).status_code == 403


@pytest.mark.parametrize("fmt, ctype", [("json", "application/json"), ("xml", "application/xml"),
                                        ("plain", "text/plain")])
def test_head_of_a_never_written_account_is_204_in_every_format(users, fmt, ctype):
    account = f"AUTH_fresh{uuid.uuid4().hex[:8]}"
    resp = users["admin:admin"]("HEAD", account, params={"format": fmt})
    assert resp.status_code == 204 and resp.headers["Content-Type"].startswith(ctype)
    assert users["admin:admin"]("GET", account, params={"format": fmt}).status_code == \
        (204 if fmt == "plain" else 200)


def test_a_read_only_user_sees_no_owner_headers(users, clean_acl):
    # Swift's swift_owner_headers, X-Container-Sync-To included, are hidden from ACL readers.
    owner, reader = users[OWNER], users[READER]
    c = f"oh-{uuid.uuid4().hex[:8]}"
    owner_only = {"X-Container-Read": "test2", "X-Container-Sync-To": "http://127.0.0.1/v1/a/c"}
    assert owner("PUT", "AUTH_test", f"/{c}", headers=owner_only).status_code == 201
    assert set_acl(users, {"read-only": [READER]}).status_code == 204
    seen = owner("HEAD", "AUTH_test", f"/{c}").headers
    assert all(seen.get(name) == value for name, value in owner_only.items()), seen
    head = reader("HEAD", "AUTH_test", f"/{c}")
    assert head.status_code == 204
    assert not [name for name in owner_only if name in head.headers], head.headers
    assert owner("DELETE", "AUTH_test", f"/{c}").status_code == 204
