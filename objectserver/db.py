"""Container and account listings in one LMDB environment per device (<device>/db/).

Named sub-databases, keys in UTF-8 so byte order is Swift's name order:
    containers  a\\0c        -> container record (timestamps, metadata, object count and bytes)
    objects     a\\0c\\0o     -> object row [timestamp, size, content_type, etag, deleted]
    accounts    a           -> account record (timestamps, metadata, totals)
    acct_rows   a\\0c        -> container row [put_ts, delete_ts, count, bytes, stats_ts, deleted,
                               storage policy index (absent in rows written before policies: 0)]
Every merge is newest-wins and runs in one write transaction with the counters it changes.
All methods block (LMDB transactions): call them on the device's executor, never the event loop.
"""
from __future__ import annotations

import functools
import json
import threading
import time

import lmdb

from strato.timestamps import Timestamp

SEP = b"\x00"
MAX_KEY = 511  # LMDB's default maximum key size
_END = b"\xff"  # never appears in UTF-8, so prefix + _END is above every key with that prefix
ZERO = "0000000000.00000"


class DBError(Exception):
    """A request that the database cannot satisfy; carries the HTTP status for the role."""

    def __init__(self, status: int, body: str | None = None, headers: dict | None = None):
        super().__init__(body or str(status))
        self.status, self.body, self.headers = status, body, headers or {}


def _dumps(value) -> bytes:
    # surrogateescape: metadata bytes that are not UTF-8 round-trip as sent (see metafile.py)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8", "surrogateescape")


def _loads(raw: bytes):
    return json.loads(bytes(raw).decode("utf-8", "surrogateescape"))


def _ts(text: str) -> Timestamp:
    return Timestamp(text)


def key_of(*parts: str) -> bytes:
    key = SEP.join(p.encode() for p in parts)
    if len(key) > MAX_KEY:
        raise DBError(400, "name too long")
    return key


def merge_meta(current: dict, updates: dict, timestamp: str) -> dict:
    """Per-key newest-wins; an empty value is kept (with its timestamp) as a deletion."""
    merged = dict(current)
    for key, value in updates.items():
        old = merged.get(key)
        if old is None or _ts(old[1]) <= _ts(timestamp):
            merged[key] = [value, timestamp]
    return merged


def live_meta(meta: dict) -> dict:
    return {k: v[0] for k, v in meta.items() if v[0] != ""}


def policy_totals(record: dict) -> dict:
    """An account record's {policy index: [containers, objects, bytes]}; an account written
    before policies has none stored, and all it holds is policy 0's."""
    if "policies" in record:
        return record["policies"]
    if not record["containers"]:
        return {}
    return {"0": [record["containers"], record["count"], record["bytes"]]}


def is_deleted(record: dict) -> bool:
    return _ts(record["delete_ts"]) > _ts(record["put_ts"])


