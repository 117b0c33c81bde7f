"""strato/put_footer.py: footer encode/decode checked by value, feature tokens, and the node's
body/footer split over arbitrary piece boundaries (Hypothesis) for both framings."""
import hashlib

import pytest
import xxhash
from hypothesis import given, settings
from hypothesis import strategies as st

from strato import put_footer
from strato.put_footer import FOOTER_LEN, BodySplitter, FooterError


def _footer(body):
    return put_footer.encode(hashlib.md5(body).hexdigest(), xxhash.xxh3_64(body).hexdigest())


def test_round_trip():
    md5, xxh3 = "0123456789abcdef" * 2, "fedcba9876543210"
    data = put_footer.encode(md5, xxh3)
    assert len(data) == FOOTER_LEN == 56
    assert put_footer.decode(data) == (md5, xxh3)


@pytest.mark.parametrize("data", [b"", b"x" * FOOTER_LEN,
                                  put_footer.MAGIC + b"0" * 47,
                                  put_footer.MAGIC + b"0" * 49,
                                  put_footer.MAGIC + b"Z" * 48,
                                  put_footer.MAGIC + b"A" * 48,
                                  put_footer.MAGIC + b"0" * 47 + b" ",
                                  b"STRFTR2\n" + b"0" * 48])
def test_malformed(data):
    with pytest.raises(FooterError):
        put_footer.decode(data)


def test_encode_refuses_wrong_lengths():
    with pytest.raises(FooterError):
        put_footer.encode("abc", "def")


@pytest.mark.parametrize("value,ok", [(None, False), ("", False), ("put-footer-1", True),
                                      ("x, put-footer-1", True), ("put-footer-10", False),
                                      ("put-footer-2", False), ("put-footer", False)])
def test_feature_tokens(value, ok):
    assert put_footer.supports_footer(value) is ok


def _split(payload, cuts, total_length):
    """Feed payload cut at `cuts` (sorted offsets); returns (object bytes, footer or error)."""
    splitter = BodySplitter(total_length)
    out = []
    bounds = [0, *cuts, len(payload)]
    for a, b in zip(bounds, bounds[1:]):
        for piece in splitter.feed(payload[a:b]):
            out.append(bytes(piece))
    try:
        return b"".join(out), splitter.footer()
    except FooterError as exc:
        return b"".join(out), exc


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=300), data=st.data(), chunked=st.booleans())
def test_split_over_any_piece_boundaries(body, data, chunked):
    payload = body + _footer(body)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(payload)), max_size=12)))
    got, footer = _split(payload, cuts, None if chunked else len(payload))
    assert got == body
    assert footer == (hashlib.md5(body).hexdigest(), xxhash.xxh3_64(body).hexdigest())


@settings(max_examples=200, deadline=None)
@given(payload=st.binary(max_size=120), data=st.data())
def test_chunked_short_or_garbage_never_passes(payload, data):
    """Whatever arrives, the object bytes are everything but the last FOOTER_LEN, and the footer
    is accepted only if those last bytes are a well-formed footer."""
    cuts = sorted(data.draw(st.lists(st.integers(0, len(payload)), max_size=8)))
    got, footer = _split(payload, cuts, None)
    assert got == payload[:max(len(payload) - FOOTER_LEN, 0)]
    if len(payload) < FOOTER_LEN or not payload[-FOOTER_LEN:].startswith(put_footer.MAGIC):
        assert isinstance(footer, FooterError)


def test_content_length_framing():
    body = b"abc" * 1000
    payload = body + _footer(body)
    with pytest.raises(FooterError):
        BodySplitter(FOOTER_LEN - 1)
    splitter = BodySplitter(len(payload))
    assert splitter.body_length == len(body)
    first = splitter.feed(payload[:1000])
    assert first == [payload[:1000]] and first[0] is not None  # whole pieces pass uncopied
    assert splitter.body_length == len(body) - 1000
    splitter.feed(payload[1000:-1])
    with pytest.raises(FooterError):  # one byte of the footer missing
        splitter.footer()
    short = BodySplitter(len(payload))
    short.feed(payload[:10])
    with pytest.raises(FooterError):
        short.footer()
    over = BodySplitter(len(payload))
    with pytest.raises(FooterError):  # more than Content-Length
        over.feed(payload + b"x")
