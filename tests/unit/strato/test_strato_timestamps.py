import pytest

from strato.timestamps import Timestamp


def test_normal_and_internal_forms():
    ts = Timestamp(1700000000.123456)
    assert ts.normal == "1700000000.12346"
    assert ts.internal == "1700000000.12346"
    later = Timestamp(ts, offset=1)
    assert later.internal == "1700000000.12346_0000000000000001"
    assert later > ts
    assert Timestamp.parse(later.internal) == later


def test_ordering_and_equality_with_strings():
    assert Timestamp("0000000001.00000") < Timestamp("0000000002.00000")
    assert Timestamp(5) == "0000000005.00000"
    assert len(Timestamp(5).normal) == 16


@pytest.mark.parametrize("bad", ["", "abc", "-1", "nan", "1e20", "1_zz"])
def test_malformed_is_refused(bad):
    with pytest.raises(ValueError):
        Timestamp.parse(bad)


@pytest.mark.parametrize("text", ["0000000000.00000", "1700000000.12345", "9999999999.99999",
                                  "0000000001.00001", "1234567890.09990"])
def test_normal_form_parses_exactly_and_keeps_its_text(text):
    ts = Timestamp(text)
    assert ts.ticks == int(text.replace(".", ""))  # integer parse, no float rounding
    assert ts.normal is text  # formatted once: the text it came from
    assert Timestamp(f"{text}_000000000000000a").offset == 10
    assert Timestamp(float(text)) == ts


def test_from_ticks_and_copies_format_their_own_values():
    ts = Timestamp.from_ticks(170000000012345, 3)
    assert ts.internal == "1700000000.12345_0000000000000003"
    assert Timestamp.from_ticks(0).normal == "0000000000.00000"
    assert Timestamp(ts, offset=1).internal == "1700000000.12345_0000000000000004"
    for bad in ((-1, 0), (10 ** 15, 0), (1, -1)):
        with pytest.raises(ValueError):
            Timestamp.from_ticks(*bad)


def test_every_ordering_with_timestamps_strings_and_offsets():
    a = Timestamp("1700000000.00001")
    b = Timestamp("1700000000.00001_0000000000000001")
    c = Timestamp("1700000000.00002")
    for lo, hi in ((a, b), (b, c), (a, c)):
        assert lo < hi and lo <= hi and hi > lo and hi >= lo and lo != hi
        assert not (lo > hi or lo >= hi or hi < lo or hi <= lo)
        assert lo < hi.internal and hi.internal > lo and hi >= lo.internal and lo.internal <= hi
    assert a <= Timestamp(a.internal) and a >= a.internal and a == a.normal
    assert max(b, a, c) is c and sorted([c, b, a]) == [a, b, c]
    assert hash(a) == hash(Timestamp(a.internal)) and len({a, Timestamp(a), b}) == 2
    for op in ("__lt__", "__le__", "__gt__", "__ge__"):
        with pytest.raises(ValueError):
            getattr(a, op)("yesterday")
    assert (a == "yesterday") is False


def test_orderings_are_the_class_own():
    """Each ordering is a method of Timestamp itself, not one functools.total_ordering derives
    from __lt__ (those add a Python frame to every comparison a node makes)."""
    for op in ("__lt__", "__le__", "__gt__", "__ge__", "__eq__"):
        assert getattr(Timestamp, op).__qualname__ == f"Timestamp.{op}"
