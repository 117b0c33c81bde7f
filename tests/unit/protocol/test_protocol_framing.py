"""proxy/framing.py: request boundaries in front of the HTTP parser, without a parser or sockets.

A tiny stand-in for the parser's framing decision (Content-Length from the head, chunked = lost
track) drives the core like proxy/httpserver.py does; every stream is also fed whole, one byte at a
time and with trailing garbage (STYLE.md rule 4).
"""
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.framing import (TRANSITIONS, FramingMisuse, Mode, RequestFraming, encode_request_line,
                           stand_in_method, stand_in_names)

CL = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.I)
UNFRAMED = (b"PUT ", b"POST ", b"PATCH ")


def run(chunks, max_line=16384):
    """Feed chunks; returns (bytes the parser got per piece, head ends, methods, final mode)."""
    core = RequestFraming(max_line=max_line)
    pieces, heads, methods = [], [], []
    for chunk in chunks:
        if core.whole_head(chunk):
            pieces.append(chunk)
            heads.append(len(pieces) - 1)
            methods.append(None)
            decide(core, chunk)
            continue
        core.receive(chunk)
        while (piece := core.next_piece()) is not None:
            pieces.append(piece.data)
            if piece.head_end:
                heads.append(len(pieces) - 1)
                methods.append(piece.method)
                decide(core, b"".join(pieces).rsplit(b"\r\n\r\n", 2)[-2])
    return pieces, heads, methods, core.mode


def decide(core, head):
    """What the parser would report for a head: its body length, chunked, or close."""
    if b"chunked" in head.lower():
        core.lost_track()
        return
    length = CL.search(head)
    last_line = head.rsplit(b"\r\n\r\n", 1)[-1]
    unframed = length is None and last_line.lstrip(b"\r\n").startswith(UNFRAMED)
    core.framed(int(length[1]) if length else 0, close=unframed)


def split_every(data, n):
    return [data[i:i + n] for i in range(0, len(data), n)]


GET = b"GET /v1/AUTH_a/c/o HTTP/1.1\r\nHost: x\r\n\r\n"
PUT = b"PUT /v1/AUTH_a/c/o HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"


def test_one_ascii_head_goes_through_unchanged_on_the_fast_path():
    pieces, heads, _, mode = run([GET])
    assert pieces == [GET] and heads == [0] and mode is Mode.LINE


@pytest.mark.parametrize("size", [1, 2, 3, 7, 1000])
def test_pipelined_requests_are_cut_at_each_boundary_whatever_the_reads(size):
    stream = GET + PUT + GET
    pieces, heads, _, mode = run(split_every(stream, size))
    assert b"".join(pieces) == stream
    # Every piece belongs to one request: the cuts fall exactly on the request boundaries.
    offsets, total = set(), 0
    for piece in pieces:
        total += len(piece)
        offsets.add(total)
    assert {len(GET), len(GET + PUT), len(stream)} <= offsets
    assert len(heads) == 3 and mode is Mode.LINE


def test_raw_utf8_in_the_target_is_percent_encoded_and_nothing_else_changes():
    head = "GET /v1/AUTH_a/☃?q=é HTTP/1.1\r\nX-Meta: é\r\n\r\n".encode()
    pieces, _, _, _ = run([head])
    assert b"".join(pieces) == (b"GET /v1/AUTH_a/%E2%98%83?q=%C3%A9 HTTP/1.1\r\n"
                                + "X-Meta: é\r\n\r\n".encode())
    assert encode_request_line(b"GET /\xff HTTP/1.1") == b"GET /%FF HTTP/1.1"
    line = b"GET /a HTTP/1.1"
    assert encode_request_line(line) is line


@pytest.mark.parametrize("size", [1, 4, 64])
def test_garbage_after_a_content_length_body_is_a_new_line_not_part_of_the_request(size):
    stream = PUT + b"0123456789\r\n"
    pieces, heads, _, mode = run(split_every(stream, size))
    assert b"".join(pieces) == stream and len(heads) == 1
    # The parser gets the PUT up to its last body byte in pieces of its own; the garbage follows
    # as the start of a next request, for the parser to refuse after the PUT was queued.
    assert sum(len(p) for p in pieces[:-1]) == len(PUT) and pieces[-1] == b"0123456789\r\n"
    assert mode is Mode.HEAD


def test_a_put_without_framing_ends_the_connection_and_its_body_is_dropped():
    stream = b"PUT /v1/a/c/o HTTP/1.1\r\nHost: x\r\n\r\n\xfa\xdbbody GET / HTTP/1.1\r\n\r\n"
    pieces, heads, _, mode = run([stream])
    assert pieces == [b"PUT /v1/a/c/o HTTP/1.1\r\nHost: x\r\n\r\n"]
    assert mode is Mode.DISCARD and heads == [0]


def test_a_last_request_still_gets_its_body_then_nothing_more():
    core = RequestFraming()
    core.receive(PUT + GET)
    assert core.next_piece().head_end
    core.framed(5, close=True)  # e.g. "Connection: close" with a body
    assert core.next_piece().data == b"hello"
    assert core.next_piece() is None and core.mode is Mode.DISCARD


