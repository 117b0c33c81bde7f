"""Which storage policy an object request is about: X-Backend-Storage-Policy-Index, as Swift's.

The proxy sends the container's policy index with every object request; no header means policy 0
(what every request meant before policies, so older peers and data stay valid). An index the
cluster's policy table does not know is refused with 503, as Swift's object server does: the
sender's table and ours disagree, and guessing would put objects where no ring reads them.
"""
from __future__ import annotations

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
    value = request.headers.get(HEADER)
    if value is None or value == "":
        return 0
    value = value.strip()
    if not value.isdigit():
        raise HTTPError(400, f"Invalid {HEADER} {value!r}")
    index = int(value)
    if index not in node.policies:
        raise HTTPError(503, f"No policy with index {index}")
    return index


def _index_header(node, request, name: str) -> int | None:
    value = request.headers.get(name)
    if value is None or value.strip() == "":
        return None
    value = value.strip()
    if not value.isdigit() or int(value) not in node.policies:
        raise HTTPError(400, f"Invalid {name} {value!r}")
    return int(value)


def requested_policy(node, request) -> tuple[int | None, int]:
    """A container PUT's (asked-for policy or None, the default for a new container), from
    X-Backend-Storage-Policy-Index and X-Backend-Storage-Policy-Default as Swift's proxy sends."""
    default = _index_header(node, request, DEFAULT_HEADER)
    return _index_header(node, request, HEADER), 0 if default is None else default


def account_policy_headers(node, record: dict) -> dict:
    """X-Account-Storage-Policy-<name>-{Container-Count,Object-Count,Bytes-Used} of an account
    record's per-policy totals (policies this cluster no longer names are left out, as Swift)."""
    out = {}
    per_policy = record.get("policies")
    if per_policy is None:  # an account from before policies: everything is policy 0
        per_policy = {"0": [record["containers"], record["count"], record["bytes"]]} \
            if record.get("containers") else {}
    for index, (containers, count, nbytes) in sorted(per_policy.items()):
        name = node.policies.get(int(index))
        if name is None:
            continue
        prefix = f"X-Account-Storage-Policy-{name}-"
        out[prefix + "Container-Count"] = str(containers)
        out[prefix + "Object-Count"] = str(count)
        out[prefix + "Bytes-Used"] = str(nbytes)
    return out
