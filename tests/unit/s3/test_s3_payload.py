"""Body checks: botocore's own aws-chunked bodies, signed chunk chains, hashes, and every mismatch."""
import base64
import hashlib
import io
import zlib

import pytest
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum, CrtCrc32cChecksum

from proxy.s3 import sigv4
from proxy.s3.errors import S3Error
from proxy.s3.payload import PayloadVerifier, check_request

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SIGNED = sigv4.SignedRequest(sigv4.Credential("AK", "20130524", "us-east-1", "s3"), "20130524T000000Z",
                             ("host",), "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
                             sigv4.STREAMING_SIGNED, presigned=False)
KEY = sigv4.signing_key(SECRET, "20130524", "us-east-1", "s3")


def _verifier(headers, signed, key):
    """A PUT body's verifier: the header checks first (they raise), then the body checks. Bodies
    with x-amz-content-sha256 come with SigV4 headers (the only auth that can stream)."""
    v4_header = "x-amz-content-sha256" in headers
    return PayloadVerifier(check_request("PUT", headers, {}, v4_header), signed, key)


def run(verifier, body, step=1000):
    out = []
    for i in range(0, len(body), step):
        out += verifier.feed(body[i:i + step])
    verifier.finish(len(body))
    return b"".join(out)


def botocore_chunked(data, checksum_cls=Crc32Checksum, name="x-amz-checksum-crc32"):
    return AwsChunkedWrapper(io.BytesIO(data), checksum_cls=checksum_cls, checksum_name=name,
                             chunk_size=3000).read()


def trailer_headers(data, name="x-amz-checksum-crc32"):
    return {"x-amz-content-sha256": sigv4.STREAMING_UNSIGNED_TRAILER, "x-amz-trailer": name,
            "x-amz-decoded-content-length": str(len(data)), "content-encoding": "aws-chunked"}


def test_unsigned_trailer_body_from_botocore():
    data = b"hello world " * 1000
    verifier = _verifier(trailer_headers(data), None, None)
    assert run(verifier, botocore_chunked(data)) == data
    assert verifier.checksum_algorithm == "crc32"
    assert verifier.checksum_value == base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def test_crc32c_trailer_from_botocore():
    pytest.importorskip("awscrt")
    data = b"x" * 10000
    body = botocore_chunked(data, CrtCrc32cChecksum, "x-amz-checksum-crc32c")
    verifier = _verifier(trailer_headers(data, "x-amz-checksum-crc32c"), None, None)
    assert run(verifier, body) == data


def test_wrong_trailing_checksum_is_bad_digest():
    data = b"hello world " * 100
    good = botocore_chunked(data)
    # replace the 8-character base64 CRC32 at the end of the trailer line
    tampered = good[:-len(b"\r\n\r\n") - 8] + b"AAAAAA==\r\n\r\n"
    assert tampered != good
    verifier = _verifier(trailer_headers(data), None, None)
    with pytest.raises(S3Error) as info:
        run(verifier, tampered)
    assert info.value.code == "BadDigest"


def test_truncated_chunked_body_is_incomplete():
    data = b"abc" * 3000
    body = botocore_chunked(data)
    verifier = _verifier(trailer_headers(data), None, None)
    with pytest.raises(S3Error) as info:
        run(verifier, body[:-40])
    assert info.value.code == "IncompleteBody"


def signed_chunked(data, chunk=65536, tamper=False):
    previous, body = SIGNED.signature, b""
    pieces = [data[i:i + chunk] for i in range(0, len(data), chunk)] + [b""]
    for piece in pieces:
        sig = sigv4.chunk_signature(KEY, SIGNED.amz_date, SIGNED.credential.scope, previous,
                                    hashlib.sha256(piece).hexdigest())
        previous = sig
        if tamper and piece:
            piece = b"b" + piece[1:]
        body += b"%x;chunk-signature=%s\r\n" % (len(piece), sig.encode()) + piece + \
            (b"\r\n" if piece else b"")
    return body + b"\r\n"


