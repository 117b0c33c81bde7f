"""Malformed S3 bodies and body headers get exactly S3's answer (code, message, fields), over a
real socket: aws-chunked streams (signed and unsigned, with trailers), checksum and Content-MD5
headers, and what is stored when the body is fine. The rules are the ones AWS S3 shows to
OpenStack Swift's test/s3api/test_input_errors.py; requests are signed here by hand (SigV4 with
the x-amz-content-sha256 value as sent, then chunk signatures chained from the seed)."""
import base64
import datetime as dt
import hashlib
import hmac
import http.client
import types
import zlib
from urllib.parse import quote, urlsplit

import pytest
import requests

pytestmark = pytest.mark.timeout(60)

BODY = bytes(range(32))
STREAM_UNSIGNED = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
STREAM_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"


def _crc32(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def _md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


class Signer:
    """SigV4 header signing that keeps what chunk signatures chain from."""

    def __init__(self, aio):
        s3 = aio["s3"]
        self.endpoint, self.region = s3["endpoint"], s3["region"]
        self.access, self.secret = s3["access_key"], s3["secret_key"]
        self.host = self.endpoint.split("://", 1)[1]

    def sign(self, method, path, headers, query=""):
        now = dt.datetime.now(dt.timezone.utc)
        self.amz_date, date = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        headers = {k.lower(): v for k, v in headers.items()}
        headers.update({"host": self.host, "x-amz-date": self.amz_date})
        headers.setdefault("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
        names = sorted(headers)
        canonical = "\n".join([method, quote(path), query,
                               "".join(f"{n}:{headers[n].strip()}\n" for n in names),
                               ";".join(names), headers["x-amz-content-sha256"]])
        self.scope = f"{date}/{self.region}/s3/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", self.amz_date, self.scope,
                             hashlib.sha256(canonical.encode()).hexdigest()])
        key = ("AWS4" + self.secret).encode()
        for part in (date, self.region, "s3", "aws4_request"):
            key = _hmac(key, part)
        self.key = key
        self.signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={self.access}/{self.scope}, "
                                    f"SignedHeaders={';'.join(names)}, Signature={self.signature}")
        return headers

    def chunk_signature(self, previous, data: bytes) -> str:
        text = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", self.amz_date, self.scope, previous,
                          hashlib.sha256(b"").hexdigest(), hashlib.sha256(data).hexdigest()])
        return hmac.new(self.key, text.encode(), hashlib.sha256).hexdigest()

    def send(self, method, path, body=b"", headers=None, query=""):
        signed = self.sign(method, path, headers or {}, query)
        url = self.endpoint + quote(path) + (f"?{query}" if query else "")
        return requests.request(method, url, data=body, headers=signed, timeout=30)


@pytest.fixture(scope="module")
def signer(aio):
    return Signer(aio)


@pytest.fixture(scope="module")
def bucket(bucket_maker):
    with bucket_maker("rules") as name:
        yield name


def chunked(*chunks: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks + (b"",))


def unsigned_put(signer, bucket, body, trailer="x-amz-checksum-crc32", key="obj", **extra):
    headers = {"x-amz-content-sha256": STREAM_UNSIGNED, "content-encoding": "aws-chunked",
               "x-amz-decoded-content-length": str(len(BODY))}
    if trailer:
        headers["x-amz-trailer"] = trailer
    headers.update(extra)
    return signer.send("PUT", f"/{bucket}/{key}", body, headers)


def assert_error(resp, status, code, message=None, **fields):
    assert resp.status_code == status, resp.text
    assert f"<Code>{code}</Code>" in resp.text, resp.text
    if message is not None:
        assert f"<Message>{message}</Message>" in resp.text, resp.text
    for name, value in fields.items():
        assert f"<{name}>{value}</{name}>" in resp.text, resp.text


def test_trailer_may_end_the_body_and_the_last_duplicate_wins(signer, bucket):
    body = chunked(BODY)[:-2] + f"x-amz-checksum-crc32: {_crc32(BODY)}\r\n".encode()
    assert unsigned_put(signer, bucket, body).status_code == 200
    got = signer.send("GET", f"/{bucket}/obj")
    assert got.content == BODY and "Content-Encoding" not in got.headers
    lines = [f"x-amz-checksum-crc32: {_crc32(b'x')}", f"x-amz-checksum-crc32: {_crc32(BODY)}"]
    body = chunked(BODY)[:-2] + "".join(f"{line}\r\n" for line in lines).encode()
    assert unsigned_put(signer, bucket, body).status_code == 200
    body = chunked(BODY)[:-2] + "".join(f"{line}\r\n" for line in reversed(lines)).encode()
    assert_error(unsigned_put(signer, bucket, body), 400, "BadDigest",
                 "The CRC32 you specified did not match the calculated checksum.")


