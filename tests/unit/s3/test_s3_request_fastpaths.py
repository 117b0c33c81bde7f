"""The S3 per-request shortcuts answer exactly as the general code they skip.

sigv4.parse reads the usual Authorization shape (Signature last) through a per-client cache and
every other shape through the full field loop; SigV2 is parsed only when a request names it;
lower_headers takes one pass unless a name repeats; sse.customer_key answers None early for a
request with no SSE-C header. Each case here compares with the general rule written out.
"""
import asyncio

import pytest
from aiohttp.test_utils import make_mocked_request
from hypothesis import given, settings, strategies as st
from multidict import CIMultiDict

from proxy.s3 import context, sigv4, sse
from proxy.s3.credentials import Credentials
from proxy.s3.errors import S3Error

CRED = "AKID/20261121/us-east-1/s3/aws4_request"
SIGNED = "host;x-amz-content-sha256;x-amz-date"
SIG = "a" * 64
BASE = {"x-amz-date": "20261121T120000Z", "x-amz-content-sha256": sigv4.EMPTY_SHA256}


def reference_fields(auth: str) -> dict:
    """The Authorization fields as the general loop reads them (the rule the cache must keep)."""
    fields = {}
    for part in auth[len(sigv4.ALGORITHM) + 1:].split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            raise S3Error("AuthorizationHeaderMalformed")
        fields[name] = value
    return fields


def parsed(auth: str):
    return sigv4.parse("GET", {**BASE, "authorization": auth}, [])


@pytest.mark.parametrize("auth", [
    f"AWS4-HMAC-SHA256 Credential={CRED}, SignedHeaders={SIGNED}, Signature={SIG}",
    f"AWS4-HMAC-SHA256 Credential={CRED},SignedHeaders={SIGNED},Signature={SIG}",
    f"AWS4-HMAC-SHA256 Credential={CRED} ,  SignedHeaders={SIGNED} ,\tSignature={SIG}  ",
    f"AWS4-HMAC-SHA256 Credential={CRED}, SignedHeaders={SIGNED}, Signature= {SIG}",
    f"AWS4-HMAC-SHA256 Signature={SIG}, Credential={CRED}, SignedHeaders={SIGNED}",
    f"AWS4-HMAC-SHA256 Credential={CRED}, SignedHeaders={SIGNED}, Signature=bbb, Signature={SIG}",
    f"AWS4-HMAC-SHA256 Credential={CRED}, SignedHeaders={SIGNED}, XSignature=1, Signature={SIG}",
    f"AWS4-HMAC-SHA256 Credential={CRED}, SignedHeaders={SIGNED}, Signature={SIG}=x",
    f"AWS4-HMAC-SHA256 Credential={CRED}, SignedHeaders={SIGNED}, Signature=",
])
def test_authorization_fields_match_the_general_reading(auth):
    want = reference_fields(auth)
    got = parsed(auth)
    assert got.signature == want["Signature"]
    assert got.credential.access_key == want["Credential"].split("/")[0]
    assert ";".join(got.signed_headers) == want["SignedHeaders"]


@pytest.mark.parametrize("auth, words", [
    (f"AWS4-HMAC-SHA256 Credential={CRED}, SignedHeaders, Signature={SIG}", "is not a key=value"),
    (f"AWS4-HMAC-SHA256 ,Signature={SIG}", '"" is not a key=value'),
    (f"AWS4-HMAC-SHA256 Credential={CRED}, Signature={SIG}", "missing SignedHeaders"),
    (f"AWS4-HMAC-SHA256 Credential={CRED}, SignedHeaders={SIGNED}", "missing Signature"),
    (f"AWS4-HMAC-SHA256 Credential={CRED}, SignedHeaders={SIGNED}, XSignature={SIG}",
     "missing Signature"),
])
def test_malformed_authorization_is_refused_the_same_way(auth, words):
    for _ in range(2):  # the second time through the cache
        with pytest.raises(S3Error) as caught:
            parsed(auth)
        assert caught.value.code == "AuthorizationHeaderMalformed"
        assert words in str(caught.value)


