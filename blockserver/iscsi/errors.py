"""The iSCSI target's one error model: what went wrong, as the wire answer it must become.

ProtocolError becomes a Reject PDU carrying the offending header (and, when fatal, the end of the
connection: at ErrorRecoveryLevel 0 the only recovery is a new connection). LoginError becomes a
Login Response with its status class/detail, after which the target closes the connection. The
connection core turns both into bytes at one place; nothing else reaches the initiator.
"""
from __future__ import annotations

from .constants import LoginStatus, RejectReason


class ProtocolError(Exception):
    def __init__(self, reason: RejectReason, message: str, *, fatal: bool = False,
                 header: bytes = b""):
        super().__init__(message)
        self.reason = reason
        self.fatal = fatal
        self.header = header


class LoginError(Exception):
    def __init__(self, status: LoginStatus, message: str):
        super().__init__(message)
        self.status = status


class DigestError(ProtocolError):
    """A header digest mismatch (framing can no longer be trusted) or a data digest mismatch."""
