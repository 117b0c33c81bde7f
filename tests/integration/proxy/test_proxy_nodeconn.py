"""The proxy's own node client under Backend.put_stream (proxy/nodeconn.py), against hand-written
storage nodes on loopback whose answers each test scripts: kept-alive reuse, a node that closes an
idle connection, early answers, a node that stalls, chunked answers, malformed answers, a refused
connect (handoff) and a body source that raises. The real object server's side of the same path
is covered by test_proxy_put_footer_backend.py and test_proxy_put_fanout.py.
"""
import asyncio
import os
import time

import pytest

from proxy.backend import Backend, node_session
from proxy.nodes import ErrorLimiter
from proxy.quorum import FAILED
from ring.builder import RingBuilder
from ring.lookup import Ring

pytestmark = pytest.mark.timeout(60)

OK = b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\nEtag: e\r\n\r\n"
ANSWERS = {
    "ok": OK,
    "chunked": b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nEtag: e\r\n\r\n"
               b"5\r\nhello\r\n0\r\n\r\n",
    "bad_status": b"HTTP/1.1 2x1 Created\r\nContent-Length: 0\r\n\r\n",
    "bad_header": b"HTTP/1.1 201 Created\r\nBad Header\r\nContent-Length: 0\r\n\r\n",
    "truncated": b"HTTP/1.1 201 Created\r\nContent-Length: 10\r\n\r\nabc",
    # a listing far larger than a PUT answer may be (nodeconn.MAX_BODY), read whole by call()
    "big": b"HTTP/1.1 200 OK\r\nContent-Length: 3145728\r\n\r\n" + b"L" * 3145728,
    "head": b"HTTP/1.1 200 OK\r\nContent-Length: 3145728\r\nX-Object-Meta-A: b\r\n\r\n",
}


