"""Identity's records in one LMDB environment (`<data_dir>/identity/db`). Blocking calls: the
server runs them on its executor; other services open the environment read-only.

A process opens a path once (LMDB's rule); Store objects share that environment.

Tables hold JSON records by id; one `names` table indexes `(kind, domain, name) -> id` so names
are unique where Keystone makes them unique (users and projects per domain, domains and roles
globally). Role assignments are keys `user\\0target_kind\\0target_id\\0role_id`.
"""
from __future__ import annotations

import json
import os
import threading

import lmdb

from identity.errors import Conflict, NotFound

KINDS = ("domains", "projects", "users", "roles", "credentials")
NAMED = {"domains": "domain", "projects": "project", "users": "user", "roles": "role"}
MAP_SIZE = 1 << 30  # sparse on Linux; a fixed size lets read-only openers share it
TARGET_KINDS = ("project", "domain")


def db_path_for(data_dir: str) -> str:
    return os.path.join(data_dir, "identity", "db")


def _name_key(kind: str, record: dict) -> bytes | None:
    if kind not in NAMED:
        return None
    scope = (record.get("domain_id") or "") if kind in ("projects", "users") else ""
    return f"{kind}\0{scope}\0{record['name']}".encode()


def _assignment_key(user_id: str, target_kind: str, target_id: str, role_id: str) -> bytes:
    return f"{user_id}\0{target_kind}\0{target_id}\0{role_id}".encode()


class _Opened:
    """One LMDB environment of this process: LMDB forbids opening a path twice in a process, so
    every Store of a path (identity's own, a validator's EC2 lookup, Swift v1 checks) shares it."""

    def __init__(self, path: str, readonly: bool):
        if not readonly:
            os.makedirs(path, mode=0o700, exist_ok=True)
        self.readonly = readonly
        self.env = lmdb.open(path, subdir=True, map_size=MAP_SIZE, max_dbs=16,
                             readonly=readonly, create=not readonly, lock=True)
        self.dbs = {name: self.env.open_db(name.encode(), create=not readonly)
                    for name in KINDS + ("names", "assignments")}
        self.users = 0


_opened: dict[str, _Opened] = {}
_opened_lock = threading.Lock()


