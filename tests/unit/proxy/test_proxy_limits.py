"""Names, metadata, lengths, delete-at and listing parameters (proxy/limits.py)."""
import pytest
from multidict import CIMultiDict

from proxy import limits
from proxy.app import is_s3_request
from proxy.errors import SwiftError
from proxy.nodes import ErrorLimiter, NodeIter


def err(fn, *args):
    with pytest.raises(SwiftError) as info:
        fn(*args)
    return info.value.status, info.value.body.decode()


@pytest.mark.parametrize("raw,expected", [
    ("/v1/AUTH_a", ("v1", "AUTH_a", None, None)),
    ("/v1/AUTH_a/", ("v1", "AUTH_a", None, None)),
    ("/v1/AUTH_a/c", ("v1", "AUTH_a", "c", None)),
    ("/v1/AUTH_a/c/", ("v1", "AUTH_a", "c", None)),
    ("/v1/AUTH_a/c/o/with/slashes", ("v1", "AUTH_a", "c", "o/with/slashes")),
    ("/v1/AUTH_a/c/a%2Fb%20%E2%98%83", ("v1", "AUTH_a", "c", "a/b \u2603")),
    ("/v1/AUTH_a/c/o?x=1", ("v1", "AUTH_a", "c", "o")),
])
def test_split_path(raw, expected):
    assert limits.split_path(raw) == expected


def test_split_path_rejects_bad_utf8_and_nul():
    assert err(limits.split_path, "/v1/a/c/%FF")[0] == 412
    assert err(limits.split_path, "/v1/a/c/x%00y")[0] == 412
    assert err(limits.split_path, "/v1") == (412, "Bad URL")  # no account: Swift has no controller
    assert err(limits.split_path, "/info asdf") == (412, "Bad URL")
    assert err(limits.split_path, "/v1//c")[0] == 404
    assert err(limits.split_path, "/v1/a//o")[0] == 404
    assert err(limits.split_path, "//v1/a")[0] == 404


def test_name_lengths():
    limits.check_names("AUTH_a", "c" * 256, "o" * 1024)
    assert err(limits.check_names, "AUTH_a", "c" * 257, None) == (
        400, "Container name length of 257 longer than 256")
    assert err(limits.check_names, "AUTH_a", "c", "\u00e9" * 513)[0] == 400  # bytes, not chars


def test_metadata_limits():
    limits.check_metadata({"X-Object-Meta-A": "b" * 256}, "object")
    assert err(limits.check_metadata, {"X-Object-Meta-": "x"}, "object")[0] == 400
    assert err(limits.check_metadata, {"X-Object-Meta-" + "n" * 129: "x"}, "object")[0] == 400
    assert err(limits.check_metadata, {"X-Object-Meta-A": "v" * 257}, "object")[0] == 400
    many = {f"X-Container-Meta-K{i}": "v" for i in range(91)}
    assert err(limits.check_metadata, many, "container") == (400, "Too many metadata items; max 90")
    big = {f"X-Account-Meta-K{i}": "v" * 250 for i in range(17)}
    assert err(limits.check_metadata, big, "account") == (400, "Total metadata too large; max 4096")
    limits.check_metadata({"X-Container-Meta-" + "n" * 129: "x"}, "object")  # other kinds ignored


def test_content_length_rules():
    assert limits.check_content_length(CIMultiDict({"Content-Length": "5"}), 10) == 5
    assert limits.check_content_length(CIMultiDict({"Transfer-Encoding": "chunked"}), 10) is None
    assert err(limits.check_content_length, CIMultiDict(), 10)[0] == 411
    assert err(limits.check_content_length, CIMultiDict({"Content-Length": "11"}), 10)[0] == 413
    assert err(limits.check_content_length, CIMultiDict({"Content-Length": "x"}), 10)[0] == 400


def test_delete_at():
    # truncated as Swift does: 100.5 + 10 -> 110; 100.5 + 0 -> 100, in the past
    assert limits.delete_at_header({"X-Delete-After": "10"}, now=100.5) == "110"
    assert err(limits.delete_at_header, {"X-Delete-After": "0"}, 100.5)[0] == 400
    assert limits.delete_at_header({"X-Delete-At": "200"}, now=100) == "200"
    assert limits.delete_at_header({}, now=100) is None
    assert err(limits.delete_at_header, {"X-Delete-At": "50"}, 100)[0] == 400
    assert err(limits.delete_at_header, {"X-Delete-After": "soon"}, 100)[0] == 400
    assert err(limits.delete_at_header, {"X-Delete-After": "-1"}, 100)[0] == 400


def test_listing_params_and_format():
    assert limits.listing_params({"limit": "10", "prefix": "p", "x": "y"}, 10000) == {
        "limit": "10", "prefix": "p"}
    assert err(limits.listing_params, {"limit": "10001"}, 10000) == (412, "Maximum limit is 10000")
    assert limits.listing_params({"limit": "-1"}, 10000) == {}         # ignored, as Swift does
    assert limits.listing_params({"limit": "5000.0"}, 10000) == {}
    assert limits.listing_format({"format": "json"}, None) == "json"
    assert limits.listing_format({}, "application/xml;q=1") == "xml"
    assert limits.listing_format({"format": "bogus"}, "application/json") == "json"
    assert limits.listing_format({}, "*/*") == "plain"


@pytest.mark.parametrize("path,headers,query,s3", [
    ("/v1/AUTH_a/c", {}, {}, False),
    ("/auth/v1.0", {}, {}, False),
    ("/info", {}, {}, False),
    ("/healthcheck", {}, {}, False),
    ("/bucket/key", {}, {}, True),
    ("/", {}, {}, True),
    ("/v1/AUTH_a/c", {"Authorization": "AWS4-HMAC-SHA256 Credential=x"}, {}, True),
    ("/v1/AUTH_a/c", {"Authorization": "AWS AKID:sig"}, {}, True),
    ("/bucket", {}, {"X-Amz-Algorithm": "AWS4-HMAC-SHA256"}, True),
])
def test_is_s3_request(path, headers, query, s3):
    assert is_s3_request(path, headers, query) is s3


class Node:
    def __init__(self, name):
        self.ip, self.port, self.device = "127.0.0.1", 1, name

    def __repr__(self):
        return self.device


class FakeRing:  # a ring lookup is pure data; this stands in for ring.Ring's handoff order
    def __init__(self, handoffs):
        self.handoffs = handoffs

    def get_more_nodes(self, part):
        return iter(self.handoffs)


def test_error_limiting_and_handoff_order():
    clock = [0.0]
    limiter = ErrorLimiter(2, 60, clock=lambda: clock[0])
    a, b, c, h1, h2 = (Node(n) for n in ("a", "b", "c", "h1", "h2"))
    assert [n.device for n in NodeIter(FakeRing([h1, h2]), 0, [a, b, c], limiter)] == [
        "a", "b", "c", "h1", "h2"]
    limiter.error(b)
    assert not limiter.limited(b)           # one error is not enough
    limiter.error(b)
    assert limiter.limited(b)
    order = [n.device for n in NodeIter(FakeRing([h1, h2]), 0, [a, b, c], limiter)]
    assert order == ["a", "c", "h1", "h2", "b"]   # replaced by a handoff, tried last
    assert NodeIter(FakeRing([h1, h2]), 0, [a, b, c], limiter).take(3) == [a, c, h1]
    clock[0] = 61
    assert not limiter.limited(b)           # the limit expires
    limiter.limit_now(c)
    assert limiter.limited(c)
    limiter.error(a)
    limiter.success(a)
    limiter.error(a)
    assert not limiter.limited(a)           # success resets the count
