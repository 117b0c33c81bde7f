"""Object versioning over plain HTTP against the all-in-one: the wire details Swift's
object_versioning answers (headers on errors, listing parameters, hidden containers)."""
import time
import uuid

import pytest
import requests

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def swift(aio):
    info = aio["swift"]
    login = requests.get(info["auth_url"], headers={"X-Auth-User": info["user"],
                                                    "X-Auth-Key": info["key"]}, timeout=30)
    url, token = login.headers["X-Storage-Url"], login.headers["X-Auth-Token"]
    session = requests.Session()

    def call(method, path="", headers=None, **kw):
        return session.request(method, f"{url}/{path}" if path else url, timeout=30,
                               headers={"X-Auth-Token": token, **(headers or {})}, **kw)
    return call


@pytest.fixture
def container(swift):
    name = f"vhttp-{uuid.uuid4().hex[:10]}"
    assert swift("PUT", name, {"X-Versions-Enabled": "true"}).status_code == 201
    yield name
    swift("POST", name, {"X-Versions-Enabled": "false"})
    for row in swift("GET", f"{name}?versions").json():
        if "name" in row:
            swift("DELETE", f"{name}/{row['name']}?version-id={row['version_id']}")
    swift("DELETE", name)


def test_put_delete_answers_name_the_version(swift, container):
    put = swift("PUT", f"{container}/o", data=b"abc")
    assert put.status_code == 201 and put.headers["X-Object-Version-Id"]
    gone = swift("DELETE", f"{container}/o")
    assert gone.status_code == 204 and gone.headers["X-Object-Version-Id"]
    again = swift("DELETE", f"{container}/o")  # a marker even when nothing is there
    assert again.status_code == 404 and again.headers["X-Object-Version-Id"]
    marker = swift("HEAD", f"{container}/o?version-id={gone.headers['X-Object-Version-Id']}")
    assert marker.status_code == 404
    assert marker.headers["Content-Type"] == "application/x-deleted;swift_versions_deleted=1"


def test_get_answers_content_location(swift, container):
    vid = swift("PUT", f"{container}/a b", data=b"x").headers["X-Object-Version-Id"]
    got = swift("GET", f"{container}/a b")
    assert got.headers["X-Object-Version-Id"] == vid
    assert got.headers["Content-Location"].endswith(f"/{container}/a%20b?version-id={vid}")
    link = swift("HEAD", f"{container}/a b?symlink=get")
    assert link.headers["X-Symlink-Target"] == f"{container}/a%20b?version-id={vid}"


def test_versions_listing_prefix_and_delimiter(swift, container):
    for name in ("d/1", "d/2", "e"):
        swift("PUT", f"{container}/{name}", data=b"x")
    rows = swift("GET", f"{container}?versions&delimiter=/").json()
    assert [r.get("subdir", r.get("name")) for r in rows] == ["d/", "e"]
    rows = swift("GET", f"{container}?versions&prefix=d/").json()
    assert [r["name"] for r in rows] == ["d/1", "d/2"]
    assert swift("GET", f"{container}?versions&delimiter=1").status_code == 400


def test_hidden_container_is_not_listed_but_counted(swift, container):
    swift("PUT", f"{container}/o", data=b"12345")
    deadline = time.monotonic() + 30  # containers report their totals to the account lazily
    while True:
        rows = swift("GET", "?format=json").json()
        assert not any(r["name"].startswith("\x00") for r in rows)
        (row,) = [r for r in rows if r["name"] == container]
        if row["bytes"] == 5 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert row["bytes"] == 5
    assert swift("HEAD", container).headers["X-Container-Bytes-Used"] == "5"


def test_client_cannot_name_the_reserved_namespace(swift, container):
    assert swift("GET", f"%00versions%00{container}").status_code == 412


def test_enabling_on_a_legacy_container_is_refused(swift):
    name = f"vhttp-{uuid.uuid4().hex[:10]}"
    swift("PUT", name, {"X-Versions-Location": "elsewhere"})
    try:
        assert swift("POST", name, {"X-Versions-Enabled": "true"}).status_code == 400
    finally:
        swift("DELETE", name)


def test_quota_bytes_count_the_versions(swift, container):
    # the versions are the container's data: the old version's 5 bytes still count
    assert swift("POST", container, {"X-Container-Meta-Quota-Bytes": "8"}).status_code == 204
    assert swift("PUT", f"{container}/o", data=b"12345").status_code == 201
    assert swift("PUT", f"{container}/o", data=b"67890").status_code == 413
    assert swift("PUT", f"{container}/o", data=b"678").status_code == 201


def test_xml_listings_show_the_versions_bytes(swift, container):
    # the non-JSON formats are rendered by objver from a JSON page of its own
    swift("PUT", f"{container}/o", data=b"12345")
    listed = swift("GET", f"{container}?format=xml").text
    assert "<name>o</name>" in listed and "<bytes>5</bytes>" in listed
    deadline = time.monotonic() + 30  # containers report their totals to the account lazily
    while True:
        listed = swift("GET", "?format=xml").text
        assert "\x00" not in listed and "versions" not in listed.replace(container, "")
        row = listed[listed.index(f"<name>{container}</name>"):]
        row = row[:row.index("</container>")]
        if "<bytes>5</bytes>" in row or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert "<bytes>5</bytes>" in row
