"""The proxy's one error model for the Swift API: SwiftError carries the wire answer.

Anything below the aiohttp layer raises SwiftError(status, body); the error middleware in app.py is
the single place that turns it into a response (short text body, as Swift answers).
"""
from __future__ import annotations

from http import HTTPStatus

# Swift's short bodies for the common statuses (what swob.HTTPException renders).
_BODIES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    409: "Conflict",
    411: "Length Required",
    412: "Precondition Failed",
    413: "Request Entity Too Large",
    416: "Requested Range Not Satisfiable",
    422: "Unprocessable Entity",
    499: "Client Disconnect",
    500: "Internal Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    507: "Insufficient Storage",
}


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return _BODIES.get(status, "Unknown")


class SwiftError(Exception):
    """An answer to give the client instead of what was asked: status, short body, extra headers."""

    def __init__(self, status: int, body: str | bytes | None = None, headers: dict | None = None):
        self.status = status
        if body is None:
            body = _BODIES.get(status, reason(status))
        self.body = body.encode() if isinstance(body, str) else body
        self.headers = dict(headers or {})
        super().__init__(f"{status} {self.body[:200]!r}")


def bad_request(text: str = "Bad Request") -> SwiftError:
    return SwiftError(400, text)


def precondition_failed(text: str = "Precondition Failed") -> SwiftError:
    return SwiftError(412, text)
