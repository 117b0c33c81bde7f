"""One LMDB environment of named tables, used only by whole transactions: the shell the record
stores of blockserver, network and compute share. Each keeps its own view of a transaction (its
Txn class: typed get/put/scan); `read` and `write` run a function inside one transaction, so a
check-then-write is atomic. Blocking: callers run it from a single db thread (never the loop).
"""
from __future__ import annotations

import os
from typing import Callable, Generic, Hashable, TypeVar

import lmdb

MAP_SIZE = 1 << 30  # address space only; the file grows with the data
V = TypeVar("V")  # a store's transaction view
T = TypeVar("T")


class RecordStore(Generic[V]):
    def __init__(self, path: str, tables: dict[Hashable, bytes],
                 view: Callable[[lmdb.Transaction, dict], V], map_size: int = MAP_SIZE):
        """tables: key -> LMDB database name; view(txn, {key: database}) -> the store's Txn."""
        os.makedirs(path, exist_ok=True)
        self._env = lmdb.open(path, map_size=map_size, max_dbs=len(tables), subdir=True)
        self._dbs = {key: self._env.open_db(name) for key, name in tables.items()}
        self._view = view

    def close(self) -> None:
        self._env.close()

    def read(self, fn: Callable[[V], T]) -> T:
        with self._env.begin(write=False) as txn:
            return fn(self._view(txn, self._dbs))

    def write(self, fn: Callable[[V], T]) -> T:
        """Run fn in one write transaction: committed if it returns, rolled back if it raises."""
        with self._env.begin(write=True) as txn:
            return fn(self._view(txn, self._dbs))
