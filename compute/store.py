"""LMDB persistence of servers (`<data_dir>/compute/db`).

A server is one JSON record keyed by its id: the API's own facts (name, project, flavor copy,
status) plus what compute owns outside (the ports it created or bound, the volume attachments it
made), so a restart knows what to free on delete. Blocking: the app calls it only from its single
db thread (compute/api.py), which serialises every read-modify-write.
"""
from __future__ import annotations

import json
import os
from typing import Callable, Iterator, TypeVar

import lmdb

MAP_SIZE = 1 << 30  # address space only; the file grows with the data
T = TypeVar("T")


class Txn:
    def __init__(self, txn: lmdb.Transaction, db):
        self._txn = txn
        self._db = db

    def get(self, server_id: str) -> dict | None:
        data = self._txn.get(server_id.encode(), db=self._db)
        return None if data is None else json.loads(data)

    def put(self, record: dict) -> None:
        self._txn.put(record["id"].encode(), json.dumps(record).encode(), db=self._db)

    def delete(self, server_id: str) -> None:
        self._txn.delete(server_id.encode(), db=self._db)

    def scan(self) -> Iterator[dict]:
        with self._txn.cursor(db=self._db) as cursor:
            for _key, data in cursor:
                yield json.loads(data)


class Store:
    def __init__(self, path: str):
        os.makedirs(path, exist_ok=True)
        self._env = lmdb.open(path, map_size=MAP_SIZE, max_dbs=2, subdir=True)
        self._db = self._env.open_db(b"server")

    def close(self) -> None:
        self._env.close()

    def read(self, fn: Callable[[Txn], T]) -> T:
        with self._env.begin(write=False) as txn:
            return fn(Txn(txn, self._db))

    def write(self, fn: Callable[[Txn], T]) -> T:
        """Run fn in one write transaction: committed if it returns, rolled back if it raises."""
        with self._env.begin(write=True) as txn:
            return fn(Txn(txn, self._db))
