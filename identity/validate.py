"""Local token validation for every Strato service: no call to identity per request.

    from identity.validate import TokenValidator, InvalidToken
    validator = TokenValidator(config.cluster.data_dir)      # once per process
    ctx = validator.validate(request.headers["X-Auth-Token"])  # raises InvalidToken -> 401
    ctx.project_id, ctx.roles, ctx.can_write, ctx.is_admin

It reads the Fernet key repository (reloaded when the directory changes: checked at most once
per `key_check_interval`, and at once when a token fails to open) and the revocation list (its
file is stat'ed at most once per `revocation_check_interval`, 0.1 s by default, and re-parsed only
when it changed: a revocation reaches every service within that interval). Opened tokens are
cached until they expire, and each is checked once per revocation list, so a hot token costs a
dict lookup and two clock reads. S3 key lookups read LMDB: call ec2_secret_for from an executor.
"""
from __future__ import annotations

import os
import time

from identity import keys as keyrepo
from identity import revocation_file
from identity.ec2 import Ec2Lookup, UnknownAccessKey  # noqa: F401  (re-exported)
from identity.tokens import AuthContext, InvalidToken, TokenCodec  # noqa: F401  (re-exported)

CACHE_SIZE = 10000


class TokenValidator:
    def __init__(self, data_dir: str | None = None, *, key_dir: str | None = None,
                 revocation_path: str | None = None, key_check_interval: float = 1.0,
                 revocation_check_interval: float = 0.1, ec2_cache_seconds: float = 5.0,
                 cache_size: int = CACHE_SIZE, clock=time.time):
        if data_dir is None and key_dir is None:
            raise ValueError("TokenValidator needs data_dir or key_dir")
        self.data_dir = data_dir
        self.key_dir = key_dir or keyrepo.key_dir_for(data_dir)
        if revocation_path is None and data_dir is not None:
            revocation_path = revocation_file.path_for(data_dir)
        self._revocations = revocation_file.RevocationWatcher(revocation_path) \
            if revocation_path else None
        self._key_check_interval = key_check_interval
        self._revocation_check_interval = revocation_check_interval
        self._next_revocation_check = 0.0
        self._revocation_list = None
        self._cache_size = cache_size
        self._clock = clock
        # token -> [AuthContext, the revocation list it was last found not revoked in]
        self._cache: dict[str, list] = {}
        self._codec: TokenCodec | None = None
        self._key_stamp = None
        self._next_key_check = 0.0
        self._ec2 = Ec2Lookup(data_dir, cache_seconds=ec2_cache_seconds) if data_dir else None

    @classmethod
    def from_config(cls, config, **kwargs) -> "TokenValidator":
        """The validator a service builds from its resolved configuration."""
        kwargs.setdefault("ec2_cache_seconds", config.identity.ec2_cache_seconds)
        kwargs.setdefault("revocation_check_interval", config.identity.revocation_check_seconds)
        return cls(config.cluster.data_dir, **kwargs)

    # -- keys ---------------------------------------------------------------------------------
    def _dir_stamp(self):
        try:
            st = os.stat(self.key_dir)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns)

    def _refresh_keys(self, now: float, force: bool = False) -> bool:
        """Reload the key set if the directory changed; True when it did."""
        if not force and now < self._next_key_check and self._codec is not None:
            return False
        self._next_key_check = now + self._key_check_interval
        stamp = self._dir_stamp()
        if stamp == self._key_stamp and self._codec is not None:
            return False
        try:
            self._codec = TokenCodec(keyrepo.load(self.key_dir))
        except (FileNotFoundError, ValueError) as exc:
            raise InvalidToken(f"no usable Fernet keys: {exc}") from None
        self._key_stamp = stamp
        # A purged key must stop validating the tokens it sealed.
        self._cache.clear()
        return True

    # -- validation ---------------------------------------------------------------------------
    def validate(self, token: str) -> AuthContext:
        """The token's AuthContext; InvalidToken if malformed, tampered, expired or revoked."""
        now = time.monotonic()
        if now >= self._next_key_check:
            self._refresh_keys(now)
        entry = self._cache.get(token)
        if entry is None:
            try:
                ctx = self._codec.open(token)
            except InvalidToken:
                # Maybe sealed with a key we have not loaded yet: look again, once.
                if not self._refresh_keys(now, force=True):
                    raise
                ctx = self._codec.open(token)
            entry = [ctx, None]
            if len(self._cache) >= self._cache_size:
                # Drop the oldest insertion; expired tokens leave through this door too.
                try:
                    self._cache.pop(next(iter(self._cache)))
                except (KeyError, RuntimeError, StopIteration):  # another thread got there
                    pass
            self._cache[token] = entry
        ctx = entry[0]
        if self._clock() >= ctx.expires_at:
            self._cache.pop(token, None)
            raise InvalidToken("token has expired")
        if self._revocations is not None:
            if now >= self._next_revocation_check:
                self._next_revocation_check = now + self._revocation_check_interval
                self._revocation_list = self._revocations.current()
            revocations = self._revocation_list
            # A list is replaced, never changed in place: checked against it once is enough.
            if entry[1] is not revocations:
                if revocations.is_revoked(ctx):
                    self._cache.pop(token, None)
                    raise InvalidToken("token has been revoked")
                entry[1] = revocations
        return ctx

    # -- S3 -----------------------------------------------------------------------------------
    def ec2_secret_for(self, access_key: str) -> tuple[str, str, str]:
        """(secret, user_id, project_id) of an EC2 access key; raises UnknownAccessKey."""
        if self._ec2 is None:
            raise UnknownAccessKey(access_key)
        cred = self._ec2.lookup(access_key)
        return cred.secret, cred.user_id, cred.project_id

    def ec2_context(self, access_key: str) -> AuthContext:
        """The AuthContext (roles on the key's project) an S3 request signed with the key acts as."""
        if self._ec2 is None:
            raise UnknownAccessKey(access_key)
        return self._ec2.lookup(access_key).context

    def close(self) -> None:
        if self._ec2 is not None:
            self._ec2.close()
