"""Pure pieces of the Swift middlewares' behaviour: TempURL scope and listing links, legacy
versioning modes, static-link ETag checks, referrer ACL suffixes, SLO part ranges."""
import pytest

from proxy import acl, large, symlink, tempurl, versioning
from proxy.errors import SwiftError


def test_tempurl_applies_to_objects_and_the_signed_container_root():
    sig = {"temp_url_sig": "x", "temp_url_expires": "1"}
    assert tempurl.applies(sig, "GET", "c", "o")
    assert not tempurl.applies(sig, "GET", "c", None)                     # no prefix: no root
    assert tempurl.applies({**sig, "temp_url_prefix": ""}, "GET", "c", None)
    assert not tempurl.applies({**sig, "temp_url_prefix": ""}, "PUT", "c", None)
    assert not tempurl.applies({**sig, "temp_url_prefix": "d/"}, "GET", "c", None)
    assert not tempurl.applies({"temp_url_expires": "1"}, "GET", "c", "o")
    assert not tempurl.applies(sig, "OPTIONS", "c", "o")


def test_tempurl_listing_query():
    query = {"temp_url_prefix": "a b/", "temp_url_expires": "2030-01-01T00:00:00Z",
             "temp_url_sig": "abc", "inline": ""}
    assert tempurl.listing_query(query) == (
        "?temp_url_prefix=a%20b/&amp;temp_url_expires=2030-01-01T00%3A00%3A00Z"
        "&amp;temp_url_sig=abc&amp;inline")
    assert tempurl.listing_query({"temp_url_sig": "abc"}) == ""   # an object TempURL


def test_tempurl_signature_of_the_container_root():
    sig = tempurl.sign("k", "GET", 4_000_000_000, "prefix:/v1/AUTH_a/c/")
    query = {"temp_url_sig": sig, "temp_url_expires": "4000000000", "temp_url_prefix": ""}
    assert tempurl.check(query, "GET", "AUTH_a", "c", None, ["k"], now=0) == "k"
    with pytest.raises(SwiftError):
        tempurl.check(query, "GET", "AUTH_a", "other", None, ["k"], now=0)


@pytest.mark.parametrize("given, cleared", [
    ({"X-Versions-Location": "v"}, "X-History-Location"),
    ({"X-History-Location": "v"}, "X-Versions-Location"),
    ({"x-versions-location": ""}, "X-History-Location"),
])
def test_versioning_one_mode_at_a_time(given, cleared):
    headers = dict(given)
    versioning.exclusive_modes(headers)
    assert headers[cleared] == ""


def test_versioning_names():
    assert versioning.prefix("\u2603") == "003\u2603/"
    assert versioning.version_name("o", "1700000000.12345") == "001o/1700000000.12345"


def test_static_etag_checks():
    target = {"ETag": '"abc"'}
    symlink.check_static_etag(target, "abc", "/v1/a/c/o", following=True)
    with pytest.raises(SwiftError) as err:
        symlink.check_static_etag(target, "def", "/v1/a/c/o", following=True)
    assert err.value.status == 409 and err.value.headers["Content-Location"] == "/v1/a/c/o"
    link = {"X-Symlink-Target": "c/t", "X-Symlink-Target-Etag": "abc", "ETag": "d41d8"}
    symlink.check_static_etag(link, "abc", None, following=True)        # the link's target ETag
    with pytest.raises(SwiftError):
        symlink.check_static_etag(link, "abc", None, following=False)   # ?symlink=get: its own


def test_referrer_suffix_with_a_star():
    parsed = acl.parse_acl(".r:*.example.com,.rlistings")
    assert acl.referrer_allowed("http://blah.example.com/x", parsed.referrers)
    assert not acl.referrer_allowed("http://example.org/", parsed.referrers)
    denied = acl.parse_acl(".r:*,.r:-*.bad.com")
    assert not acl.referrer_allowed("http://www.bad.com/", denied.referrers)


def test_part_ranges_and_clipping():
    segs = [large.Segment("c", "a", 7), large.Segment("c", "b", 5), large.Segment("c", "c", 3)]
    assert large.part_range(segs, 2) == (7, 11)
    clipped = large.clip(segs, 5, 8)
    assert [(s.obj, s.first, s.last) for s in clipped] == [("a", 5, 6), ("b", 0, 1)]
