"""check_request(): which body-header error S3 answers first, and what the Plan says to check.
Then PayloadVerifier on raw aws-chunked bodies, fed whole and one byte at a time (no sockets)."""
import base64
import hashlib
import zlib

import pytest

from proxy.s3 import sigv4
from proxy.s3.errors import S3Error
from proxy.s3.payload import PayloadVerifier, check_request, stored_content_encoding

BODY = b"0123456789abcdef" * 2
CRC = base64.b64encode(zlib.crc32(BODY).to_bytes(4, "big")).decode()
SHA = hashlib.sha256(BODY).hexdigest()


def refused(method, headers, v4_header=True, query=None):
    with pytest.raises(S3Error) as info:
        check_request(method, headers, query or {}, v4_header)
    return info.value


def test_payload_hash_is_checked_before_content_md5():
    err = refused("PUT", {"x-amz-content-sha256": "invalid", "content-md5": "invalid"})
    assert (err.code, err.fields["ArgumentValue"]) == ("InvalidArgument", "invalid")
    # Without SigV4 headers x-amz-content-sha256 is not required to be well formed (it is then
    # compared with the body), so the malformed Content-MD5 is what S3 reports.
    err = refused("PUT", {"x-amz-content-sha256": "invalid", "content-md5": "invalid"},
                  v4_header=False)
    assert err.code == "InvalidDigest"
    assert err.message == "The Content-MD5 you specified was invalid."


def test_sigv4_headers_require_a_payload_hash():
    err = refused("GET", {})
    assert err.message == "Missing required header for this request: x-amz-content-sha256"
    assert check_request("GET", {}, {}, False).mode is None


def test_streaming_without_sigv4_headers_is_a_hash_mismatch_or_too_short():
    headers = {"x-amz-content-sha256": sigv4.STREAMING_UNSIGNED_TRAILER,
               "x-amz-decoded-content-length": "10", "content-length": "20"}
    err = refused("PUT", headers, v4_header=False)
    assert err.code == "IncompleteBody"
    assert (err.fields["NumberBytesExpected"], err.fields["NumberBytesProvided"]) == (10, 20)
    headers["content-length"] = "5"
    verifier = PayloadVerifier(check_request("PUT", headers, {}, False))
    verifier.feed(b"abcde")
    with pytest.raises(S3Error) as info:
        verifier.finish(5)
    assert info.value.code == "XAmzContentSHA256Mismatch"
    assert info.value.fields["S3ComputedContentSHA256"] == hashlib.sha256(b"abcde").hexdigest()


@pytest.mark.parametrize("decoded, code, status", [(None, "MissingContentLength", 411),
                                                   ("x", "MissingContentLength", 411),
                                                   ("-1", "InvalidArgument", 400)])
def test_decoded_content_length(decoded, code, status):
    headers = {"x-amz-content-sha256": sigv4.STREAMING_SIGNED}
    if decoded is not None:
        headers["x-amz-decoded-content-length"] = decoded
    err = refused("PUT", headers)
    assert (err.code, err.status) == (code, status)


def test_checksums_are_checked_on_put_and_multi_delete_only():
    headers = {"x-amz-content-sha256": SHA, "x-amz-checksum-crc32": CRC}
    assert check_request("PUT", headers, {}, True).verify_checksum
    assert check_request("POST", headers, {"delete": ""}, True).verify_checksum
    assert not check_request("POST", headers, {"uploadId": "u"}, True).verify_checksum
    assert check_request("GET", {"x-amz-content-sha256": SHA, "x-amz-checksum-bad": "x"}, {},
                         True).algorithm is None


@pytest.mark.parametrize("extra, message", [
    ({"x-amz-checksum-crc32": CRC, "x-amz-checksum-sha1": "x"},
     "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."),
    ({"x-amz-trailer": "x-amz-checksum-crc32,x-amz-checksum-crc32c"},
     "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."),
    ({"x-amz-checksum-crc32": CRC, "x-amz-trailer": "x-amz-checksum-crc32"},
     "Expecting a single x-amz-checksum- header"),
    ({"x-amz-trailer": "x-amz-checksum-md5"},
     "The value specified in the x-amz-trailer header is not supported"),
    ({"x-amz-checksum-crc32": CRC, "x-amz-sdk-checksum-algorithm": "sha256"},
     "Value for x-amz-sdk-checksum-algorithm header is invalid."),
])
def test_checksum_header_rules(extra, message):
    headers = {"x-amz-content-sha256": sigv4.STREAMING_UNSIGNED_TRAILER,
               "x-amz-decoded-content-length": "32", **extra}
    err = refused("PUT", headers)
    assert (err.code, err.message) == ("InvalidRequest", message)


