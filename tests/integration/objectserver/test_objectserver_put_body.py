"""An object PUT's body at the storage node: arriving with the head, in pieces, stalled, cut off.
Nothing of a PUT whose body did not arrive whole is kept (no object, no temp file)."""
import asyncio
import os

import pytest

from strato.timestamps import Timestamp

pytestmark = pytest.mark.timeout(60)
PATH = "/object/d0/3/acc/cont/obj"


def _files(root):
    """Object and temp files of device d0 (its listing database aside)."""
    return sorted(os.path.relpath(os.path.join(d, f), root)
                  for sub in ("objects", "tmp") for d, _, names in os.walk(os.path.join(root, "d0", sub))
                  for f in names)


async def _raw_put(node, body_pieces, length, pause=0.0, close=True):
    host, port = node.host.split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    head = (f"PUT {PATH} HTTP/1.1\r\nHost: x\r\nX-Timestamp: {Timestamp.now().internal}\r\n"
            f"Content-Length: {length}\r\nContent-Type: text/plain\r\n\r\n").encode()
    writer.write(head + body_pieces[0])
    for piece in body_pieces[1:]:
        await writer.drain()
        await asyncio.sleep(pause)
        writer.write(piece)
    await writer.drain()
    if close:
        writer.close()
        return None
    try:
        status = await asyncio.wait_for(reader.readline(), 10)
    finally:
        writer.close()
    return status


async def _object(node):
    async with node.request("GET", PATH) as resp:
        return resp.status, await resp.read()


@pytest.fixture
async def node(node_factory):
    return await node_factory("node", client_timeout=0.5)


async def test_body_with_the_head_and_body_in_pieces_are_stored_whole(node):
    status = await _raw_put(node, [b"hello world"], 11, close=False)
    assert status.startswith(b"HTTP/1.1 201")
    assert await _object(node) == (200, b"hello world")
    status = await _raw_put(node, [b"abc", b"def", b"ghij"], 10, pause=0.05, close=False)
    assert status.startswith(b"HTTP/1.1 201")
    assert await _object(node) == (200, b"abcdefghij")


async def test_stalled_body_is_408_and_leaves_nothing(node):
    before = _files(node.root)
    status = await _raw_put(node, [b"12345"], 10, close=False)  # 5 of 10 bytes, then silence
    assert status.startswith(b"HTTP/1.1 408")
    assert (await _object(node))[0] == 404
    await asyncio.sleep(0.2)
    assert _files(node.root) == before


async def test_body_cut_off_leaves_nothing(node):
    before = _files(node.root)
    await _raw_put(node, [b"12345", b"67"], 10, pause=0.05)  # 7 of 10 bytes, then the socket closes
    for _ in range(50):
        await asyncio.sleep(0.05)
        if _files(node.root) == before:
            break
    assert _files(node.root) == before
    assert (await _object(node))[0] == 404


async def test_chunked_body_across_chunk_boundaries_and_empty_body(node):
    host, port = node.host.split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    head = (f"PUT {PATH} HTTP/1.1\r\nHost: x\r\nX-Timestamp: {Timestamp.now().internal}\r\n"
            "Transfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n").encode()
    writer.write(head + b"3\r\nabc\r\n")
    for piece in (b"1\r\nd\r\n", b"4\r\nefgh\r\n2\r\nij\r\n", b"0\r\n\r\n"):
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(piece)
    status = await asyncio.wait_for(reader.readline(), 10)
    writer.close()
    assert status.startswith(b"HTTP/1.1 201")
    assert await _object(node) == (200, b"abcdefghij")
    status = await _raw_put(node, [b""], 0, close=False)
    assert status.startswith(b"HTTP/1.1 201")
    assert await _object(node) == (200, b"")


async def test_a_body_that_has_arrived_whole_is_written_by_the_commit_alone(node):
    """Disk hops of a PUT: a body up to one CHUNK goes to disk in the commit's hop (create,
    write, fsync, rename); only a longer body is written ahead in CHUNK pieces meanwhile."""
    from objectserver.app import NODE
    from objectserver.object_role import CHUNK

    state = node.app[NODE]
    calls = []
    real_io = state.io

    async def counting_io(device, fn, *args, **kwargs):
        calls.append(getattr(fn, "__name__", repr(fn)))
        return await real_io(device, fn, *args, **kwargs)

    state.io = counting_io
    body = os.urandom(CHUNK)
    pieces = [body[i:i + 65536] for i in range(0, CHUNK, 65536)]
    assert (await _raw_put(node, pieces, CHUNK, close=False)).startswith(b"HTTP/1.1 201")
    assert "write" not in calls and calls.count("_finish") == 1
    assert await _object(node) == (200, body)

    calls.clear()
    body = os.urandom(2 * CHUNK + 5)
    pieces = [body[i:i + 65536] for i in range(0, len(body), 65536)]
    assert (await _raw_put(node, pieces, len(body), close=False)).startswith(b"HTTP/1.1 201")
    # at least the first CHUNK goes ahead (the second may arrive together with the last bytes)
    assert calls.count("write") >= 1 and calls.count("_finish") == 1
    assert await _object(node) == (200, body)
