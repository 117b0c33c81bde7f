"""Links and copies across accounts, where account and container ACLs decide: a forbidden
link target still says where it points; a copied link can be re-pointed to another account."""
import uuid

import pytest

pytestmark = pytest.mark.timeout(120)


def test_forbidden_link_target_answers_403_with_its_location(users):
    owner, other = users["test:tester"], users["test2:tester2"]
    c = f"tgt-{uuid.uuid4().hex[:8]}"
    assert owner("PUT", "AUTH_test", f"/{c}").status_code == 201
    assert owner("PUT", "AUTH_test", f"/{c}/t", data=b"target").status_code == 201
    assert other("PUT", "AUTH_test2", f"/{c}").status_code == 201
    link = {"X-Symlink-Target": f"{c}/t", "X-Symlink-Target-Account": "AUTH_test"}
    assert other("PUT", "AUTH_test2", f"/{c}/l", headers=link).status_code == 201
    resp = other("GET", "AUTH_test2", f"/{c}/l")
    assert resp.status_code == 403
    assert resp.headers["Content-Location"] == f"/v1/AUTH_test/{c}/t"
    assert owner("POST", "AUTH_test", f"/{c}", headers={"X-Container-Read": "test2"}
                 ).status_code == 204
    resp = other("GET", "AUTH_test2", f"/{c}/l")
    assert resp.status_code == 200 and resp.content == b"target"


def test_copied_link_takes_the_requests_target_account(users):
    owner, other = users["test:tester"], users["test2:tester2"]
    c = f"rp-{uuid.uuid4().hex[:8]}"
    for user, account in ((owner, "AUTH_test"), (other, "AUTH_test2")):
        assert user("PUT", account, f"/{c}", headers={"X-Container-Read": "test,test2"}
                    ).status_code == 201
        assert user("PUT", account, f"/{c}/t", data=account.encode()).status_code == 201
    assert owner("PUT", "AUTH_test", f"/{c}/l", headers={"X-Symlink-Target": f"{c}/t"}
                 ).status_code == 201
    src = {"X-Copy-From-Account": "AUTH_test", "X-Copy-From": f"{c}/l"}
    # copied as itself, the link names no account: it points into AUTH_test2 now
    assert other("PUT", "AUTH_test2", f"/{c}/l2?symlink=get", headers=src).status_code == 201
    assert other("GET", "AUTH_test2", f"/{c}/l2").content == b"AUTH_test2"
    # the request's X-Symlink-Target-Account re-points it
    repoint = {**src, "X-Symlink-Target-Account": "AUTH_test"}
    assert other("PUT", "AUTH_test2", f"/{c}/l3?symlink=get", headers=repoint).status_code == 201
    resp = other("GET", "AUTH_test2", f"/{c}/l3")
    assert resp.content == b"AUTH_test"
    assert resp.headers["Content-Location"] == f"/v1/AUTH_test/{c}/t"
