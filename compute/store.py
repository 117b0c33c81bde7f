"""LMDB persistence of servers (`<data_dir>/compute/db`).

A server is one JSON record keyed by its id: the API's own facts (name, project, flavor copy,
status) plus what compute owns outside (the ports it created or bound, the volume attachments it
made), so a restart knows what to free on delete. Blocking: the app calls it only from its single
db thread (compute/api.py), which serialises every read-modify-write.
"""
from __future__ import annotations

import json
from typing import Iterator

import lmdb

from strato.recordstore import RecordStore


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


class Store(RecordStore[Txn]):
    def __init__(self, path: str):
        super().__init__(path, {"server": b"server"}, lambda txn, dbs: Txn(txn, dbs["server"]))
