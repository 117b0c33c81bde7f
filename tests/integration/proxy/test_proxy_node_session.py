"""What the proxy's node client puts on the wire, and the Swift transaction ids of its answers.

A hand-written node (asyncio streams on loopback) records every request head it receives, so the
test sees the exact bytes: only the proxy's own headers plus Host and framing (no Accept,
Accept-Encoding, User-Agent), no cookie replayed after a node's Set-Cookie, a POST without an
automatic Content-Type, and every request on one kept-alive connection.
"""
import asyncio
import re

import pytest
from yarl import URL

from proxy.backend import Backend, failed, node_session
from proxy.nodes import ErrorLimiter


class _Node:
    device = "d0"

    def __init__(self, port):
        self.ip, self.port = "127.0.0.1", port


async def _recording_node():
    heads, connections = [], []

    async def serve(reader, writer):
        connections.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                heads.append(head)
                match = re.search(rb"\r\ncontent-length: (\d+)\r\n", head.lower())
                if match:
                    await reader.readexactly(int(match.group(1)))
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                             b"Set-Cookie: session=abc; Path=/\r\n\r\n"
                             + (b"" if head.startswith(b"HEAD ") else b"ok"))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return server, heads, connections


@pytest.mark.timeout(30)
async def test_node_requests_carry_only_the_proxys_headers():
    server, heads, connections = await _recording_node()
    node = _Node(server.sockets[0].getsockname()[1])
    session = node_session()
    backend = Backend(session, ErrorLimiter(10, 1.0), 0.5, 5.0)
    base = f"http://127.0.0.1:{node.port}/object/d0/1/AUTH_a/c/"
    try:
        for method, body in (("PUT", b"data"), ("POST", b""), ("GET", None), ("HEAD", None)):
            resp = await backend.call(node, method, URL(base + method.lower()),
                                      {"X-Timestamp": "1.00000"}, body)
            assert resp.status == 200, (method, resp)
    finally:
        await session.close()
        server.close()
        await server.wait_closed()
    assert len(heads) == 4
    for head in heads:
        names = {line.split(b":")[0].lower() for line in head.split(b"\r\n")[1:] if line}
        assert names <= {b"host", b"x-timestamp", b"content-length", b"content-type"}, head
        assert b"cookie" not in names  # the node's Set-Cookie is never sent back
    assert b"content-type" not in heads[1].lower()  # a POST must not reset the stored type
    assert len(connections) == 1  # kept alive and reused


@pytest.mark.timeout(30)
async def test_a_node_that_is_down_answers_failed_and_is_counted():
    server, _, _ = await _recording_node()
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    node = _Node(port)
    limiter = ErrorLimiter(1, 60.0)
    session = node_session()
    try:
        resp = await Backend(session, limiter, 0.5, 5.0).call(
            node, "GET", URL(f"http://127.0.0.1:{port}/object/d0/1/AUTH_a/c/o"), {})
    finally:
        await session.close()
    assert resp.status == failed(node).status
    assert limiter.limited(node)


TRANS_ID = re.compile(r"tx[0-9a-f]{21}-[0-9a-f]{10}")


@pytest.mark.timeout(60)
def test_every_answer_names_a_distinct_swift_transaction(cluster):
    import requests
    url, token = cluster.login()
    seen = set()
    for path, headers in (("", {"X-Auth-Token": token}), ("/nope/x", {"X-Auth-Token": token}),
                          ("", {}), ("", {"X-Auth-Token": token})):
        resp = requests.head(url + path, headers=headers)
        trans = resp.headers["X-Trans-Id"]
        assert TRANS_ID.fullmatch(trans), trans
        assert resp.headers["X-Openstack-Request-Id"] == trans
        seen.add(trans)
    assert len(seen) == 4
