"""Static symlinks (X-Symlink-Target-Etag) as Swift's symlink middleware checks them, through the
real proxy: chains of static links, links to SLO manifests, broken links, links inside SLOs."""
import json

import pytest

pytestmark = pytest.mark.timeout(90)
EMPTY = "d41d8cd98f00b204e9800998ecf8427e"


def static(swift, c, name, target, etag):
    return swift("PUT", f"/{c}/{name}", data=b"", headers={
        "X-Symlink-Target": f"{c}/{target}", "X-Symlink-Target-Etag": etag})


def test_chain_of_static_links(swift, container):
    c = container
    etag = swift("PUT", f"/{c}/t", data=b"target").headers["ETag"].strip('"')
    assert static(swift, c, "l1", "t", etag).status_code == 201
    assert static(swift, c, "l2", "l1", etag).status_code == 201      # validated through l1
    assert static(swift, c, "bad", "l2", "0" * 32).status_code == 409
    assert static(swift, c, "l3", "l2", etag).status_code == 201      # two links on the way
    assert swift("GET", f"/{c}/l2").content == b"target"
    too_far = swift("HEAD", f"/{c}/l3")
    assert too_far.status_code == 409 and too_far.content == b""
    # a dynamic link is not followed when validating: its own ETag is that of b""
    swift("PUT", f"/{c}/dyn", data=b"", headers={"X-Symlink-Target": f"{c}/t"})
    assert static(swift, c, "via-dyn", "dyn", EMPTY).status_code == 201
    assert swift("GET", f"/{c}/via-dyn").content == b"target"


def test_broken_static_link(swift, container):
    c = container
    etag = swift("PUT", f"/{c}/t", data=b"target").headers["ETag"].strip('"')
    static(swift, c, "l", "t", etag)
    swift("PUT", f"/{c}/t", data=b"changed")
    for headers in ({}, {"If-Match": etag}, {"If-Match": "not-the-etag"}):
        got = swift("GET", f"/{c}/l", headers=headers)
        assert got.status_code == 409, headers                  # not an If-Match matter
        assert got.headers["Content-Location"] == f"/v1/AUTH_test/{c}/t"
    post = swift("POST", f"/{c}/l", headers={"X-Object-Meta-A": "b"}, allow_redirects=False)
    assert post.status_code == 307 and post.headers["X-Symlink-Target-Etag"] == etag
    swift("DELETE", f"/{c}/t")
    assert swift("GET", f"/{c}/l").status_code == 404           # not-found trumps the ETag


def test_static_link_to_an_slo_manifest(swift, container):
    c = container
    swift("PUT", f"/{c}/seg", data=b"s" * 6)
    swift("PUT", f"/{c}/m", params={"multipart-manifest": "put"},
          data=json.dumps([{"path": f"/{c}/seg"}]))
    manifest = swift("HEAD", f"/{c}/m", params={"multipart-manifest": "get"})
    manifest_etag = manifest.headers["ETag"].strip('"')
    slo_etag = swift("HEAD", f"/{c}/m").headers["ETag"]
    assert static(swift, c, "l", "m", slo_etag.strip('"')).status_code == 409
    assert static(swift, c, "l", "m", manifest_etag).status_code == 201
    assert swift("GET", f"/{c}/l").content == b"s" * 6
    rows = swift("GET", f"/{c}", params={"format": "json", "prefix": "l"}).json()
    assert rows[0]["symlink_etag"] == manifest_etag and rows[0]["symlink_bytes"] == 6
    assert rows[0]["slo_etag"] == slo_etag


def test_slo_segments_may_be_links_to_manifests(swift, container):
    c = container
    swift("PUT", f"/{c}/t", data=b"abc")
    swift("PUT", f"/{c}/m1", params={"multipart-manifest": "put"},
          data=json.dumps([{"path": f"/{c}/t"}]))
    swift("PUT", f"/{c}/l1", data=b"", headers={"X-Symlink-Target": f"{c}/m1"})
    resp = swift("PUT", f"/{c}/m2", params={"multipart-manifest": "put"},
                 data=json.dumps([{"path": f"/{c}/l1"}]))
    assert resp.status_code == 201
    assert swift("GET", f"/{c}/m2").content == b"abc"


def test_link_copied_as_itself_takes_the_requests_target_account(swift, container):
    c = container
    swift("PUT", f"/{c}/t", data=b"target")
    swift("PUT", f"/{c}/l", data=b"", headers={"X-Symlink-Target": f"{c}/t"})
    resp = swift("COPY", f"/{c}/l", params={"symlink": "get"}, headers={
        "Destination": f"{c}/l2", "X-Symlink-Target-Account": "AUTH_elsewhere"})
    assert resp.status_code == 201, resp.text
    copied = swift("HEAD", f"/{c}/l2", params={"symlink": "get"})
    assert copied.headers["X-Symlink-Target"] == f"{c}/t"
    assert copied.headers["X-Symlink-Target-Account"] == "AUTH_elsewhere"
    # without the header the copy keeps pointing where the source does (this account)
    swift("COPY", f"/{c}/l", params={"symlink": "get"}, headers={"Destination": f"{c}/l3"})
    kept = swift("HEAD", f"/{c}/l3", params={"symlink": "get"})
    assert "X-Symlink-Target-Account" not in kept.headers
