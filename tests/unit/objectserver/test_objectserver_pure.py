"""Pure parts of the storage node: file trailer, hash-dir choice, ranges, listing params/formats."""
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from objectserver import layout, listings, metafile, ranges
from objectserver.errors import HTTPError
from strato.timestamps import Timestamp


# ---- metafile ----------------------------------------------------------------------------------

def _file(body: bytes, meta: dict) -> bytes:
    return body + metafile.encode(meta)


@given(st.binary(max_size=300), st.dictionaries(st.text(max_size=20), st.text(max_size=50),
                                                max_size=8))
def test_trailer_round_trip(body, meta):
    blob = _file(body, meta)
    parsed, length = metafile.parse_tail(blob, len(blob))
    assert parsed == meta and length == len(body)


def test_trailer_from_partial_tail_and_rejects_garbage():
    blob = _file(b"x" * 1000, {"ETag": "abc", "name": "/a/c/\u00e9"})
    tail = blob[-200:]
    meta, length = metafile.parse_tail(tail, len(blob))
    assert meta["name"] == "/a/c/\u00e9" and length == 1000
    with pytest.raises(metafile.MetadataError):  # magic checked by value
        metafile.parse_tail(blob[:-1] + b"X", len(blob))
    with pytest.raises(metafile.MetadataError):  # truncated file
        metafile.parse_tail(blob[-5:], 5)
    bad_len = blob[:-12] + (10 ** 6).to_bytes(4, "big") + metafile.MAGIC
    with pytest.raises(metafile.MetadataError):
        metafile.parse_tail(bad_len, len(bad_len))
    not_json = b"{nope" + (5).to_bytes(4, "big") + metafile.MAGIC
    with pytest.raises(metafile.MetadataError):
        metafile.parse_tail(not_json, len(not_json))


# ---- layout --------------------------------------------------------------------------------------

def test_paths():
    h = "0123456789abcdef0123456789abcdef"
    assert layout.hash_dir("/dev/d0", 12, h) == f"/dev/d0/objects/12/def/{h}"
    assert layout.parse_filename("1700000000.12345.data") == (Timestamp("1700000000.12345"), ".data")
    assert layout.parse_filename("1700000000.12345_0000000000000002.meta")[1] == ".meta"
    assert layout.parse_filename("junk.data") is None
    assert layout.parse_filename("1700000000.12345.tmp") is None


def test_choose_newest_wins():
    d1, d2 = "1000000001.00000.data", "1000000002.00000.data"
    ts3, m4, m0 = "1000000003.00000.ts", "1000000004.00000.meta", "1000000000.50000.meta"
    found = layout.choose([d1, d2, m0])
    assert found.data == d2 and found.meta is None and set(found.obsolete) == {d1, m0}
    found = layout.choose([d1, m4])
    assert found.data == d1 and found.meta == m4 and found.obsolete == ()
    found = layout.choose([d2, ts3, m4])
    assert found.data is None and found.tombstone == ts3 and set(found.obsolete) == {d2, m4}
    assert found.timestamp == Timestamp("1000000003.00000")
    assert layout.choose([m4]) == layout.FileSet(obsolete=(m4,))
    assert layout.choose([]).timestamp is None


def test_suffix_hash_depends_on_current_files_only():
    a = layout.suffix_hash([("h1", ["1.data"]), ("h2", ["2.ts"])])
    assert a == layout.suffix_hash([("h2", ["2.ts"]), ("h1", ["1.data"])])
    assert a != layout.suffix_hash([("h1", ["1.data"]), ("h2", ["3.ts"])])


# ---- ranges --------------------------------------------------------------------------------------

