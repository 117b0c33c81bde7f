"""Object versioning (X-Versions-Enabled) driven by python-swiftclient, as Swift 2.38 behaves."""
import hashlib

import pytest
import swiftclient

pytestmark = pytest.mark.timeout(120)


def put(conn, container, name, data, **kw):
    answer = {}
    conn.put_object(container, name, data, response_dict=answer, **kw)
    return answer["headers"]["x-object-version-id"]


def versions(conn, container, **kw):
    return conn.get_container(container, query_string="versions", **kw)[1]


def test_info_publishes_object_versioning(conn):
    assert "object_versioning" in conn.get_capabilities()


def test_enable_disable_and_headers(conn, versioned):
    assert conn.head_container(versioned)["x-versions-enabled"] == "True"
    conn.post_container(versioned, {"X-Versions-Enabled": "false"})
    assert conn.head_container(versioned)["x-versions-enabled"] == "False"


def test_every_write_is_a_version(conn, versioned):
    v1 = put(conn, versioned, "o", b"one", content_type="text/one")
    v2 = put(conn, versioned, "o", b"two!", content_type="text/two")
    assert v1 != v2 and float(v2) > float(v1)
    headers, body = conn.get_object(versioned, "o")
    assert body == b"two!" and headers["x-object-version-id"] == v2
    headers, body = conn.get_object(versioned, "o", query_string=f"version-id={v1}")
    assert body == b"one" and headers["content-type"] == "text/one"
    rows = versions(conn, versioned)
    assert [(r["version_id"], r["is_latest"], r["bytes"]) for r in rows] == [
        (v2, True, 4), (v1, False, 3)]
    # a plain listing shows the current version's size and ETag
    (row,) = conn.get_container(versioned)[1]
    assert row["bytes"] == 4 and row["hash"] == hashlib.md5(b"two!").hexdigest()
    assert row["version_symlink"] is True
    assert int(conn.head_container(versioned)["x-container-bytes-used"]) == 7


def test_delete_leaves_a_marker_and_old_versions_stay(conn, versioned):
    v1 = put(conn, versioned, "o", b"data")
    answer = {}
    conn.delete_object(versioned, "o", response_dict=answer)
    marker = answer["headers"]["x-object-version-id"]
    with pytest.raises(swiftclient.ClientException) as caught:
        conn.get_object(versioned, "o")
    assert caught.value.http_status == 404
    rows = versions(conn, versioned)
    assert rows[0]["version_id"] == marker and rows[0]["is_latest"]
    assert rows[0]["content_type"] == "application/x-deleted;swift_versions_deleted=1"
    with pytest.raises(swiftclient.ClientException) as caught:
        conn.get_object(versioned, "o", query_string=f"version-id={marker}")
    assert caught.value.http_status == 404
    assert conn.get_object(versioned, "o", query_string=f"version-id={v1}")[1] == b"data"


def test_restore_and_delete_by_version_id(conn, versioned):
    v1 = put(conn, versioned, "o", b"first")
    v2 = put(conn, versioned, "o", b"second")
    answer = {}
    conn.put_object(versioned, "o", b"", query_string=f"version-id={v1}",
                    response_dict=answer)
    assert answer["headers"]["x-object-version-id"] == v1
    assert conn.get_object(versioned, "o")[1] == b"first"
    answer = {}
    conn.delete_object(versioned, "o", query_string=f"version-id={v2}", response_dict=answer)
    assert answer["headers"]["x-object-current-version-id"] == v1
    assert [r["version_id"] for r in versions(conn, versioned)] == [v1]
    conn.delete_object(versioned, "o", query_string=f"version-id={v1}")
    assert versions(conn, versioned) == []
    with pytest.raises(swiftclient.ClientException) as caught:
        conn.head_object(versioned, "o")
    assert caught.value.http_status == 404


