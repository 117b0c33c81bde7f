"""Symlinks, object versioning and CORS through the real proxy and storage nodes."""

import pytest
import requests

pytestmark = pytest.mark.timeout(60)


def test_symlinks(swift, container):
    swift("PUT", f"/{container}/target", data=b"pointed at", headers={"X-Object-Meta-T": "1"})
    resp = swift("PUT", f"/{container}/link", data=b"",
                 headers={"X-Symlink-Target": f"{container}/target"})
    assert resp.status_code == 201
    got = swift("GET", f"/{container}/link")
    assert got.status_code == 200 and got.content == b"pointed at"
    assert got.headers["Content-Location"] == f"/v1/AUTH_test/{container}/target"
    ranged = swift("GET", f"/{container}/link", headers={"Range": "bytes=0-6"})
    assert ranged.status_code == 206 and ranged.content == b"pointed"
    itself = swift("GET", f"/{container}/link", params={"symlink": "get"})
    assert itself.content == b"" and itself.headers["X-Symlink-Target"] == f"{container}/target"
    assert swift("PUT", f"/{container}/bad", data=b"x",
                 headers={"X-Symlink-Target": f"{container}/target"}).status_code == 400
    assert swift("PUT", f"/{container}/bad", data=b"",
                 headers={"X-Symlink-Target": "noslash"}).status_code == 412
    swift("PUT", f"/{container}/l2", data=b"", headers={"X-Symlink-Target": f"{container}/link"})
    swift("PUT", f"/{container}/l3", data=b"", headers={"X-Symlink-Target": f"{container}/l2"})
    assert swift("GET", f"/{container}/l2").content == b"pointed at"       # two hops
    assert swift("GET", f"/{container}/l3").status_code == 409             # three: too many
    swift("PUT", f"/{container}/dangling", data=b"", headers={"X-Symlink-Target": f"{container}/none"})
    assert swift("GET", f"/{container}/dangling").status_code == 404
    etag = swift("HEAD", f"/{container}/target").headers["ETag"]
    assert swift("PUT", f"/{container}/static", data=b"", headers={
        "X-Symlink-Target": f"{container}/target", "X-Symlink-Target-Etag": etag}).status_code == 201
    assert swift("PUT", f"/{container}/static2", data=b"", headers={
        "X-Symlink-Target": f"{container}/target", "X-Symlink-Target-Etag": "0" * 32}).status_code == 409
    swift("PUT", f"/{container}/target", data=b"changed")
    assert swift("GET", f"/{container}/static").status_code == 409         # static: target moved on


@pytest.mark.parametrize("mode", ["X-Versions-Location", "X-History-Location"])
def test_versioning(swift, container, mode):
    archive = f"{container}-v"
    assert swift("PUT", f"/{archive}").status_code == 201
    assert swift("POST", f"/{container}", headers={mode: archive}).status_code == 204
    for body in (b"v1", b"v2", b"v3"):
        assert swift("PUT", f"/{container}/obj", data=body).status_code == 201
    assert swift("GET", f"/{container}/obj").content == b"v3"
    versions = swift("GET", f"/{archive}").text.split()
    assert len(versions) == 2 and all(v.startswith("003obj/") for v in versions)
    assert [swift("GET", f"/{archive}/{v}").content for v in versions] == [b"v1", b"v2"]
    assert swift("DELETE", f"/{container}/obj").status_code == 204
    if mode == "X-Versions-Location":   # stack: the previous version comes back
        assert swift("GET", f"/{container}/obj").content == b"v2"
        assert swift("DELETE", f"/{container}/obj").status_code == 204
        assert swift("GET", f"/{container}/obj").content == b"v1"
        assert swift("DELETE", f"/{container}/obj").status_code == 204
        assert swift("GET", f"/{container}/obj").status_code == 404
    else:                               # history: the deleted object is archived too
        assert swift("GET", f"/{container}/obj").status_code == 404
        rows = swift("GET", f"/{archive}", params={"format": "json"}).json()
        assert len(rows) == 4   # v1, v2, v3 and the delete marker
        assert rows[-1]["content_type"] == "application/x-deleted;swift_versions_deleted=1"
    both = swift("POST", f"/{container}", headers={"X-Versions-Location": archive,
                                                   "X-History-Location": archive})
    assert both.status_code == 400


def test_cors(cluster, swift, container):
    swift("PUT", f"/{container}/o", data=b"cors")
    url = f"{swift.url}/{container}/o"
    pre = requests.options(url, headers={"Origin": "http://site.example",
                                         "Access-Control-Request-Method": "GET"})
    assert pre.status_code == 401                       # no CORS configuration: refused
    swift("POST", f"/{container}", headers={
        "X-Container-Meta-Access-Control-Allow-Origin": "http://site.example",
        "X-Container-Meta-Access-Control-Max-Age": "60",
        "X-Container-Meta-Access-Control-Expose-Headers": "X-Object-Meta-Color"})
    pre = requests.options(url, headers={"Origin": "http://site.example",
                                         "Access-Control-Request-Method": "GET",
                                         "Access-Control-Request-Headers": "x-auth-token"})
    assert pre.status_code == 200
    assert pre.headers["Access-Control-Allow-Origin"] == "http://site.example"
    assert "GET" in pre.headers["Access-Control-Allow-Methods"]
    assert pre.headers["Access-Control-Max-Age"] == "60"
    assert "x-auth-token" in pre.headers["Access-Control-Allow-Headers"].lower()
    other = requests.options(url, headers={"Origin": "http://evil.example",
                                           "Access-Control-Request-Method": "GET"})
    assert other.status_code == 401
    got = swift("GET", f"/{container}/o", headers={"Origin": "http://site.example"})
    assert got.headers["Access-Control-Allow-Origin"] == "http://site.example"
    assert "x-object-meta-color" in got.headers["Access-Control-Expose-Headers"].lower()
    assert "etag" in got.headers["Access-Control-Expose-Headers"].lower()
    assert "Access-Control-Allow-Origin" not in swift(
        "GET", f"/{container}/o", headers={"Origin": "http://evil.example"}).headers


def test_versions_location_is_unquoted_and_slo_segments_may_be_links(swift, container):
    from urllib.parse import quote
    archive = f"{container}-\u2603-v"
    assert swift("PUT", f"/{quote(archive)}").status_code == 201
    swift("POST", f"/{container}", headers={"X-Versions-Location": quote(archive)})
    swift("PUT", f"/{container}/o", data=b"one")
    assert swift("PUT", f"/{container}/o", data=b"two").status_code == 201
    assert len(swift("GET", f"/{quote(archive)}").text.split()) == 1
    swift("PUT", f"/{container}/seg", data=b"s" * 5)
    swift("PUT", f"/{container}/seglink", data=b"",
          headers={"X-Symlink-Target": f"{container}/seg"})
    import json
    resp = swift("PUT", f"/{container}/m", params={"multipart-manifest": "put"},
                 data=json.dumps([{"path": f"/{container}/seglink", "size_bytes": 5}]))
    assert resp.status_code == 201, resp.text
    assert swift("GET", f"/{container}/m").content == b"s" * 5
