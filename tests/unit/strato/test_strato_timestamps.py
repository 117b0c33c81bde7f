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
