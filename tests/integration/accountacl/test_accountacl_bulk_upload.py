"""Bulk upload (extract-archive) and bulk delete on any path, as Swift's bulk middleware, with
the same authorization as single requests (owner, account ACL, container write ACL)."""
import io
import json
import tarfile
import uuid

import pytest
import requests

pytestmark = pytest.mark.timeout(120)


def archive(files: dict[str, bytes], mode: str = "w") -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=mode) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        directory = tarfile.TarInfo("emptydir")
        directory.type = tarfile.DIRTYPE
        tar.addfile(directory)  # not a file: skipped
    return out.getvalue()


def test_info_lists_bulk_upload(cluster):
    info = requests.get(cluster.base + "/info", timeout=10).json()
    assert info["bulk_upload"]["max_containers_per_extraction"] == 10000


@pytest.mark.parametrize("kind, mode", [("tar", "w"), ("tar.gz", "w:gz"), ("tar.bz2", "w:bz2")])
def test_extract_creates_containers_and_objects(users, kind, mode):
    owner = users["test:tester"]
    c1, c2 = (f"x{kind.replace('.', '')}-{uuid.uuid4().hex[:8]}" for _ in range(2))
    body = archive({f"{c1}/a.txt": b"alpha", f"./{c2}/dir/b.bin": b"beta" * 30000,
                    "toplevel.txt": b"skipped"}, mode)
    resp = owner("PUT", "AUTH_test", "", params={"extract-archive": kind}, data=body,
                 headers={"Accept": "application/json", "X-Object-Meta-Batch": "1"})
    assert resp.status_code == 200, resp.text
    summary = resp.json()
    assert summary["Number Files Created"] == 2 and summary["Errors"] == []
    assert summary["Response Status"] == "201 Created"
    got = owner("GET", "AUTH_test", f"/{c1}/a.txt")
    assert got.content == b"alpha" and got.headers["X-Object-Meta-Batch"] == "1"
    assert got.headers["Content-Type"].startswith("text/plain")
    assert owner("GET", "AUTH_test", f"/{c2}/dir/b.bin").content == b"beta" * 30000
    assert owner("GET", "AUTH_test", "/toplevel.txt").status_code in (400, 404, 412)


def test_extract_under_a_container_and_prefix_with_xml_answer(users):
    owner = users["test:tester"]
    c = f"xp-{uuid.uuid4().hex[:8]}"
    resp = owner("PUT", "AUTH_test", f"/{c}/pre", params={"extract-archive": "tar"},
                 data=archive({"one": b"1", "sub/two": b"2"}),
                 headers={"Accept": "application/xml"})
    assert resp.status_code == 200
    assert "<number_files_created>2</number_files_created>" in resp.text
    assert resp.text.startswith("<extract>")
    listing = owner("GET", "AUTH_test", f"/{c}").text.split()
    assert listing == ["pre/one", "pre/sub/two"]


def test_extract_errors_are_reported_in_the_summary(users):
    owner, reader = users["test:tester"], users["test:tester3"]
    assert owner("PUT", "AUTH_test", "", params={"extract-archive": "zip"},
                 data=b"x").status_code == 400
    resp = owner("PUT", "AUTH_test", "", params={"extract-archive": "tar"}, data=b"not a tar" * 100)
    assert resp.status_code == 200 and "Response Status: 400 Bad Request" in resp.text
    assert "Invalid Tar File" in resp.text
    # a user without write access: every file fails with 403, nothing is created
    c = f"xf-{uuid.uuid4().hex[:8]}"
    resp = reader("PUT", "AUTH_test", "", params={"extract-archive": "tar"},
                  data=archive({f"{c}/o": b"no"}), headers={"Accept": "application/json"})
    summary = resp.json()
    assert summary["Number Files Created"] == 0
    assert [c2 for _, c2 in summary["Errors"]] == ["403 Forbidden", "403 Forbidden"]
    assert owner("HEAD", "AUTH_test", f"/{c}").status_code == 404
    anonymous = requests.put(f"{owner.cluster.base}/v1/AUTH_test?extract-archive=tar",
                             data=archive({f"{c}/o": b"no"}), timeout=30)
    assert anonymous.status_code == 401


def test_extract_by_a_read_write_account_acl_user(users):
    owner, other = users["test:tester"], users["test2:tester2"]
    c = f"xa-{uuid.uuid4().hex[:8]}"
    assert owner("POST", "AUTH_test", headers={
        "X-Account-Access-Control": json.dumps({"read-write": ["test2:tester2"]})}).status_code == 204
    try:
        resp = other("PUT", "AUTH_test", "", params={"extract-archive": "tar"},
                     data=archive({f"{c}/o": b"by acl"}), headers={"Accept": "application/json"})
        assert resp.json()["Number Files Created"] == 1
    finally:
        owner("POST", "AUTH_test", headers={"X-Account-Access-Control": "{}"})
    assert owner("GET", "AUTH_test", f"/{c}/o").content == b"by acl"


def test_bulk_delete_on_an_object_path_with_delete(users):
    owner = users["test:tester"]
    c = f"bd-{uuid.uuid4().hex[:8]}"
    assert owner("PUT", "AUTH_test", f"/{c}").status_code == 201
    assert owner("PUT", "AUTH_test", f"/{c}/o", data=b"x").status_code == 201
    resp = owner("DELETE", "AUTH_test", f"/{c}/o", params={"bulk-delete": ""},
                 data=f"{c}/o\n{c}/missing".encode(),
                 headers={"Accept": "application/xml", "Content-Type": "text/plain"})
    assert resp.status_code == 200 and "<number_deleted>1</number_deleted>" in resp.text
    assert "<number_not_found>1</number_not_found>" in resp.text
    assert owner("HEAD", "AUTH_test", f"/{c}/o").status_code == 404