class Store:
    def __init__(self, path: str, readonly: bool = False):
        self.path = os.path.realpath(path)
        self.readonly = readonly
        self._closed = False
        with _opened_lock:
            opened = _opened.get(self.path)
            if opened is not None and opened.readonly and not readonly:
                # A writer needs a writable environment: reopen it for every sharer.
                opened.env.close()
                users = opened.users
                opened = _Opened(self.path, readonly=False)
                opened.users = users
                _opened[self.path] = opened
            elif opened is None:
                opened = _opened[self.path] = _Opened(self.path, readonly)
            opened.users += 1

    @property
    def env(self):
        return _opened[self.path].env

    @property
    def _dbs(self):
        return _opened[self.path].dbs

    def close(self) -> None:
        with _opened_lock:
            if self._closed:
                return
            self._closed = True
            opened = _opened.get(self.path)
            if opened is None:
                return
            opened.users -= 1
            if opened.users <= 0:
                opened.env.close()
                del _opened[self.path]

    # -- records ------------------------------------------------------------------------------
    def get(self, kind: str, ident: str) -> dict | None:
        with self.env.begin(db=self._dbs[kind]) as txn:
            raw = txn.get(ident.encode())
        return json.loads(raw) if raw is not None else None

    def require(self, kind: str, ident: str) -> dict:
        record = self.get(kind, ident) if ident else None
        if record is None:
            raise NotFound.of(NAMED.get(kind, kind.rstrip("s")), ident)
        return record

    def all(self, kind: str) -> list[dict]:
        with self.env.begin(db=self._dbs[kind]) as txn:
            return [json.loads(v) for _, v in txn.cursor()]

    def find_by_name(self, kind: str, name: str, domain_id: str | None = None) -> dict | None:
        key = _name_key(kind, {"name": name, "domain_id": domain_id})
        with self.env.begin() as txn:
            ident = txn.get(key, db=self._dbs["names"])
            if ident is None:
                return None
            raw = txn.get(ident, db=self._dbs[kind])
        return json.loads(raw) if raw is not None else None

    def create(self, kind: str, record: dict) -> dict:
        with self.env.begin(write=True) as txn:
            ident = record["id"].encode()
            if txn.get(ident, db=self._dbs[kind]) is not None:
                raise Conflict(f"Conflict occurred attempting to store {NAMED.get(kind, kind)} "
                               f"- Duplicate ID, {record['id']}.")
            name_key = _name_key(kind, record)
            if name_key is not None:
                if not txn.put(name_key, ident, db=self._dbs["names"], overwrite=False):
                    raise Conflict(f"Conflict occurred attempting to store {NAMED[kind]} - "
                                   f"Duplicate entry found with name {record['name']}.")
            txn.put(ident, json.dumps(record).encode(), db=self._dbs[kind])
        return record

    def update(self, kind: str, ident: str, changes: dict) -> dict:
        with self.env.begin(write=True) as txn:
            raw = txn.get(ident.encode(), db=self._dbs[kind])
            if raw is None:
                raise NotFound.of(NAMED.get(kind, kind), ident)
            old = json.loads(raw)
            new = {**old, **changes}
            old_key, new_key = _name_key(kind, old), _name_key(kind, new)
            if new_key != old_key:
                if not txn.put(new_key, ident.encode(), db=self._dbs["names"], overwrite=False):
                    raise Conflict(f"Conflict occurred attempting to store {NAMED[kind]} - "
                                   f"Duplicate entry found with name {new['name']}.")
                txn.delete(old_key, db=self._dbs["names"])
            txn.put(ident.encode(), json.dumps(new).encode(), db=self._dbs[kind])
        return new

    def delete(self, kind: str, ident: str) -> dict:
        """Delete a record and whatever hangs off it (assignments, credentials, contents)."""
        with self.env.begin(write=True) as txn:
            return self._delete(txn, kind, ident)

    def _delete(self, txn, kind: str, ident: str) -> dict:
        raw = txn.get(ident.encode(), db=self._dbs[kind])
        if raw is None:
            raise NotFound.of(NAMED.get(kind, kind), ident)
        record = json.loads(raw)
        txn.delete(ident.encode(), db=self._dbs[kind])
        name_key = _name_key(kind, record)
        if name_key is not None:
            txn.delete(name_key, db=self._dbs["names"])
        if kind == "domains":
            for child_kind in ("projects", "users"):
                for _, v in list(txn.cursor(db=self._dbs[child_kind])):
                    child = json.loads(v)
                    if child.get("domain_id") == ident:
                        self._delete(txn, child_kind, child["id"])
        if kind in ("users", "projects", "roles", "domains"):
            for key in list(txn.cursor(db=self._dbs["assignments"]).iternext(values=False)):
                user, target_kind, target, role = key.decode().split("\0")
                if ident in (user if kind == "users" else None,
                             target if kind in ("projects", "domains") else None,
                             role if kind == "roles" else None):
                    txn.delete(key, db=self._dbs["assignments"])
        if kind in ("users", "projects"):
            field = "user_id" if kind == "users" else "project_id"
            for _, v in list(txn.cursor(db=self._dbs["credentials"])):
                cred = json.loads(v)
                if cred.get(field) == ident:
                    txn.delete(cred["id"].encode(), db=self._dbs["credentials"])
        return record

    # -- role assignments ---------------------------------------------------------------------
    def grant(self, user_id: str, target_kind: str, target_id: str, role_id: str) -> None:
        with self.env.begin(write=True, db=self._dbs["assignments"]) as txn:
            txn.put(_assignment_key(user_id, target_kind, target_id, role_id), b"")

    def revoke(self, user_id: str, target_kind: str, target_id: str, role_id: str) -> bool:
        with self.env.begin(write=True, db=self._dbs["assignments"]) as txn:
            return txn.delete(_assignment_key(user_id, target_kind, target_id, role_id))

    def has_grant(self, user_id: str, target_kind: str, target_id: str, role_id: str) -> bool:
        with self.env.begin(db=self._dbs["assignments"]) as txn:
            return txn.get(_assignment_key(user_id, target_kind, target_id, role_id)) is not None

    def assignments(self, user_id: str | None = None, target_kind: str | None = None,
                    target_id: str | None = None, role_id: str | None = None) -> list[tuple]:
        """[(user_id, target_kind, target_id, role_id)] matching every filter given."""
        out = []
        with self.env.begin(db=self._dbs["assignments"]) as txn:
            cursor = txn.cursor()
            prefix = f"{user_id}\0".encode() if user_id else b""
            if prefix:
                cursor.set_range(prefix)
                keys = cursor.iternext(values=False)
            else:
                keys = cursor.iternext(values=False)
            for key in keys:
                if prefix and not key.startswith(prefix):
                    break
                row = tuple(key.decode().split("\0"))
                if ((target_kind and row[1] != target_kind) or (target_id and row[2] != target_id)
                        or (role_id and row[3] != role_id)):
                    continue
                out.append(row)
        return out

    def roles_on(self, user_id: str, target_kind: str, target_id: str) -> list[dict]:
        """The role records a user holds on a project or domain."""
        rows = self.assignments(user_id, target_kind, target_id)
        roles = [self.get("roles", row[3]) for row in rows]
        return sorted((r for r in roles if r is not None), key=lambda r: r["name"])
