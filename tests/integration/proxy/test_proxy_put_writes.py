"""How a streamed PUT's bytes leave the proxy (proxy/backend.py put_stream, proxy/nodeconn.py
NodeConnection.write), against three real storage-node apps on loopback: the request head goes
with the first piece and the footer with the last piece, one transport call each (every send on
loopback wakes the node); what the nodes store is the body, intact; and the piece that completes
Content-Length (or a chunked body's terminating chunk) is held until the source has ended normally,
so a source that fails after its last byte leaves nothing on any replica, footer or not; the
same for a sha256_check (S3's payload hash) that finds the body is not what was signed.
"""
import asyncio
import hashlib
import os

import pytest

from proxy import nodeconn
from proxy.backend import Backend, node_session
from nodeapps import ring_of, start_node_apps  # tests/nodeapps.py
from proxy.nodes import ErrorLimiter
from strato import put_footer
from strato.timestamps import Timestamp

pytestmark = pytest.mark.timeout(60)
PIECE = 256 * 1024


class _Recorder:
    """A node connection's transport that records each write call's bytes (one list per call)."""

    def __init__(self, transport, calls: list):
        self._transport = transport
        self._calls = calls

    def write(self, data):
        self._calls.append([bytes(data)])
        self._transport.write(data)

    def writelines(self, parts):
        parts = list(parts)
        self._calls.append([bytes(p) for p in parts])
        self._transport.writelines(parts)

    def __getattr__(self, name):
        return getattr(self._transport, name)


@pytest.fixture
async def setup(tmp_path, monkeypatch):
    servers = await start_node_apps(tmp_path)
    calls: dict[int, list] = {}  # node port -> write calls on its connections
    made = nodeconn.NodeConnection.connection_made

    def recording(conn, transport):
        made(conn, _Recorder(transport, calls.setdefault(conn.key[1], [])))

    monkeypatch.setattr(nodeconn.NodeConnection, "connection_made", recording)
    session = node_session()
    yield ring_of(server.port for server, _ in servers), servers, session, calls
    await session.close()
    for server, _ in servers:
        await server.close()


async def _put(backend, ring, name, body, source=None, chunked=False, sha256_check=None):
    headers = {"X-Timestamp": Timestamp.now().internal, "Content-Type": "a/b",
               "X-Backend-Storage-Policy-Index": "0"}
    if not chunked:
        headers["Content-Length"] = str(len(body))

    async def pieces():
        for i in range(0, len(body), PIECE):
            yield body[i:i + PIECE]

    answers, _ = await backend.put_stream(ring, "AUTH_a", "c", name, lambda i: dict(headers),
                                          source if source is not None else pieces(),
                                          None if chunked else len(body), sha256_check)
    return answers


async def _stored(session, ring, servers, name):
    part = ring.get_nodes("AUTH_a", "c", name)[0]
    out = []
    for server, _ in servers:
        async with session.get(f"http://127.0.0.1:{server.port}/object/d0/{part}/AUTH_a/c/{name}",
                               headers={"X-Backend-Storage-Policy-Index": "0"}) as resp:
            out.append((resp.status, await resp.read()))
    return out


def _data_files(servers):
    return [f for _, root in servers for d, _, files in os.walk(root) for f in files
            if f.endswith(".data")]


@pytest.mark.parametrize("size", [4096, 4 * PIECE])
async def test_head_goes_with_the_first_piece_and_the_footer_with_the_last(setup, size):
    ring, servers, session, calls = setup
    backend = Backend(session, ErrorLimiter(10, 1.0), 0.5, 5.0)
    assert [a.status for a in await _put(backend, ring, "learn", b"x")] == [201] * 3
    assert set(backend.footer_nodes.values()) == {True}  # the next PUT carries the footer
    for made in calls.values():  # (the pooled connections keep their recorders)
        made.clear()
    body = os.urandom(size)
    assert [a.status for a in await _put(backend, ring, "o", body)] == [201] * 3
    assert sorted(calls) == sorted(server.port for server, _ in servers)
    pieces = [body[i:i + PIECE] for i in range(0, size, PIECE)]
    for port, made in calls.items():
        assert len(made) == len(pieces)  # one call per piece: head and footer ride along
        head, _, rest = b"".join(b"".join(call) for call in made).partition(b"\r\n\r\n")
        assert head.startswith(b"PUT /object/d0/")
        assert rest[:size] == body
        assert put_footer.decode(rest[size:])[0] == hashlib.md5(body).hexdigest()
        if size > nodeconn.COALESCE:  # big pieces go by writev, never copied into a join
            assert [len(call) for call in made] == [2, 1, 1, 2]
            assert made[0][1] == pieces[0] and len(made[-1][1]) == put_footer.FOOTER_LEN
    for status, stored in await _stored(session, ring, servers, "o"):
        assert status == 200 and stored == body
    assert {a.headers["ETag"] for a in await _put(backend, ring, "o", body)} == {
        hashlib.md5(body).hexdigest()}


