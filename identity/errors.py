"""Identity's one error model: an exception that carries Keystone's wire answer.

Raised anywhere in identity; the HTTP boundary (identity/api/app.py) turns it into
`{"error": {"code", "title", "message"}}` with that status. Nothing else escapes to a client.
"""
from __future__ import annotations

TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
          405: "Method Not Allowed", 409: "Conflict", 413: "Request Entity Too Large",
          415: "Unsupported Media Type", 500: "Internal Server Error"}


class IdentityError(Exception):
    status = 500

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    @property
    def title(self) -> str:
        return TITLES.get(self.status, "Error")

    def body(self) -> dict:
        return {"error": {"code": self.status, "title": self.title, "message": self.message}}


class BadRequest(IdentityError):
    status = 400


class Unauthorized(IdentityError):
    status = 401


class Forbidden(IdentityError):
    status = 403


class NotFound(IdentityError):
    status = 404

    @classmethod
    def of(cls, kind: str, ident: str) -> "NotFound":
        return cls(f"Could not find {kind}: {ident}.")


class Conflict(IdentityError):
    status = 409
