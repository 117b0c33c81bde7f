"""CHAP with MD5 (RFC 1994, as iSCSI uses it: RFC 7143 12.1.3), one-way and mutual, sans-I/O.

The target sends CHAP_A=5, CHAP_I (one byte) and CHAP_C (a random challenge); the initiator
answers CHAP_N and CHAP_R = MD5(I || secret || C). For mutual CHAP the initiator adds its own
CHAP_I and CHAP_C, and the target answers with its CHAP_N/CHAP_R. A challenge equal to ours is
refused (reflection). Randomness is injected so tests are reproducible.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from typing import Callable

from .constants import LoginStatus
from .errors import LoginError

MD5 = "5"
CHALLENGE_LEN = 16
MAX_CHALLENGE_LEN = 1024   # RFC 7143 12.1.3: at most 1024 bytes


def decode_binary(value: str) -> bytes:
    """A binary value: 0x hex (any length; a leading nibble is allowed) or 0b base64."""
    try:
        if value[:2] in ("0x", "0X"):
            digits = value[2:]
            if len(digits) % 2:
                digits = "0" + digits
            out = bytes.fromhex(digits)
        elif value[:2] in ("0b", "0B"):
            out = base64.b64decode(value[2:], validate=True)
        else:
            raise ValueError(value)
    except (ValueError, binascii.Error):
        raise LoginError(LoginStatus.AUTH_FAILURE, "bad CHAP binary value") from None
    if not out:
        raise LoginError(LoginStatus.AUTH_FAILURE, "empty CHAP binary value")
    return out


def encode_binary(data: bytes) -> str:
    return "0x" + data.hex()


def response(identifier: int, secret: bytes, challenge: bytes) -> bytes:
    return hashlib.md5(bytes([identifier]) + secret + challenge).digest()


class ChapTarget:
    """One CHAP exchange from the target's side."""

    def __init__(self, user: str, secret: str, mutual_user: str | None = None,
                 mutual_secret: str | None = None,
                 random_bytes: Callable[[int], bytes] = secrets.token_bytes):
        self.user = user
        self.secret = secret.encode()
        self.mutual_user = mutual_user
        self.mutual_secret = mutual_secret.encode() if mutual_secret else None
        self._random = random_bytes
        self.identifier: int | None = None
        self.challenge: bytes | None = None

    def challenge_for(self, chap_a: str) -> list[tuple[str, str]]:
        """Answer CHAP_A (the initiator's list of algorithms) with ours and a challenge."""
        if MD5 not in [a.strip() for a in chap_a.split(",")]:
            raise LoginError(LoginStatus.AUTH_FAILURE, "initiator offers no CHAP MD5")
        rnd = self._random(1 + CHALLENGE_LEN)
        self.identifier = rnd[0]
        self.challenge = bytes(rnd[1:])
        return [("CHAP_A", MD5), ("CHAP_I", str(self.identifier)),
                ("CHAP_C", encode_binary(self.challenge))]

    def verify(self, keys: dict[str, str]) -> list[tuple[str, str]]:
        """Check CHAP_N/CHAP_R; answer a mutual challenge. Raises LoginError(AUTH_FAILURE)."""
        if self.challenge is None:
            raise LoginError(LoginStatus.AUTH_FAILURE, "CHAP response before challenge")
        name = keys.get("CHAP_N")
        got = keys.get("CHAP_R")
        if name is None or got is None:
            raise LoginError(LoginStatus.AUTH_FAILURE, "CHAP_N and CHAP_R are required")
        expected = response(self.identifier, self.secret, self.challenge)
        # Compare both, in constant time, before deciding: no early exit on the user name.
        user_ok = hmac.compare_digest(name.encode(), self.user.encode())
        resp_ok = hmac.compare_digest(decode_binary(got), expected)
        if not (user_ok and resp_ok):
            raise LoginError(LoginStatus.AUTH_FAILURE, "CHAP authentication failed")
        if "CHAP_I" not in keys and "CHAP_C" not in keys:
            return []
        if "CHAP_I" not in keys or "CHAP_C" not in keys:
            raise LoginError(LoginStatus.AUTH_FAILURE, "mutual CHAP needs CHAP_I and CHAP_C")
        if self.mutual_secret is None or self.mutual_user is None:
            raise LoginError(LoginStatus.AUTH_FAILURE, "mutual CHAP is not configured")
        try:
            ident = int(keys["CHAP_I"], 0)
        except ValueError:
            raise LoginError(LoginStatus.AUTH_FAILURE, "bad CHAP_I") from None
        if not 0 <= ident <= 255:
            raise LoginError(LoginStatus.AUTH_FAILURE, "bad CHAP_I")
        challenge = decode_binary(keys["CHAP_C"])
        if len(challenge) > MAX_CHALLENGE_LEN or challenge == self.challenge:
            raise LoginError(LoginStatus.AUTH_FAILURE, "mutual CHAP challenge refused")
        return [("CHAP_N", self.mutual_user),
                ("CHAP_R", encode_binary(response(ident, self.mutual_secret, challenge)))]
