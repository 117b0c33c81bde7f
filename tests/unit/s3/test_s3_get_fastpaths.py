"""The S3 GET path's shortcuts (session 6) answer exactly as the rules they stand for.

HMAC-SHA256 from a per-key cached hmac object equals a fresh one's (the cache is copied,
never consumed); the clock check in epoch
seconds keeps its limits and errors; the key-length shortcut, the bodiless-plan constant and the
[s3] settings snapshot change nothing a request can observe; verify() still refuses a wrong
secret, and a secret changed for the same access key is refused at once despite the caches.
"""
import datetime as dt
import hashlib
import hmac
import time
from types import SimpleNamespace

import pytest
from hypothesis import given, settings, strategies as st
from multidict import CIMultiDict

from proxy.s3 import addressing, objects, payload, sigv4
from proxy.s3.errors import S3Error

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@settings(max_examples=200, deadline=None)
@given(key=st.binary(min_size=0, max_size=100), text=st.text(max_size=300))
def test_sign_equals_the_hmac_module(key, text):
    assert sigv4._sign(key, text) == hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
    # the second signature under a cached key: the cached HMAC was copied, not fed the first text
    assert sigv4._sign(key, text) == sigv4._sign(key, text)


def _signed(amz_date: str, presigned: bool = False, expires: int | None = None):
    cred = sigv4.Credential("AK", amz_date[:8], "us-east-1", "s3")
    return sigv4.SignedRequest(cred, amz_date, ("host",), "0" * 64, sigv4.EMPTY_SHA256,
                               presigned=presigned, expires=expires)


