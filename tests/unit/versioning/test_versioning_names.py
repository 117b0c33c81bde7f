"""Reserved names and version ids (proxy/objver/names.py) as Swift's object_versioning forms them."""
import pytest
from hypothesis import given, strategies as st

from proxy.objver import names


def test_versions_container_is_reserved():
    assert names.versions_container("c") == "\x00versions\x00c"
    assert names.primary_of("\x00versions\x00c") == "c"
    assert names.primary_of("c") is None
    assert names.primary_of("\x00other\x00c") is None


def test_version_name_counts_down_so_newest_lists_first():
    older = names.version_name("o", "1700000000.00000")
    newer = names.version_name("o", "1700000001.00000")
    assert older == "\x00o\x008299999999.99999"
    assert newer < older
    assert names.parse_version_name(newer) == ("o", "1700000001.00000")


def test_version_id_drops_the_offset():
    assert names.version_id("1700000000.12345_0000000000000001") == "1700000000.12345"


def test_object_prefix_sorts_before_every_version():
    assert names.object_prefix("o") == "\x00o\x00"
    assert names.object_prefix("o") < names.version_name("o", "9999999999.99998")


def test_not_a_version_name():
    assert names.parse_version_name("plain") == ("plain", None)
    assert names.parse_version_name("\x00o\x00junk") == ("\x00o\x00junk", None)


def test_check_version():
    assert names.check_version("null") == "null"
    assert names.check_version("1700000000.00000") == "1700000000.00000"
    for bad in ("abc", "", "-1"):
        with pytest.raises(names.InvalidVersion):
            names.check_version(bad)
    with pytest.raises(names.InvalidVersion):
        names.check_version("null", allow_null=False)


def test_link_target_round_trip():
    vname = names.version_name("a b/ü", "1700000000.00000")
    value = names.link_target("\x00versions\x00c", vname)
    assert "\x00" not in value
    assert names.parse_link_target(value) == ("\x00versions\x00c", vname)


@given(st.integers(min_value=0, max_value=10 ** 15 - 1))
def test_inversion_is_its_own_inverse(ticks):
    vid = f"{ticks // 100000:010d}.{ticks % 100000:05d}"
    assert names.parse_version_name(names.version_name("x", vid)) == ("x", vid)
