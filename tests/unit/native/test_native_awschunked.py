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


def decode(impl, body, signed=True, step=None):
    decoder = impl.Decoder(signed)
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
    assert events[-1][0] == impl.END
    return data, chunks, trailers


@pytest.mark.parametrize("step", [None, 1, 7])
def test_signed_chunks_with_trailer(impl, step):
    body = encode([b"x" * 100, b"hello"], trailers=[("x-amz-checksum-crc32", "AAAAAA==")])
    data, chunks, trailers = decode(impl, body, step=step)
    assert data == b"x" * 100 + b"hello"
    assert chunks == [(100, SIG), (5, SIG), (0, SIG)]
    assert trailers == [("x-amz-checksum-crc32", "AAAAAA==")]


def test_unsigned_trailer_form_boto3_sends(impl):
    body = b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"
    data, chunks, trailers = decode(impl, body, signed=False)
    assert data == b"hello" and chunks == [(5, None), (0, None)]
    assert trailers == [("x-amz-checksum-crc32", "NhCmhg==")]


@pytest.mark.parametrize("body, message", [
    (b"5\r\nhelloXX0\r\n\r\n", "not followed by CRLF"),
    (b"zz\r\n", "invalid chunk size"),
    (b"\r\n", "invalid chunk size"),
    (b"5;foo=bar\r\nhello\r\n", "unknown chunk extension"),
    (b"5;chunk-signature=abc\r\nhello\r\n", "malformed chunk signature"),
    (b"5;chunk-signature=" + b"A" * 64 + b"\r\n", "malformed chunk signature"),
    (b"5\nhello", "not terminated by CRLF"),
    (b"1" * 5000, "too long"),
    (b"11111111111111111\r\n", "invalid chunk size"),
    (b"0\r\nnocolon\r\n", "malformed trailer"),
    (b"0\r\n\r\nextra", "after the end"),
])
def test_malformed_framing_is_refused(impl, body, message):
    decoder = impl.Decoder(False)
    with pytest.raises(impl.AwsChunkedError, match=message):
        decoder.feed(body)


def test_signed_mode_requires_signatures(impl):
    with pytest.raises(impl.AwsChunkedError, match="signature missing"):
        impl.Decoder(True).feed(b"5\r\nhello\r\n")


@pytest.mark.parametrize("cut", [1, 10, 20])
def test_truncated_body_is_refused(impl, cut):
    body = encode([b"abc" * 10], signed=False)
    decoder = impl.Decoder(False)
    decoder.feed(body[:-cut])
    with pytest.raises(impl.AwsChunkedError, match="truncated"):
        decoder.close()


def test_trailer_size_is_capped(impl):
    decoder = impl.Decoder(False)
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
        decoder = module.Decoder(signed)
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
