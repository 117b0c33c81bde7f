"""A client that goes away in the middle of an S3 GET's body is what the Swift path makes of it: a
warning ("body aborted") and the connection dropped, not an error with a traceback per request
(an ERROR log line and a formatted traceback for every client that stops reading)."""
import glob
import os
import socket
import struct
import time
from urllib.parse import urlsplit

import boto3
import pytest

SIZE = 32 << 20  # more than loopback's socket buffers hold: the proxy is still sending


def _proxy_logs(aio) -> dict[str, int]:
    return {path: os.path.getsize(path)
            for path in glob.glob(os.path.join(aio["data_dir"], "logs", "proxy*.log"))}


def _new_lines(since: dict[str, int]) -> str:
    out = []
    for path, offset in since.items():
        with open(path, "rb") as f:
            f.seek(offset)
            out.append(f.read().decode(errors="replace"))
    return "".join(out)


@pytest.mark.timeout(120)
def test_a_client_gone_mid_body_is_a_warning_not_an_error(aio, raw, raw_bucket):
    s3 = aio["s3"]
    client = boto3.client("s3", endpoint_url=s3["endpoint"], region_name=s3["region"],
                          aws_access_key_id=s3["access_key"],
                          aws_secret_access_key=s3["secret_key"])
    bucket = raw_bucket
    client.put_object(Bucket=bucket, Key="big", Body=b"g" * SIZE)
    logs = _proxy_logs(aio)
    url, headers = raw.signed("GET", f"/{bucket}/big")
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port))
    headers.setdefault("Host", parts.netloc)
    head = f"GET {parts.path} HTTP/1.1\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    sock.sendall(head.encode())
    got = b""
    while b"\r\n\r\n" not in got:
        got += sock.recv(65536)
    assert got.startswith(b"HTTP/1.1 200")
    # gone with a reset, the body mostly unsent
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    deadline = time.monotonic() + 20
    while "body aborted" not in _new_lines(logs) and time.monotonic() < deadline:
        time.sleep(0.2)
    lines = _new_lines(logs)
    assert f"/{bucket}/big: body aborted" in lines
    assert "Traceback" not in lines and "Error handling request" not in lines
    assert client.get_object(Bucket=bucket, Key="big")["ContentLength"] == SIZE
    client.delete_object(Bucket=bucket, Key="big")
