"""The LMDB listing store on a temporary environment: merges, counters, listing scans."""
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from objectserver import db as dbmod


@pytest.fixture
def store(tmp_path):
    handle = dbmod.DeviceDB(str(tmp_path / "db"), map_size=1 << 26)
    yield handle
    handle.close()


def row(name, ts, size=1, deleted=0):
    return [name, ts, size, "text/plain", "etag", deleted]


def test_rows_merge_newest_wins_with_counts(store):
    store.container_put("a", "c", "0000000001.00000", {}, 0, [])
    store.merge_object_rows("a", "c", [row("x", "0000000002.00000", 10)])
    rec = store.merge_object_rows("a", "c", [row("x", "0000000001.50000", 99)])  # older: ignored
    assert (rec["count"], rec["bytes"]) == (1, 10)
    rec = store.merge_object_rows("a", "c", [row("x", "0000000003.00000", 7), row("y", "0000000003.00000", 5)])
    assert (rec["count"], rec["bytes"]) == (2, 12)
    rec = store.merge_object_rows("a", "c", [row("x", "0000000004.00000", 0, deleted=1)])
    assert (rec["count"], rec["bytes"]) == (1, 5)
    assert [r["name"] for r in store.list_objects("a", "c")] == ["y"]
    assert store.merge_object_rows("a", "nope", [row("x", "0000000005.00000")]) is None


def test_container_delete_rules(store):
    store.container_put("a", "c", "0000000001.00000", {"X-Container-Meta-K": "v"}, 0, [])
    store.merge_object_rows("a", "c", [row("x", "0000000002.00000")])
    with pytest.raises(dbmod.DBError) as err:
        store.container_delete("a", "c", "0000000003.00000")
    assert err.value.status == 409
    store.merge_object_rows("a", "c", [row("x", "0000000004.00000", deleted=1)])
    existed, rec = store.container_delete("a", "c", "0000000005.00000")
    assert existed and dbmod.is_deleted(rec) and dbmod.live_meta(rec["meta"]) == {}
    created, rec = store.container_put("a", "c", "0000000006.00000", {}, 0, [])
    assert created and not dbmod.is_deleted(rec)
    with pytest.raises(dbmod.DBError) as err:  # a put older than the delete cannot revive it
        store.container_delete("a", "c", "0000000007.00000")
        store.container_put("a", "c", "0000000006.50000", {}, 0, [])
    assert err.value.status == 409


def test_metadata_newest_wins_per_key(store):
    store.container_put("a", "c", "0000000002.00000", {"X-Container-Meta-A": "new"}, 0, [])
    rec = store.container_post("a", "c", "0000000001.00000", {"X-Container-Meta-A": "old",
                                                              "X-Container-Meta-B": "b"})
    assert dbmod.live_meta(rec["meta"]) == {"X-Container-Meta-A": "new", "X-Container-Meta-B": "b"}


def test_account_rows_and_totals(store):
    store.account_put("a", "0000000001.00000", {})
    store.merge_container_rows("a", [["c1", "0000000002.00000", dbmod.ZERO, 3, 30, "0000000002.00000"],
                                     ["c2", "0000000002.00000", dbmod.ZERO, 1, 10, "0000000002.00000"]])
    rec = store.merge_container_rows("a", [["c1", "0000000002.00000", dbmod.ZERO, 2, 20, "0000000001.00000"]])
    assert (rec["containers"], rec["count"], rec["bytes"]) == (2, 4, 40)  # older stats ignored
    rec = store.merge_container_rows("a", [["c1", "0000000002.00000", "0000000003.00000", 0, 0, "0000000003.00000"]])
    assert (rec["containers"], rec["count"], rec["bytes"]) == (1, 1, 10)
    assert [r["name"] for r in store.list_containers("a")] == ["c2"]


NAMES = st.lists(st.text(alphabet="ab/-\u00e9", min_size=1, max_size=6), max_size=30, unique=True)


def reference(names, prefix, marker, end_marker, delimiter, limit, reverse):
    """Swift's listing semantics, written plainly over a sorted list."""
    ordered = sorted(names, key=lambda n: n.encode())
    if reverse:
        ordered = ordered[::-1]
        lo, hi = end_marker, marker
    else:
        lo, hi = marker, end_marker
    out = []
    for name in ordered:
        key = name.encode()
        if not name.startswith(prefix):
            continue
        if lo and key <= lo.encode():
            continue
        if hi and key >= hi.encode():
            continue
        if delimiter:
            cut = name.find(delimiter, len(prefix))
            if cut >= 0:
                sub = name[:cut + 1]
                # one roll-up per subdir; a subdir equal to the (client's) marker was on the
                # previous page already
                if (out and out[-1] == sub) or sub == marker:
                    continue
                out.append(sub)
                continue
        out.append(name)
    return out[:limit]


@settings(max_examples=150, deadline=None)
@given(names=NAMES, prefix=st.sampled_from(["", "a", "a/", "b"]),
       marker=st.sampled_from(["", "a", "a/", "ab", "b/a"]),
       end_marker=st.sampled_from(["", "b", "a/b", "\u00e9"]),
       delimiter=st.sampled_from(["", "/", "-"]), limit=st.integers(0, 12),
       reverse=st.booleans())
def test_scan_matches_reference(tmp_path_factory, names, prefix, marker, end_marker, delimiter,
                                limit, reverse):
    path = tmp_path_factory.mktemp("scan")
    store = dbmod.DeviceDB(str(path), map_size=1 << 24)
    try:
        store.container_put("a", "c", "0000000001.00000", {}, 0, [])
        rows = [row(n, "0000000002.00000") for n in names]
        random.Random(1).shuffle(rows)
        store.merge_object_rows("a", "c", rows)
        got = [r.get("name", r.get("subdir")) for r in store.list_objects(
            "a", "c", prefix=prefix, marker=marker, end_marker=end_marker, delimiter=delimiter,
            limit=limit, reverse=reverse)]
        assert got == reference(names, prefix, marker, end_marker, delimiter, limit, reverse)
    finally:
        store.close()


def test_isoformat():
    assert dbmod.isoformat("1700000000.12345") == "2023-11-14T22:13:20.123450"


def test_reclaim_forgets_old_tombstones_only(store):
    store.container_put("a", "c", "0000000001.00000", {}, 0, [])
    store.merge_object_rows("a", "c", [row("old", "0000000002.00000", deleted=1),
                                       row("new", "0000000009.00000", deleted=1),
                                       row("live", "0000000002.00000")])
    store.container_put("a", "gone", "0000000001.00000", {}, 0, [])
    store.container_delete("a", "gone", "0000000002.00000")
    store.merge_container_rows("a", [["x", "0000000001.00000", "0000000002.00000", 0, 0,
                                      "0000000002.00000"]])
    assert store.reclaim("0000000005.00000") == 3
    assert [r[0] for r in store.object_rows_since("a", "c")] == ["live", "new"]
    assert store.container_info("a", "gone") is None
    assert store.container_rows_since("a") == []
