"""The compute API's one error model: NovaError carries Nova's wire answer.

Everything in compute/ raises NovaError; the aiohttp layer turns it into Nova's fault body
{"<name>": {"message", "code"}} with its status at one boundary (compute/api.py). Names and
messages follow Nova's own (nova/exception.py, nova/api/openstack/wsgi.py Fault).
"""
from __future__ import annotations

# webob's HTTP error -> the fault name Nova puts in the body.
FAULT_NAMES = {400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound",
               405: "badMethod", 406: "notAcceptable", 409: "conflictingRequest",
               413: "overLimit", 415: "badMediaType", 501: "notImplemented",
               503: "serviceUnavailable"}


class NovaError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message

    @property
    def name(self) -> str:
        return FAULT_NAMES.get(self.status, "computeFault")

    def body(self) -> dict:
        return {self.name: {"message": self.message, "code": self.status}}


def bad_request(message: str) -> NovaError:
    return NovaError(400, message)


def not_found(message: str) -> NovaError:
    return NovaError(404, message)


def conflict(message: str) -> NovaError:
    return NovaError(409, message)


def unauthorized() -> NovaError:
    return NovaError(401, "The request you have made requires authentication.")


def forbidden(rule: str) -> NovaError:
    return NovaError(403, f"Policy doesn't allow {rule} to be performed.")


def server_not_found(server_id: str) -> NovaError:
    return NovaError(404, f"Instance {server_id} could not be found.")


def flavor_not_found(flavor_id: str) -> NovaError:
    return NovaError(404, f"Flavor {flavor_id} could not be found.")


def volume_not_found(volume_id: str) -> NovaError:
    return NovaError(404, f"Volume {volume_id} could not be found.")


def invalid_state(action: str, server_id: str, vm_state: str) -> NovaError:
    # nova.exception.InstanceInvalidState as the API reports it (common.raise_http_conflict...).
    return NovaError(409, f"Cannot '{action}' instance {server_id} while it is in vm_state "
                          f"{vm_state}")


def unavailable(service: str, detail: str) -> NovaError:
    return NovaError(503, f"The {service} service is not available: {detail}")
