"""The network API's one error model: NeutronError carries Neutron's wire answer.

Everything in network/ raises NeutronError; the aiohttp layer turns it into
{"NeutronError": {"type", "message", "detail"}} with its status at one boundary. The types and
messages are Neutron's own (neutron_lib/exceptions), so clients print what they would for Neutron.
"""
from __future__ import annotations


class NeutronError(Exception):
    def __init__(self, status: int, type_: str, message: str):
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message

    def body(self) -> dict:
        return {"NeutronError": {"type": self.type, "message": self.message, "detail": ""}}


def bad_request(message: str) -> NeutronError:
    # webob.exc.HTTPBadRequest raised by Neutron's API layer (body shape, unknown attributes).
    return NeutronError(400, "HTTPBadRequest", message)


def invalid_input(message: str) -> NeutronError:
    return NeutronError(400, "InvalidInput", f"Invalid input for operation: {message}.")


def invalid_attr(name: str, reason: str) -> NeutronError:
    # What Neutron's attribute validators answer (neutron/api/v2/base.py).
    return invalid_input(f"Invalid input for {name}. Reason: {reason}")


def not_found(kind: str, ident: str) -> NeutronError:
    """kind: "network" | "subnet" | "port" -> NetworkNotFound etc."""
    return NeutronError(404, f"{kind.capitalize()}NotFound",
                        f"{kind.capitalize()} {ident} could not be found.")


def unauthorized() -> NeutronError:
    return NeutronError(401, "HTTPUnauthorized",
                        "The request you have made requires authentication.")


def forbidden(action: str) -> NeutronError:
    return NeutronError(403, "PolicyNotAuthorized",
                        f"rule:{action} is disallowed by policy")


def network_in_use(net_id: str) -> NeutronError:
    return NeutronError(409, "NetworkInUse",
                        f"Unable to complete operation on network {net_id}. There are one or "
                        "more ports still in use on the network.")


def subnet_in_use(subnet_id: str) -> NeutronError:
    return NeutronError(409, "SubnetInUse",
                        f"Unable to complete operation on subnet {subnet_id}: One or more ports "
                        "have an IP allocation from this subnet.")


def ip_already_allocated(ip: str, subnet_id: str) -> NeutronError:
    return NeutronError(409, "IpAddressAlreadyAllocated",
                        f"IP address {ip} already allocated in subnet {subnet_id}")


def ip_generation_failure(net_id: str) -> NeutronError:
    return NeutronError(409, "IpAddressGenerationFailure",
                        f"No more IP addresses available on network {net_id}.")


def invalid_ip_for_subnet(ip: str) -> NeutronError:
    return NeutronError(400, "InvalidIpForSubnet",
                        f"IP address {ip} is not a valid IP for the specified subnet.")


def invalid_ip_for_network(ip: str) -> NeutronError:
    return NeutronError(400, "InvalidIpForNetwork",
                        f"IP address {ip} is not a valid IP for any of the subnets on the "
                        "specified network.")


def mac_in_use(net_id: str, mac: str) -> NeutronError:
    return NeutronError(409, "MacAddressInUse",
                        f"Unable to complete operation for network {net_id}. The mac address "
                        f"{mac} is in use.")
