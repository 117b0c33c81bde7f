"""The proxy's side of the PUT footer (proxy/backend.py put_stream, strato/put_footer.py) against
three real storage-node apps on loopback (in process, so each node can record the PUT heads it
gets) and a real ring: the footer goes only to nodes whose last object answer advertised it,
put_footer=False never sends it, and a client ETag that does not match leaves nothing anywhere.
"""
import asyncio
import hashlib
import os

import pytest
from aiohttp import web

from nodeapps import ring_of, start_node_apps  # tests/nodeapps.py
from proxy.backend import Backend, node_session
from proxy.errors import SwiftError
from proxy.nodes import ErrorLimiter
from strato import put_footer
from strato.timestamps import Timestamp

pytestmark = pytest.mark.timeout(60)
etags_seen = []  # the ETag header of every footer PUT the nodes got


async def _cluster(tmp_path):
    """Three nodes (one device each), each recording whether a PUT carried the footer header."""
    seen = [[] for _ in range(3)]

    def recorder(i):
        @web.middleware
        async def record(request, handler):
            if request.method == "PUT":
                seen[i].append(request.headers.get(put_footer.HEADER))
                if put_footer.HEADER in request.headers:
                    etags_seen.append(request.headers.get("ETag"))
            return await handler(request)
        return record

    servers = await start_node_apps(tmp_path, middleware=recorder)
    return ring_of(server.port for server, _ in servers), servers, seen


def _files(root):
    return sorted(os.path.join(d, f) for d, _, files in os.walk(root) for f in files
                  if "/objects/" in d or "/tmp" in d)


async def _put_pieces(backend, ring, name, body, pieces):
    """put_stream of `body` (with its Content-Length) from the async iterator `pieces`."""
    headers = {"X-Timestamp": Timestamp.now().internal, "Content-Type": "a/b",
               "Content-Length": str(len(body)), "X-Backend-Storage-Policy-Index": "0"}
    answers, _ = await backend.put_stream(ring, "AUTH_a", "c", name, lambda i: dict(headers),
                                          pieces, len(body))
    return answers


async def _put(backend, ring, name, body, etag=None, chunked=False):
    headers = {"X-Timestamp": Timestamp.now().internal, "Content-Type": "a/b",
               "X-Backend-Storage-Policy-Index": "0"}
    if etag:
        headers["ETag"] = etag
    if not chunked:
        headers["Content-Length"] = str(len(body))

    async def pieces():
        for i in range(0, len(body), 65536):
            yield body[i:i + 65536]

    answers, _ = await backend.put_stream(ring, "AUTH_a", "c", name, lambda i: dict(headers),
                                          pieces(), None if chunked else len(body))
    return answers


@pytest.fixture
async def setup(tmp_path):
    ring, servers, seen = await _cluster(tmp_path)
    session = node_session()
    yield ring, servers, seen, session
    await session.close()
    for server, _ in servers:
        await server.close()


async def test_footer_only_after_a_node_advertised_it(setup):
    ring, servers, seen, session = setup
    backend = Backend(session, ErrorLimiter(10, 1.0), 0.5, 5.0)
    etags_seen.clear()
    body = os.urandom(300_001)
    first = await _put(backend, ring, "o1", body)
    assert [a.status for a in first] == [201] * 3
    assert [h for heads in seen for h in heads] == [None] * 3  # unknown nodes: the old form
    assert set(backend.footer_nodes.values()) == {True}  # learned from those answers
    for chunked in (False, True):
        answers = await _put(backend, ring, f"o-{chunked}", body, chunked=chunked)
        assert [a.status for a in answers] == [201] * 3
        assert {a.headers["ETag"] for a in answers} == {hashlib.md5(body).hexdigest()}
    assert [heads[1:] for heads in seen] == [[put_footer.VERSION] * 2] * 3
    assert etags_seen == [put_footer.ETAG_SENTINEL] * 6  # what makes an old node refuse it
    # every replica holds exactly the body (a footer taken for data would show here)
    for server, _ in servers:
        for name in ("o-False", "o-True"):
            async with session.get(f"http://127.0.0.1:{server.port}/object/d0/"
                                   f"{ring.get_nodes('AUTH_a', 'c', name)[0]}/AUTH_a/c/{name}",
                                   headers={"X-Backend-Storage-Policy-Index": "0"}) as resp:
                assert resp.status == 200 and await resp.read() == body
                assert resp.headers["ETag"] == hashlib.md5(body).hexdigest()


