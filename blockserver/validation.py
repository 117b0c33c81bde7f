"""Checks of request values the manager relies on, with Cinder's 400 wording. Pure."""
from __future__ import annotations

from typing import Any

from blockserver.errors import bad_request

MAX_SIZE_GB = 64 * 1024  # 64 TiB: far beyond any test, small enough to refuse typos


def parse_size(value: Any, what: str = "size") -> int:
    """A positive whole number of GiB, as Cinder accepts it (int or digit string)."""
    if isinstance(value, bool):
        raise bad_request(f"Invalid input received: {what} must be an integer.")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if not isinstance(value, int):
        raise bad_request(f"Invalid input received: {what} must be an integer and greater than 0.")
    if value <= 0 or value > MAX_SIZE_GB:
        raise bad_request(f"Invalid input received: {what} must be between 1 and {MAX_SIZE_GB}.")
    return value


# Cinder's limits: 255-character names, descriptions, metadata keys and values.
METADATA_MAX = 255
TEXT_MAX = 255


def optional_str(value: Any, what: str) -> str | None:
    """An optional identifier or name from a request body: a string, or None ("" counts as None)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise bad_request(f"Invalid input received: {what} must be a string.")
    return value


def check_text(**fields: Any) -> None:
    for key, value in fields.items():
        if value is None:
            continue
        if not isinstance(value, str):
            raise bad_request(f"Invalid input received: {key} must be a string.")
        if len(value) > TEXT_MAX:
            raise bad_request(f"Invalid input received: {key} has more than {TEXT_MAX} "
                              "characters.")


def check_metadata(metadata: Any) -> None:
    if metadata is None:
        return
    if not isinstance(metadata, dict):
        raise bad_request("Invalid input received: metadata must be an object of strings.")
    for key, value in metadata.items():
        if not isinstance(value, str) or not key:
            raise bad_request("Invalid input received: metadata keys and values must be "
                              "non-empty keys with string values.")
        if len(key) > METADATA_MAX or len(value) > METADATA_MAX:
            raise bad_request("Invalid input received: metadata keys and values are limited to "
                              f"{METADATA_MAX} characters.")


def parse_bool(value: Any, what: str) -> bool:
    """Cinder's strict boolean: true/false in any case, 1/0, yes/no, on/off, or a JSON bool."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "y", "on", "t"):
        return True
    if text in ("false", "0", "no", "n", "off", "f"):
        return False
    raise bad_request(f"Invalid input received: {what} must be a boolean, not {value!r}.")
