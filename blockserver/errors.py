"""The volume API's one error model: an exception that carries Cinder's wire answer.

Anything in blockserver (manager, store, backends' callers) raises ApiError; the aiohttp layer turns
it into Cinder's JSON fault body ({"itemNotFound": {"message": ..., "code": 404}}) at one boundary.
"""
from __future__ import annotations

# Cinder's fault names (cinder/api/openstack/wsgi.py Fault._fault_names); others are computeFault.
FAULT_NAMES = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    501: "notImplemented",
    503: "serviceUnavailable",
}


class ApiError(Exception):
    """An error whose HTTP status and message are what the client must see."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message

    @property
    def fault_name(self) -> str:
        return FAULT_NAMES.get(self.status, "computeFault")

    def body(self) -> dict:
        return {self.fault_name: {"message": self.message, "code": self.status}}


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, message)


def forbidden(message: str = "Policy doesn't allow this operation to be performed.") -> ApiError:
    return ApiError(403, message)


def over_limit(message: str) -> ApiError:
    return ApiError(413, message)


def conflict(message: str) -> ApiError:
    return ApiError(409, message)


class BackendError(Exception):
    """A backend operation failed (disk full, lvm command failed): the volume goes to an error state."""