# Pieces that can spell "Signature" and break it with separators, but never "Credential" or
# "SignedHeaders": those two stay valid, so only the pair loop or a missing Signature can refuse.
_piece = st.text(alphabet="ab=, \tSignature", max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(_piece, max_size=5), _piece)
def test_any_authorization_reads_as_the_general_loop(parts, tail):
    auth = f"AWS4-HMAC-SHA256 Credential={CRED}, SignedHeaders={SIGNED}, " + ",".join(parts) + tail
    try:
        want = reference_fields(auth)
    except S3Error:
        with pytest.raises(S3Error, match="is not a key=value pair"):
            parsed(auth)
        return
    if "Signature" not in want:
        with pytest.raises(S3Error, match="missing Signature"):
            parsed(auth)
        return
    assert parsed(auth).signature == want["Signature"]


def _request(headers, query=""):
    return make_mocked_request("GET", "/bucket/key" + query, headers=CIMultiDict(headers))


class _Settings:
    domain = ""
    max_clock_skew = 900


def test_sigv2_header_is_still_read_as_sigv2():
    creds = Credentials(["AKID secret test tester"])
    req = _request({"Authorization": "AWS AKID:bad", "Date": "Sat, 21 Nov 2026 12:00:00 GMT",
                    "Host": "h"})
    headers = context.lower_headers(req)
    with pytest.raises(S3Error) as caught:
        asyncio.run(context.authenticate(req, headers, creds, _Settings()))
    assert caught.value.code in ("SignatureDoesNotMatch", "AccessDenied", "RequestTimeTooSkewed")


def test_sigv2_query_wins_over_a_sigv4_header_as_before():
    creds = Credentials(["AKID secret test tester"])
    req = _request({"Authorization": f"AWS4-HMAC-SHA256 Credential={CRED}, "
                                     f"SignedHeaders={SIGNED}, Signature={SIG}", "Host": "h",
                    **BASE}, "?AWSAccessKeyId=NOPE&Signature=x&Expires=1")
    headers = context.lower_headers(req)
    with pytest.raises(S3Error) as caught:
        asyncio.run(context.authenticate(req, headers, creds, _Settings()))
    assert caught.value.code == "InvalidAccessKeyId"  # the SigV2 key, not the SigV4 one


def test_repeated_header_names_are_joined():
    req = make_mocked_request("GET", "/b/k", headers=CIMultiDict(
        [("X-Amz-Meta-A", "1"), ("Host", "h"), ("x-amz-meta-a", "2")]))
    assert context.lower_headers(req) == {"x-amz-meta-a": "1,2", "host": "h"}


def test_customer_key_shortcut_keeps_the_partial_header_error():
    assert sse.customer_key({"host": "h"}) is None
    with pytest.raises(S3Error) as caught:
        sse.customer_key({sse.PREFIX + "key": "x"})
    assert caught.value.code == "InvalidArgument"


def test_bodiless_requests_share_one_plan_per_distinct_header_set():
    from proxy.s3 import payload
    get = {"x-amz-content-sha256": sigv4.EMPTY_SHA256}
    first = payload.check_request("GET", dict(get), {}, True)
    assert payload.check_request("HEAD", dict(get), {}, True) is first  # shared: frozen
    assert first == payload.Plan(sigv4.EMPTY_SHA256)
    md5 = "1B2M2Y8AsgTpgAmY7PhCfg=="  # of b""
    with_md5 = payload.check_request("DELETE", {**get, "content-md5": md5}, {}, True)
    assert with_md5 is not first and with_md5.md5_text == md5 and with_md5.md5 is not None
    sized = payload.check_request("GET", {**get, "content-length": "0"}, {}, True)
    assert sized.content_length == 0 and first.content_length is None
    unsigned = payload.check_request("GET", {"x-amz-content-sha256": "UNSIGNED-PAYLOAD"}, {}, True)
    assert unsigned.mode == "UNSIGNED-PAYLOAD"
