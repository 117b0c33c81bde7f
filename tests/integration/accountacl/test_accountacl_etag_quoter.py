"""Quoted ETags (Swift's etag_quoter): the account's flag, the container's overriding it."""
import hashlib
import uuid

import pytest
import requests

pytestmark = pytest.mark.timeout(120)


def test_container_flag_overrides_account_flag(cluster, users):
    owner = users["test:tester"]
    c = f"eq-{uuid.uuid4().hex[:8]}"
    bare = hashlib.md5(b"test").hexdigest()
    assert requests.get(cluster.base + "/info", timeout=10).json()["etag_quoter"] == {
        "enable_by_default": False}
    assert owner("PUT", "AUTH_test", f"/{c}").status_code == 201
    assert owner("PUT", "AUTH_test", f"/{c}/o", data=b"test").status_code == 201

    def etag(method="HEAD"):
        resp = owner(method, "AUTH_test", f"/{c}/o")
        assert resp.status_code == 200
        return resp.headers["ETag"]

    assert etag() == bare
    assert owner("POST", "AUTH_test", f"/{c}", headers={"X-Container-Rfc-Compliant-Etags": "t"}
                 ).status_code == 204
    assert etag() == etag("GET") == f'"{bare}"'
    assert owner("HEAD", "AUTH_test", f"/{c}").headers["X-Container-Rfc-Compliant-Etags"] == "True"
    try:
        assert owner("POST", "AUTH_test", headers={"X-Account-Rfc-Compliant-Etags": "yes"}
                     ).status_code == 204
        assert owner("POST", "AUTH_test", f"/{c}", headers={"X-Container-Rfc-Compliant-Etags": ""}
                     ).status_code == 204
        assert etag() == f'"{bare}"'  # from the account
        assert owner("POST", "AUTH_test", f"/{c}", headers={"X-Container-Rfc-Compliant-Etags": "f"}
                     ).status_code == 204
        assert etag() == bare  # the container's "false" wins
    finally:
        owner("POST", "AUTH_test", headers={"X-Account-Rfc-Compliant-Etags": ""})
    assert "X-Account-Rfc-Compliant-Etags" not in owner("HEAD", "AUTH_test").headers