async def test_put_footer_false_never_sends_it(setup):
    ring, _, seen, session = setup
    backend = Backend(session, ErrorLimiter(10, 1.0), 0.5, 5.0, put_footer=False)
    for name in ("a", "b"):
        answers = await _put(backend, ring, name, b"x" * 1000)
        assert [a.status for a in answers] == [201] * 3
    assert [h for heads in seen for h in heads] == [None] * 6


async def test_a_node_that_stops_advertising_gets_the_old_form(setup):
    ring, _, seen, session = setup
    backend = Backend(session, ErrorLimiter(10, 1.0), 0.5, 5.0)
    await _put(backend, ring, "warm", b"w")
    node = ring.get_nodes("AUTH_a", "c", "x")[1][0]
    backend.footer_nodes[(node.ip, node.port)] = False  # as after an answer without the header
    await _put(backend, ring, "x", b"abc")
    footers = [heads[-1] for heads in seen]
    assert sorted(footers, key=str) == [None, put_footer.VERSION, put_footer.VERSION]


@pytest.mark.parametrize("chunked", [False, True])
async def test_client_etag_mismatch_422_and_nothing_on_any_node(setup, chunked):
    ring, servers, seen, session = setup
    backend = Backend(session, ErrorLimiter(10, 1.0), 0.5, 5.0)
    await _put(backend, ring, "warm", b"w")
    assert list(backend.footer_nodes.values()) == [True] * 3  # the next PUT takes the footer path
    before = [_files(root) for _, root in servers]
    body = os.urandom(200_000)
    with pytest.raises(SwiftError) as err:
        await _put(backend, ring, "bad", body, etag='"' + "0" * 32 + '"', chunked=chunked)
    assert err.value.status == 422
    for _ in range(50):  # the nodes see their connections cut: give them a moment to clean up
        if [_files(root) for _, root in servers] == before:
            break
        await asyncio.sleep(0.1)
    assert [_files(root) for _, root in servers] == before
    good = await _put(backend, ring, "good", body, etag=hashlib.md5(body).hexdigest().upper())
    assert [a.status for a in good] == [201] * 3


async def test_a_failed_body_leaves_nothing_in_the_md5_pool(setup):
    """The footer's MD5 goes through the loop's md5lanes pool, which keeps a PUT's pieces until
    a digest is asked: a body that fails midway must take its pieces out (the pool would keep
    them, up to 1 MiB a PUT, and hash them with the next PUT's batch)."""
    from native import md5lanes
    ring, servers, _, session = setup
    backend = Backend(session, ErrorLimiter(10, 1.0), 0.5, 5.0)
    await _put(backend, ring, "warm", b"w")
    before = [_files(root) for _, root in servers]
    headers = {"X-Timestamp": Timestamp.now().internal, "Content-Type": "a/b",
               "Content-Length": str(10 * 65536), "X-Backend-Storage-Policy-Index": "0"}

    async def failing():
        for _ in range(3):
            yield os.urandom(65536)
        raise ConnectionResetError("client went away")

    with pytest.raises(SwiftError) as err:
        await backend.put_stream(ring, "AUTH_a", "c", "cut", lambda i: dict(headers), failing(),
                                 10 * 65536)
    assert err.value.status == 499
    assert md5lanes.pool().held == 0
    # nor stays open at the MD5 gate, where every later large PUT would wait for it
    assert backend.md5_gate.open_count == 0
    for _ in range(50):
        if [_files(root) for _, root in servers] == before:
            break
        await asyncio.sleep(0.1)
    assert [_files(root) for _, root in servers] == before


