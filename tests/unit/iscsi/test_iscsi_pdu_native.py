"""native.iscsipdu: the BHS codec, run against the pure twin and the compiled module."""
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import native

u32 = st.integers(0, 0xFFFFFFFF)
fields = st.tuples(st.integers(0, 0x3F), st.integers(0, 1), st.integers(0, 255),
                   st.integers(0, 255), st.integers(0, 255),
                   st.integers(0, 255).map(lambda w: w * 4), st.integers(0, 0xFFFFFF),
                   st.integers(0, (1 << 64) - 1), u32, u32, u32, u32, u32, u32, u32, u32)

# A SCSI Command (READ 10, 8 blocks) as RFC 7143 11.3 lays it out, byte by byte.
GOLDEN = bytes([0x41, 0xC1, 0, 0, 0, 0, 0, 0,        # I|0x01, F|R|attr 1, AHS 0, DSL 0
                0, 1, 0, 0, 0, 0, 0, 0,              # LUN 1
                0x12, 0x34, 0x56, 0x78,              # ITT
                0, 0, 0x10, 0,                       # EDTL 4096
                0, 0, 0, 9,                          # CmdSN
                0xFF, 0xFF, 0xFF, 0xFF,              # ExpStatSN
                0x28, 0, 0, 0, 0, 0x10, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0])   # CDB


def test_golden_parse(native_impl):
    f = native_impl.parse_bhs(GOLDEN)
    assert f[:9] == (0x01, 1, 0xC1, 0, 0, 0, 0, 1 << 48, 0x12345678)
    assert f[9:12] == (4096, 9, 0xFFFFFFFF)
    assert f[12] == 0x28000000
    assert native_impl.build_bhs(*f) == GOLDEN


def test_lengths_and_offset(native_impl):
    raw = native_impl.build_bhs(0x25, 0, 0x81, 0, 0, 8, 0x123456, 0, 1, 2, 3, 4, 5, 6, 7, 8)
    assert raw[4] == 2 and raw[5:8] == b"\x12\x34\x56"
    assert native_impl.parse_bhs(b"xx" + raw, 2)[5:7] == (8, 0x123456)
    buf = bytearray(60)
    native_impl.build_bhs_into(buf, 12, 0x25, 0, 0x81, 0, 0, 8, 0x123456, 0, 1, 2, 3, 4, 5, 6,
                               7, 8)
    assert bytes(buf[12:]) == raw


def test_padding_and_segment_lengths(native_impl):
    assert [native_impl.pad_length(n) for n in range(6)] == [0, 3, 2, 1, 0, 3]
    assert native_impl.segment_lengths(0, 0, False, False) == 0
    assert native_impl.segment_lengths(4, 5, True, True) == 4 + 4 + 8 + 4
    assert native_impl.segment_lengths(0, 0, True, True) == 4


@pytest.mark.parametrize("bad", [b"", b"\0" * 47])
def test_short_header_refused(native_impl, bad):
    with pytest.raises(ValueError):
        native_impl.parse_bhs(bad)
    with pytest.raises(ValueError):
        native_impl.parse_bhs(b"\0" * 48, 1)


@pytest.mark.parametrize("index,value,error", [
    (0, 0x40, ValueError), (1, 2, ValueError), (5, 6, ValueError), (5, 1024, ValueError),
    (6, 1 << 24, ValueError), (2, 256, OverflowError), (8, 1 << 32, OverflowError),
    (9, -1, OverflowError), (7, 1 << 64, OverflowError)])
def test_out_of_range_fields_refused(native_impl, index, value, error):
    f = [1, 0, 0x80, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    f[index] = value
    with pytest.raises(error):
        native_impl.build_bhs(*f)


@settings(max_examples=300, deadline=None)
@given(fields)
def test_round_trip(f):
    for impl in native.load_both("iscsipdu").values():
        if impl is not None:
            raw = impl.build_bhs(*f)
            assert len(raw) == 48
            assert impl.parse_bhs(raw) == f


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=48, max_size=64))
def test_twins_agree_on_any_bytes(raw):
    both = native.load_both("iscsipdu")
    if both["c"] is None:
        pytest.skip("compiled module not built")
    parsed = both["py"].parse_bhs(raw)
    assert both["c"].parse_bhs(raw) == parsed
    # bit 7 of byte 0 is reserved: parsing drops it, everything else survives
    expected = bytes([raw[0] & 0x7F]) + raw[1:48]
    assert both["c"].build_bhs(*parsed) == both["py"].build_bhs(*parsed) == expected


def test_compiled_module_is_live():
    """Fails when the extension silently did not build (unless pure mode is asked for)."""
    if os.environ.get("STRATO_NO_EXTENSIONS") == "1":
        pytest.skip("pure mode requested")
    import native.iscsipdu as selector
    assert selector.IMPLEMENTATION == "native._iscsipdu_c"