class DeviceDB:
    """The LMDB environment of one device, with the container and account roles' operations."""

    def __init__(self, path: str, map_size: int = 1 << 34):
        # metasync=False: one fsync per commit instead of two; an OS crash can undo at most the
        # last commit (never corrupt the environment), and replication restores those rows from
        # the other replicas. Swift does not fsync its container updates at all (.pending files).
        self.env = lmdb.open(path, map_size=map_size, max_dbs=8, subdir=True, sync=True,
                             metasync=False, max_readers=256)
        self.containers = self.env.open_db(b"containers")
        self.objects = self.env.open_db(b"objects")
        self.accounts = self.env.open_db(b"accounts")
        self.acct_rows = self.env.open_db(b"acct_rows")
        self._closed = False
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self.env.close()

    # -- container role -------------------------------------------------------------------

    def container_info(self, account: str, container: str) -> dict | None:
        with self.env.begin(db=self.containers) as txn:
            raw = txn.get(key_of(account, container))
        return _loads(raw) if raw else None

    def container_put(self, account: str, container: str, timestamp: str, meta: dict,
                      part: int, account_targets: list, policy: int | None = None,
                      default_policy: int = 0) -> tuple[bool, dict]:
        """(created, record). Creates, recreates a deleted one, or updates the put timestamp.

        A new (or recreated) container takes `policy`, or `default_policy` when none was asked
        for; asking an existing one for another policy is a 409 (Swift's rule)."""
        key = key_of(account, container)
        with self.env.begin(write=True, db=self.containers) as txn:
            raw = txn.get(key)
            if raw is None:
                record = {"put_ts": timestamp, "delete_ts": ZERO, "created_at": timestamp,
                          "status_changed_at": timestamp, "meta": {}, "count": 0, "bytes": 0,
                          "stats_ts": timestamp, "part": part, "account_targets": account_targets,
                          "policy": default_policy if policy is None else policy}
                created = True
            else:
                record = _loads(raw)
                was_deleted = is_deleted(record)
                if _ts(timestamp) > _ts(record["put_ts"]):
                    record["put_ts"] = timestamp
                if is_deleted(record):
                    raise DBError(409, "container was deleted later",
                                  {"X-Backend-Delete-Timestamp": record["delete_ts"]})
                created = was_deleted
                current = record.get("policy", 0)
                if created:
                    record["created_at"] = record["status_changed_at"] = timestamp
                    record["policy"] = default_policy if policy is None else policy
                elif policy is not None and policy != current:
                    raise DBError(409, "Container already exists with a different storage policy",
                                  {"X-Backend-Storage-Policy-Index": str(current)})
                record["part"] = part
                if account_targets:
                    record["account_targets"] = account_targets
            record["meta"] = merge_meta(record["meta"], meta, timestamp)
            record["stats_ts"] = max(record["stats_ts"], timestamp, key=_ts)
            txn.put(key, _dumps(record))
        return created, record

    def container_post(self, account: str, container: str, timestamp: str, meta: dict,
                       bump: bool = True) -> dict:
        """Metadata update; with `bump` the put timestamp moves too (Swift's POST)."""
        key = key_of(account, container)
        with self.env.begin(write=True, db=self.containers) as txn:
            raw = txn.get(key)
            record = _loads(raw) if raw else None
            if record is None or is_deleted(record):
                raise DBError(404)
            if bump and _ts(timestamp) > _ts(record["put_ts"]):
                record["put_ts"] = timestamp
            record["meta"] = merge_meta(record["meta"], meta, timestamp)
            txn.put(key, _dumps(record))
        return record

    def container_delete(self, account: str, container: str, timestamp: str) -> tuple[bool, dict]:
        """(existed, record): marks the container deleted if it holds no objects (else 409)."""
        key = key_of(account, container)
        with self.env.begin(write=True, db=self.containers) as txn:
            raw = txn.get(key)
            if raw is None:
                raise DBError(404)
            record = _loads(raw)
            if record["count"] > 0:
                raise DBError(409, "There was a conflict when trying to complete your request.")
            existed = not is_deleted(record)
            if _ts(timestamp) > _ts(record["delete_ts"]):
                record["delete_ts"] = timestamp
            if not is_deleted(record):
                raise DBError(409, "container was recreated later",
                              {"X-Backend-Put-Timestamp": record["put_ts"]})
            if existed:
                record["status_changed_at"] = timestamp
                # like Swift's delete_db: a recreated container starts without the old metadata
                record["meta"] = {k: ["", timestamp] for k in record["meta"]}
            record["stats_ts"] = max(record["stats_ts"], timestamp, key=_ts)
            txn.put(key, _dumps(record))
        return existed, record

    def merge_object_rows(self, account: str, container: str, rows: list) -> dict | None:
        """Merge object rows [name, timestamp, size, content_type, etag, deleted] newest-wins and
        adjust the container's count and bytes in the same transaction. None if no container."""
        result = self.merge_object_rows_many([(account, container, rows)])[0]
        if isinstance(result, Exception):
            raise result
        return result

    def merge_object_rows_many(self, items: list) -> list:
        """Group commit: [(account, container, rows)] merged in ONE transaction (one fsync).
        Returns, per item, the container record, None (no container) or a DBError."""
        results: list = [None] * len(items)
        checked = []
        for index, (account, container, rows) in enumerate(items):
            try:
                ckey = key_of(account, container)
                keys = [ckey + SEP + row[0].encode() for row in rows]
                if any(len(k) > MAX_KEY for k in keys):
                    raise DBError(400, "object name too long")
                checked.append((index, ckey, keys, rows))
            except DBError as exc:
                results[index] = exc
        if not checked:
            return results
        with self.env.begin(write=True) as txn:
            records: dict[bytes, dict | None] = {}
            for index, ckey, keys, rows in checked:
                if ckey not in records:
                    raw = txn.get(ckey, db=self.containers)
                    records[ckey] = _loads(raw) if raw else None
                record = records[ckey]
                if record is None:
                    continue
                for okey, (_name, timestamp, size, content_type, etag, deleted) in zip(keys, rows):
                    new_ts = _ts(timestamp)  # parsed once per row, compared twice
                    old = txn.get(okey, db=self.objects)
                    if old is not None:
                        old = _loads(old)
                        if _ts(old[0]) >= new_ts:
                            continue
                        if not old[4]:
                            record["count"] -= 1
                            record["bytes"] -= old[1]
                    if not deleted:
                        record["count"] += 1
                        record["bytes"] += size
                    txn.put(okey, _dumps([timestamp, size, content_type, etag,
                                          1 if deleted else 0]), db=self.objects)
                    if new_ts > _ts(record["stats_ts"]):  # max(), keeping the older on a tie
                        record["stats_ts"] = timestamp
                    record["_changed"] = True
            for ckey, record in records.items():
                if record is not None and record.pop("_changed", False):
                    txn.put(ckey, _dumps(record), db=self.containers)
        for index, ckey, _keys, _rows in checked:
            record = records[ckey]
            results[index] = dict(record) if record is not None else None
        return results

    def list_objects(self, account: str, container: str, **params) -> list[dict]:
        base = key_of(account, container) + SEP
        with self.env.begin(db=self.objects) as txn:
            found = scan(txn.cursor(), base, **params)
        out = []
        for name, value in found:
            if value is None:
                out.append({"subdir": name})
                continue
            timestamp, size, content_type, etag, _deleted = value
            out.append({"name": name, "hash": etag, "bytes": size, "content_type": content_type,
                        "last_modified": isoformat(timestamp)})
        return out

    def object_rows_since(self, account: str, container: str, after: str = "",
                          limit: int = 1000) -> list[list]:
        """Raw rows (deleted ones too) after the name `after`, for replication."""
        return self._rows_after(self.objects, key_of(account, container) + SEP, after, limit)

    def all_containers(self) -> list[tuple[str, str, dict]]:
        """(account, container, record) of every container on the device (replicator, updater)."""
        out = []
        with self.env.begin(db=self.containers) as txn:
            for key, value in txn.cursor():
                account, _, container = key.partition(SEP)
                out.append((account.decode(), container.decode(), _loads(value)))
        return out

    def merge_container_record(self, account: str, container: str, remote: dict) -> None:
        """Replication: merge a peer's container record (timestamps and metadata newest-wins)."""
        key = key_of(account, container)
        with self.env.begin(write=True, db=self.containers) as txn:
            raw = txn.get(key)
            if raw is None:
                record = dict(remote, count=0, bytes=0)
            else:
                record = _loads(raw)
                if _ts(remote["status_changed_at"]) > _ts(record["status_changed_at"]):
                    # the newer (re)creation decides the storage policy
                    record["policy"] = remote.get("policy", 0)
                for field in ("put_ts", "delete_ts", "status_changed_at", "stats_ts"):
                    record[field] = max(record[field], remote[field], key=_ts)
                record["created_at"] = min(record["created_at"], remote["created_at"], key=_ts)
                for k, (value, ts) in remote["meta"].items():
                    record["meta"] = merge_meta(record["meta"], {k: value}, ts)
                if remote.get("account_targets") and not record.get("account_targets"):
                    record["account_targets"] = remote["account_targets"]
            txn.put(key, _dumps(record))

    # -- account role ---------------------------------------------------------------------

    def account_info(self, account: str) -> dict | None:
        with self.env.begin(db=self.accounts) as txn:
            raw = txn.get(key_of(account))
        return _loads(raw) if raw else None

    def account_put(self, account: str, timestamp: str, meta: dict,
                    part: int = 0) -> tuple[bool, dict]:
        key = key_of(account)
        with self.env.begin(write=True, db=self.accounts) as txn:
            raw = txn.get(key)
            if raw is None:
                record = _new_account(timestamp, part)
                created = True
            else:
                record = _loads(raw)
                created = is_deleted(record)
                if _ts(timestamp) > _ts(record["put_ts"]):
                    record["put_ts"] = timestamp
                if is_deleted(record):
                    raise DBError(409, "account was deleted later")
                if created:
                    record["created_at"] = record["status_changed_at"] = timestamp
            record["meta"] = merge_meta(record["meta"], meta, timestamp)
            txn.put(key, _dumps(record))
        return created, record

    def account_post(self, account: str, timestamp: str, meta: dict) -> dict:
        key = key_of(account)
        with self.env.begin(write=True, db=self.accounts) as txn:
            raw = txn.get(key)
            record = _loads(raw) if raw else None
            if record is None or is_deleted(record):
                raise DBError(404)
            record["meta"] = merge_meta(record["meta"], meta, timestamp)
            txn.put(key, _dumps(record))
        return record

    def account_delete(self, account: str, timestamp: str) -> tuple[bool, dict]:
        key = key_of(account)
        with self.env.begin(write=True, db=self.accounts) as txn:
            raw = txn.get(key)
            if raw is None:
                raise DBError(404)
            record = _loads(raw)
            existed = not is_deleted(record)
            if _ts(timestamp) > _ts(record["delete_ts"]):
                record["delete_ts"] = timestamp
            if existed and is_deleted(record):
                record["status_changed_at"] = timestamp
            txn.put(key, _dumps(record))
        return existed, record

    def merge_container_rows(self, account: str, rows: list, create: bool = True,
                             part: int = 0) -> dict | None:
        """Merge container rows [name, put_ts, delete_ts, count, bytes, stats_ts(, policy)] into
        the account listing, its totals and its per-policy totals. Creates the account record
        when absent (the proxy's autocreate may race with the first container update)."""
        akey = key_of(account)
        base = akey + SEP
        with self.env.begin(write=True) as txn:
            raw = txn.get(akey, db=self.accounts)
            if raw is None:
                if not create:
                    return None
                record = _new_account(min((r[1] for r in rows), key=_ts) if rows else ZERO, part)
            else:
                record = _loads(raw)
            per_policy = record["policies"] = policy_totals(record)
            for name, put_ts, delete_ts, count, nbytes, stats_ts, *more in rows:
                policy = int(more[0]) if more else 0
                ckey = base + name.encode()
                if len(ckey) > MAX_KEY:
                    raise DBError(400, "container name too long")
                old = txn.get(ckey, db=self.acct_rows)
                if old is not None:
                    old = _loads(old)
                    if not old[5]:
                        record["containers"] -= 1
                        record["count"] -= old[2]
                        record["bytes"] -= old[3]
                        _policy_add(per_policy, old[6] if len(old) > 6 else 0, -1, -old[2],
                                    -old[3])
                    new_put = max(old[0], put_ts, key=_ts)
                    new_delete = max(old[1], delete_ts, key=_ts)
                    if _ts(stats_ts) < _ts(old[4]):  # older statistics: keep ours
                        count, nbytes, stats_ts = old[2], old[3], old[4]
                        policy = old[6] if len(old) > 6 else 0
                    put_ts, delete_ts = new_put, new_delete
                deleted = 1 if _ts(delete_ts) > _ts(put_ts) else 0
                if deleted:
                    count = nbytes = 0
                else:
                    record["containers"] += 1
                    record["count"] += count
                    record["bytes"] += nbytes
                    _policy_add(per_policy, policy, 1, count, nbytes)
                txn.put(ckey, _dumps([put_ts, delete_ts, count, nbytes, stats_ts, deleted,
                                      policy]), db=self.acct_rows)
            txn.put(akey, _dumps(record), db=self.accounts)
        return record

    def list_containers(self, account: str, **params) -> list[dict]:
        base = key_of(account) + SEP
        # Reserved names ("\x00versions\x00<c>") are listed only to a prefix in that namespace,
        # as Swift's account server lists them only to X-Backend-Allow-Reserved-Names.
        hide = not params.get("prefix", "").startswith("\x00")
        with self.env.begin(db=self.acct_rows) as txn:
            found = scan(txn.cursor(), base, deleted_index=5, hide_reserved=hide, **params)
        out = []
        for name, value in found:
            if value is None:
                out.append({"subdir": name})
                continue
            put_ts, _delete_ts, count, nbytes = value[:4]  # then stats_ts, deleted, policy
            out.append({"name": name, "count": count, "bytes": nbytes,
                        "last_modified": isoformat(put_ts),
                        "storage_policy_index": value[6] if len(value) > 6 else 0})
        return out

    def container_rows_since(self, account: str, after: str = "", limit: int = 1000) -> list[list]:
        """[name, put_ts, delete_ts, count, bytes, stats_ts, policy] rows, for replication."""
        rows = self._rows_after(self.acct_rows, key_of(account) + SEP, after, limit)
        return [row[:6] + [row[7] if len(row) > 7 else 0] for row in rows]

    def _rows_after(self, db, base: bytes, after: str, limit: int,
                    fields: int | None = None) -> list[list]:
        """[name, *record[:fields]] of the rows under `base` whose name sorts after `after`."""
        rows = []
        with self.env.begin(db=db) as txn:
            cursor = txn.cursor()
            if not cursor.set_range(base + after.encode() + (SEP if after else b"")):
                return rows
            for key, value in cursor:
                if not key.startswith(base) or len(rows) >= limit:
                    break
                rows.append([key[len(base):].decode()] + _loads(value)[:fields])
        return rows

    def reclaim(self, before: str) -> int:
        """Forget tombstones older than `before`: deleted object and container rows, and deleted
        empty container records (replication has had reclaim_age to spread them)."""
        removed = 0
        limit = _ts(before)
        with self.env.begin(write=True) as txn:
            for db_handle, deleted_index, ts_index in ((self.objects, 4, 0),
                                                       (self.acct_rows, 5, 1)):
                cursor = txn.cursor(db=db_handle)
                valid = cursor.first()
                while valid:
                    row = _loads(cursor.value())
                    if row[deleted_index] and _ts(row[ts_index]) < limit:
                        cursor.delete()  # moves to the next record (key b"" past the end)
                        valid = cursor.key() != b""
                        removed += 1
                    else:
                        valid = cursor.next()
            cursor = txn.cursor(db=self.containers)
            valid = cursor.first()
            while valid:
                record = _loads(cursor.value())
                if is_deleted(record) and record["count"] == 0 and \
                        _ts(record["delete_ts"]) < limit:
                    cursor.delete()
                    valid = cursor.key() != b""
                    removed += 1
                else:
                    valid = cursor.next()
        return removed

    def drop_container(self, account: str, container: str) -> None:
        """Remove a container record and all its rows (a handoff copy, once primaries have it)."""
        ckey = key_of(account, container)
        base = ckey + SEP
        with self.env.begin(write=True) as txn:
            txn.delete(ckey, db=self.containers)
            cursor = txn.cursor(db=self.objects)
            if cursor.set_range(base):
                while cursor.key().startswith(base):
                    if not cursor.delete():
                        break

    def drop_account(self, account: str) -> None:
        akey = key_of(account)
        base = akey + SEP
        with self.env.begin(write=True) as txn:
            txn.delete(akey, db=self.accounts)
            cursor = txn.cursor(db=self.acct_rows)
            if cursor.set_range(base):
                while cursor.key().startswith(base):
                    if not cursor.delete():
                        break

    def all_accounts(self) -> list[tuple[str, dict]]:
        with self.env.begin(db=self.accounts) as txn:
            return [(k.decode(), _loads(v)) for k, v in txn.cursor()]

    def merge_account_record(self, account: str, remote: dict) -> None:
        key = key_of(account)
        with self.env.begin(write=True, db=self.accounts) as txn:
            raw = txn.get(key)
            if raw is None:
                record = dict(remote, containers=0, count=0, bytes=0, policies={})
                record.setdefault("part", 0)
            else:
                record = _loads(raw)
                for field in ("put_ts", "delete_ts", "status_changed_at"):
                    record[field] = max(record[field], remote[field], key=_ts)
                record["created_at"] = min(record["created_at"], remote["created_at"], key=_ts)
                for k, (value, ts) in remote["meta"].items():
                    record["meta"] = merge_meta(record["meta"], {k: value}, ts)
            txn.put(key, _dumps(record))


