"""Bucket policies: parse and validate the JSON document, then evaluate requests against it.

Evaluation follows IAM's rule for a single resource policy: an explicit Deny wins, then an
explicit Allow, else no decision (the caller falls back to ownership and ACLs). Supported:
Effect, Principal ("*", {"AWS": ...} with "*", account ids, user names or ARNs), NotPrincipal,
Action / NotAction and Resource / NotResource with `*` and `?` wildcards, and the condition
operators most policies use (StringEquals/StringNotEquals/StringLike/StringNotLike, Bool,
IpAddress/NotIpAddress, NumericLessThan(Equals)/NumericGreaterThan(Equals), Null). Anything else in
a policy is refused with MalformedPolicy, never silently ignored.
"""
from __future__ import annotations

import dataclasses
import fnmatch
import ipaddress
import json
import re

from proxy.s3.errors import S3Error

MAX_POLICY_BYTES = 20 * 1024
_KNOWN_STATEMENT_KEYS = {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction",
                         "Resource", "NotResource", "Condition"}
_CONDITION_OPERATORS = {
    "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
    "StringLike", "StringNotLike", "Bool", "IpAddress", "NotIpAddress", "NumericEquals",
    "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan",
    "NumericGreaterThanEquals", "Null",
}


@dataclasses.dataclass(frozen=True)
class Statement:
    effect: str
    principals: tuple[str, ...] | None      # None: NotPrincipal form
    not_principals: tuple[str, ...] | None
    actions: tuple[str, ...] | None
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...] | None
    not_resources: tuple[str, ...] | None
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...]


@dataclasses.dataclass(frozen=True)
class Policy:
    statements: tuple[Statement, ...]
    text: str


def _as_tuple(value, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise S3Error("MalformedPolicy", f"Invalid {what}")


def _principals(value) -> tuple[str, ...]:
    if value == "*":
        return ("*",)
    if isinstance(value, dict) and set(value) <= {"AWS", "CanonicalUser"} and value:
        names = []
        for entry in value.values():
            names.extend(_as_tuple(entry, "principal"))
        return tuple(names)
    raise S3Error("MalformedPolicy", "Invalid principal in policy")


def _conditions(value) -> tuple:
    if not isinstance(value, dict):
        raise S3Error("MalformedPolicy", "Invalid Condition block")
    out = []
    for operator, body in value.items():
        base = operator.removesuffix("IfExists")
        if base not in _CONDITION_OPERATORS or not isinstance(body, dict):
            raise S3Error("MalformedPolicy", f"Unsupported condition operator {operator}")
        for key, values in body.items():
            if isinstance(values, (bool, int, float)):
                values = str(values).lower() if isinstance(values, bool) else str(values)
            out.append((operator, key.lower(), _as_tuple(values, "condition value")))
    return tuple(out)


def _check_actions(actions: tuple[str, ...]) -> None:
    for action in actions:
        if action != "*" and not re.fullmatch(r"s3:[A-Za-z*?]+", action):
            raise S3Error("MalformedPolicy", f"Policy has invalid action {action}")


def _check_resources(resources: tuple[str, ...], bucket: str) -> None:
    for resource in resources:
        if resource == "*":
            continue
        if not resource.startswith("arn:aws:s3:::"):
            raise S3Error("MalformedPolicy", "Policy has invalid resource")
        target = resource[len("arn:aws:s3:::"):]
        head = target.split("/", 1)[0]
        if not fnmatch.fnmatchcase(bucket, head):
            raise S3Error("MalformedPolicy", "Policy has invalid resource")


def parse(text: str | bytes, bucket: str) -> Policy:
    """Validate a policy document for `bucket`; raise S3Error(MalformedPolicy) when it is bad."""
    if isinstance(text, bytes):
        if len(text) > MAX_POLICY_BYTES:
            raise S3Error("MalformedPolicy", "Policies must be less than 20 KB")
        text = text.decode("utf-8", "replace")
    if len(text.encode()) > MAX_POLICY_BYTES:
        raise S3Error("MalformedPolicy", "Policies must be less than 20 KB")
    try:
        document = json.loads(text)
    except ValueError:
        raise S3Error("MalformedPolicy", "This policy contains invalid Json") from None
    if not isinstance(document, dict) or "Statement" not in document:
        raise S3Error("MalformedPolicy", "Missing required field Statement")
    raw = document["Statement"]
    raw = [raw] if isinstance(raw, dict) else raw
    if not isinstance(raw, list) or not raw:
        raise S3Error("MalformedPolicy", "Could not parse the policy: Statement is empty!")
    statements = []
    for item in raw:
        if not isinstance(item, dict) or set(item) - _KNOWN_STATEMENT_KEYS:
            raise S3Error("MalformedPolicy", "Unknown field in policy statement")
        if item.get("Effect") not in ("Allow", "Deny"):
            raise S3Error("MalformedPolicy", "Invalid effect")
        if ("Principal" in item) == ("NotPrincipal" in item):
            raise S3Error("MalformedPolicy", "Missing required field Principal")
        if ("Action" in item) == ("NotAction" in item):
            raise S3Error("MalformedPolicy", "Missing required field Action")
        if ("Resource" in item) == ("NotResource" in item):
            raise S3Error("MalformedPolicy", "Missing required field Resource")
        statement = Statement(
            effect=item["Effect"],
            principals=_principals(item["Principal"]) if "Principal" in item else None,
            not_principals=_principals(item["NotPrincipal"]) if "NotPrincipal" in item else None,
            actions=_as_tuple(item["Action"], "action") if "Action" in item else None,
            not_actions=_as_tuple(item["NotAction"], "action") if "NotAction" in item else None,
            resources=_as_tuple(item["Resource"], "resource") if "Resource" in item else None,
            not_resources=_as_tuple(item["NotResource"], "resource") if "NotResource" in item else None,
            conditions=_conditions(item.get("Condition", {})),
        )
        _check_actions(statement.actions or statement.not_actions)
        _check_resources(statement.resources or statement.not_resources, bucket)
        statements.append(statement)
    return Policy(tuple(statements), text)


@dataclasses.dataclass(frozen=True)
class Request:
    """What a policy is evaluated against."""

    principal: str | None          # "account:user" of an authenticated caller, None if anonymous
    account: str | None            # the caller's account (project)
    action: str                    # e.g. "s3:GetObject"
    resource: str                  # e.g. "arn:aws:s3:::bucket/key"
    context: dict                  # condition keys, lower-case: aws:sourceip, aws:securetransport, ...


def _wild(pattern: str, value: str, ignore_case: bool = False) -> bool:
    if ignore_case:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern)