@pytest.mark.parametrize("header,length,expected", [
    (None, 10, None),
    ("bytes=0-4", 10, [(0, 5)]),
    ("bytes=5-", 10, [(5, 10)]),
    ("bytes=-3", 10, [(7, 10)]),
    ("bytes=-30", 10, [(0, 10)]),
    ("bytes=8-100", 10, [(8, 10)]),
    ("bytes=0-0,-1", 10, [(0, 1), (9, 10)]),
    ("bytes=20-30", 10, []),
    ("bytes=20-30,2-3", 10, [(2, 4)]),
    ("bytes=-0", 10, []),
    ("bytes=0-", 0, []),
    ("bytes=5-2", 10, None),
    ("bytes=a-b", 10, None),
    ("items=0-1", 10, None),
    ("bytes=", 10, None),
    ("bytes=" + ",".join(["0-1"] * 51), 10, None),
])
def test_range_parse(header, length, expected):
    assert ranges.parse(header, length) == expected


def test_multipart_length_matches_framing():
    wanted = [(0, 3), (5, 9)]
    body = b"".join(ranges.part_header("B", "text/plain", s, e, 10) + b"x" * (e - s)
                    + ranges.PART_END for s, e in wanted) + ranges.closing("B")
    assert ranges.multipart_length("B", "text/plain", wanted, 10) == len(body)


# ---- listings ------------------------------------------------------------------------------------

def test_listing_params():
    p = listings.parse_params({"prefix": "a", "limit": "5", "reverse": "on", "marker": "m"})
    assert (p.prefix, p.limit, p.reverse, p.marker) == ("a", 5, True, "m")
    assert listings.parse_params({"limit": "-1"}).limit == 10000
    assert listings.parse_params({"path": "a/b/"}).as_kwargs()["prefix"] == "a/b/"
    with pytest.raises(HTTPError) as err:
        listings.parse_params({"limit": "10001"})
    assert err.value.status == 412
    # Swift accepts any delimiter string, and a NUL in a marker (only reserved names are hidden)
    assert listings.parse_params({"delimiter": "-&"}).delimiter == "-&"
    assert listings.query_of("marker=b1%00&end_marker=a&x=%FF") == {"marker": "b1\x00",
                                                                    "end_marker": "a"}
    assert listings.query_of("prefix=%EF%BF%BD&prefix=caf%C3%A9")["prefix"] == "caf\u00e9"
    assert listings.query_of("marker=\u2603+x&format=json") == {"marker": "\u2603 x",
                                                               "format": "json"}
    with pytest.raises(HTTPError) as err:
        listings.query_of("prefix=a%FF")
    assert (err.value.status, err.value.body) == (400, '"prefix" parameter not valid UTF-8')


def test_listing_rows_as_swift_renders_them():
    row = {"name": "o", "hash": "d41d8cd98f00b204e9800998ecf8427e", "bytes": 0,
           "content_type": "text/plain;swift_bytes=42;charset=utf-8", "last_modified": "x"}
    plain = listings.object_row(row, "AUTH_a")
    assert (plain["bytes"], plain["content_type"]) == (42, "text/plain;charset=utf-8")
    stored = listings.row_etag(row["hash"], {"X-Symlink-Target": "c/t%20o",
                                             "X-Symlink-Target-Etag": '"abc"',
                                             "X-Symlink-Target-Bytes": "7",
                                             "X-Object-Sysmeta-Slo-Etag": "5lo"})
    link = listings.object_row(dict(row, hash=stored + "; s3_etag=x-2"), "AUTH_a")
    assert link["hash"] == "d41d8cd98f00b204e9800998ecf8427e; s3_etag=x-2"
    assert (link["symlink_path"], link["symlink_etag"], link["symlink_bytes"],
            link["slo_etag"]) == ("/v1/AUTH_a/c/t%20o", "abc", 7, '"5lo"')
    other = listings.row_etag("e; symlink_target=c/o; symlink_target_account=AUTH_b",
                              {"X-Symlink-Target": "c/o"})  # the override's params are kept
    assert listings.object_row(dict(row, hash=other), "AUTH_a")["symlink_path"] == "/v1/AUTH_b/c/o"
    assert listings.row_etag("e", {}) == "e"


