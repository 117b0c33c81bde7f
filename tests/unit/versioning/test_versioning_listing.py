"""Version-aware listings (proxy/objver/listing.py): the shapes Swift's object_versioning answers."""
import pytest

from proxy.objver import listing, names

A, C = "AUTH_t", "c"
V = names.versions_container(C)
MARKER = names.DELETE_MARKER


def link_row(name, vid, size=5, etag="e1"):
    vname = names.version_name(name, vid)
    return {"name": name, "hash": "d41d8cd98f00b204e9800998ecf8427e", "bytes": 0,
            "content_type": "text/plain", "last_modified": "2026-01-01T00:00:00.000000",
            "symlink_path": f"/v1/{A}/{names.link_target(V, vname)}", "symlink_etag": etag,
            "symlink_bytes": size}


def version_row(name, vid, ctype="text/plain", size=5, etag="e1"):
    return {"name": names.version_name(name, vid), "hash": etag, "bytes": size,
            "content_type": ctype, "last_modified": "2026-01-01T00:00:00.000000"}


def test_plain_listing_shows_links_as_their_versions():
    rows = listing.decorate([link_row("o", "1700000000.00000")], C, V, versions_listing=False)
    assert rows == [{"name": "o", "hash": "e1", "bytes": 5, "content_type": "text/plain",
                     "last_modified": "2026-01-01T00:00:00.000000", "version_symlink": True,
                     "symlink_path": "/v1/AUTH_t/c/o?version-id=1700000000.00000"}]


def test_links_elsewhere_are_left_alone():
    row = dict(link_row("o", "1700000000.00000"), symlink_path="/v1/AUTH_t/other/x")
    assert listing.decorate([dict(row)], C, V, False) == [row]


def test_versions_listing_merges_null_versions_current_and_markers():
    primary = listing.decorate([
        {"name": "a", "hash": "h", "bytes": 1, "content_type": "t",
         "last_modified": "2026-01-01T00:00:00.000000"},
        link_row("b", "1700000002.00000")], C, V, versions_listing=True)
    def versions():
        return [version_row("b", "1700000002.00000"), version_row("b", "1700000001.00000"),
                version_row("d", "1700000003.00000", MARKER, 0),
                version_row("d", "1700000001.00000")]
    rows = listing.merge_versions(primary, versions(), A, V, reverse=False, limit=100)
    assert [(r["name"], r["version_id"], r["is_latest"]) for r in rows] == [
        ("a", "null", True), ("b", "1700000002.00000", True), ("b", "1700000001.00000", False),
        ("d", "1700000003.00000", True), ("d", "1700000001.00000", False)]
    reverse = listing.merge_versions(primary, versions(), A, V, True, 2)
    assert [r["name"] for r in reverse] == ["d", "d"]


def test_versions_listing_without_a_versions_container():
    primary = [{"name": "a", "hash": "h", "bytes": 1, "content_type": "t",
                "last_modified": "x"}, {"subdir": "p/"}]
    rows = listing.merge_versions(primary, None, A, V, reverse=False, limit=10)
    assert rows == [{"name": "a", "hash": "h", "bytes": 1, "content_type": "t",
                     "last_modified": "x", "version_id": "null", "is_latest": True},
                    {"subdir": "p/"}]


@pytest.mark.parametrize("params,marker", [
    ({"marker": "o"}, "\x00o\x00:"),
    ({"marker": "o", "version_marker": "null"}, "\x00o\x00"),
    ({"marker": "o", "version_marker": "1700000000.00000"},
     names.version_name("o", "1700000000.00000")),
])
def test_versions_query_markers(params, marker):
    assert listing.versions_query(params)["marker"] == marker


@pytest.mark.parametrize("params", [
    {"version_marker": "1700000000.00000"}, {"marker": "o", "version_marker": "junk"},
    {"delimiter": "1"}, {"delimiter": "."}])
def test_versions_query_refuses(params):
    with pytest.raises(listing.BadListing):
        listing.versions_query(params)


def test_versions_query_prefix_is_reserved():
    assert listing.versions_query({"prefix": "ab"})["prefix"] == "\x00ab"


def test_account_listing_adds_versions_bytes_and_shows_orphans():
    rows = [{"name": "c", "count": 1, "bytes": 0, "last_modified": "x"},
            {"name": "d", "count": 2, "bytes": 3, "last_modified": "x"}]
    vrows = [{"name": names.versions_container("c"), "count": 4, "bytes": 40,
              "last_modified": "x"},
             {"name": names.versions_container("gone"), "count": 1, "bytes": 7,
              "last_modified": "x"}]
    out = listing.merge_account(rows, vrows, reverse=False, limit=100)
    assert [(r["name"], r["count"], r["bytes"]) for r in out] == [
        ("c", 1, 40), ("d", 2, 3), ("gone", 0, 7)]
    assert listing.account_query({"prefix": "c", "marker": "b"}) == {
        "prefix": "\x00versions\x00c", "marker": "\x00versions\x00b", "format": "json"}


def test_dlo_segment_rows_read_the_version_a_link_names():
    row = link_row("seg/1", "1700000000.00000", size=7)
    assert listing.segment_source(C, row) == (V, names.version_name("seg/1", "1700000000.00000"), 7)
    plain = {"name": "seg/2", "hash": "h", "bytes": 3}
    assert listing.segment_source(C, plain) == (C, "seg/2", 3)
