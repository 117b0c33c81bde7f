"""EC2-style access keys for S3 SigV4: looked up locally in identity's LMDB, opened read-only.

Why not an HTTP call to identity: the secret never crosses a socket, a lookup costs a few
microseconds instead of a round trip, and S3 keeps working while identity restarts. LMDB is made
for one writer and many reader processes. (A multi-host cluster would need the HTTP form; the
all-in-one shares one data directory.) Found keys are cached for `cache_seconds`, so a deleted
or disabled key keeps working at most that long.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
import time

import lmdb

from identity.store import Store, db_path_for
from identity.tokens import AuthContext, new_audit_id

# How long an S3 request's identity stays valid once looked up (the context's expires_at).
CONTEXT_TTL = 300.0


class UnknownAccessKey(KeyError):
    """No enabled EC2 credential has this access key."""


def credential_id(access_key: str) -> str:
    """Keystone's id for an EC2 credential: the SHA-256 of its access key."""
    return hashlib.sha256(access_key.encode()).hexdigest()


@dataclasses.dataclass(frozen=True)
class Ec2Credential:
    access: str
    secret: str
    user_id: str
    project_id: str
    context: AuthContext


def resolve(store: Store, access_key: str, now: float) -> Ec2Credential:
    """Look a key up in an open store (blocking); checks that user and project are enabled."""
    cred = store.get("credentials", credential_id(access_key))
    if cred is None or cred.get("type") != "ec2":
        raise UnknownAccessKey(access_key)
    try:
        blob = json.loads(cred["blob"])
        secret = blob["secret"]
    except (ValueError, KeyError, TypeError):
        raise UnknownAccessKey(access_key) from None
    user = store.get("users", cred["user_id"])
    project = store.get("projects", cred.get("project_id") or "")
    if user is None or project is None or not user.get("enabled", True) \
            or not project.get("enabled", True):
        raise UnknownAccessKey(access_key)
    roles = store.roles_on(user["id"], "project", project["id"])
    if not roles:
        raise UnknownAccessKey(access_key)
    ctx = AuthContext(user_id=user["id"], user_name=user["name"], user_domain_id=user["domain_id"],
                      project_id=project["id"], project_name=project["name"],
                      domain_id=project["domain_id"], roles=frozenset(r["name"] for r in roles),
                      expires_at=now + CONTEXT_TTL, issued_at=now, audit_id=new_audit_id(),
                      methods=("ec2credential",))
    return Ec2Credential(access_key, secret, user["id"], project["id"], ctx)


class Ec2Lookup:
    def __init__(self, data_dir: str, cache_seconds: float = 5.0, clock=time.monotonic):
        self._path = db_path_for(data_dir)
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, Ec2Credential]] = {}
        self._store: Store | None = None
        self._lock = threading.Lock()

    def _open(self) -> Store:
        with self._lock:
            if self._store is None:
                try:
                    self._store = Store(self._path, readonly=True)
                except lmdb.Error as exc:
                    raise UnknownAccessKey(f"identity database unavailable: {exc}") from None
            return self._store

    def lookup(self, access_key: str) -> Ec2Credential:
        now = self._clock()
        hit = self._cache.get(access_key)
        if hit is not None and hit[0] > now:
            return hit[1]
        cred = resolve(self._open(), access_key, time.time())
        if len(self._cache) > 10000:
            self._cache.clear()
        self._cache[access_key] = (now + self._cache_seconds, cred)
        return cred

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None
