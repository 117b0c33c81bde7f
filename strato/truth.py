"""Swift's config_true_value: the strings Swift reads as "true" in headers, query values and
configuration ("true", "1", "yes", "on", "t", "y", any case, surrounding spaces ignored)."""

TRUE_VALUES = frozenset(("true", "1", "yes", "on", "t", "y"))


def is_true(value) -> bool:
    return str(value or "").strip().lower() in TRUE_VALUES
