"""Pure parts of large objects, conditionals, bulk delete and the expirer."""
import pytest

from proxy import bulk, conditional, large
from proxy.errors import SwiftError
from proxy.expirer import parse_row

SEGS = [large.Segment("c", "s0", 10), large.Segment("c", "s1", 10), large.Segment("c", "s2", 5)]


def test_total_length_and_clip():
    assert large.total_length(SEGS) == 25
    assert large.clip(SEGS, 0, 24) == [large.Segment("c", "s0", 10, None, 0, 9),
                                       large.Segment("c", "s1", 10, None, 0, 9),
                                       large.Segment("c", "s2", 5, None, 0, 4)]
    assert large.clip(SEGS, 8, 11) == [large.Segment("c", "s0", 10, None, 8, 9),
                                       large.Segment("c", "s1", 10, None, 0, 1)]
    assert large.clip(SEGS, 24, 24) == [large.Segment("c", "s2", 5, None, 4, 4)]


def test_clip_respects_segment_ranges():
    ranged = [large.Segment("c", "a", 100, None, 10, 19), large.Segment("c", "b", 5)]
    assert large.total_length(ranged) == 15
    assert large.clip(ranged, 5, 11) == [large.Segment("c", "a", 100, None, 15, 19),
                                         large.Segment("c", "b", 5, None, 0, 1)]


def test_slo_etag_is_md5_of_segment_etags():
    import hashlib
    assert large.slo_etag(["aa", "bb"]) == hashlib.md5(b"aabb").hexdigest()


@pytest.mark.parametrize("header,length,expected", [
    ("bytes=0-9", 100, (0, 9)),
    ("bytes=90-", 100, (90, 99)),
    ("bytes=-10", 100, (90, 99)),
    ("bytes=-200", 100, (0, 99)),
    ("bytes=5-500", 100, (5, 99)),
    ("bytes=9-5", 100, None),        # invalid: ignored, whole object
    ("bytes=x-5", 100, None),
    ("items=0-5", 100, None),
    (None, 100, None),
])
def test_parse_range(header, length, expected):
    assert conditional.parse_range(header, length) == expected


def test_unsatisfiable_range_is_416():
    with pytest.raises(SwiftError) as err:
        conditional.parse_range("bytes=100-", 100)
    assert err.value.status == 416
    assert err.value.headers["Content-Range"] == "bytes */100"


@pytest.mark.parametrize("headers,expected", [
    ({}, None),
    ({"If-Match": '"abc"'}, None),
    ({"If-Match": "other"}, 412),
    ({"If-Match": "*"}, None),
    ({"If-None-Match": "abc"}, 304),
    ({"If-None-Match": "*"}, 304),
    ({"If-None-Match": "zzz"}, None),
    ({"If-Modified-Since": "Thu, 01 Jan 2037 00:00:00 GMT"}, 304),
    ({"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"}, None),
    ({"If-Unmodified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"}, 412),
    ({"If-Unmodified-Since": "garbage"}, None),
])
def test_conditionals(headers, expected):
    assert conditional.evaluate(headers, "abc", 1_700_000_000.5) == expected


def test_bulk_parse_and_render():
    assert bulk.parse_paths(b"/c/o%20x\n\n/c2\nc3/a/b\n") == [("c", "o x"), ("c2", None),
                                                              ("c3", "a/b")]
    body, ctype = bulk.render(None, 2, 1, [])
    assert ctype == "text/plain"
    assert b"Number Deleted: 2\nNumber Not Found: 1\n" in body and b"200 OK" in body
    body, ctype = bulk.render("application/json", 0, 0, [("/c", "409 Conflict")])
    import json
    doc = json.loads(body)
    assert doc["Response Status"] == "400 Bad Request" and doc["Errors"] == [["/c", "409 Conflict"]]


def test_expirer_row_names():
    assert parse_row("1700000000-AUTH_a/c/o/x") == (1700000000, "AUTH_a", "c", "o/x")
    assert parse_row("junk") is None
    assert parse_row("12-AUTH_a/c") is None
