"""Swift functional-suite fixes (issue 3): content types kept on POST and symlinks, SLO copy sizes."""

import pytest

pytestmark = pytest.mark.timeout(60)


def test_post_without_content_type_keeps_stored_type(swift, container):
    swift("PUT", f"/{container}/o", data=b"body", headers={"Content-Type": "text/x-foo"})
    resp = swift("POST", f"/{container}/o", headers={"X-Object-Meta-Color": "blue"})
    assert resp.status_code == 202
    head = swift("HEAD", f"/{container}/o")
    assert head.headers["Content-Type"] == "text/x-foo"
    assert head.headers["X-Object-Meta-Color"] == "blue"


def _listing_row(swift, container, name):
    rows = swift("GET", f"/{container}", params={"format": "json"}).json()
    return next(r for r in rows if r["name"] == name)


def test_copy_of_slo_manifest_lists_total_size(swift, container):
    import json
    swift("PUT", f"/{container}/s1", data=b"a" * 7)
    swift("PUT", f"/{container}/s2", data=b"b" * 5)
    manifest = json.dumps([{"path": f"/{container}/s1"}, {"path": f"/{container}/s2"}])
    assert swift("PUT", f"/{container}/m", params={"multipart-manifest": "put"},
                 data=manifest).status_code == 201
    assert _listing_row(swift, container, "m")["bytes"] == 12
    resp = swift("COPY", f"/{container}/m", params={"multipart-manifest": "get"},
                 headers={"Destination": f"{container}/copied"})
    assert resp.status_code == 201, resp.text
    resp = swift("PUT", f"/{container}/copied2", params={"multipart-manifest": "get"}, data=b"",
                 headers={"X-Copy-From": f"{container}/m"})
    assert resp.status_code == 201, resp.text
    for name in ("copied", "copied2"):
        assert _listing_row(swift, container, name)["bytes"] == 12
        assert swift("GET", f"/{container}/{name}").content == b"a" * 7 + b"b" * 5
        raw = swift("GET", f"/{container}/{name}", params={"multipart-manifest": "get"})
        assert len(json.loads(raw.content)) == 2


def test_static_symlink_without_content_type_takes_target_type(swift, container):
    swift("PUT", f"/{container}/t", data=b"target", headers={"Content-Type": "text/x-target"})
    etag = swift("HEAD", f"/{container}/t").headers["ETag"]
    assert swift("PUT", f"/{container}/static", data=b"", headers={
        "X-Symlink-Target": f"{container}/t", "X-Symlink-Target-Etag": etag}).status_code == 201
    itself = swift("HEAD", f"/{container}/static", params={"symlink": "get"})
    assert itself.headers["Content-Type"] == "text/x-target"
    assert _listing_row(swift, container, "static")["content_type"] == "text/x-target"
    # an explicit type wins; a dynamic link keeps application/symlink
    swift("PUT", f"/{container}/typed", data=b"", headers={
        "X-Symlink-Target": f"{container}/t", "X-Symlink-Target-Etag": etag,
        "Content-Type": "text/x-mine"})
    assert swift("HEAD", f"/{container}/typed",
                 params={"symlink": "get"}).headers["Content-Type"] == "text/x-mine"
    swift("PUT", f"/{container}/dyn", data=b"", headers={"X-Symlink-Target": f"{container}/t"})
    assert swift("HEAD", f"/{container}/dyn",
                 params={"symlink": "get"}).headers["Content-Type"] == "application/symlink"