def test_what_follows_the_trailers_is_ignored(signer, bucket):
    body = chunked(BODY)[:-2] + f"x-amz-checksum-crc32:{_crc32(BODY)}\r\n\r\n".encode() + \
        b"bonus: trailer\r\n\xff\xde"
    assert unsigned_put(signer, bucket, body).status_code == 200
    # Without a declared trailer only one empty line may follow the last chunk.
    assert unsigned_put(signer, bucket, chunked(BODY)[:-2], trailer=None).status_code == 200
    assert_error(unsigned_put(signer, bucket, chunked(BODY)[:-2] + b"x-amz-meta-a: b\r\n\r\n",
                              trailer=None), 400, "IncompleteBody",
                 "The request body terminated unexpectedly")


@pytest.mark.parametrize("trailers, declared", [
    ("x-amz-checksum-crc32: {crc}\r\nbonus: trailer\r\n", "x-amz-checksum-crc32"),
    ("x-amz-checksum-crc32: {crc}\r\n", "x-amz-checksum-crc32c"),
    ("", "x-amz-checksum-crc32"),
    ("\r\nx-amz-checksum-crc32: {crc}\r\n", "x-amz-checksum-crc32"),
])
def test_trailers_that_do_not_match_the_declaration(signer, bucket, trailers, declared):
    body = chunked(BODY)[:-2] + trailers.format(crc=_crc32(BODY)).encode()
    assert_error(unsigned_put(signer, bucket, body, trailer=declared), 400,
                 "MalformedTrailerError", "The request contained trailing data that was not "
                 "well-formed or did not conform to our published schema.")


def test_trailer_value_that_is_not_base64(signer, bucket):
    body = chunked(BODY)[:-2] + b"x-amz-checksum-crc32: not-base-64\r\n"
    resp = unsigned_put(signer, bucket, body)
    assert_error(resp, 400, "InvalidRequest",
                 "Value for x-amz-checksum-crc32 trailing header is invalid.")
    assert "not-base-64" not in resp.text


def test_declared_trailer_list(signer, bucket):
    body = chunked(BODY)[:-2] + f"x-amz-checksum-crc32: {_crc32(BODY)}\r\n".encode()
    assert unsigned_put(signer, bucket, body, trailer="x-amz-checksum-crc32,,").status_code == 200
    assert_error(unsigned_put(signer, bucket, body, trailer=", x-amz-checksum-crc32"), 400,
                 "InvalidRequest", "The value specified in the x-amz-trailer header is not "
                 "supported")


def test_decoded_length_disagrees_with_the_chunks(signer, bucket):
    resp = unsigned_put(signer, bucket, chunked(BODY[:4], b"", BODY[4:]), trailer=None)
    assert_error(resp, 400, "IncompleteBody", "You did not provide the number of bytes "
                 "specified by the Content-Length HTTP header", NumberBytesExpected=32,
                 NumberBytesProvided=4)
    resp = unsigned_put(signer, bucket, chunked(BODY * 2), trailer=None)
    assert_error(resp, 400, "IncompleteBody", NumberBytesExpected=32, NumberBytesProvided=64)
    resp = unsigned_put(signer, bucket, chunked(BODY), trailer=None,
                        **{"x-amz-decoded-content-length": "x"})
    assert_error(resp, 411, "MissingContentLength",
                 "You must provide the Content-Length HTTP header.")


