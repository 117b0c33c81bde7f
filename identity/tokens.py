"""Fernet tokens: what a token says (AuthContext) and how it is sealed and opened. No I/O.

A token is a Fernet token (AES-128-CBC + HMAC-SHA256, from `cryptography`) over a compact JSON
payload: user, project, roles, issue and expiry times, audit ids, methods. Carrying the roles in
the payload lets every service validate locally with only the key set and the revocation list;
role changes revoke the user's older tokens instead (identity/revocation.py).
"""
from __future__ import annotations

import base64
import dataclasses
import json
import secrets

from cryptography.fernet import InvalidToken as _FernetInvalid
from cryptography.fernet import Fernet, MultiFernet

PAYLOAD_VERSION = 1
# Tokens travel in headers; a token this long is not one of ours (and must not cost a decrypt).
MAX_TOKEN_LENGTH = 4096


class InvalidToken(Exception):
    """The token is malformed, tampered with, sealed with an unknown key, expired or revoked."""


@dataclasses.dataclass(frozen=True)
class AuthContext:
    """Who is calling and with what rights; the same for every service that validates a token.

    domain_id is the project's domain for a project-scoped token, else the user's domain.
    """

    user_id: str
    user_name: str
    project_id: str | None
    project_name: str | None
    domain_id: str
    roles: frozenset
    expires_at: float
    audit_id: str
    user_domain_id: str = "default"
    issued_at: float = 0.0
    audit_ids: tuple = ()
    methods: tuple = ("password",)

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    @property
    def can_write(self) -> bool:
        """admin and member write; a reader (or a token with no role) only reads."""
        return bool(self.roles & {"admin", "member"})

    @property
    def can_read(self) -> bool:
        return bool(self.roles & {"admin", "member", "reader"})


def new_audit_id() -> str:
    """22 URL-safe characters, as Keystone makes them."""
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode()


def encode_payload(ctx: AuthContext) -> bytes:
    body = {"v": PAYLOAD_VERSION, "u": ctx.user_id, "un": ctx.user_name, "ud": ctx.user_domain_id,
            "p": ctx.project_id, "pn": ctx.project_name, "d": ctx.domain_id,
            "r": sorted(ctx.roles), "e": ctx.expires_at, "i": ctx.issued_at,
            "a": list(ctx.audit_ids or (ctx.audit_id,)), "m": list(ctx.methods)}
    return json.dumps(body, separators=(",", ":")).encode()


def decode_payload(data: bytes) -> AuthContext:
    try:
        body = json.loads(data)
        if body.get("v") != PAYLOAD_VERSION:
            raise InvalidToken("unknown token payload version")
        audit_ids = tuple(str(a) for a in body["a"])
        return AuthContext(
            user_id=str(body["u"]), user_name=str(body["un"]), user_domain_id=str(body["ud"]),
            project_id=body["p"], project_name=body["pn"], domain_id=str(body["d"]),
            roles=frozenset(str(r) for r in body["r"]), expires_at=float(body["e"]),
            issued_at=float(body["i"]), audit_id=audit_ids[0], audit_ids=audit_ids,
            methods=tuple(str(m) for m in body["m"]))
    except InvalidToken:
        raise
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        raise InvalidToken("malformed token payload") from None


class TokenCodec:
    """Seals and opens tokens with one key set (primary first, as identity/keys.load returns)."""

    def __init__(self, keys: list[bytes]):
        if not keys:
            raise ValueError("no Fernet keys")
        self._fernet = MultiFernet([Fernet(k) for k in keys])

    def seal(self, ctx: AuthContext) -> str:
        # Keystone strips the base64 padding; so do we (it is restored when opening).
        return self._fernet.encrypt(encode_payload(ctx)).decode().rstrip("=")

    def open(self, token: str) -> AuthContext:
        """The token's context, without checking expiry or revocation (see check_fresh)."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken("malformed token")
        padded = token + "=" * (-len(token) % 4)
        try:
            data = self._fernet.decrypt(padded.encode("ascii"))
        except (_FernetInvalid, UnicodeEncodeError, ValueError, TypeError):
            raise InvalidToken("token is invalid or was not issued here") from None
        return decode_payload(data)


def check_fresh(ctx: AuthContext, now: float) -> None:
    if now >= ctx.expires_at:
        raise InvalidToken("token has expired")
