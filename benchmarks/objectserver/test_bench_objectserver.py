"""Storage-node hot paths over loopback HTTP: `make bench` (pytest-benchmark), or
`.venv/bin/python -m pytest benchmarks/objectserver --benchmark-enable`.

put_4k is a durable write (temp file, fsync, rename, directory fsync: the disk's fsync latency is
most of it); get_4k / head_4k are the per-request overhead of a read (the small body comes with the
metadata in one pread); container_row is one listing-row merge (LMDB group commit). Each request is
checked, so a broken path fails instead of timing an error answer.
"""
import itertools

import pytest

from strato.timestamps import Timestamp

BODY_4K = b"x" * 4096
BODY_1M = b"y" * (1 << 20)
_counter = itertools.count()


def _request(conn, method, path, body=None, headers=None, want=(200,)):
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    assert resp.status in want, (method, path, resp.status, data[:200])
    return data


def _put(conn, name, body):
    _request(conn, "PUT", f"/object/d0/1/a/c/{name}", body,
             {"X-Timestamp": Timestamp.now().internal, "Content-Type": "application/octet-stream",
              "Content-Length": str(len(body))}, want=(201,))


@pytest.fixture(scope="module")
def stored(node):
    conn = node.connection()
    _put(conn, "small", BODY_4K)
    _put(conn, "large", BODY_1M)
    _request(conn, "PUT", "/container/d1/1/a/c", headers={"X-Timestamp": Timestamp.now().internal},
             want=(201, 202))
    conn.close()


@pytest.mark.timeout(120)
def test_put_4k(benchmark, conn):
    benchmark.pedantic(lambda: _put(conn, f"p{next(_counter)}", BODY_4K), rounds=100, warmup_rounds=5)


@pytest.mark.timeout(120)
def test_overwrite_4k(benchmark, conn):
    benchmark.pedantic(lambda: _put(conn, "same", BODY_4K), rounds=100, warmup_rounds=5)


@pytest.mark.timeout(120)
def test_get_4k(benchmark, conn, stored):
    data = benchmark.pedantic(_request, (conn, "GET", "/object/d0/1/a/c/small"), rounds=500,
                              warmup_rounds=20)
    assert data == BODY_4K


@pytest.mark.timeout(120)
def test_head_4k(benchmark, conn, stored):
    benchmark.pedantic(_request, (conn, "HEAD", "/object/d0/1/a/c/small"), rounds=500,
                       warmup_rounds=20)


@pytest.mark.timeout(120)
def test_get_1m(benchmark, conn, stored):
    data = benchmark.pedantic(_request, (conn, "GET", "/object/d0/1/a/c/large"), rounds=50,
                              warmup_rounds=3)
    assert len(data) == len(BODY_1M)


@pytest.mark.timeout(120)
def test_put_1m(benchmark, conn):
    benchmark.pedantic(lambda: _put(conn, f"m{next(_counter)}", BODY_1M), rounds=30,
                       warmup_rounds=2)


@pytest.mark.timeout(120)
def test_container_row(benchmark, conn, stored):
    def row():
        _request(conn, "PUT", f"/container/d1/1/a/c/o{next(_counter)}",
                 headers={"X-Timestamp": Timestamp.now().internal, "X-Size": "4096",
                          "X-Content-Type": "text/plain", "X-Etag": "d41d8cd98f00b204e9800998ecf8427e"},
                 want=(201,))
    benchmark.pedantic(row, rounds=100, warmup_rounds=5)
