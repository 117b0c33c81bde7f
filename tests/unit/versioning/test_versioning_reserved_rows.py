"""Storage-node support for the reserved namespace: NUL in names, hidden in account listings."""
import json

import lmdb
import pytest

from objectserver import db
from objectserver.app import parse_path


def test_names_may_hold_a_nul():
    target = parse_path("/object/sda/3/AUTH_t/%00versions%00c/%00o%008299999999.99999")
    assert target.container == "\x00versions\x00c"
    assert target.obj == "\x00o\x008299999999.99999"


@pytest.fixture
def cursor(tmp_path):
    env = lmdb.open(str(tmp_path), max_dbs=1)
    base = b"AUTH_t\x00"
    with env.begin(write=True) as txn:
        for name in ("\x00versions\x00a", "\x00versions\x00b", "a", "b"):
            txn.put(base + name.encode(), json.dumps([0, 0, 0, 0, 0, 0]).encode())
    txn = env.begin()
    yield txn.cursor(), base
    txn.abort()
    env.close()


@pytest.mark.parametrize("kwargs,names", [
    ({}, ["a", "b"]),
    ({"reverse": True}, ["b", "a"]),
    ({"marker": "\x00"}, ["a", "b"]),
    ({"limit": 1}, ["a"]),
])
def test_reserved_rows_hidden(cursor, kwargs, names):
    cur, base = cursor
    found = db.scan(cur, base, deleted_index=5, hide_reserved=True, **kwargs)
    assert [name for name, _ in found] == names


def test_reserved_rows_listed_when_asked(cursor):
    cur, base = cursor
    found = db.scan(cur, base, deleted_index=5, prefix="\x00versions")
    assert [name for name, _ in found] == ["\x00versions\x00a", "\x00versions\x00b"]
