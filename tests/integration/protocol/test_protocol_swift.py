"""Swift's answers to requests that stock aiohttp refuses or loses, on the all-in-one's proxy.

Raw sockets send the exact bytes OpenStack Swift's functional suite sends (tests.py
testUtf8Container, testInvalidUTF8Path, testQuestionMarkInName, testNoContentLengthForPut,
testBadHeaders, test_protocol test_invalid_path_info); python-swiftclient checks what was stored.
"""
import pytest
import swiftclient

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def client(aio):
    info = aio["swift"]
    conn = swiftclient.Connection(info["auth_url"], info["user"], info["key"], retries=0)
    yield conn
    conn.close()


def close(extra=b""):
    return extra + b"Connection: close\r\n"


def test_raw_utf8_container_name_is_served_and_listed(swift, client, exchange, answers):
    name = "proto-\u2603-\u00e9t\u00e9"
    (put,) = answers(exchange(swift.port, swift.request(
        "PUT", b"/" + name.encode(), close(b"Content-Length: 0\r\n"))))
    assert put.status == 201
    try:
        assert name in [c["name"] for c in client.get_account(prefix="proto-")[1]]
        (head,) = answers(exchange(swift.port, swift.request("HEAD", b"/" + name.encode(),
                                                             close())))
        assert head.status == 204
    finally:
        client.delete_container(name)


def test_invalid_utf8_in_the_path_is_412(swift, exchange, answers):
    target = "/proto-\u2603".encode()[::-1]  # reversed UTF-8, as the suite builds it
    (answer,) = answers(exchange(swift.port, swift.request("PUT", b"/" + target,
                                                           close(b"Content-Length: 0\r\n"))))
    assert (answer.status, answer.body) == (412, b"Invalid UTF8 or contains NULL")


def test_question_mark_in_a_raw_name_starts_the_query(swift, client, container, exchange,
                                                      answers):
    raw = f"/{container}/\u00e9t\u00e9?rest".encode()
    (answer,) = answers(exchange(swift.port, swift.request(
        "PUT", raw, close(b"Content-Length: 4\r\n"), b"data")))
    assert answer.status == 201
    assert [o["name"] for o in client.get_container(container)[1]] == ["\u00e9t\u00e9"]


def test_put_without_content_length_is_411_even_with_its_body_in_the_same_read(
        swift, client, container, exchange, answers):
    stream = swift.request("PUT", f"/{container}/nolength".encode(), b"", b"testing")
    got = answers(exchange(swift.port, stream, timeout=5))
    assert [(a.status, a.body) for a in got] == [(411, b"Missing Content-Length header.")]
    assert got[0].headers["connection"] == "close"
    assert client.get_container(container)[1] == []


def test_a_body_longer_than_content_length_stores_exactly_content_length_bytes(
        swift, client, container, exchange, answers):
    stream = swift.request("PUT", f"/{container}/long".encode(), b"Content-Length: 5\r\n",
                           b"hello-and-more-bytes")
    got = answers(exchange(swift.port, stream, timeout=2))
    assert got[0].status == 201  # its own answer, not the 400 for the bytes after it
    assert client.get_object(container, "long")[1] == b"hello"


@pytest.mark.parametrize("te,status", [("gzip,chunked", 501), ("gzip, chunked", 501)])
def test_transfer_codings_other_than_chunked_alone_are_refused_like_swift(
        swift, container, te, status, exchange, answers):
    stream = swift.request("PUT", f"/{container}/te".encode(),
                           f"Transfer-Encoding: {te}\r\n".encode(), b"5\r\nhello\r\n0\r\n\r\n")
    got = answers(exchange(swift.port, stream, timeout=2))
    assert got[0].status == status


@pytest.mark.parametrize("method", ["LICK", "GETorHEAD_base"])
def test_unknown_methods_are_405_not_400(swift, method, exchange, answers):
    (answer,) = answers(exchange(swift.port, swift.request(method, b"", close())))
    assert answer.status == 405


@pytest.mark.parametrize("target,status", [
    (b"/info%20asdf", 412),   # a version but no account: Swift has no controller for it
    (b"/v1/", 412),
    (b"/v1//c/o", 404),       # an empty account
])
def test_paths_without_an_account(swift, target, status, exchange, answers):
    head = (b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: "
            + swift.token.encode() + b"\r\nConnection: close\r\n\r\n")
    (answer,) = answers(exchange(swift.port, head))
    assert answer.status == status
