"""Cinder microversions: parse the request header and decide what a response may contain. Pure.

Clients send `OpenStack-API-Version: volume 3.42` (or the legacy `X-OpenStack-Volume-API-Version:
3.42`, or `latest`). No header means the minimum, 3.0. Outside [MIN, MAX] is 406, as in Cinder.
"""
from __future__ import annotations

import re

from blockserver.errors import ApiError

MIN_VERSION = (3, 0)
# 3.70 is the newest whose response shapes we implement (3.71's extend completion is Nova's).
MAX_VERSION = (3, 70)
SERVICE = "volume"
_VERSION = re.compile(r"^([1-9][0-9]*)\.(0|[1-9][0-9]*)$")


def text(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


def parse(header: str | None, legacy: str | None = None) -> tuple[int, int]:
    """The microversion a request asks for."""
    value = None
    if header:
        for part in header.split(","):
            words = part.strip().split()
            if len(words) == 2 and words[0].lower() == SERVICE:
                value = words[1]
                break
    if value is None and legacy:
        value = legacy.strip()
    if value is None:
        return MIN_VERSION
    if value.lower() == "latest":
        return MAX_VERSION
    match = _VERSION.match(value)
    if not match:
        raise ApiError(400, f"Invalid API version request: {value!r} is not of the form X.Y.")
    version = (int(match.group(1)), int(match.group(2)))
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise ApiError(406, f"Version {value} is not supported by the API. Minimum is "
                            f"{text(MIN_VERSION)} and maximum is {text(MAX_VERSION)}.")
    return version


def require(version: tuple[int, int], minimum: tuple[int, int]) -> None:
    """Cinder answers 404 for a method that does not exist at the requested version."""
    if version < minimum:
        raise ApiError(404, f"API version {text(version)} does not support this method; "
                            f"{text(minimum)} or later is required.")