@pytest.mark.parametrize("chunked", [False, True])
async def test_a_tuple_of_pieces_goes_out_in_one_write(setup, chunked):
    """A source may yield what arrived together as a tuple of bytes (buffered_parts: no join,
    no copy): each tuple is one write per node, its parts as they are (chunked: one HTTP chunk
    around them), and the nodes store the body intact with its MD5."""
    ring, servers, session, calls = setup
    backend = Backend(session, ErrorLimiter(10, 1.0), 0.5, 5.0)
    await _put(backend, ring, "learn", b"x")
    for made in calls.values():
        made.clear()
    body = os.urandom(4 * PIECE + 3)
    parts = [body[i:i + PIECE // 2] for i in range(0, len(body), PIECE // 2)]
    groups = [tuple(parts[0:3]), parts[3], tuple(parts[4:])]

    async def source():
        for group in groups:
            yield group

    assert [a.status for a in await _put(backend, ring, "t", body, source(), chunked)] == [201] * 3
    for port, made in calls.items():
        # one write per tuple (the head with the first; Content-Length: the footer with the
        # last; chunked: the footer, then the terminating chunk, on their own)
        assert len(made) == len(groups) + (2 if chunked else 0)
        # each part is an element of its write (writev), not joined with the others
        assert parts[0] in made[0] and parts[2] in made[0] and parts[4] in made[2]
    for status, stored in await _stored(session, ring, servers, "t"):
        assert status == 200 and stored == body
    assert {a.headers["ETag"] for a in await _put(backend, ring, "t", body, source(),
                                                  chunked)} == {hashlib.md5(body).hexdigest()}


@pytest.mark.parametrize("chunked", [False, True])
@pytest.mark.parametrize("footer", [True, False])
async def test_a_source_failing_after_its_last_byte_leaves_nothing(setup, footer, chunked):
    """Content-Length: the piece completing it is held back; chunked: the terminating chunk goes
    only after the source ended normally. Either way a verifying source (S3's body, which holds
    nothing back itself) that fails after its last byte leaves nothing on any replica."""
    ring, servers, session, _ = setup
    backend = Backend(session, ErrorLimiter(10, 1.0), 0.5, 5.0, put_footer=footer)
    await _put(backend, ring, "learn", b"x")  # (footer: the nodes are known to take it)
    before = _data_files(servers)
    body = os.urandom(2 * PIECE)

    async def source():  # every byte of Content-Length, then a failure (a trailing checksum's)
        yield body[:PIECE]
        yield body[PIECE:]
        await asyncio.sleep(0.3)  # (time for a node that had the whole body to commit it)
        raise ValueError("checksum mismatch found at the end")

    with pytest.raises(ValueError):
        await _put(backend, ring, "bad", body, source(), chunked)
    assert _data_files(servers) == before
    assert [status for status, _ in await _stored(session, ring, servers, "bad")] == [404] * 3


@pytest.mark.parametrize("chunked", [False, True])
@pytest.mark.parametrize("footer", [True, False])
async def test_the_sha256_check_sees_the_whole_body_before_anything_is_stored(setup, footer,
                                                                              chunked):
    """put_stream hashes the body's SHA-256 beside its MD5 (md5lanes) and hands it to the
    check once the body is in: a check that raises (S3's XAmzContentSHA256Mismatch) leaves
    nothing on any replica and reaches the caller; one that passes lets the PUT commit."""
    ring, servers, session, _ = setup
    backend = Backend(session, ErrorLimiter(10, 1.0), 0.5, 5.0, put_footer=footer)
    await _put(backend, ring, "learn", b"x")
    before = _data_files(servers)
    body = os.urandom(2 * PIECE + 7)
    seen = []

    def refuse(sha256_hex):
        seen.append(sha256_hex)
        raise ValueError("not the signed payload")

    with pytest.raises(ValueError):
        await _put(backend, ring, "bad", body, chunked=chunked, sha256_check=refuse)
    assert seen == [hashlib.sha256(body).hexdigest()]
    await asyncio.sleep(0.3)  # (time for a node that had the whole body to commit it)
    assert _data_files(servers) == before
    assert [status for status, _ in await _stored(session, ring, servers, "bad")] == [404] * 3

    answers = await _put(backend, ring, "good", body, chunked=chunked, sha256_check=seen.append)
    assert [a.status for a in answers] == [201] * 3
    assert seen[1] == hashlib.sha256(body).hexdigest()
    assert await _stored(session, ring, servers, "good") == [(200, body)] * 3
