"""A PUT body goes to the nodes with its Content-Length, yet a body that fails a check never
replaces what is stored: the proxy holds its last bytes back until every check passed."""
import base64
import os
import zlib

import pytest

pytestmark = pytest.mark.timeout(60)


def _crc32(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def test_failed_overwrite_keeps_the_stored_object(raw, raw_bucket):
    path = f"/{raw_bucket}/keep"
    first = os.urandom(1000)
    assert raw("PUT", path, body=first).status_code == 200
    body = os.urandom(300 * 1024)  # several pieces: all but the last reach the nodes
    # Signed over another body's hash, sent with this one.
    url, headers = raw.signed("PUT", path, body=b"x" + body[1:])
    resp = raw.session.put(url, data=body, headers=headers)
    assert resp.status_code == 400 and "XAmzContentSHA256Mismatch" in resp.text
    # A checksum that does not match (the payload hash does).
    resp = raw("PUT", path, body=body, headers={"x-amz-checksum-crc32": _crc32(b"other")})
    assert resp.status_code == 400 and "BadDigest" in resp.text
    got = raw("GET", path)
    assert got.status_code == 200 and got.content == first


def test_puts_with_lengths_store_every_size(raw, raw_bucket):
    for size in (0, 1, 65536, 65537, 200 * 1024):
        body = os.urandom(size)
        resp = raw("PUT", f"/{raw_bucket}/s{size}", body=body,
                   headers={"x-amz-checksum-crc32": _crc32(body)})
        assert resp.status_code == 200, resp.text
        got = raw("GET", f"/{raw_bucket}/s{size}")
        assert got.status_code == 200 and got.content == body
        assert got.headers["Content-Length"] == str(size)