def test_checksum_types_and_algorithm_headers_are_not_checksums():
    headers = {"x-amz-content-sha256": SHA, "x-amz-checksum-type": "FULL_OBJECT",
               "x-amz-checksum-algorithm": "CRC32", "x-amz-checksum-crc32": CRC}
    assert check_request("PUT", headers, {}, True).algorithm == "crc32"


def test_content_encoding_to_store():
    streaming = {"x-amz-content-sha256": sigv4.STREAMING_SIGNED}
    assert stored_content_encoding({**streaming, "content-encoding": "aws-chunked"}) is None
    assert stored_content_encoding({**streaming, "content-encoding": "gzip,aws-chunked"}) == "gzip"
    assert stored_content_encoding({"content-encoding": "aws-chunked"}) == "aws-chunked"


def unsigned(trailer="x-amz-checksum-crc32"):
    headers = {"x-amz-content-sha256": sigv4.STREAMING_UNSIGNED_TRAILER,
               "x-amz-decoded-content-length": str(len(BODY))}
    if trailer:
        headers["x-amz-trailer"] = trailer
    return PayloadVerifier(check_request("PUT", headers, {}, True))


def run(verifier, body, step):
    out = []
    for i in range(0, len(body), step):
        out += verifier.feed(body[i:i + step])
    verifier.finish()
    return b"".join(out)


@pytest.mark.parametrize("step", [1, 7, 10000])
def test_trailer_to_end_of_body_then_garbage_ignored(step):
    body = b"%x\r\n%s\r\n0\r\nx-amz-checksum-crc32: %s\r\n" % (len(BODY), BODY, CRC.encode())
    verifier = unsigned()
    assert run(verifier, body, step) == BODY and verifier.checksum_value == CRC
    verifier = unsigned()
    assert run(verifier, body + b"\r\nwhatever\xff", step) == BODY


@pytest.mark.parametrize("step", [1, 10000])
@pytest.mark.parametrize("tail, code", [
    (b"bonus: trailer\r\n", "MalformedTrailerError"),
    (b"\r\n", "MalformedTrailerError"),
    (b"x-amz-checksum-crc32: AAAAAA==\r\n", "BadDigest"),
    (b"x-amz-checksum-crc32: nope\r\n", "InvalidRequest"),
    (b"x-amz-checksum-crc32: %s" % CRC.encode(), "IncompleteBody"),
])
def test_trailer_errors(step, tail, code):
    body = b"%x\r\n%s\r\n0\r\n" % (len(BODY), BODY) + tail
    with pytest.raises(S3Error) as info:
        run(unsigned(), body, step)
    assert info.value.code == code


def test_chunk_longer_than_announced():
    body = b"%x\r\n%s\r\n0\r\n\r\n" % (2 * len(BODY), BODY * 2)
    with pytest.raises(S3Error) as info:
        run(unsigned(None), body, 1000)
    assert info.value.fields == {"NumberBytesExpected": 32, "NumberBytesProvided": 64}


HALVES = b"the first half, " + b"and the second."


class _Content:
    """The request body reader verified_body reads (readany / read_nowait), recording reads."""

    def __init__(self, pieces, log):
        self._pieces, self._log = list(pieces), log

    async def readany(self):
        self._log.append("read")
        return self._pieces.pop(0) if self._pieces else b""

    def read_nowait(self):
        return b""


