"""LMDB persistence of networks, subnets and ports (`<data_dir>/network/db`).

Records are the API's own JSON objects, one per key (the resource id), plus a MAC index so a MAC
address stays unique and a network -> ports index (`<network_id>/<port_id>` keys; a port's
network never changes) so allocation and in-use checks read one network's ports, not all.
Blocking: the app calls it only from its single db thread (network/api.py), which also makes
every check-then-write (allocation, in-use checks) one serialised transaction.
"""
from __future__ import annotations

import json
from typing import Iterator

import lmdb

from strato.recordstore import RecordStore

KINDS = ("network", "subnet", "port")


class Txn:
    """JSON records by kind inside one LMDB transaction."""

    def __init__(self, txn: lmdb.Transaction, dbs: dict):
        self._txn = txn
        self._dbs = dbs

    def get(self, kind: str, ident: str) -> dict | None:
        data = self._txn.get(ident.encode(), db=self._dbs[kind])
        return None if data is None else json.loads(data)

    def put(self, kind: str, record: dict) -> None:
        self._txn.put(record["id"].encode(), json.dumps(record).encode(), db=self._dbs[kind])
        if kind == "port":
            self._txn.put(_net_port_key(record), b"", db=self._dbs["net_port"])

    def delete(self, kind: str, ident: str) -> None:
        if kind == "port":
            record = self.get("port", ident)
            if record is not None:
                self._txn.delete(_net_port_key(record), db=self._dbs["net_port"])
        self._txn.delete(ident.encode(), db=self._dbs[kind])

    def ports_of(self, network_id: str) -> Iterator[dict]:
        """The ports of one network (the net_port index), in id order."""
        prefix = f"{network_id}/".encode()
        with self._txn.cursor(db=self._dbs["net_port"]) as cursor:
            if not cursor.set_range(prefix):
                return
            for key in cursor.iternext(values=False):
                if not key.startswith(prefix):
                    return
                port = self.get("port", key[len(prefix):].decode())
                if port is not None:
                    yield port

    def index_ports_once(self) -> None:
        """A store written before the net_port index existed (session 9's first all-in-ones):
        index the ports it already has; a no-op once the index holds anything."""
        with self._txn.cursor(db=self._dbs["net_port"]) as cursor:
            if cursor.first():
                return
        for port in list(self.scan("port")):
            self._txn.put(_net_port_key(port), b"", db=self._dbs["net_port"])

    def scan(self, kind: str) -> Iterator[dict]:
        with self._txn.cursor(db=self._dbs[kind]) as cursor:
            for _key, data in cursor:
                yield json.loads(data)

    def mac_owner(self, mac: str) -> str | None:
        data = self._txn.get(mac.encode(), db=self._dbs["mac"])
        return None if data is None else data.decode()

    def set_mac(self, mac: str, port_id: str | None) -> None:
        if port_id is None:
            self._txn.delete(mac.encode(), db=self._dbs["mac"])
        else:
            self._txn.put(mac.encode(), port_id.encode(), db=self._dbs["mac"])


def _net_port_key(port: dict) -> bytes:
    return f"{port['network_id']}/{port['id']}".encode()


class Store(RecordStore[Txn]):
    def __init__(self, path: str):
        super().__init__(path, {kind: kind.encode() for kind in (*KINDS, "mac", "net_port")},
                         Txn)
        self.write(Txn.index_ports_once)