def test_object_from_before_versioning_is_version_null(conn, plain_container):
    name = plain_container
    conn.put_object(name, "o", b"old")
    conn.post_container(name, {"X-Versions-Enabled": "true"})
    assert conn.get_object(name, "o")[0]["x-object-version-id"] == "null"
    v2 = put(conn, name, "o", b"new")
    rows = versions(conn, name)
    assert rows[0]["version_id"] == v2 and len(rows) == 2
    old = rows[1]["version_id"]
    assert conn.get_object(name, "o", query_string=f"version-id={old}")[1] == b"old"


def test_suspended_writes_are_null_and_old_versions_stay(conn, versioned):
    v1 = put(conn, versioned, "o", b"kept")
    conn.post_container(versioned, {"X-Versions-Enabled": "false"})
    answer = {}
    conn.put_object(versioned, "o", b"plain", response_dict=answer)
    assert "x-object-version-id" not in answer["headers"]
    assert conn.get_object(versioned, "o", query_string="version-id=null")[1] == b"plain"
    assert conn.get_object(versioned, "o", query_string=f"version-id={v1}")[1] == b"kept"


def test_versions_container_never_shows(conn, versioned):
    put(conn, versioned, "o", b"x")
    names = [c["name"] for c in conn.get_account(full_listing=True)[1]]
    assert versioned in names
    assert not any("\x00" in n or "versions" in n and n != versioned for n in names)


def test_container_with_versions_cannot_be_deleted(conn, versioned):
    put(conn, versioned, "o", b"x")
    conn.delete_object(versioned, "o")
    with pytest.raises(swiftclient.ClientException) as caught:
        conn.delete_container(versioned)
    assert caught.value.http_status == 409


@pytest.mark.parametrize("method,query,status", [
    ("POST", "version-id=1700000000.00000", 400), ("GET", "version-id=junk", 400),
    ("PUT", "version-id=null", 400), ("GET", "version-id=1700000000.00000", 404)])
def test_bad_version_requests(conn, versioned, raw, method, query, status):
    put(conn, versioned, "o", b"x")
    assert raw(method, f"{versioned}/o?{query}", data=b"").status_code == status


def test_version_id_needs_a_versioned_container(plain_container, raw):
    assert raw("GET", f"{plain_container}/o?version-id=1700000000.00000").status_code == 400


def test_legacy_and_new_versioning_exclude_each_other(conn, versioned):
    with pytest.raises(swiftclient.ClientException) as caught:
        conn.post_container(versioned, {"X-Versions-Location": "elsewhere"})
    assert caught.value.http_status == 400


@pytest.mark.parametrize("query,accept", [("format=xml", None), ("format=plain", None),
                                           ("", "text/plain"), ("", "application/xml")])
def test_versions_listing_is_json_only(versioned, raw, query, accept):
    headers = {"Accept": accept} if accept else {}
    assert raw("GET", f"{versioned}?versions&{query}", headers=headers).status_code == 406


def test_versions_listing_pages_with_version_marker(conn, versioned, raw):
    ids = [put(conn, versioned, "o", b"%d" % i) for i in range(3)]
    rows = raw("GET", f"{versioned}?versions&limit=2").json()
    assert [r["version_id"] for r in rows] == ids[::-1][:2]
    rest = raw("GET", f"{versioned}?versions&marker=o&version_marker={ids[1]}").json()
    assert [r["version_id"] for r in rest] == [ids[0]]
    assert raw("GET", f"{versioned}?versions&version_marker={ids[1]}").status_code == 400


def test_a_large_versions_size_is_all_of_its_bytes(conn, versioned):
    """The link's size is counted over the whole body as it streams, however its pieces arrived
    (several at once come as one tuple: proxy/backend.py piece_parts)."""
    data = bytes(range(256)) * (16 * 1024)  # 4 MiB, sent at once: many pieces per wake-up
    put(conn, versioned, "big", data)
    listed = {r["name"]: r["bytes"] for r in conn.get_container(versioned)[1]}
    assert listed["big"] == len(data)
    assert [r["bytes"] for r in versions(conn, versioned)] == [len(data)]
