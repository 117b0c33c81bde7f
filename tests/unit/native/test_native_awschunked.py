"""aws-chunked framing: both implementations, fed whole, byte by byte, and with garbage after."""
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import native

IMPLS = native.load_both("awschunked")
SIG = "a" * 64


@pytest.fixture(params=["py", "c"])
def impl(request):
    module = IMPLS[request.param]
    if module is None:
        if os.environ.get("STRATO_NO_EXTENSIONS") == "1":
            pytest.skip("pure-Python mode")
        pytest.fail("native._awschunked_c did not build")
    return module


def encode(chunks, signed=True, trailers=()):
    out = b""
    for chunk in list(chunks) + [b""]:
        ext = f";chunk-signature={SIG}".encode() if signed else b""
        out += b"%x" % len(chunk) + ext + b"\r\n" + chunk + (b"\r\n" if chunk else b"")
    for name, value in trailers:
        out += f"{name}:{value}\r\n".encode()
    return out + b"\r\n"


def decode(impl, body, step=None):
    decoder = impl.Decoder()
    events = []
    if step is None:
        events += decoder.feed(body)
    else:
        for i in range(0, len(body), step):
            events += decoder.feed(body[i:i + step])
    decoder.close()
    data = b"".join(a for kind, a, _ in events if kind == impl.DATA)
    chunks = [(a, b) for kind, a, b in events if kind == impl.CHUNK]
    trailers = [(a, b) for kind, a, b in events if kind == impl.TRAILER]
    return data, chunks, trailers, events


@pytest.mark.parametrize("step", [None, 1, 7])
def test_signed_chunks_with_trailer(impl, step):
    body = encode([b"x" * 100, b"hello"], trailers=[("x-amz-checksum-crc32", "AAAAAA==")])
    data, chunks, trailers, events = decode(impl, body, step=step)
    assert data == b"x" * 100 + b"hello"
    params = "chunk-signature=" + SIG
    assert chunks == [(100, params), (5, params), (0, params)]
    assert trailers == [("x-amz-checksum-crc32", "AAAAAA==")]
    assert events[-1][0] == impl.END


def test_unsigned_trailer_form_boto3_sends(impl):
    body = b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"
    data, chunks, trailers, _ = decode(impl, body)
    assert data == b"hello" and chunks == [(5, None), (0, None)]
    assert trailers == [("x-amz-checksum-crc32", "NhCmhg==")]


def test_params_and_trailers_are_passed_raw(impl):
    """Meaning is the caller's: spaces, odd parameters and lines without ':' come through as sent."""
    body = b" 5 ; chunk-signature = abc \r\nhello\r\n0;x=y\r\nname: v : w\r\nnocolon\r\n\r\n"
    data, chunks, trailers, _ = decode(impl, body)
    assert data == b"hello" and chunks == [(5, " chunk-signature = abc "), (0, "x=y")]
    assert trailers == [("name", " v : w"), ("nocolon", "")]


@pytest.mark.parametrize("tail", [b"", b"x-amz-checksum-crc32:AAAAAA==\r\n",
                                  b"\r\n", b"\r\nanything\xff after the end"])
def test_body_may_end_after_last_chunk_or_whole_trailer_lines(impl, tail):
    """S3 accepts a body that stops after the last chunk or a complete trailer line, and does
    not read past the empty line that ends the trailers."""
    decoder = impl.Decoder()
    events = decoder.feed(b"3\r\nabc\r\n0\r\n" + tail)
    decoder.close()
    assert b"".join(e[1] for e in events if e[0] == impl.DATA) == b"abc"
    assert decoder.done == tail.startswith(b"\r\n")


@pytest.mark.parametrize("body, message", [
    (b"5\r\nhelloXX0\r\n\r\n", "not followed by CRLF"),
    (b"zz\r\n", "invalid chunk size"),
    (b"\r\n", "invalid chunk size"),
    (b"-5\r\n", "invalid chunk size"),
    (b"5\nhello", "not terminated by CRLF"),
    (b"1" * 5000, "too long"),
    (b"11111111111111111\r\n", "invalid chunk size"),
    (b"0\r\nname:value\n", "not terminated by CRLF"),
])
def test_malformed_framing_is_refused(impl, body, message):
    decoder = impl.Decoder()
    with pytest.raises(impl.AwsChunkedError, match=message):
        decoder.feed(body)


@pytest.mark.parametrize("body", [b"3\r\nab", b"3\r\nabc\r\n", b"3\r\nabc\r\n0",
                                  b"0\r\n\r", b"0\r\nname:va"])
def test_truncated_body_is_refused(impl, body):
    decoder = impl.Decoder()
    decoder.feed(body)
    with pytest.raises(impl.AwsChunkedError, match="truncated"):
        decoder.close()


def test_trailer_size_is_capped(impl):
    decoder = impl.Decoder()
    decoder.feed(b"0\r\n")
    with pytest.raises(impl.AwsChunkedError, match="trailer too large"):
        for i in range(20):
            decoder.feed(f"x-amz-meta-{i}:{'v' * 1000}\r\n".encode())


@settings(max_examples=200, deadline=None)
@given(chunks=st.lists(st.binary(max_size=300), max_size=5), signed=st.booleans(),
       cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=6),
       garbage=st.binary(max_size=20))
def test_twins_agree(chunks, signed, cuts, garbage):
    chunks = [c for c in chunks if c]
    body = encode(chunks, signed=signed, trailers=[("x-amz-checksum-crc32c", "AAAAAA==")]) + garbage
    if IMPLS["c"] is None:
        pytest.skip("compiled twin not built")
    results = []
    for module in (IMPLS["py"], IMPLS["c"]):
        decoder = module.Decoder()
        events, error = [], None
        points = sorted({min(c, len(body)) for c in cuts} | {0, len(body)})
        try:
            for a, b in zip(points, points[1:]):
                events += decoder.feed(body[a:b])
        except module.AwsChunkedError as exc:
            error = str(exc)
        data = b"".join(e[1] for e in events if e[0] == module.DATA)
        results.append((data, [e for e in events if e[0] != module.DATA], error))
    assert results[0] == results[1]
    if not garbage:
        assert results[0][2] is None
