"""Which storage policy an object request is about: X-Backend-Storage-Policy-Index, as Swift's.

The proxy sends the container's policy index with every object request; no header means policy 0
(what every request meant before policies, so older peers and data stay valid). An index the
cluster's policy table does not know is refused with 503, as Swift's object server does: the
sender's table and ours disagree, and guessing would put objects where no ring reads them.
"""
from __future__ import annotations

from .db import policy_totals
from .errors import HTTPError

HEADER = "X-Backend-Storage-Policy-Index"
DEFAULT_HEADER = "X-Backend-Storage-Policy-Default"


def known_policies(config) -> dict[int, str]:
    """{index: name} of the cluster's storage policies."""
    try:
        from ring.policies import from_config

        return {p.index: p.name for p in from_config(config)}
    except (AttributeError, ImportError):  # a configuration without a [ring] section
        return {0: "Policy-0"}


def policy_index(node, request) -> int:
    index = _index_header(node, request, HEADER, unknown_status=503)
    return 0 if index is None else index


def _index_header(node, request, name: str, unknown_status: int = 400) -> int | None:
    """The policy index header `name` carries, None when absent or empty. Not a number is a 400;
    a number this cluster has no policy for is `unknown_status` (an object request's 503 says
    the sender's policy table differs from ours, a container PUT's 400 that the ask is bad)."""
    value = (request.headers.get(name) or "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise HTTPError(400, f"Invalid {name} {value!r}")
    index = int(value)
    if index not in node.policies:
        raise HTTPError(unknown_status, f"Invalid {name} {value!r}: no policy with that index")
    return index


def requested_policy(node, request) -> tuple[int | None, int]:
    """A container PUT's (asked-for policy or None, the default for a new container), from
    X-Backend-Storage-Policy-Index and X-Backend-Storage-Policy-Default as Swift's proxy sends."""
    default = _index_header(node, request, DEFAULT_HEADER)
    return _index_header(node, request, HEADER), 0 if default is None else default


def account_policy_headers(node, record: dict) -> dict:
    """X-Account-Storage-Policy-<name>-{Container-Count,Object-Count,Bytes-Used} of an account
    record's per-policy totals (policies this cluster no longer names are left out, as Swift)."""
    out = {}
    for index, (containers, count, nbytes) in sorted(policy_totals(record).items()):
        name = node.policies.get(int(index))
        if name is None:
            continue
        prefix = f"X-Account-Storage-Policy-{name}-"
        out[prefix + "Container-Count"] = str(containers)
        out[prefix + "Object-Count"] = str(count)
        out[prefix + "Bytes-Used"] = str(nbytes)
    return out
