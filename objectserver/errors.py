"""The storage node's one error model: an exception carrying the HTTP answer.

Raised anywhere below the handlers and turned into a response by the app's middleware (app.py);
nothing else reaches the wire. Bodies are short plain text, as Swift's backend servers answer.
"""
from __future__ import annotations

REASONS = {
    400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
    408: "Request Timeout", 409: "Conflict", 411: "Length Required", 412: "Precondition Failed",
    413: "Request Entity Too Large", 416: "Requested Range Not Satisfiable",
    422: "Unprocessable Entity", 499: "Client Disconnect", 500: "Internal Server Error",
    503: "Service Unavailable", 507: "Insufficient Storage",
}


class HTTPError(Exception):
    """An answer other than success: status, short body, extra headers."""

    def __init__(self, status: int, body: str | None = None, headers: dict | None = None):
        self.status = status
        self.body = REASONS.get(status, "Error") if body is None else body
        self.headers = dict(headers or {})
        super().__init__(f"{status} {self.body}")