async def _verified_pieces(body, sha):
    from types import SimpleNamespace

    from proxy.s3.body import verified_body
    log = []
    halves = [body[:len(body) // 2], body[len(body) // 2:]]
    headers = {"x-amz-content-sha256": sha, "content-length": str(len(body))}
    verifier = PayloadVerifier(check_request("PUT", headers, {}, True))
    s3 = SimpleNamespace(request=SimpleNamespace(content=_Content(halves, log)))
    try:
        async for piece in verified_body(s3, verifier):
            log.append(piece)
    except S3Error as exc:
        log.append(exc.code)
    return log, halves


async def test_verified_body_passes_each_piece_on_as_it_is_read():
    """No piece waits for the next read (put_stream holds back what must wait: the piece that
    completes Content-Length, a chunked body's terminating chunk; test_proxy_put_writes.py)."""
    log, (first, second) = await _verified_pieces(HALVES, hashlib.sha256(HALVES).hexdigest())
    assert log == ["read", first, "read", second, "read"]


async def test_verified_body_raises_after_the_last_piece_on_a_wrong_payload_hash():
    """A wrong x-amz-content-sha256 ends the source with an error after the last byte, never a
    normal end: the consumer must not let a node commit before the source has ended."""
    log, (first, second) = await _verified_pieces(HALVES, hashlib.sha256(b"other").hexdigest())
    assert log[-1] == "XAmzContentSHA256Mismatch"
    assert log == ["read", first, "read", second, "read", "XAmzContentSHA256Mismatch"]


def _plain(sha, body=BODY, **extra):
    headers = {"x-amz-content-sha256": sha, "content-length": str(len(body)), **extra}
    verifier = PayloadVerifier(check_request("PUT", headers, {}, True))
    verifier.consume(body)
    return verifier


def test_a_signed_plain_payload_leaves_its_hash_to_the_store():
    """sha256_for_store(): the object PUT hashes the body (md5lanes, batched) and calls the check;
    finish() at the end of the body then checks the length only."""
    verifier = _plain(hashlib.sha256(b"other").hexdigest())
    check = verifier.sha256_for_store()
    assert check is not None
    verifier.finish(len(BODY))  # the payload hash is not checked here any more...
    with pytest.raises(S3Error) as info:
        check(SHA)  # ...but by the store, with the body's real hash
    assert info.value.code == "XAmzContentSHA256Mismatch"
    assert info.value.fields["S3ComputedContentSHA256"] == SHA
    right = _plain(SHA)
    right_check = right.sha256_for_store()
    right.finish(len(BODY))
    right_check(SHA)
    with pytest.raises(S3Error) as info:  # the length is still finish()'s
        _plain(SHA).finish(len(BODY) + 1)
    assert info.value.code == "IncompleteBody"


def test_the_stores_check_keeps_finishs_order():
    """Payload hash, then x-amz-checksum, then Content-MD5: a body wrong in all three reports the
    hash (S3's order, which Swift's s3api tests observe); right hash, wrong checksum: the checksum."""
    bad_crc = base64.b64encode(zlib.crc32(b"other").to_bytes(4, "big")).decode()
    bad_md5 = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    wrong = {"x-amz-checksum-crc32": bad_crc, "content-md5": bad_md5}
    verifier = _plain(hashlib.sha256(b"other").hexdigest(), **wrong)
    check = verifier.sha256_for_store()
    verifier.finish(len(BODY))
    with pytest.raises(S3Error) as info:
        check(SHA)
    assert info.value.code == "XAmzContentSHA256Mismatch"
    verifier = _plain(SHA, **wrong)
    check = verifier.sha256_for_store()
    verifier.finish(len(BODY))
    with pytest.raises(S3Error) as info:
        check(SHA)
    assert info.value.code == "BadDigest" and "CRC32" in info.value.message  # not Content-MD5's
    assert verifier.checksum_value is None
    verifier = _plain(SHA, **{"x-amz-checksum-crc32": CRC})
    check = verifier.sha256_for_store()
    verifier.finish(len(BODY))
    check(SHA)
    assert verifier.checksum_value == CRC  # known once the store's check ran


def test_payloads_the_store_does_not_hash():
    """Unsigned and aws-chunked payloads have no whole-body hash to hand over; a body already
    read whole (read_ahead_if_small) was verified by finish() itself."""
    assert _plain(sigv4.UNSIGNED_PAYLOAD).sha256_for_store() is None
    streaming = PayloadVerifier(check_request("PUT", {
        "x-amz-content-sha256": sigv4.STREAMING_UNSIGNED_TRAILER,
        "x-amz-decoded-content-length": "3", "content-encoding": "aws-chunked",
        "x-amz-trailer": "x-amz-checksum-crc32"}, {}, True))
    assert streaming.sha256_for_store() is None
    read_whole = _plain(SHA)
    read_whole.finish(len(BODY))
    assert read_whole.sha256_for_store() is None
