"""Legacy versioned_writes through the real proxy: what gets archived is the object as stored
(manifests stay manifests, links stay links), delete markers, switching modes."""
import json
import uuid

import pytest

pytestmark = pytest.mark.timeout(90)
MARKER = "application/x-deleted;swift_versions_deleted=1"


@pytest.fixture
def versioned(swift):
    c = f"vw-{uuid.uuid4().hex[:10]}"
    archive = c + "-v"
    assert swift("PUT", f"/{archive}").status_code == 201
    assert swift("PUT", f"/{c}", headers={"X-Versions-Location": archive}).status_code == 201
    return c, archive


def rows(swift, archive):
    return swift("GET", f"/{archive}", params={"format": "json"}).json()


def test_dlo_manifest_is_archived_as_a_manifest(swift, versioned):
    c, archive = versioned
    for i in "123":
        swift("PUT", f"/{c}/seg/{i}", data=i.encode())
    swift("PUT", f"/{c}/m", data=b"old")
    swift("PUT", f"/{c}/m", data=b"", headers={"X-Object-Manifest": f"{c}/seg/"})
    assert swift("GET", f"/{c}/m").content == b"123"
    swift("PUT", f"/{c}/m", data=b"new")
    newest = [r["name"] for r in rows(swift, archive) if r["name"].startswith("001m/")][-1]
    got = swift("GET", f"/{archive}/{newest}")
    assert got.content == b"123" and "X-Object-Manifest" in got.headers
    assert swift("DELETE", f"/{c}/m").status_code == 204       # stack: the manifest comes back
    back = swift("GET", f"/{c}/m")
    assert back.content == b"123" and "X-Object-Manifest" in back.headers


def test_slo_manifest_is_archived_as_a_manifest(swift, versioned):
    c, archive = versioned
    swift("PUT", f"/{c}-seg")
    for letter in "ab":
        swift("PUT", f"/{c}-seg/{letter}", data=letter.encode() * 10)
    for letter in "ab":
        resp = swift("PUT", f"/{c}/slo", params={"multipart-manifest": "put"},
                     data=json.dumps([{"path": f"/{c}-seg/{letter}"}]))
        assert resp.status_code == 201
    listed = rows(swift, archive)
    assert len(listed) == 1 and listed[0]["bytes"] == 10       # the whole object's size
    kept = swift("GET", f"/{archive}/{listed[0]['name']}", params={"multipart-manifest": "get"})
    assert "X-Static-Large-Object" in kept.headers
    assert json.loads(kept.content)[0]["name"] == f"/{c}-seg/a"
    assert swift("DELETE", f"/{c}/slo").status_code == 204
    assert swift("GET", f"/{c}/slo").content == b"a" * 10


def test_symlink_is_archived_as_a_link(swift, versioned):
    c, archive = versioned
    swift("PUT", f"/{c}/target", data=b"pointed at")
    swift("PUT", f"/{c}/link", data=b"", headers={"X-Symlink-Target": f"{c}/target"})
    swift("PUT", f"/{c}/link", data=b"plain now")
    (row,) = rows(swift, archive)
    assert row["content_type"] == "application/symlink"
    kept = swift("HEAD", f"/{archive}/{row['name']}", params={"symlink": "get"})
    assert kept.headers["X-Symlink-Target"] == f"{c}/target"


def test_history_mode_delete_markers_and_switching_to_stack(swift, versioned):
    c, archive = versioned
    assert swift("POST", f"/{c}", headers={"X-History-Location": archive}).status_code == 204
    swift("PUT", f"/{c}/o", data=b"version1")
    swift("PUT", f"/{c}/o", data=b"version2")
    assert swift("DELETE", f"/{c}/o").status_code == 204
    assert swift("GET", f"/{c}/o").status_code == 404
    listed = rows(swift, archive)
    assert [r["content_type"] == MARKER for r in listed] == [False, False, True]
    assert swift("DELETE", f"/{c}/o").status_code == 404       # nothing left: one more marker
    assert len(rows(swift, archive)) == 4
    # Stack mode now (setting X-Versions-Location drops the history mode): a DELETE pops the
    # markers on top and brings version2 back.
    assert swift("POST", f"/{c}", headers={"X-Versions-Location": archive}).status_code == 204
    assert "X-History-Location" not in swift("HEAD", f"/{c}").headers
    assert swift("DELETE", f"/{c}/o").status_code == 204
    assert swift("DELETE", f"/{c}/o").status_code == 204
    assert swift("GET", f"/{c}/o").content == b"version2"
    assert [r["content_type"] for r in rows(swift, archive)] == [
        "application/octet-stream"]


def test_archive_entry_is_named_by_the_replaced_objects_timestamp(swift, versioned):
    c, archive = versioned
    swift("PUT", f"/{c}/o", data=b"first")
    stamp = swift("HEAD", f"/{c}/o").headers["X-Timestamp"]
    swift("PUT", f"/{c}/o", data=b"second")
    assert [r["name"] for r in rows(swift, archive)] == [f"001o/{stamp}"]
    assert swift("GET", f"/{archive}/001o/{stamp}").content == b"first"
