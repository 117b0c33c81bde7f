"""Bad input gets S3's own XML errors: signatures, clock skew, payload hashes, truncated and
malformed bodies, oversized names, path tricks. Nothing bad is ever stored."""
import datetime as dt
import hashlib
import socket
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.timeout(60)


def code(resp) -> str:
    text = resp.text
    return text.split("<Code>", 1)[1].split("</Code>", 1)[0] if "<Code>" in text else ""


def test_signature_errors(raw, raw_bucket):
    resp = raw("GET", f"/{raw_bucket}", secret="wrong-secret")
    assert resp.status_code == 403 and code(resp) == "SignatureDoesNotMatch"
    url, headers = raw.signed("GET", f"/{raw_bucket}")
    headers["Authorization"] = headers["Authorization"].replace("Credential=", "Credential=x")
    resp = raw.session.get(url, headers=headers)
    assert resp.status_code == 403 and code(resp) == "InvalidAccessKeyId"
    url, headers = raw.signed("GET", f"/{raw_bucket}")
    headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=broken"
    resp = raw.session.get(url, headers=headers)
    assert resp.status_code == 400 and code(resp) == "AuthorizationHeaderMalformed"
    url, headers = raw.signed("GET", f"/{raw_bucket}?list-type=2")
    resp = raw.session.get(url.replace("list-type=2", "list-type=2&prefix=x"), headers=headers)
    assert code(resp) == "SignatureDoesNotMatch"


def test_clock_skew(raw, raw_bucket):
    old = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)).strftime("%Y%m%dT%H%M%SZ")
    url, headers = raw.signed("GET", f"/{raw_bucket}", headers={"X-Amz-Date": old})
    headers["X-Amz-Date"] = old
    resp = raw.session.get(url, headers=headers)
    assert resp.status_code == 403 and code(resp) in ("RequestTimeTooSkewed",
                                                      "SignatureDoesNotMatch")


def test_payload_hash_mismatch_stores_nothing(raw, raw_bucket):
    # Signed over another body's hash, then sent with this one.
    url, headers = raw.signed("PUT", f"/{raw_bucket}/k", body=b"other body")
    resp = raw.session.put(url, data=b"real body", headers=headers)
    assert resp.status_code == 400 and code(resp) == "XAmzContentSHA256Mismatch"
    assert raw("HEAD", f"/{raw_bucket}/k").status_code == 404


def test_truncated_body_stores_nothing(raw, raw_bucket):
    """A client that promises 1000 bytes and sends 10 then closes: no object appears."""
    body = b"0123456789"
    url, headers = raw.signed("PUT", f"/{raw_bucket}/trunc", body=body)
    headers["Content-Length"] = "1000"
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        head = f"PUT {parts.path} HTTP/1.1\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        sock.sendall(head.encode() + body)
        sock.shutdown(socket.SHUT_WR)
        sock.recv(65536)
    assert raw("HEAD", f"/{raw_bucket}/trunc").status_code == 404


def test_malformed_xml(raw, raw_bucket):
    for path, body in ((f"/{raw_bucket}?delete", b"<Delete><Object>"),
                       (f"/{raw_bucket}?tagging", b"<NotTagging/>"),
                       (f"/{raw_bucket}?cors", b'<!DOCTYPE x [<!ENTITY a "b">]><CORSConfiguration>'
                                               b"&a;</CORSConfiguration>")):
        method = "POST" if "delete" in path else "PUT"
        headers = {"Content-MD5": __import__("base64").b64encode(
            hashlib.md5(body).digest()).decode()}
        resp = raw(method, path, body=body, headers=headers)
        assert resp.status_code == 400 and code(resp) == "MalformedXML", (path, resp.text)


def test_names_and_paths(raw, raw_bucket):
    resp = raw("PUT", f"/{raw_bucket}/" + "k" * 1025, body=b"x")
    assert resp.status_code == 400 and code(resp) == "KeyTooLongError"
    resp = raw("PUT", "/Bad_Bucket")
    assert resp.status_code == 400 and code(resp) == "InvalidBucketName"
    resp = raw("GET", f"/{raw_bucket}/%00evil")
    assert resp.status_code == 400 and code(resp) == "InvalidURI"
    # An encoded slash or dot segments stay inside the key, never a way to another bucket.
    assert raw("PUT", f"/{raw_bucket}/a%2F..%2F..%2Fother", body=b"dots").status_code == 200
    keys = raw("GET", f"/{raw_bucket}?list-type=2").text
    assert "<Key>a/../../other</Key>" in keys
    resp = raw("DELETE", "/")
    assert resp.status_code == 405 and code(resp) == "MethodNotAllowed"
    resp = raw("GET", f"/{raw_bucket}?website")
    assert resp.status_code == 501 and code(resp) == "NotImplemented"