class ScriptNode:
    """A storage node that reads each PUT whole (Content-Length or chunked) and answers as its
    `mode` says; it records connections, request bodies and connections it saw closed."""

    def __init__(self):
        self.mode = "ok"
        self.idle_close = None  # seconds after which an idle connection is closed by the node
        self.connections = 0
        self.drained = 0  # body bytes an "early" node read after answering
        self.bodies: list[bytes] = []
        self.server = None
        self.port = 0

    async def start(self):
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self):
        self.server.close()

    async def _serve(self, reader, writer):
        self.connections += 1
        try:
            while True:
                if self.idle_close is None:
                    head = await reader.readuntil(b"\r\n\r\n")
                else:
                    try:
                        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"),
                                                      self.idle_close)
                    except asyncio.TimeoutError:
                        return  # as a node's keep-alive timeout
                mode = self.mode
                if mode == "early":  # refuses at once, then drains what still comes
                    writer.write(b"HTTP/1.1 507 Insufficient Storage\r\nContent-Length: 0\r\n\r\n")
                    while data := await reader.read(65536):
                        self.drained += len(data)
                    return
                self.bodies.append(await _read_body(reader, head))
                if mode == "stall":
                    await asyncio.sleep(3600)
                if mode == "slow":  # each half of the answer within node_timeout (0.5 s)
                    await asyncio.sleep(0.3)
                    writer.write(OK[:20])
                    await asyncio.sleep(0.3)
                    writer.write(OK[20:])
                    continue
                writer.write(ANSWERS[mode])
                await writer.drain()
                if mode == "truncated":
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def _read_body(reader, head: bytes) -> bytes:
    lower = head.lower()
    if b"transfer-encoding: chunked" in lower:
        out = b""
        while True:
            size = int((await reader.readuntil(b"\r\n"))[:-2], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                return out
            out += await reader.readexactly(size)
            assert await reader.readexactly(2) == b"\r\n"
    if b"content-length: " not in lower:
        return b""  # a bodiless GET, HEAD or DELETE
    length = int(lower.split(b"content-length: ", 1)[1].split(b"\r\n", 1)[0])
    return await reader.readexactly(length)


@pytest.fixture
async def cluster():
    """Four scripted nodes (three replicas and one handoff per partition) and a Backend."""
    nodes = [ScriptNode() for _ in range(4)]
    for node in nodes:
        await node.start()
    builder = RingBuilder(2, 3)
    for i, node in enumerate(nodes):
        builder.add_device(1, i, "127.0.0.1", node.port, "d0", 1.0)
    builder.rebalance()
    ring = Ring.from_builder(builder)
    session = node_session()
    limiter = ErrorLimiter(10, 60.0)
    backend = Backend(session, limiter, 0.5, 0.5, put_footer=False)
    by_port = {node.port: node for node in nodes}
    yield ring, backend, by_port, limiter
    backend.close()
    await session.close()
    for node in nodes:
        await node.stop()


async def _put(backend, ring, name, body, chunked=False, piece=65536, fail_after=None,
               pause_after_first=0.0):
    headers = {"X-Timestamp": "1.00000", "Content-Type": "a/b"}
    if not chunked:
        headers["Content-Length"] = str(len(body))

    async def pieces():
        for i in range(0, len(body), piece):
            if fail_after is not None and i >= fail_after:
                raise ValueError("the source broke")
            yield body[i:i + piece]
            if i == 0 and pause_after_first:
                await asyncio.sleep(pause_after_first)  # an early answer lands meanwhile

    answers, replicas = await backend.put_stream(ring, "AUTH_a", "c", name, lambda i: dict(headers),
                                                 pieces(), None if chunked else len(body))
    assert replicas == 3
    return answers


def _primaries(ring, by_port, name):
    return [by_port[dev.port] for dev in ring.get_nodes("AUTH_a", "c", name)[1]]


async def test_one_connection_serves_sequential_puts(cluster):
    ring, backend, by_port, _ = cluster
    body = os.urandom(4096)
    for chunked in (False, True, False):
        answers = await _put(backend, ring, "o", body, chunked=chunked)
        assert [a.status for a in answers] == [201] * 3
        assert {a.headers["ETAG"] for a in answers} == {"e"}  # case-insensitive names
    for node in _primaries(ring, by_port, "o"):
        assert node.connections == 1 and node.bodies == [body] * 3
    empty = await _put(backend, ring, "o", b"")
    assert [a.status for a in empty] == [201] * 3  # a zero-byte PUT still sends its head
    assert [n.bodies[-1] for n in _primaries(ring, by_port, "o")] == [b""] * 3


async def test_a_node_that_closed_an_idle_connection_does_not_fail_the_next_put(cluster):
    ring, backend, by_port, _ = cluster
    for node in by_port.values():
        node.idle_close = 0.1
    for _ in range(3):
        answers = await _put(backend, ring, "o", b"x" * 4096)
        assert [a.status for a in answers] == [201] * 3
        await asyncio.sleep(0.3)  # every node closes its side meanwhile
    assert [n.connections for n in _primaries(ring, by_port, "o")] == [3] * 3


async def test_an_early_answer_stops_the_body_and_drops_the_connection(cluster):
    ring, backend, by_port, limiter = cluster
    primaries = _primaries(ring, by_port, "o")
    primaries[0].mode = "early"
    body = os.urandom(1 << 20)
    answers = await _put(backend, ring, "o", body, pause_after_first=0.2)
    assert sorted(a.status for a in answers) == [201, 201, 507]
    assert limiter.limited(answers[[a.status for a in answers].index(507)].node)
    assert backend.pool.idle_count("127.0.0.1", primaries[0].port) == 0  # never reused
    await asyncio.sleep(0.1)
    assert primaries[0].drained == 65536  # fed no more after its answer; then closed (EOF)
    for node in primaries[1:]:
        assert node.bodies == [body]


async def test_a_stalled_node_is_failed_after_node_timeout(cluster):
    ring, backend, by_port, limiter = cluster
    primaries = _primaries(ring, by_port, "o")
    primaries[1].mode = "stall"
    started = time.monotonic()
    answers = await _put(backend, ring, "o", b"y" * 4096)
    assert time.monotonic() - started < 5
    statuses = [a.status for a in answers]
    assert sorted(statuses) == sorted([201, 201, FAILED])
    assert backend.pool.idle_count("127.0.0.1", primaries[1].port) == 0
    assert limiter._errors  # counted against the node (ErrorLimiter.error)


async def test_chunked_answers_are_read_whole(cluster):
    ring, backend, by_port, _ = cluster
    for node in by_port.values():
        node.mode = "chunked"
    for _ in range(2):
        answers = await _put(backend, ring, "o", b"z" * 10)
        assert [(a.status, a.body) for a in answers] == [(201, b"hello")] * 3
    assert [n.connections for n in _primaries(ring, by_port, "o")] == [1] * 3  # reused


@pytest.mark.parametrize("mode", ["bad_status", "bad_header", "truncated"])
async def test_a_malformed_answer_is_failed_and_its_connection_dropped(cluster, mode):
    ring, backend, by_port, _ = cluster
    primaries = _primaries(ring, by_port, "o")
    primaries[2].mode = mode
    answers = await _put(backend, ring, "o", b"w" * 100)
    assert sorted(a.status for a in answers) == sorted([201, 201, FAILED])
    primaries[2].mode = "ok"
    answers = await _put(backend, ring, "o", b"w" * 100)
    assert [a.status for a in answers] == [201] * 3
    assert primaries[2].connections == 2 and primaries[0].connections == 1


async def test_a_refused_connect_goes_to_the_handoff(cluster):
    ring, backend, by_port, _ = cluster
    primaries = _primaries(ring, by_port, "o")
    await primaries[0].stop()
    await asyncio.sleep(0.05)
    answers = await _put(backend, ring, "o", b"h" * 4096)
    assert [a.status for a in answers] == [201] * 3
    handoff = next(n for n in by_port.values() if n not in primaries)
    assert handoff.bodies == [b"h" * 4096]


@pytest.mark.parametrize("chunked", [False, True])
async def test_a_source_that_raises_aborts_every_replica(cluster, chunked):
    ring, backend, by_port, _ = cluster
    body = os.urandom(1 << 20)
    with pytest.raises(ValueError):
        await _put(backend, ring, "o", body, chunked=chunked, fail_after=65536)
    await asyncio.sleep(0.1)
    for node in _primaries(ring, by_port, "o"):
        assert node.bodies == []  # no node saw a complete body
    assert backend.pool.idle_count("127.0.0.1", _primaries(ring, by_port, "o")[0].port) == 0


async def test_old_idle_connections_are_not_reused_and_close_drops_the_rest(cluster, monkeypatch):
    from proxy import nodeconn
    ring, backend, by_port, _ = cluster
    primaries = _primaries(ring, by_port, "o")
    monkeypatch.setattr(nodeconn, "IDLE_SECONDS", 0.1)
    await _put(backend, ring, "o", b"a")
    await asyncio.sleep(0.2)  # older than IDLE_SECONDS: a new connection each
    await _put(backend, ring, "o", b"b")
    assert [n.connections for n in primaries] == [2] * 3
    assert all(backend.pool.idle_count("127.0.0.1", n.port) == 1 for n in primaries)
    backend.close()  # at shutdown: no idle connection is left open
    assert all(backend.pool.idle_count("127.0.0.1", n.port) == 0 for n in primaries)


async def test_idle_connections_beyond_the_limit_are_closed(cluster, monkeypatch):
    from proxy import nodeconn
    ring, backend, by_port, _ = cluster
    monkeypatch.setattr(nodeconn, "MAX_IDLE_PER_NODE", 2)
    await asyncio.gather(*(_put(backend, ring, "o", b"c" * 100) for _ in range(5)))
    primaries = _primaries(ring, by_port, "o")
    assert [n.connections for n in primaries] == [5] * 3  # five at once: five connections
    assert all(backend.pool.idle_count("127.0.0.1", n.port) == 2 for n in primaries)


async def test_small_calls_share_the_pool_and_read_answers_whole(cluster):
    from yarl import URL
    ring, backend, by_port, _ = cluster
    node = next(iter(by_port.values()))
    dev = next(d for d in ring.devices if d is not None and d.port == node.port)
    url = URL(f"http://127.0.0.1:{node.port}/container/d0/1/AUTH_a/c?format=json", encoded=True)
    node.mode = "big"
    got = await backend.call(dev, "GET", url, {"X-Timestamp": "1.00000"})
    assert got.status == 200 and got.body == b"L" * 3145728
    node.mode = "head"  # a HEAD answer's Content-Length announces no body on the wire
    got = await backend.call(dev, "HEAD", url, {}, stream=True)
    assert got.status == 200 and got.body == b"" and got.headers["x-object-meta-a"] == "b"
    node.mode = "ok"
    got = await backend.call(dev, "POST", url, {"X-Timestamp": "2.00000"}, b"")
    assert got.status == 201 and node.bodies[-1] == b""
    assert node.connections == 1  # one kept-alive connection served all three
    assert backend.pool.idle_count("127.0.0.1", node.port) == 1  # the pool's, not aiohttp's
    node.mode = "bad_header"
    got = await backend.call(dev, "DELETE", url, {"X-Timestamp": "3.00000"})
    assert got.status == FAILED
    assert backend.pool.idle_count("127.0.0.1", node.port) == 0


async def test_the_read_timeout_counts_from_the_last_bytes_read(cluster, caplog):
    ring, backend, by_port, _ = cluster
    primaries = _primaries(ring, by_port, "o")
    primaries[0].mode = "slow"  # whole answer after 0.6 s, more than node_timeout
    answers = await _put(backend, ring, "o", b"s" * 100)
    assert [a.status for a in answers] == [201] * 3
    await asyncio.sleep(0.5)  # a re-armed read timer must not outlive its answer
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    primaries[0].mode = "ok"
    answers = await _put(backend, ring, "o", b"t" * 100)
    assert [a.status for a in answers] == [201] * 3
    assert primaries[0].connections == 1  # the slow answer's connection was reused


async def test_each_target_is_framed_as_its_own_head_says(cluster):
    from strato import put_footer
    ring, backend, by_port, _ = cluster
    backend.put_footer = True
    node = ring.get_nodes("AUTH_a", "c", "o")[1][0]
    backend.footer_nodes[(node.ip, node.port)] = True  # only this one gets the footer form
    body = os.urandom(200_000)
    headers = {"X-Timestamp": "1.00000", "Content-Length": str(len(body))}

    async def pieces():
        for i in range(0, len(body), 65536):
            yield body[i:i + 65536]

    # content_length unknown to put_stream: the footer target goes chunked, the others keep
    # the caller's Content-Length
    answers, _ = await backend.put_stream(ring, "AUTH_a", "c", "o", lambda i: dict(headers),
                                          pieces(), None)
    assert [a.status for a in answers] == [201] * 3
    got = [n.bodies for n in _primaries(ring, by_port, "o")]
    assert len(got[0][0]) == len(body) + put_footer.FOOTER_LEN and got[0][0][:len(body)] == body
    assert got[1:] == [[body], [body]]


async def test_a_held_last_piece_is_framed_for_chunked_targets(cluster):
    """put_stream knows the length (it holds the piece completing it until the source ends) but
    the caller's headers do not: the old-form targets go chunked, the last piece chunk-framed."""
    from strato import put_footer
    ring, backend, by_port, _ = cluster
    backend.put_footer = True
    node = ring.get_nodes("AUTH_a", "c", "o")[1][0]
    backend.footer_nodes[(node.ip, node.port)] = True  # only this one gets the footer form
    body = os.urandom(200_000)

    async def pieces():
        for i in range(0, len(body), 65536):
            yield body[i:i + 65536]

    answers, _ = await backend.put_stream(ring, "AUTH_a", "c", "o",
                                          lambda i: {"X-Timestamp": "1.00000"}, pieces(),
                                          len(body))
    assert [a.status for a in answers] == [201] * 3
    got = [n.bodies for n in _primaries(ring, by_port, "o")]
    assert len(got[0][0]) == len(body) + put_footer.FOOTER_LEN and got[0][0][:len(body)] == body
    assert got[1:] == [[body], [body]]
