"""handlers.common.buffered_parts on aiohttp's real StreamReader: what has arrived at a wake-up
comes as the reader's own pieces (the same objects: no join, no copy), one piece alone as bytes,
and the body ends where the reader does. It peeks at the reader's buffer, which aiohttp does not
expose; if an aiohttp release drops it, the first test fails here (the fallback is as_buffered,
correct but one copy dearer)."""
import asyncio
from unittest import mock

import pytest
from aiohttp import streams

from proxy.backend import piece_parts
from proxy.handlers.common import buffered_parts


def _reader():
    protocol = mock.Mock(_reading_paused=False)
    return streams.StreamReader(protocol, 2 ** 20, loop=asyncio.get_running_loop())


async def test_what_arrived_together_comes_as_the_readers_own_pieces():
    reader = _reader()
    assert hasattr(reader, "_buffer")  # the fast path is live on this aiohttp
    first, second, third = b"a" * 70000, b"b" * 65536, b"c" * 10
    for piece in (first, second, third):
        reader.feed_data(piece)
    pieces = buffered_parts(reader)
    got = await pieces.__anext__()
    assert type(got) is tuple and all(a is b for a, b in zip(got, (first, second, third)))
    later = b"d" * 5000
    reader.feed_data(later)
    assert await pieces.__anext__() is later  # alone: plain bytes
    reader.feed_eof()
    with pytest.raises(StopAsyncIteration):
        await pieces.__anext__()


async def test_a_chunked_bodys_chunk_ends_are_not_the_end():
    reader = _reader()
    for data in (b"x" * 100, b"y" * 200):
        reader.begin_http_chunk_receiving()
        reader.feed_data(data)
        reader.end_http_chunk_receiving()
    reader.feed_eof()
    got = [piece async for piece in buffered_parts(reader)]
    assert b"".join(b"".join(piece_parts(p)) for p in got) == b"x" * 100 + b"y" * 200


async def test_no_body():
    assert [piece async for piece in buffered_parts(streams.EMPTY_PAYLOAD)] == []
