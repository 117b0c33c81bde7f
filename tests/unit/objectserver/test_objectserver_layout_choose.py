"""layout.choose decides from (ticks, offset) keys and hands its parsed timestamps to the FileSet;
the choice itself must be exactly the one the straightforward rule gives (the reference below is
the earlier implementation, kept here as the specification), ties and junk names included."""
from hypothesis import given, settings
from hypothesis import strategies as st

from objectserver import layout
from strato.timestamps import Timestamp


def reference_choose(names) -> layout.FileSet:
    parsed = sorted(((p[0], p[1], n) for n in names if (p := layout.parse_filename(n))),
                    key=lambda item: item[0], reverse=True)
    winner = meta = None
    obsolete = []
    for ts, ext, name in parsed:
        if winner is None and ext in (layout.DATA, layout.TOMBSTONE):
            winner = (ts, ext, name)
        elif winner is None and ext == layout.META and meta is None:
            meta = (ts, ext, name)
        else:
            obsolete.append(name)
    if meta is not None and (winner is None or winner[1] != layout.DATA):
        obsolete.append(meta[2])
        meta = None
    if winner is None:
        return layout.FileSet(obsolete=tuple(obsolete))
    if winner[1] == layout.DATA:
        return layout.FileSet(data=winner[2], meta=meta[2] if meta else None,
                              obsolete=tuple(obsolete))
    return layout.FileSet(tombstone=winner[2], obsolete=tuple(obsolete))


_stamps = st.builds(Timestamp.from_ticks, st.integers(170000000000000, 170000000000004),
                    st.integers(0, 2))
_names = st.one_of(
    st.builds(lambda ts, ext: layout.filename(ts, ext), _stamps, st.sampled_from(layout.EXTENSIONS)),
    st.builds(lambda ts, ext: ts.normal[:12] + ext, _stamps, st.sampled_from(layout.EXTENSIONS)),
    st.sampled_from(["junk", "x.data", ".ts", "1700000000.00000.tmp", "1700000000.5.meta"]))


@settings(max_examples=400, deadline=None)
@given(st.lists(_names, max_size=8, unique=True))
def test_choose_matches_the_reference(names):
    found = layout.choose(names)
    expected = reference_choose(names)
    assert found == expected
    winner = found.data or found.tombstone
    assert found.timestamp == (layout.parse_filename(winner)[0] if winner else None)
    assert found.meta_timestamp == (layout.parse_filename(found.meta)[0] if found.meta else None)
    # a FileSet built directly still parses its own timestamps
    assert expected.timestamp == found.timestamp and expected.meta_timestamp == found.meta_timestamp


def test_parse_filename_forms():
    assert layout.parse_filename("1700000000.12345_000000000000000a.meta") == (
        Timestamp("1700000000.12345_000000000000000a"), ".meta")
    assert layout.parse_filename("1700000000.5.ts") == (Timestamp(1700000000.5), ".ts")
    for bad in ("1700000000.12345.tmp", "1700000000.12345", "abc.data", ".data", "", "-1.data"):
        assert layout.parse_filename(bad) is None
