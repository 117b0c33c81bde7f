"""Identity's side of tokens: sealing with the primary key, rotating keys on schedule, and
keeping the authoritative revocation list (the file every validator reads). Blocking methods
are run on the server's executor."""
from __future__ import annotations

import logging
import os
import threading
import time

from identity import keys as keyrepo
from identity import revocation_file
from identity.tokens import AuthContext, TokenCodec

log = logging.getLogger(__name__)


class TokenService:
    def __init__(self, data_dir: str, token_ttl: float, rotation_hours: float):
        self.key_dir = keyrepo.key_dir_for(data_dir)
        self.revocation_path = revocation_file.path_for(data_dir)
        self.token_ttl = token_ttl
        self.rotation_seconds = rotation_hours * 3600.0
        self.max_active = keyrepo.max_active_keys(token_ttl, rotation_hours)
        keyrepo.setup(self.key_dir)
        self._codec = TokenCodec(keyrepo.load(self.key_dir))
        self._lock = threading.Lock()
        self.revocations = revocation_file.read(self.revocation_path)

    def seal(self, ctx: AuthContext) -> str:
        return self._codec.seal(ctx)

    def rotate_if_due(self, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        if keyrepo.primary_age(self.key_dir, now) < self.rotation_seconds:
            return False
        self.rotate()
        return True

    def rotate(self) -> int:
        primary = keyrepo.rotate(self.key_dir, self.max_active)
        self._codec = TokenCodec(keyrepo.load(self.key_dir))
        log.info("rotated Fernet keys: primary is now key %d", primary)
        return primary

    def revoke_token(self, ctx: AuthContext) -> None:
        with self._lock:
            self.revocations.revoke_token(ctx)
            self._save()

    def revoke_subject(self, kind: str, ident: str, now: float | None = None) -> None:
        with self._lock:
            self.revocations.revoke_subject(kind, ident, time.time() if now is None else now,
                                            self.token_ttl)
            self._save()

    def _save(self) -> None:
        self.revocations.prune(time.time())
        os.makedirs(os.path.dirname(self.revocation_path), exist_ok=True)
        revocation_file.write(self.revocation_path, self.revocations)