def _principal_matches(names: tuple[str, ...], request: Request) -> bool:
    for name in names:
        if name == "*":
            return True
        if request.principal is None:
            continue
        short = name.removeprefix("arn:aws:iam::")
        user = short.split(":user/", 1)
        if len(user) == 2:
            short = f"{user[0]}:{user[1]}"
        elif short.endswith(":root"):
            short = short[:-5]
        if short in (request.principal, request.account):
            return True
    return False


def _condition_holds(operator: str, key: str, values: tuple[str, ...], context: dict) -> bool:
    if_exists = operator.endswith("IfExists")
    operator = operator.removesuffix("IfExists")
    actual = context.get(key)
    if operator == "Null":
        return (actual is None) == (values[0].lower() == "true")
    if actual is None:
        return if_exists
    actual = str(actual)
    if operator == "StringEquals":
        return actual in values
    if operator == "StringNotEquals":
        return actual not in values
    if operator == "StringEqualsIgnoreCase":
        return actual.lower() in {v.lower() for v in values}
    if operator == "StringNotEqualsIgnoreCase":
        return actual.lower() not in {v.lower() for v in values}
    if operator == "StringLike":
        return any(_wild(v, actual) for v in values)
    if operator == "StringNotLike":
        return not any(_wild(v, actual) for v in values)
    if operator == "Bool":
        return actual.lower() in {v.lower() for v in values}
    if operator in ("IpAddress", "NotIpAddress"):
        try:
            address = ipaddress.ip_address(actual)
            inside = any(address in ipaddress.ip_network(v, strict=False) for v in values)
        except ValueError:
            return False
        return inside if operator == "IpAddress" else not inside
    try:
        number = float(actual)
        limits = [float(v) for v in values]
    except ValueError:
        return False
    compare = {
        "NumericEquals": lambda a, b: a == b, "NumericNotEquals": lambda a, b: a != b,
        "NumericLessThan": lambda a, b: a < b, "NumericLessThanEquals": lambda a, b: a <= b,
        "NumericGreaterThan": lambda a, b: a > b, "NumericGreaterThanEquals": lambda a, b: a >= b,
    }[operator]
    return any(compare(number, limit) for limit in limits)


def _applies(statement: Statement, request: Request) -> bool:
    if statement.principals is not None and not _principal_matches(statement.principals, request):
        return False
    if statement.not_principals is not None and _principal_matches(statement.not_principals, request):
        return False
    if statement.actions is not None and not any(_wild(a, request.action, True)
                                                 for a in statement.actions):
        return False
    if statement.not_actions is not None and any(_wild(a, request.action, True)
                                                 for a in statement.not_actions):
        return False
    if statement.resources is not None and not any(_wild(r, request.resource)
                                                   for r in statement.resources):
        return False
    if statement.not_resources is not None and any(_wild(r, request.resource)
                                                   for r in statement.not_resources):
        return False
    return all(_condition_holds(op, key, values, request.context)
               for op, key, values in statement.conditions)


def evaluate(policy: Policy | None, request: Request) -> str | None:
    """'Deny', 'Allow', or None when the policy says nothing about this request."""
    if policy is None:
        return None
    decision = None
    for statement in policy.statements:
        if _applies(statement, request):
            if statement.effect == "Deny":
                return "Deny"
            decision = "Allow"
    return decision
