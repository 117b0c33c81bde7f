"""List queries as Cinder takes them: filters, sort, marker/limit/offset, and the next link. Pure.

Unknown query parameters are ignored (clients send `all_tenants`, `cascade`, `with_count` ...).
"""
from __future__ import annotations

import ast
import json
from typing import Any, Callable, Mapping, Sequence
from urllib.parse import urlencode

from blockserver.errors import bad_request, not_found

SORT_KEYS = {"id", "name", "status", "size", "created_at", "updated_at", "availability_zone",
             "bootable", "volume_id", "display_name"}
MAX_LIMIT = 1000


def parse_metadata_filter(text: str) -> dict:
    """`metadata={"k": "v"}` (JSON), or the Python-literal form cinderclient sends."""
    for parse in (json.loads, ast.literal_eval):
        try:
            value = parse(text)
        except (ValueError, SyntaxError):
            continue
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items()}
    raise bad_request(f"Invalid input received: metadata filter {text!r} is not an object.")


def _truthy(text: str) -> bool:
    return text.strip().lower() in ("true", "1", "yes", "on", "t", "y")


def matches(item: Any, query: Mapping[str, str]) -> bool:
    """Cinder's exact-match filters on the fields it filters by."""
    for key in ("name", "status", "availability_zone", "volume_id", "project_id"):
        if key in query and getattr(item, key, None) != query[key]:
            if not (key == "name" and getattr(item, key, None) is None and query[key] == ""):
                return False
    if "bootable" in query and getattr(item, "bootable", False) != _truthy(query["bootable"]):
        return False
    if "metadata" in query:
        wanted = parse_metadata_filter(query["metadata"])
        have = getattr(item, "metadata", {}) or {}
        if any(have.get(k) != v for k, v in wanted.items()):
            return False
    return True


def sort_spec(query: Mapping[str, str]) -> list[tuple[str, bool]]:
    """[(key, descending)], from `sort=k1:asc,k2` or `sort_key`/`sort_dir`; default newest first."""
    spec = []
    if query.get("sort"):
        for part in query["sort"].split(","):
            key, _, direction = part.strip().partition(":")
            spec.append((key.strip(), (direction or "desc").strip().lower()))
    elif query.get("sort_key"):
        keys = query["sort_key"].split(",")
        dirs = query.get("sort_dir", "desc").split(",")
        spec = [(k.strip(), (dirs[i] if i < len(dirs) else dirs[-1]).strip().lower())
                for i, k in enumerate(keys)]
    if not spec:
        spec = [("created_at", "desc")]
    result = []
    for key, direction in spec:
        if key not in SORT_KEYS or direction not in ("asc", "desc"):
            raise bad_request(f"Invalid input received: cannot sort by {key}:{direction}.")
        result.append(("name" if key == "display_name" else key, direction == "desc"))
    if all(k != "id" for k, _ in result):
        result.append(("id", result[-1][1]))  # a total order, so markers are stable
    return result


def sort_items(items: list, spec: list[tuple[str, bool]]) -> list:
    out = list(items)
    for key, desc in reversed(spec):  # stable sorts, least significant key first
        out.sort(key=lambda item, k=key: _sort_value(getattr(item, k, None)), reverse=desc)
    return out


def _sort_value(value):
    # None sorts first; every other value of one field has one type (bool, int or str).
    return (False, "") if value is None else (True, value)


def paginate(items: Sequence, query: Mapping[str, str]) -> tuple[list, bool]:
    """(page, more) after marker/offset/limit."""
    items = list(items)
    marker = query.get("marker")
    if marker:
        ids = [item.id for item in items]
        if marker not in ids:
            raise not_found(f"Marker {marker} could not be found.")
        items = items[ids.index(marker) + 1:]
    if query.get("offset"):
        offset = _non_negative(query["offset"], "offset")
        items = items[offset:]
    limit = _non_negative(query["limit"], "limit") if query.get("limit") else None
    if limit is None or limit > MAX_LIMIT:
        limit = MAX_LIMIT
    return items[:limit], len(items) > limit


def _non_negative(text: str, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise bad_request(f"Invalid input received: {what} must be an integer.") from None
    if value < 0:
        raise bad_request(f"Invalid input received: {what} must be >= 0.")
    return value


def list_items(items: list, query: Mapping[str, str],
               extra: Callable[[Any], bool] | None = None) -> tuple[list, bool, int]:
    """(page, whether more follow, how many matched the filters in all)."""
    chosen = [i for i in items if matches(i, query) and (extra is None or extra(i))]
    page, more = paginate(sort_items(chosen, sort_spec(query)), query)
    return page, more, len(chosen)


def next_link(url_base: str, query: Mapping[str, str], last_id: str) -> list[dict]:
    """The `<coll>_links` value pointing at the page after last_id, with the same filters."""
    params = {k: v for k, v in query.items() if k not in ("marker", "offset")}
    params["marker"] = last_id
    return [{"rel": "next", "href": f"{url_base}?{urlencode(params)}"}]
