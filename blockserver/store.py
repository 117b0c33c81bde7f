"""LMDB persistence of volumes, snapshots, attachments and quotas (`<data_dir>/blockserver/db`).

Blocking: the manager calls it from its own single-thread executor, which also serialises writers.
A check-then-write (quota, "no snapshots left") runs inside one write transaction via `write()`,
so it is atomic even against another process sharing the environment.
"""
from __future__ import annotations

from typing import Callable, Iterator, TypeVar

import lmdb

from blockserver import records
from blockserver.records import Attachment, Quota, Snapshot, Volume
from strato.recordstore import RecordStore

TABLES = {Volume: b"volumes", Snapshot: b"snapshots", Attachment: b"attachments", Quota: b"quotas"}
T = TypeVar("T")


def _key(record) -> bytes:
    return (record.project_id if isinstance(record, Quota) else record.id).encode()


class Txn:
    """Typed access to the tables inside one LMDB transaction."""

    def __init__(self, txn: lmdb.Transaction, dbs: dict):
        self._txn = txn
        self._dbs = dbs

    def get(self, kind: type[T], key: str) -> T | None:
        data = self._txn.get(key.encode(), db=self._dbs[kind])
        return None if data is None else records.decode(kind, data)

    def put(self, record) -> None:
        self._txn.put(_key(record), records.encode(record), db=self._dbs[type(record)])

    def delete(self, kind: type, key: str) -> None:
        self._txn.delete(key.encode(), db=self._dbs[kind])

    def scan(self, kind: type[T], where: Callable[[T], bool] | None = None) -> Iterator[T]:
        with self._txn.cursor(db=self._dbs[kind]) as cursor:
            for _key_bytes, data in cursor:
                record = records.decode(kind, data)
                if where is None or where(record):
                    yield record


class Store(RecordStore[Txn]):
    def __init__(self, path: str):
        super().__init__(path, TABLES, Txn)

    # Convenience wrappers for single-record work.
    def get(self, kind: type[T], key: str) -> T | None:
        return self.read(lambda t: t.get(kind, key))

    def put(self, record) -> None:
        self.write(lambda t: t.put(record))

    def delete(self, kind: type, key: str) -> None:
        self.write(lambda t: t.delete(kind, key))

    def all(self, kind: type[T], where: Callable[[T], bool] | None = None) -> list[T]:
        return self.read(lambda t: list(t.scan(kind, where)))
