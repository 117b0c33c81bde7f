"""SwiftRequestHandler on a real socket, with aiohttp's native and pure-Python parsers alike.

Each case is a byte stream stock aiohttp answers differently from Swift/S3 (400 for raw UTF-8 or an
unknown method; a request lost behind the 400 for the garbage after it).
"""
import json

import aiohttp.http_parser
import pytest

pytestmark = pytest.mark.timeout(60)

HOST = b"Host: x\r\n"


def body(answer):
    return json.loads(answer.body)


def test_each_run_uses_the_parser_it_names(echo, exchange, answers):
    # A compiled parser that silently failed to load would make the "native" runs a copy.
    import socket
    import time
    with socket.create_connection(("127.0.0.1", echo.port), timeout=5) as sock:
        sock.sendall(b"GET /")
        for _ in range(100):
            handlers = echo.handlers()
            if handlers:
                break
            time.sleep(0.02)
        (handler,) = handlers
        parser = type(handler._observed._inner)
    expected = (aiohttp.http_parser.HttpRequestParserC if echo.parser == "native"
                else aiohttp.http_parser.HttpRequestParserPy)
    assert parser is expected and expected is not None


def test_raw_utf8_in_the_target_reaches_the_app_percent_encoded(echo, exchange, answers):
    raw = exchange(echo.port, "GET /v1/a/☃?x=é HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                   .encode())
    (answer,) = answers(raw)
    assert answer.status == 200 and body(answer)["raw_path"] == "/v1/a/%E2%98%83?x=%C3%A9"


def test_invalid_utf8_bytes_are_encoded_too_so_the_app_can_refuse_them(echo, exchange, answers):
    (answer,) = answers(exchange(echo.port, b"GET /a/\xff HTTP/1.1\r\nHost: x\r\n"
                                            b"Connection: close\r\n\r\n"))
    assert answer.status == 200 and body(answer)["raw_path"] == "/a/%FF"


def test_pipelined_requests_each_get_their_answer_in_order(echo, exchange, answers):
    stream = (b"GET /1 HTTP/1.1\r\n" + HOST + b"\r\n"
              + "GET /☃ HTTP/1.1\r\n".encode() + HOST + b"\r\n"
              + b"PUT /3 HTTP/1.1\r\n" + HOST + b"Content-Length: 2\r\n\r\nab"
              + b"GET /4 HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n")
    got = answers(exchange(echo.port, stream))
    assert [body(a)["raw_path"] for a in got] == ["/1", "/%E2%98%83", "/3", "/4"]
    assert body(got[2])["body"] == "ab"


@pytest.mark.parametrize("pause", [None, 40])
def test_a_body_longer_than_its_content_length_keeps_the_request_answered(echo, pause, exchange,
                                                                           answers):
    stream = b"PUT /o HTTP/1.1\r\n" + HOST + b"Content-Length: 3\r\n\r\nabc0123456789\r\n\r\n"
    got = answers(exchange(echo.port, stream, timeout=2, pause_after=pause))
    assert got[0].status == 200 and body(got[0])["body"] == "abc"
    assert [a.status for a in got[1:]] == [400]  # the rest is refused as a request, then closed


def test_a_put_without_framing_is_answered_then_the_connection_closes(echo, exchange, answers):
    stream = (b"PUT /o HTTP/1.1\r\n" + HOST + b"\r\n\xfa\xdb binary body"
              + b"GET /never HTTP/1.1\r\n" + HOST + b"\r\n")
    got = answers(exchange(echo.port, stream, timeout=2))
    assert len(got) == 1  # the body (and what looks like a request in it) is not served
    assert got[0].status == 200 and body(got[0])["keep_alive"] is False
    assert (body(got[0])["method"], body(got[0])["body"]) == ("PUT", "")
    assert got[0].headers["connection"] == "close"


def test_the_last_request_of_a_connection_still_gets_its_body(echo, exchange, answers):
    stream = (b"PUT /o HTTP/1.1\r\n" + HOST + b"Content-Length: 4\r\nConnection: close\r\n\r\n"
              b"dataGET /never HTTP/1.1\r\n" + HOST + b"\r\n")
    got = answers(exchange(echo.port, stream))
    assert [(a.status, body(a)["body"]) for a in got] == [(200, "data")]


def test_a_get_without_framing_keeps_the_connection(echo, exchange, answers):
    stream = (b"GET /a HTTP/1.1\r\n" + HOST + b"\r\n" + b"DELETE /b HTTP/1.1\r\n" + HOST
              + b"Connection: close\r\n\r\n")
    got = answers(exchange(echo.port, stream))
    assert [(body(a)["method"], a.status) for a in got] == [("GET", 200), ("DELETE", 200)]


@pytest.mark.parametrize("method", ["LICK", "GETorHEAD_base"])
def test_methods_the_parser_does_not_know_reach_the_app_by_name(echo, method, exchange, answers):
    stream = method.encode() + b" /x HTTP/1.1\r\n" + HOST + b"Content-Length: 1\r\n\r\nz"
    stream += b"GET /y HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n"
    got = answers(exchange(echo.port, stream))
    assert [(body(a)["method"], body(a)["body"]) for a in got] == [(method, "z"), ("GET", "")]


def test_a_method_that_is_not_a_token_is_still_refused(echo, exchange, answers):
    (answer,) = answers(exchange(echo.port, b"G@T /x HTTP/1.1\r\n" + HOST + b"\r\n", timeout=2))
    assert answer.status == 400


def test_a_head_arriving_one_byte_at_a_time_is_served(echo, exchange, answers):
    import socket
    import time
    data = "GET /é HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", echo.port), timeout=5) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(data)):
            sock.send(data[i:i + 1])
            time.sleep(0.001)
        out = b""
        while chunk := sock.recv(65536):
            out += chunk
    (answer,) = answers(out)
    assert body(answer)["raw_path"] == "/%C3%A9"


def test_after_a_chunked_body_the_connection_still_serves(echo, exchange, answers):
    # Tracking stops after a chunked body (the parser alone knows where it ended); ASCII requests
    # after it are served exactly as stock aiohttp serves them.
    stream = (b"PUT /c HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\n"
              b"3\r\nabc\r\n0\r\n\r\n"
              + b"GET /d HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n")
    got = answers(exchange(echo.port, stream))
    assert [(body(a)["raw_path"], body(a)["body"]) for a in got] == [("/c", "abc"), ("/d", "")]


def test_header_names_outside_the_token_set_reach_the_app_as_sent(echo, exchange, answers):
    odd = [f"x-amz-meta-{c}" for c in '"()/<=>?@[\\]{}']
    head = b"PUT /o HTTP/1.1\r\n" + HOST + b"".join(
        f"{name}: v{i}\r\n".encode() for i, name in enumerate(odd))
    stream = head + b"Content-Length: 2\r\nConnection: close\r\n\r\nok"
    (answer,) = answers(exchange(echo.port, stream))
    assert answer.status == 200 and body(answer)["body"] == "ok"
    got = [h for h in body(answer)["headers"] if h[0].startswith("x-amz-meta-")]
    assert got == [[name, f"v{i}"] for i, name in enumerate(odd)]


@pytest.mark.parametrize("line", [b"Bad Name: x", b" folded", b"x-\x01: y"])
def test_other_odd_header_lines_are_still_refused(echo, line, exchange, answers):
    stream = b"GET /o HTTP/1.1\r\n" + HOST + line + b"\r\n\r\n"
    (answer,) = answers(exchange(echo.port, stream, timeout=2))
    assert answer.status == 400