def signed_headers(data):
    return {"x-amz-content-sha256": sigv4.STREAMING_SIGNED,
            "x-amz-decoded-content-length": str(len(data))}


def test_signed_chunk_chain_matches_aws_example():
    data = b"a" * (65536 + 1024)
    body = signed_chunked(data)
    assert b"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648" in body
    verifier = _verifier(signed_headers(data), SIGNED, KEY)
    assert run(verifier, body, step=777) == data


def test_tampered_signed_chunk_is_refused():
    data = b"a" * (65536 + 1024)
    verifier = _verifier(signed_headers(data), SIGNED, KEY)
    with pytest.raises(S3Error) as info:
        run(verifier, signed_chunked(data, tamper=True))
    assert info.value.code == "SignatureDoesNotMatch"


def test_plain_sha256_payload():
    data = b"payload"
    headers = {"x-amz-content-sha256": hashlib.sha256(data).hexdigest()}
    assert run(_verifier(headers, SIGNED, KEY), data) == data
    with pytest.raises(S3Error) as info:
        run(_verifier(headers, SIGNED, KEY), b"payloaX")
    assert info.value.code == "XAmzContentSHA256Mismatch"


def test_content_md5_and_header_checksum():
    data = b"some data"
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    headers = {"content-md5": md5, "x-amz-checksum-crc32": crc}
    verifier = _verifier(headers, None, None)
    assert run(verifier, data) == data and verifier.checksum_value == crc
    with pytest.raises(S3Error) as info:
        run(_verifier(headers, None, None), b"other data")
    assert info.value.code == "BadDigest"
    with pytest.raises(S3Error) as info:
        _verifier({"content-md5": "not base64!"}, None, None)
    assert info.value.code == "InvalidDigest"  # S3's code for a malformed Content-MD5


def test_short_plain_body_is_incomplete():
    verifier = _verifier({}, None, None)
    verifier.feed(b"abc")
    with pytest.raises(S3Error) as info:
        verifier.finish(10)
    assert info.value.code == "IncompleteBody"


def test_streaming_needs_decoded_length():
    with pytest.raises(S3Error) as info:
        _verifier({"x-amz-content-sha256": sigv4.STREAMING_UNSIGNED_TRAILER}, None, None)
    assert info.value.status == 411


def test_content_md5_handed_to_the_store_is_not_hashed_again():
    """md5_for_store(): the object PUT's own MD5 checks Content-MD5 (the hex ETag it compares
    with), so the verifier no longer hashes MD5 nor fails on it; every other check still runs."""
    body = b"x" * 5000
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    headers = {"content-md5": wrong, "content-length": str(len(body))}
    verifier = _verifier(headers, None, None)
    with pytest.raises(S3Error) as exc:  # kept: the verifier checks it itself
        run(verifier, body)
    assert exc.value.code == "BadDigest"

    verifier = _verifier(headers, None, None)
    assert verifier.md5_for_store() == hashlib.md5(b"other").hexdigest()
    assert verifier.md5_left_to_store
    assert run(verifier, body) == body  # the store will refuse it (422), not the verifier
    error = verifier.md5_mismatch()
    assert error.code == "BadDigest" and error.status == 400
    assert hashlib.md5(b"other").hexdigest() in error.to_xml("", "id").decode()

    sha = hashlib.sha256(body).hexdigest()
    verifier = _verifier({**headers, "x-amz-content-sha256": hashlib.sha256(b"y").hexdigest()},
                         None, None)
    verifier.md5_for_store()
    with pytest.raises(S3Error) as exc:  # the payload hash is still the verifier's
        run(verifier, body)
    assert exc.value.code == "XAmzContentSHA256Mismatch"
    verifier = _verifier({"content-length": "5000", "x-amz-content-sha256": sha}, None, None)
    assert verifier.md5_for_store() is None and not verifier.md5_left_to_store
