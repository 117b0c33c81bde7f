"""The node client's sans-I/O wire format (proxy/nodewire.py): ResponseParser on every framing a node
may answer with, fed whole, one byte at a time and split at random points (Hypothesis), with
trailing garbage refused; malformed answers raise NodeProtocolError; request_head's bytes.
"""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from proxy.nodewire import (MAX_BODY, MAX_HEAD, NodeProtocolError, ResponseParser, chunk_frame,
                            request_head)

LENGTH = (b"HTTP/1.1 201 Created\r\nContent-Length: 5\r\nEtag: abc\r\n"
          b"X-Backend-Storage-Features: put-footer\r\n\r\nhello")
CHUNKED = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"3;ext=1\r\nhel\r\n2\r\nlo\r\n0\r\nX-Trailer: t\r\n\r\n")
EMPTY = b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"


def _feed(data: bytes, pieces: list[int] | None = None, bodyless: bool = False):
    parser = ResponseParser(bodyless)
    cuts = sorted(set(pieces or [])) + [len(data)]
    at, done = 0, False
    for cut in cuts:
        if cut <= at:
            continue
        done = parser.feed(data[at:cut])  # raises if bytes come after a complete answer
        at = cut
    return parser, done


@pytest.mark.parametrize("answer,body", [(LENGTH, b"hello"), (CHUNKED, b"hello"), (EMPTY, b"")])
@pytest.mark.parametrize("how", ["whole", "bytewise"])
def test_framings_whole_and_byte_by_byte(answer, body, how):
    pieces = list(range(1, len(answer))) if how == "bytewise" else None
    parser, done = _feed(answer, pieces)
    assert done
    resp = parser.response
    assert resp.body == body and resp.keep_alive
    assert resp.status in (200, 201)


@given(st.lists(st.integers(min_value=0, max_value=len(CHUNKED)), max_size=12))
def test_any_split_gives_the_same_answer(cuts):
    for answer in (LENGTH, CHUNKED):
        parser, done = _feed(answer, cuts)
        assert done and parser.response.body == b"hello"


def test_headers_are_case_insensitive_and_keep_duplicates():
    parser, done = _feed(b"HTTP/1.1 201 Created\r\ncontent-length: 0\r\nX-A: 1\r\nx-a: 2\r\n"
                         b"ETAG:   \"q\" \r\n\r\n")
    assert done
    headers = parser.response.headers
    assert headers["ETag"] == '"q"' and headers.getall("X-A") == ["1", "2"]


def test_until_close_body_ends_at_eof_and_is_not_kept_alive():
    parser = ResponseParser()
    assert not parser.feed(b"HTTP/1.1 200 OK\r\n\r\nsome")
    assert not parser.feed(b" body")
    assert parser.feed_eof()
    assert parser.response.body == b"some body" and not parser.response.keep_alive


def test_connection_close_and_http10_are_not_kept_alive():
    for answer in (b"HTTP/1.1 201 Created\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
                   b"HTTP/1.0 201 Created\r\nContent-Length: 0\r\n\r\n"):
        parser, done = _feed(answer)
        assert done and not parser.response.keep_alive


def test_bodyless_answers():
    parser, done = _feed(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", bodyless=True)
    assert done and parser.response.body == b""
    parser, done = _feed(b"HTTP/1.1 204 No Content\r\n\r\n")
    assert done and parser.response.keep_alive


def test_interim_answer_is_skipped():
    parser, done = _feed(b"HTTP/1.1 100 Continue\r\n\r\n" + EMPTY)
    assert done and parser.response.status == 201


@pytest.mark.parametrize("answer", [
    b"HTTP/1.1 2O1 Created\r\n\r\n",  # bad status code
    b"HTTP/2 201 Created\r\n\r\n",
    b"garbage\r\n\r\n",
    b"HTTP/1.1 201 Created\r\nNo-Colon\r\n\r\n",
    b"HTTP/1.1 201 Created\r\nBad Name: x\r\n\r\n",
    b"HTTP/1.1 201 Created\r\n folded: x\r\n\r\n",
    b"HTTP/1.1 201 Created\r\nX: a\nY: b\r\n\r\n",  # bare LF
    b"HTTP/1.1 201 Created\r\nX: a\rb\r\n\r\n",  # bare CR
    b"HTTP/1.1 201 Created\r\nContent-Length: -1\r\n\r\n",
    b"HTTP/1.1 201 Created\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx",
    b"HTTP/1.1 201 Created\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",  # bad chunk size
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhelXX0\r\n\r\n",  # CRLF by value
    EMPTY + b"X",  # trailing garbage
    LENGTH + b"HTTP/1.1 201 Created\r\n\r\n",
])
def test_malformed_answers_raise(answer):
    with pytest.raises(NodeProtocolError):
        _feed(answer)
    with pytest.raises(NodeProtocolError):
        _feed(answer, list(range(1, len(answer))))


@pytest.mark.parametrize("answer", [LENGTH[:-1], CHUNKED[:-2], LENGTH[:20]])
def test_truncated_answers_fail_at_eof(answer):
    parser = ResponseParser()
    assert not parser.feed(answer)
    with pytest.raises(NodeProtocolError):
        parser.feed_eof()


def test_limits():
    with pytest.raises(NodeProtocolError):
        ResponseParser().feed(b"HTTP/1.1 200 OK\r\nX: " + b"a" * MAX_HEAD)
    parser = ResponseParser()
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY + 1))
    with pytest.raises(NodeProtocolError):
        parser.feed(b"x" * (MAX_BODY + 1))


def test_request_head_bytes_and_framing():
    head, chunked = request_head("PUT", "/object/d0/1/a/c/o", "127.0.0.1:6200",
                                 {"X-Timestamp": "1.00000", "content-length": "4"})
    assert head == (b"PUT /object/d0/1/a/c/o HTTP/1.1\r\nHost: 127.0.0.1:6200\r\n"
                    b"X-Timestamp: 1.00000\r\ncontent-length: 4\r\n\r\n")
    assert not chunked
    head, chunked = request_head("PUT", "/p", "h:1", {"X-Object-Meta-A": "\u00e9"})
    assert chunked and head.endswith(b"X-Object-Meta-A: \xc3\xa9\r\nTransfer-Encoding: chunked\r\n\r\n")


@pytest.mark.parametrize("value", ["a\r\nX-Evil: 1", "a\nb", "a\rb"])
def test_request_head_refuses_split_headers(value):
    with pytest.raises(ValueError):
        request_head("PUT", "/p", "h:1", {"X-Object-Meta-A": value})


def test_chunk_frame_small_and_large():
    assert chunk_frame(b"abc") == (b"3\r\nabc\r\n",)
    big = b"x" * 100000
    assert chunk_frame(big) == (b"186a0\r\n", big, b"\r\n")