def test_a_partial_request_line_is_held_until_complete():
    core = RequestFraming()
    core.receive(b"GET /\xe2\x98")
    assert core.next_piece() is None  # the line could still change: nothing goes out yet
    core.receive(b"\x83 HTTP/1.1\r\nHost: x\r\n\r\n")
    piece = core.next_piece()
    assert piece.data == b"GET /%E2%98%83 HTTP/1.1\r\nHost: x\r\n\r\n" and piece.head_end


def test_an_oversized_line_goes_to_the_parser_untouched_so_it_refuses_it():
    line = b"GET /" + b"a" * 100
    pieces, _, _, mode = run([line], max_line=50)
    assert pieces == [line] and mode is Mode.OPAQUE


def test_leading_empty_lines_are_skipped_like_the_parsers_do():
    pieces, heads, _, _ = run([b"\r\n\r\n" + GET])
    assert pieces == [GET] and heads == [0]


def test_chunked_bodies_stop_tracking_and_pass_everything_as_received():
    chunked = b"PUT /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    tail = "GET /☃ HTTP/1.1\r\n\r\n".encode()
    pieces, _, _, mode = run([chunked + tail])
    assert mode is Mode.OPAQUE and b"".join(pieces) == chunked + tail


def test_unknown_method_names_stand_in_as_get_and_keep_their_name():
    pieces, _, methods, _ = run([b"LICK /v1/a HTTP/1.1\r\nHost: x\r\n\r\n"])
    assert pieces == [b"GET /v1/a HTTP/1.1\r\nHost: x\r\n\r\n"] and methods == ["LICK"]
    assert stand_in_method(b"GETorHEAD_base /x HTTP/1.1") == (b"GET /x HTTP/1.1", "GETorHEAD_base")
    assert stand_in_method(b"MKCOL /x HTTP/1.1") == (b"MKCOL /x HTTP/1.1", None)  # llhttp knows it
    assert stand_in_method(b"G@T /x HTTP/1.1") == (b"G@T /x HTTP/1.1", None)  # not a token: refused
    pieces, _, methods, _ = run(split_every(b"LICK /a HTTP/1.1\r\nHost: x\r\n\r\n", 3))
    assert methods == ["LICK"] and b"".join(pieces).startswith(b"GET /a ")


def test_header_names_outside_the_token_set_get_stand_ins_recorded_by_position():
    head = b'PUT /o HTTP/1.1\r\nHost: x\r\nx-amz-meta-(: (\r\nA: b\r\nx-amz-meta-"/: q\r\n\r\n'
    pieces, heads, _, _ = run([head])
    assert pieces == [b"PUT /o HTTP/1.1\r\nHost: x\r\nX-Strato-Odd-Name-1: (\r\nA: b\r\n"
                      b"X-Strato-Odd-Name-3: q\r\n\r\n"]
    core = RequestFraming()
    core.receive(head)
    assert core.next_piece().names == ((1, b"x-amz-meta-("), (3, b'x-amz-meta-"/'))
    assert not core.whole_head(head)  # the fast path leaves such heads alone
    for odd in (b"\r\nBad Name: y\r\n\r\n", b"\r\nA: b\r\n folded\r\n\r\n",
                b"\r\n(: y\r\nnocolon\r\n\r\n"):
        assert stand_in_names(odd) == (odd, ())  # the parser refuses these itself


def test_calls_out_of_order_are_our_bug_and_say_so():
    core = RequestFraming()
    with pytest.raises(FramingMisuse):
        core.framed(0)
    core.discard()
    assert core.next_piece() is None and core.mode is Mode.DISCARD
    core.receive(b"GET / HTTP/1.1\r\n\r\n")
    assert core.next_piece() is None


def test_the_transition_table_is_closed_and_discard_is_final():
    assert set(TRANSITIONS) == set(Mode)
    assert all(targets <= set(Mode) for targets in TRANSITIONS.values())
    assert TRANSITIONS[Mode.DISCARD] == frozenset()


REQUEST = st.sampled_from([
    GET, PUT, b"HEAD /x HTTP/1.1\r\nHost: y\r\n\r\n",
    "GET /v1/a/é HTTP/1.1\r\nHost: y\r\n\r\n".encode(),
    b"POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
    b"LICK /x HTTP/1.1\r\n\r\n",
])


@settings(max_examples=150, deadline=None)
@given(st.lists(REQUEST, min_size=1, max_size=5), st.lists(st.integers(1, 40), min_size=1))
def test_any_split_of_a_pipelined_stream_gives_the_same_requests(requests, sizes):
    stream = b"".join(requests)
    whole, whole_heads, whole_methods, _ = run([stream])
    chunks, rest, i = [], stream, 0
    while rest:
        size = sizes[i % len(sizes)]
        chunks.append(rest[:size])
        rest, i = rest[size:], i + 1
    pieces, heads, methods, mode = run(chunks)
    assert b"".join(pieces) == b"".join(whole)
    assert len(heads) == len(whole_heads) == len(requests)
    assert methods == whole_methods and mode is Mode.LINE


def test_the_core_stays_sans_io():
    import ast
    import inspect

    import proxy.framing as framing
    imported = set()
    for node in ast.walk(ast.parse(inspect.getsource(framing))):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported and not imported & {"asyncio", "aiohttp", "socket", "os"}