def _policy_add(per_policy: dict, policy: int, containers: int, count: int, nbytes: int) -> None:
    """Adjust an account's totals of one storage policy: {"<index>": [containers, count, bytes]}
    (the entry stays once made, as Swift's policy_stat rows do)."""
    stats = per_policy.setdefault(str(policy), [0, 0, 0])
    stats[0] += containers
    stats[1] += count
    stats[2] += nbytes


def _new_account(timestamp: str, part: int = 0) -> dict:
    return {"put_ts": timestamp, "delete_ts": ZERO, "created_at": timestamp,
            "status_changed_at": timestamp, "meta": {}, "containers": 0, "count": 0, "bytes": 0,
            "part": part}


def isoformat(timestamp: str) -> str:
    """Swift's listing form of a timestamp: 2026-11-21T06:05:34.123450 (UTC, microseconds).
    Rows hold the internal form ("1700000000.12345[_offset]"), read here without a Timestamp."""
    seconds, _, fraction = timestamp.partition("_")[0].partition(".")
    return f"{_iso_seconds(int(seconds))}.{int((fraction + '00000')[:5]) * 10:06d}"


@functools.lru_cache(maxsize=4096)
def _iso_seconds(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def scan(cursor, base: bytes, prefix: str = "", marker: str = "", end_marker: str = "",
         delimiter: str = "", limit: int = 10000, reverse: bool = False,
         deleted_index: int = 4, path: str | None = None,
         hide_reserved: bool = False) -> list[tuple[str, list | None]]:
    """One listing page as (name, decoded row) pairs and (subdir, None) roll-ups, skipping deleted
    rows, exactly as Swift's list_objects_iter: marker/end_marker exclusive (swapped meaning
    under reverse), prefix filter, delimiter roll-up, at most `limit` entries. Range scans only."""
    out: list[tuple[str, list | None]] = []
    if limit <= 0:
        return out
    pfx = base + prefix.encode()
    delim = delimiter.encode()
    if reverse:
        marker, end_marker = end_marker, marker
    low, low_excl = pfx, False           # keys >= low (or > low)
    if marker and base + marker.encode() >= low:
        low, low_excl = base + marker.encode(), True
    if hide_reserved and low < base + b"\x01":  # reserved names (NUL first) sort lowest
        low, low_excl = base + b"\x01", False
    high = pfx + _END                    # keys < high
    if end_marker and base + end_marker.encode() < high:
        high = base + end_marker.encode()
    orig_marker = (end_marker if reverse else marker).encode()
    # Swift's legacy `path`: direct children only; deeper names are skipped, not rolled up
    path_name = path.encode() if path is not None else None


    if not reverse:
        if not cursor.set_range(low):
            return out
        if low_excl and cursor.key() == low and not cursor.next():
            return out
        while len(out) < limit:
            key = cursor.key()
            if key >= high or not key.startswith(pfx):
                break
            value = _loads(cursor.value())
            if not value[deleted_index]:
                name = key[len(base):]
                cut = name.find(delim, len(prefix.encode())) if delim else -1
                if path_name is not None and name == path_name:
                    cut = -2  # Swift's `path` never lists the directory marker itself
                elif cut >= 0 and (path_name is None or len(name) > cut + len(delim)):
                    subdir = name[:cut + len(delim)]
                    if subdir != orig_marker and path_name is None:
                        out.append((subdir.decode(), None))
                    if not cursor.set_range(base + subdir + _END):
                        break
                    continue
                if cut != -2:
                    out.append((name.decode(), value))
            if not cursor.next():
                break
        return out

    # reverse: walk down from just below `high` to above `low`
    def seek_below(key: bytes) -> bool:
        if cursor.set_range(key):
            return cursor.prev()
        return cursor.last()

    if not seek_below(high):
        return out
    while len(out) < limit:
        key = cursor.key()
        if key < low or (low_excl and key == low) or not key.startswith(pfx):
            break
        value = _loads(cursor.value())
        if not value[deleted_index]:
            name = key[len(base):]
            cut = name.find(delim, len(prefix.encode())) if delim else -1
            if path_name is not None and name == path_name:
                cut = -2
            elif cut >= 0 and (path_name is None or len(name) > cut + len(delim)):
                subdir = name[:cut + len(delim)]
                if subdir != orig_marker and path_name is None:
                    out.append((subdir.decode(), None))
                if not seek_below(base + subdir):
                    break
                continue
            if cut != -2:
                out.append((name.decode(), value))
        if not cursor.prev():
            break
    return out