@pytest.mark.parametrize("fmt,accept,expected", [
    (None, None, "text/plain"),
    ("json", "text/plain", "application/json"),
    ("XML", None, "application/xml"),
    ("bogus", None, "text/plain"),
    (None, "application/json", "application/json"),
    (None, "text/xml", "text/xml"),
    (None, "application/*", "application/json"),
    (None, "*/*", "text/plain"),
    (None, "text/plain;q=0.1, application/json;q=0.9", "application/json"),
])
def test_negotiate(fmt, accept, expected):
    assert listings.negotiate(fmt, accept) == expected


def test_negotiate_406():
    with pytest.raises(HTTPError) as err:
        listings.negotiate(None, "image/png")
    assert err.value.status == 406


def test_render_formats():
    rows = [{"name": "a", "hash": "h", "bytes": 1, "content_type": "t",
             "last_modified": "2026-01-01T00:00:00.000000"}, {"subdir": "b/"}]
    status, body, ctype = listings.render("application/json", "container", "c", rows)
    assert status == 200 and json.loads(body) == rows and ctype.startswith("application/json")
    assert listings.render("text/plain", "container", "c", rows)[1] == b"a\nb/\n"
    assert listings.render("text/plain", "container", "c", [])[0] == 204
    status, body, _ = listings.render("application/xml", "container", "c&d", rows)
    assert body == (b'<?xml version="1.0" encoding="UTF-8"?>\n<container name="c&amp;d"><object>'
                    b"<name>a</name><hash>h</hash><bytes>1</bytes><content_type>t</content_type>"
                    b"<last_modified>2026-01-01T00:00:00.000000</last_modified></object>"
                    b'<subdir name="b/"><name>b/</name></subdir></container>')


def test_trailer_keeps_header_bytes_that_are_not_utf8():
    value = b"bad\xff\xfe".decode("utf-8", "surrogateescape")  # as aiohttp hands such a header over
    blob = _file(b"", {"X-Object-Meta-V": value})
    assert b"bad\xff\xfe" in blob
    assert metafile.parse_tail(blob, len(blob))[0]["X-Object-Meta-V"] == value


def test_split_targets():
    from objectserver.updates import split_targets

    headers = {"X-Container-Host": "10.0.0.1:6200, 10.0.0.2:6201", "X-Container-Device": "d1,d2",
               "X-Container-Partition": "7"}
    assert split_targets(headers, "X-Container-Host", "X-Container-Device",
                         "X-Container-Partition") == [
        {"host": "10.0.0.1:6200", "device": "d1", "partition": "7"},
        {"host": "10.0.0.2:6201", "device": "d2", "partition": "7"}]
    assert split_targets({}, "X-Container-Host", "X-Container-Device", "X-Container-Partition") == []


@pytest.mark.parametrize("module", ["metafile", "layout", "ranges", "listings", "errors"])
def test_sans_io_modules_import_no_io(module):
    import ast
    import pathlib

    source = pathlib.Path(__file__).parents[3] / "objectserver" / f"{module}.py"
    imported = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert not imported & {"asyncio", "aiohttp", "socket", "os", "lmdb"}


@given(st.lists(st.tuples(st.integers(1, 30), st.sampled_from(layout.EXTENSIONS)), max_size=12,
                unique_by=lambda item: item[0]))
def test_choose_property(files):
    """The winner is the newest .data/.ts; a .meta survives only when newer than a winning .data;
    every other file is obsolete and none is lost or invented."""
    names = [f"{1000000000 + t:010d}.00000{ext}" for t, ext in files]
    found = layout.choose(names)
    kept = [n for n in (found.data, found.tombstone, found.meta) if n]
    assert sorted(kept + list(found.obsolete)) == sorted(names)
    winners = [(t, ext) for t, ext in files if ext in (layout.DATA, layout.TOMBSTONE)]
    if not winners:
        assert kept == []
        return
    newest, ext = max(winners)
    assert found.timestamp == Timestamp(f"{1000000000 + newest:010d}.00000")
    assert (found.data is not None) == (ext == layout.DATA)
    metas = [t for t, e in files if e == layout.META and t > newest]
    if ext == layout.DATA and metas:
        assert found.meta_timestamp == Timestamp(f"{1000000000 + max(metas):010d}.00000")
    else:
        assert found.meta is None