async def test_concurrent_bodies_share_one_md5_batch(setup):
    """Two PUTs whose bodies end together: the first waits for the second (proxy/md5gate.py)
    before it asks for its MD5, so the second's last piece joins the pool and one md5lanes batch
    hashes both (asked at once, the first's batch would take the second's earlier pieces and the
    second would need a batch of its own: 2 batches, 3 streams)."""
    from native import md5lanes
    if not md5lanes.is_wide():
        pytest.skip("no md5lanes wide kernel here (pure twin, or a CPU without AVX-512)")
    ring, _, _, session = setup
    backend = Backend(session, ErrorLimiter(10, 1.0), 0.5, 5.0)
    await _put(backend, ring, "warm", b"w")
    pool = md5lanes.pool()
    bodies = [os.urandom(300_000), os.urandom(300_000)]
    at_last_piece, both_there = [], asyncio.Event()

    async def pieces(body):
        last = len(body) - 65536
        for i in range(0, last, 65536):
            yield body[i:min(i + 65536, last)]
        at_last_piece.append(1)  # both bodies end in the same turn of the loop
        if len(at_last_piece) == 2:
            both_there.set()
        await both_there.wait()
        yield body[last:]

    batches, streams = pool.batches, pool.batch_streams
    answers = await asyncio.gather(*(_put_pieces(backend, ring, f"pair{i}", body, pieces(body))
                                     for i, body in enumerate(bodies)))
    for body, replies in zip(bodies, answers):
        assert {a.headers["ETag"] for a in replies} == {hashlib.md5(body).hexdigest()}
    assert (pool.batches - batches, pool.batch_streams - streams) == (1, 2)


async def test_a_whole_body_waits_for_an_open_put_and_shares_its_batch(setup):
    """A body that is in whole before the other open PUT's body has started (an S3 client's
    body right after its 100 Continue, the other client still waiting for its own) waits at the
    gate (proxy/md5gate.py) instead of asking for its MD5 alone: one batch hashes both (a turn
    of the loop alone gave 2 batches)."""
    from native import md5lanes
    from proxy.md5gate import Md5Gate
    if not md5lanes.is_wide():
        pytest.skip("no md5lanes wide kernel here (pure twin, or a CPU without AVX-512)")
    ring, _, _, session = setup
    backend = Backend(session, ErrorLimiter(10, 1.0), 0.5, 5.0)
    backend.md5_gate = Md5Gate(wait=5.0)  # a slow CI box must not hit the 10 ms bound
    await _put(backend, ring, "warm", b"w")
    pool = md5lanes.pool()
    first, second = os.urandom(300_000), os.urandom(300_000)
    second_open, first_done = asyncio.Event(), asyncio.Event()

    async def whole(body):
        await second_open.wait()
        for i in range(0, len(body), 65536):
            yield body[i:i + 65536]
        first_done.set()  # put_stream asks for the next piece: the body is in

    async def after_the_first(body):
        second_open.set()  # put_stream has opened this body at the gate by now
        await first_done.wait()
        for i in range(0, len(body), 65536):
            yield body[i:i + 65536]
            await asyncio.sleep(0)  # arriving over several reads, as bodies do

    batches, streams = pool.batches, pool.batch_streams
    answers = await asyncio.gather(_put_pieces(backend, ring, "whole", first, whole(first)),
                                   _put_pieces(backend, ring, "after", second,
                                               after_the_first(second)))
    for body, replies in zip((first, second), answers):
        assert {a.headers["ETag"] for a in replies} == {hashlib.md5(body).hexdigest()}
    assert (pool.batches - batches, pool.batch_streams - streams) == (1, 2)
    assert backend.md5_gate.open_count == 0


@pytest.mark.parametrize("stream", [False, True])
async def test_a_node_that_fails_is_asked_again_before_the_next_footer_put(stream):
    """A node that could not be reached may come back as another release: the proxy forgets that
    it advertised the footer (pooled requests and aiohttp-streamed GETs alike)."""
    import socket
    from types import SimpleNamespace

    from yarl import URL

    from proxy.quorum import FAILED
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    node = SimpleNamespace(ip="127.0.0.1", port=port, device="d0")
    session = node_session()
    backend = Backend(session, ErrorLimiter(10, 1.0), 0.5, 5.0)
    try:
        backend.footer_nodes[(node.ip, node.port)] = True
        assert backend.footer_ok(node)
        resp = await backend.call(node, "GET", URL(f"http://127.0.0.1:{port}/object/d0/1/a/c/o"),
                                  {}, stream=stream)
        assert resp.status == FAILED
        assert not backend.footer_ok(node)
    finally:
        await session.close()