def _amz(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime(sigv4.AMZ_DATE_FORMAT)


@pytest.mark.parametrize("offset, ok", [(0, True), (-890, True), (890, True), (-910, False),
                                        (910, False)])
def test_clock_skew_against_the_current_time(offset, ok):
    signed = _signed(_amz(time.time() + offset))
    if ok:
        sigv4.check_time(signed, None, 900)
        return
    with pytest.raises(S3Error) as info:
        sigv4.check_time(signed, None, 900)
    assert info.value.code == "RequestTimeTooSkewed"
    assert info.value.fields["RequestTime"] == signed.amz_date
    assert info.value.fields["ServerTime"].endswith("Z")


def test_clock_skew_limit_is_exact_with_a_given_time():
    now = dt.datetime(2026, 11, 21, 12, 0, 0, tzinfo=dt.timezone.utc)
    sigv4.check_time(_signed("20261121T114500Z"), now, 900)  # exactly 900 s: allowed
    with pytest.raises(S3Error, match="RequestTimeTooSkewed"):
        sigv4.check_time(_signed("20261121T114459Z"), now, 900)


def test_presigned_expiry_and_not_yet_valid():
    now = dt.datetime(2026, 11, 21, 12, 0, 0, tzinfo=dt.timezone.utc)
    sigv4.check_time(_signed("20261121T115900Z", True, 60), now, 900)  # expires exactly now
    with pytest.raises(S3Error) as info:
        sigv4.check_time(_signed("20261121T115859Z", True, 60), now, 900)
    assert info.value.code == "AccessDenied" and info.value.message == "Request has expired"
    assert info.value.fields == {"Expires": "2026-11-21T11:59:59Z",
                                 "ServerTime": "2026-11-21T12:00:00Z"}
    with pytest.raises(S3Error, match="not valid yet"):
        sigv4.check_time(_signed("20261121T121501Z", True, 60), now, 900)


def test_credential_date_must_match_the_request_date():
    signed = _signed(_amz(time.time()))
    other = sigv4.Credential("AK", "20200101", "us-east-1", "s3")
    with pytest.raises(S3Error, match="SignatureDoesNotMatch"):
        sigv4.check_time(sigv4.SignedRequest(other, signed.amz_date, ("host",), "0" * 64,
                                             sigv4.EMPTY_SHA256, presigned=False), None, 900)


def _request(secret: str, amz_date: str):
    """(signed, headers) of a GET of /b/k signed with `secret` (the canonical request written
    out by hand, as the SigV4 documentation spells it)."""
    headers = {"host": "h", "x-amz-content-sha256": sigv4.EMPTY_SHA256, "x-amz-date": amz_date}
    names = ("host", "x-amz-content-sha256", "x-amz-date")
    canonical = "\n".join(["GET", "/b/k", "", *(f"{n}:{headers[n]}" for n in names), "",
                           ";".join(names), sigv4.EMPTY_SHA256])
    scope = f"{amz_date[:8]}/us-east-1/s3/aws4_request"
    to_sign = "\n".join([sigv4.ALGORITHM, amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (amz_date[:8], "us-east-1", "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (f"{sigv4.ALGORITHM} Credential=AK/{scope}, "
                                f"SignedHeaders={';'.join(names)}, Signature={signature}")
    return sigv4.parse("GET", headers, []), headers


def test_a_changed_secret_is_refused_at_once_despite_the_caches():
    amz_date = _amz(time.time())
    signed, headers = _request(SECRET, amz_date)
    for _ in range(3):  # the signing key and its HMAC pads are now cached for SECRET
        sigv4.verify(signed, SECRET, "GET", "/b/k", [], headers)
    with pytest.raises(S3Error, match="SignatureDoesNotMatch"):
        sigv4.verify(signed, SECRET + "rotated", "GET", "/b/k", [], headers)
    rotated, rotated_headers = _request(SECRET + "rotated", amz_date)
    sigv4.verify(rotated, SECRET + "rotated", "GET", "/b/k", [], rotated_headers)
    with pytest.raises(S3Error, match="SignatureDoesNotMatch"):
        sigv4.verify(rotated, SECRET, "GET", "/b/k", [], rotated_headers)


def test_every_signature_byte_is_checked():
    signed, headers = _request(SECRET, _amz(time.time()))
    sigv4.verify(signed, SECRET, "GET", "/b/k", [], headers)
    for i in range(0, 64, 7):
        wrong = signed.signature[:i] + ("0" if signed.signature[i] != "0" else "1") + \
            signed.signature[i + 1:]
        bad = sigv4.SignedRequest(signed.credential, signed.amz_date, signed.signed_headers, wrong,
                                  signed.payload_hash, presigned=False)
        with pytest.raises(S3Error, match="SignatureDoesNotMatch"):
            sigv4.verify(bad, SECRET, "GET", "/b/k", [], headers)


def test_signature_mismatch_answer_still_names_the_canonical_request():
    signed, headers = _request(SECRET, _amz(time.time()))
    with pytest.raises(S3Error) as info:
        sigv4.verify(signed, "other", "GET", "/b/k", [], headers)
    assert info.value.fields["CanonicalRequest"] == sigv4.canonical_for(signed, "GET", "/b/k", [],
                                                                        headers)
    assert info.value.fields["StringToSign"].startswith(sigv4.ALGORITHM + "\n")


@pytest.mark.parametrize("key, ok", [("k" * 1024, True), ("k" * 1025, False),
                                     ("\U0001F600" * 256, True), ("\U0001F600" * 257, False),
                                     ("é" * 512, True), ("é" * 513, False)])
def test_key_length_is_counted_in_utf8_bytes(key, ok):
    from urllib.parse import quote
    if ok:
        assert addressing.target("/b/" + quote(key), "h", "").key == key
        return
    with pytest.raises(S3Error) as info:
        addressing.target("/b/" + quote(key), "h", "")
    assert info.value.code == "KeyTooLongError"


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_plain_and_encoded_paths_name_the_same_key(key):
    from urllib.parse import quote
    if not key or "\x00" in key:
        return
    plain = "/b/" + quote(key, safe="/!$&'()*+,;=:@-._~")
    assert addressing.target(plain, "h", "") == addressing.target("/b/" + quote(key, safe=""),
                                                                   "h", "")


@pytest.mark.parametrize("method", ["GET", "HEAD", "DELETE"])
def test_empty_body_plan_is_the_general_rules_answer(method):
    headers = {"x-amz-content-sha256": sigv4.EMPTY_SHA256}
    plan = payload.check_request(method, headers, {}, True)
    general = payload._bodiless_plan(sigv4.EMPTY_SHA256, False, None, None, None, False, None)
    assert plan == general
    # anything else the general rules look at still goes through them
    assert payload.check_request(method, {**headers, "content-length": "0"}, {}, True) \
        .content_length == 0
    with pytest.raises(S3Error, match="InvalidDigest"):
        payload.check_request(method, {**headers, "content-md5": "x"}, {}, True)
    with pytest.raises(S3Error, match="InvalidArgument"):
        payload.check_request(method, {**headers, "content-length": "x"}, {}, True)


class _Result:
    def __init__(self, headers, backend, status=200):
        self.headers, self.backend_headers, self.status = CIMultiDict(headers), \
            CIMultiDict(backend), status


def _s3(headers=None, query=None, principal=True):
    return SimpleNamespace(headers=headers or {}, query=query or {},
                           principal=object() if principal else None)


def test_answer_headers_from_one_pass():
    result = _Result([("Content-Type", "text/plain"), ("Etag", "abc"), ("Content-Length", "3"),
                      ("X-Object-Meta-Color", "blue"), ("X-Delete-At", "1900000000"),
                      ("X-Timestamp", "1795294632.02021"), ("X-Trans-Id", "tx1")],
                     [("X-Timestamp", "1795294632.02021"),
                      (objects.CHECKSUM, "crc32:2lE/Rw=="),
                      (objects.TAGGING, '[["a", "1"], ["b", "2"]]')])
    out = objects.answer_headers(_s3({"x-amz-checksum-mode": "enabled"}), result, None)
    assert out["ETag"] == '"abc"' and out["Content-Type"] == "text/plain"
    assert out["x-amz-meta-color"] == "blue" and out["Accept-Ranges"] == "bytes"
    assert out["Last-Modified"].endswith("GMT")  # from X-Timestamp: the node sent none
    assert out["x-amz-checksum-crc32"] == "2lE/Rw==" and out["x-amz-tagging-count"] == "2"
    assert out["x-amz-expiration"].startswith('expiry-date="') and "X-Trans-Id" not in out
    assert "x-amz-server-side-encryption" not in out


def test_answer_headers_name_sse_only_when_stored():
    plain = objects.answer_headers(_s3(), _Result([("Etag", "e")], []), None)
    assert not any(k.lower().startswith("x-amz-server-side") for k in plain)
    sse = objects.answer_headers(_s3(), _Result([("Etag", "e")],
                                                [("X-Object-Sysmeta-S3-Sse", "AES256")]), None)
    assert sse["x-amz-server-side-encryption"] == "AES256"
    ssec = objects.answer_headers(
        _s3({"x-amz-server-side-encryption-customer-key-md5": "bWQ1"}),
        _Result([("Etag", "e")], [("X-Object-Sysmeta-S3-Ssec-Hmac", "s:h")]), None)
    assert ssec["x-amz-server-side-encryption-customer-algorithm"] == "AES256"
    assert ssec["x-amz-server-side-encryption-customer-key-MD5"] == "bWQ1"


def test_answer_headers_delete_at_from_the_backend_when_the_answer_lacks_it():
    out = objects.answer_headers(_s3(), _Result([("Etag", "e")], [("X-Delete-At", "1900000000")]),
                                 None)
    assert 'rule-id="swift-object-expiration"' in out["x-amz-expiration"]


@pytest.mark.parametrize("cls", ["S3Request", "SignedRequest", "Plan"])
def test_hand_written_inits_set_every_field_and_stay_frozen(cls):
    import dataclasses
    import inspect

    from proxy.s3 import context
    klass = getattr(context, cls, None) or getattr(sigv4, cls, None) or getattr(payload, cls)
    params = list(inspect.signature(klass.__init__).parameters)[1:]
    assert params == [f.name for f in dataclasses.fields(klass)]  # a new field needs __init__ too
    values = [object() for _ in params]
    made = klass(*values)
    assert [getattr(made, p) for p in params] == values
    assert made == klass(*values) and dataclasses.replace(made) == made
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(made, params[0], None)
    if cls == "SignedRequest":
        assert klass(*values[:-1]).expires is None
    if cls == "Plan":  # the defaults are the declared ones
        assert klass("m") == klass("m", **{f.name: f.default for f in dataclasses.fields(klass)
                                            if f.name != "mode"})