def signed_stream(signer, bucket, pieces, header=b"%x;chunk-signature=%s", length=None,
                  absolute_form=False):
    headers = signer.sign("PUT", f"/{bucket}/signed", {
        "x-amz-content-sha256": STREAM_SIGNED, "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(length or sum(map(len, pieces)))})
    previous, body = signer.signature, b""
    for piece in list(pieces) + [b""]:
        sig = signer.chunk_signature(previous, piece)
        body += header % (len(piece), sig.encode()) + b"\r\n" + piece + b"\r\n"
        previous = sig
    if absolute_form:  # the whole URL as the request target (RFC 9112 3.2.2)
        return _absolute_form_put(f"{signer.endpoint}/{bucket}/signed", body, headers)
    return requests.put(f"{signer.endpoint}/{bucket}/signed", data=body, headers=headers,
                        timeout=30)


def _absolute_form_put(url, body, headers):
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("PUT", url, body, {k: v for k, v in headers.items() if k != "host"})
        resp = conn.getresponse()
        return types.SimpleNamespace(status_code=resp.status, text=resp.read().decode())
    finally:
        conn.close()


def test_signed_chunks_with_spaces_around_the_parameter(signer, bucket):
    resp = signed_stream(signer, bucket, [BODY], b"%x ; chunk-signature = %s ")
    assert resp.status_code == 200, resp.text
    assert signer.send("GET", f"/{bucket}/signed").content == BODY


def test_signed_chunk_with_another_parameter_first(signer, bucket):
    resp = signed_stream(signer, bucket, [BODY], b"%x;extra=param;chunk-signature=%s")
    assert_error(resp, 403, "SignatureDoesNotMatch", "The request signature we calculated does "
                 "not match the signature you provided. Check your key and signing method.")
    for field in ("AWSAccessKeyId", "SignatureProvided", "StringToSignBytes",
                  "CanonicalRequest", "CanonicalRequestBytes"):
        assert f"<{field}>" in resp.text
    assert "<StringToSign>AWS4-HMAC-SHA256-PAYLOAD\n" in resp.text
    resp = signed_stream(signer, bucket, [BODY], b"%x;chunk-signature=%s;extra=param")
    assert_error(resp, 400, "IncompleteBody", "The request body terminated unexpectedly")


def test_chunk_signature_mismatch_names_the_signed_path(signer, bucket):
    """The CanonicalRequest an answer shows is the one signed: for an absolute-form target,
    its path (not the scheme and authority the target started with)."""
    resp = signed_stream(signer, bucket, [BODY], b"%x;extra=param;chunk-signature=%s",
                         absolute_form=True)
    assert_error(resp, 403, "SignatureDoesNotMatch")
    assert f"<CanonicalRequest>PUT\n/{bucket}/signed\n" in resp.text, resp.text


def test_signed_chunks_under_8_kib(signer, bucket):
    resp = signed_stream(signer, bucket, [b"x" * 1024, b"y" * 4096, b"z" * 3072])
    assert_error(resp, 403, "InvalidChunkSizeError", "Only the last chunk is allowed to have a "
                 "size less than 8192 bytes", Chunk=2, BadChunkSize=1024)


@pytest.mark.parametrize("headers, code, message", [
    ({"x-amz-content-sha256": "unsigned-payload"}, "InvalidArgument",
     "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
     "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid "
     "sha256 value."),
    ({"content-md5": "invalid"}, "InvalidDigest", "The Content-MD5 you specified was invalid."),
    ({"x-amz-checksum-bad": _crc32(BODY)}, "InvalidRequest",
     "The algorithm type you specified in x-amz-checksum- header is invalid."),
    ({"x-amz-checksum-crc32": "y/Q5Jh=="}, "InvalidRequest",
     "Value for x-amz-checksum-crc32 header is invalid."),
    ({"x-amz-sdk-checksum-algorithm": "CRC32"}, "InvalidRequest",
     "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or "
     "x-amz-trailer headers were found."),
    ({"x-amz-trailer": "x-amz-checksum-crc32"}, "MalformedTrailerError", None),
    ({"x-amz-trailer": "x-amz-checksum-crc32", "x-amz-checksum-crc32": _crc32(BODY),
      "x-amz-content-sha256": STREAM_UNSIGNED, "x-amz-decoded-content-length": "32"},
     "InvalidRequest", "Expecting a single x-amz-checksum- header"),
])
def test_body_headers_refused_before_the_body(signer, bucket, headers, code, message):
    assert_error(signer.send("PUT", f"/{bucket}/refused", BODY, headers), 400, code, message)


def test_content_encoding_kept_unless_the_body_is_aws_chunked(signer, bucket):
    resp = signer.send("PUT", f"/{bucket}/enc", BODY, {"content-encoding": "aws-chunked"})
    assert resp.status_code == 200, resp.text
    assert signer.send("GET", f"/{bucket}/enc").headers.get("Content-Encoding") == "aws-chunked"
    body = chunked(BODY)
    resp = unsigned_put(signer, bucket, body, trailer=None, key="enc",
                        **{"content-encoding": "foo, aws-chunked, bar"})
    assert resp.status_code == 200, resp.text
    assert signer.send("GET", f"/{bucket}/enc").headers.get("Content-Encoding") == "foo, bar"


def test_multi_delete_needs_md5_or_a_checksum(signer, bucket):
    xml = b"<Delete><Object><Key>gone</Key></Object></Delete>"
    assert_error(signer.send("POST", f"/{bucket}", xml, query="delete="), 400, "InvalidRequest",
                 "Missing required header for this request: Content-MD5 OR x-amz-checksum-*")
    resp = signer.send("POST", f"/{bucket}", xml, {"x-amz-checksum-crc32": _crc32(xml)},
                       query="delete=")
    assert resp.status_code == 200, resp.text
    resp = signer.send("POST", f"/{bucket}", xml, {"content-md5": _md5(b"other")},
                       query="delete=")
    assert_error(resp, 400, "BadDigest", ExpectedDigest=_md5(b"other"))


def test_an_announced_oversized_xml_body_is_refused_before_it_arrives(signer, bucket):
    """An XML body whose Content-Length is past the limit is refused on that header alone: the
    client here sends only the headers of a 2 MiB tagging document and must get its answer
    (a server that waited for the body would time out)."""
    parts = urlsplit(signer.endpoint)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.putrequest("PUT", f"/{bucket}?tagging=", skip_host=True, skip_accept_encoding=True)
        for name, value in signer.sign("PUT", f"/{bucket}", {}, "tagging=").items():
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(2 * 1024 * 1024))
        conn.endheaders()
        resp = conn.getresponse()
        answer = types.SimpleNamespace(status_code=resp.status, text=resp.read().decode())
    finally:
        conn.close()
    assert_error(answer, 400, "MaxMessageLengthExceeded")
