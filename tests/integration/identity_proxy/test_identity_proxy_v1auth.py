"""Swift's /auth/v1.0 on the proxy is backed by identity's users as well as the config users."""
import requests


def test_identity_user_logs_in_through_the_proxy_v1_auth(ks):
    name, password = ks.new_user("alt", "member")
    r = requests.get(f"{ks.proxy}/auth/v1.0", timeout=60,
                     headers={"X-Auth-User": f"alt:{name}", "X-Auth-Key": password})
    assert r.status_code == 200, r.text
    storage_url, token = r.headers["X-Storage-Url"], r.headers["X-Auth-Token"]
    assert storage_url.endswith(f"/v1/AUTH_{ks.project_id('alt')}")
    assert int(r.headers["X-Auth-Token-Expires"]) > 0
    assert requests.put(f"{storage_url}/v1auth-c", headers={"X-Auth-Token": token},
                        timeout=30).status_code in (201, 202)
    assert requests.put(f"{storage_url}/v1auth-c/o", data=b"hi", headers={"X-Auth-Token": token},
                        timeout=30).status_code == 201
    # the same token reaches nothing of another project
    other = ks.url("tester", "v1auth-c")
    assert requests.get(other, headers={"X-Auth-Token": token}, timeout=30).status_code == 403


def test_wrong_identity_password_is_refused(ks):
    name, _ = ks.new_user("alt", "member")
    r = requests.get(f"{ks.proxy}/auth/v1.0", timeout=60,
                     headers={"X-Auth-User": f"alt:{name}", "X-Auth-Key": "wrong"})
    assert r.status_code == 401
    r = requests.get(f"{ks.proxy}/auth/v1.0", timeout=60,
                     headers={"X-Auth-User": f"nosuchproject:{name}", "X-Auth-Key": "x"})
    assert r.status_code == 401


def test_config_users_still_get_their_account(ks):
    swift = ks.aio["swift"]
    r = requests.get(swift["auth_url"], timeout=30,
                     headers={"X-Auth-User": swift["user"], "X-Auth-Key": swift["key"]})
    assert r.status_code == 200 and r.headers["X-Storage-Url"] == swift["storage_url"]
    assert r.headers["X-Auth-Token"].startswith("AUTH_tk")
