"""benchmarks/s3/capture.py: the heads wrk replays are byte for byte what boto3 puts on the wire,
and Strato's own SigV4 verifier accepts them (and refuses them once corrupted)."""
from __future__ import annotations

import base64
import hashlib
import importlib.util
import pathlib
import zlib

import botocore.awsrequest
import pytest

from proxy.s3 import sigv4
from proxy.s3.errors import S3Error

ROOT = pathlib.Path(__file__).resolve().parents[3]
SPEC = importlib.util.spec_from_file_location("bench_s3_capture", ROOT / "benchmarks/s3/capture.py")
capture = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(capture)

ACCESS, SECRET = "AKBENCH", "secret/bench+key"
# Nothing is ever sent: capture stops boto3 at before-send (port 9 would refuse anyway).
ENDPOINT = "http://127.0.0.1:9"


class FakeSocket:
    """What botocore's connection writes, collected instead of sent (the unit tier has no sockets)."""

    def __init__(self):
        self.data = b""

    def sendall(self, data):
        self.data += bytes(data)

    def settimeout(self, _):
        pass


@pytest.fixture
def client():
    return capture.s3_client(ENDPOINT, "us-east-1", ACCESS, SECRET)


def split_head(head: bytes):
    text = head.decode("latin-1")
    assert text.endswith("\r\n\r\n")
    request_line, *lines = text[:-4].split("\r\n")
    method, target, version = request_line.split(" ")
    headers = {}
    for line in lines:
        name, _, value = line.partition(": ")
        headers[name.lower()] = value
    return method, target, version, headers


def verify(head: bytes) -> None:
    method, target, _, headers = split_head(head)
    signed = sigv4.parse(method, headers, [])
    sigv4.verify(signed, SECRET, method, target, [], headers)


def prepared(client, operation, **params):
    """The AWSPreparedRequest boto3 would send."""
    got = []

    def grab(request, **_):
        got.append(request)
        raise capture._Captured(request)
    client.meta.events.register_first("before-send.s3", grab)
    with pytest.raises(capture._Captured):
        getattr(client, operation)(**params)
    client.meta.events.unregister("before-send.s3", grab)
    return got[0]


def botocore_wire(req, monkeypatch) -> bytes:
    """Bytes botocore's own HTTP connection writes for `req` (head, then body)."""
    # With Expect: 100-continue botocore waits up to 1 s for the 100 on the socket; "no answer"
    # makes it send the body right away, which is all this test needs.
    monkeypatch.setattr(botocore.awsrequest.urllib3.util, "wait_for_read", lambda *a, **k: False)
    host, port = req.url.split("//")[1].split("/")[0].split(":")
    conn = botocore.awsrequest.AWSHTTPConnection(host, int(port))
    conn.sock = FakeSocket()
    path = "/" + req.url.split("//")[1].split("/", 1)[1]
    conn.request(req.method, path, body=req.body, headers=req.headers)
    return conn.sock.data


@pytest.mark.parametrize("operation", ["put_object", "get_object"])
def test_head_is_what_botocore_writes(client, operation, monkeypatch):
    params = {"Bucket": "bkt", "Key": "o7"}
    if operation == "put_object":
        params["Body"] = b"x" * 4096
    req = prepared(client, operation, **params)
    head = capture.wire_head(req.method, req.url, req.headers)
    body = req.body or b""
    if not isinstance(body, bytes):  # put_object's body is a file object, sent after the head
        body = body.read()
        req.body.seek(0)
    assert botocore_wire(req, monkeypatch) == head + body


def test_put_heads_are_signed_boto3_requests(client):
    body = bytes(range(256)) * 16
    heads = capture.capture(client, "bkt", "PUT", 3, body)
    assert len(heads) == 3
    for i, head in enumerate(heads):
        method, target, version, headers = split_head(head)
        assert (method, target, version) == ("PUT", f"/bkt/o{i}", "HTTP/1.1")
        assert headers["host"] == "127.0.0.1:9"
        assert headers["content-length"] == "4096"
        assert headers["expect"] == "100-continue"
        # a signed payload: the proxy hashes the body and compares (boto3's default over http)
        assert headers["x-amz-content-sha256"] == hashlib.sha256(body).hexdigest()
        crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
        assert headers["x-amz-checksum-crc32"] == crc
        verify(head)


def test_get_heads_are_signed_boto3_requests(client):
    heads = capture.capture(client, "bkt", "GET", 2, b"")
    for i, head in enumerate(heads):
        method, target, _, headers = split_head(head)
        assert (method, target) == ("GET", f"/bkt/o{i}")
        assert headers["x-amz-checksum-mode"] == "ENABLED"
        assert "content-length" not in headers
        verify(head)


@pytest.mark.parametrize("method", ["PUT", "GET"])
def test_corrupted_signatures_are_refused(client, method):
    heads = capture.capture(client, "bkt", method, 2, b"abc" if method == "PUT" else b"")
    bad = capture.corrupt_signatures(heads)
    for good, broken in zip(heads, bad):
        assert len(good) == len(broken) and good != broken
        with pytest.raises(S3Error) as err:
            verify(broken)
        assert err.value.code == "SignatureDoesNotMatch"


def test_requests_cli_writes_heads_and_the_signed_body(tmp_path, monkeypatch):
    aio = tmp_path / "aio.json"
    aio.write_text('{"s3": {"endpoint": "%s", "region": "us-east-1", "access_key": "%s", '
                   '"secret_key": "%s"}}' % (ENDPOINT, ACCESS, SECRET))
    out = tmp_path / "req"
    capture.main(["requests", "--aio", str(aio), "--bucket", "b", "--method", "PUT",
                  "--size", "1000", "--count", "4", "--out", str(out)])
    body = (out / "body.bin").read_bytes()
    heads = (out / "heads.bin").read_bytes().split(b"\r\n\r\n")
    assert len(body) == 1000 and heads[-1] == b"" and len(heads) == 5
    for head in heads[:-1]:
        assert split_head(head + b"\r\n\r\n")[3]["x-amz-content-sha256"] == \
            hashlib.sha256(body).hexdigest()
    capture.main(["requests", "--aio", str(aio), "--bucket", "b", "--method", "PUT",
                  "--size", "1000", "--count", "1", "--out", str(out), "--corrupt", "body"])
    body = (out / "body.bin").read_bytes()
    head = (out / "heads.bin").read_bytes()
    # the head still verifies; the body no longer matches its signed SHA-256
    verify(head)
    assert split_head(head)[3]["x-amz-content-sha256"] != hashlib.sha256(body).hexdigest()
