"""Password hashing with argon2id (argon2-cffi's RFC 9106 low-memory profile). Blocking: the
server calls these in an executor, never on the event loop."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()

# Bytes, not characters: argon2 takes any length, but a megabyte password is an attack.
MAX_PASSWORD_BYTES = 4096


def hash_password(password: str) -> str:
    if not isinstance(password, str) or len(password.encode()) > MAX_PASSWORD_BYTES:
        raise ValueError("password must be a string of at most 4096 bytes")
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    if not stored_hash or not isinstance(password, str):
        return False
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
