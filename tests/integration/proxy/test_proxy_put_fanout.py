"""The proxy's PUT fan-out (proxy/backend.py _fan_out): one client body written to the three
replicas' connections. Real proxy and storage nodes on loopback (the proxy conftest's cluster).

What must hold: every replica stores exactly the client's bytes, whatever the client's framing
(Content-Length or chunked, odd piece sizes); a client that stops short of its Content-Length
leaves no object and no data file anywhere.
"""
import glob
import hashlib
import os
import socket
import time
import uuid

import pytest
from ring.hashing import hash_path

pytestmark = pytest.mark.timeout(120)


def _data_files(cluster, account, container, obj):
    digest = hash_path(account, container, obj, prefix="pp", suffix="ss")
    root = os.path.join(cluster.config.cluster.data_dir, "devices")
    return glob.glob(os.path.join(root, "*", "objects", "*", "*", digest, "*.data"))


def _pieces(body: bytes):
    sizes = (1, 4095, 70000, 1 << 20, 3, 200001)
    at, i = 0, 0
    while at < len(body):
        yield body[at:at + sizes[i % len(sizes)]]
        at += sizes[i % len(sizes)]
        i += 1


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_every_replica_gets_the_clients_bytes(cluster, swift, container, framing):
    body = os.urandom(3 * 1024 * 1024 + 4321)
    data = body if framing == "content-length" else _pieces(body)  # a generator: chunked
    resp = swift("PUT", f"/{container}/o", data=data)
    assert resp.status_code == 201, resp.text
    assert resp.headers["ETag"] == hashlib.md5(body).hexdigest()
    got = swift("GET", f"/{container}/o")
    assert got.status_code == 200 and got.content == body
    files = _data_files(cluster, "AUTH_test", container, "o")
    assert len(files) == 3
    # The file holds the body and its metadata; each replica's body is the client's.
    for path in files:
        with open(path, "rb") as f:
            assert body in f.read()


def test_a_client_stopping_short_leaves_nothing(cluster, swift, container):
    name = f"short-{uuid.uuid4().hex[:8]}"
    path = swift.url.split("://", 1)[1].split("/", 1)[1]
    sock = socket.create_connection(("127.0.0.1", cluster.proxy_port), timeout=30)
    sock.sendall((f"PUT /{path}/{container}/{name} HTTP/1.1\r\nHost: x\r\n"
                  f"X-Auth-Token: {swift.token}\r\nContent-Length: {4 << 20}\r\n\r\n").encode())
    sock.sendall(os.urandom(2 << 20))
    time.sleep(0.5)  # the replicas are streaming by now
    sock.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        assert swift("GET", f"/{container}/{name}").status_code == 404
        if not _data_files(cluster, "AUTH_test", container, name):
            break
        time.sleep(0.2)
    assert not _data_files(cluster, "AUTH_test", container, name)
