"""Listings of versioned containers, as Swift's object_versioning middleware shapes them (pure).

* A plain listing shows each version link as the version it names: its bytes and ETag, and a
  symlink_path of "/v1/<a>/<c>/<o>?version-id=<id>".
* A ?versions listing merges the primary container's rows (objects written without versioning
  are version "null") with the versions container's rows (one per version, delete markers
  included), each with version_id and is_latest.
* An account listing adds each versions container's bytes to its container's row.
JSON rows in, JSON rows out; the async side fetches them (container.py, account.py).
"""
from __future__ import annotations

from urllib.parse import quote, unquote

from objectserver.listings import LISTING_LIMIT, TRUE_VALUES
from proxy.objver import names


class BadListing(ValueError):
    """A ?versions listing parameter Swift refuses with 400 (the message is the body)."""


def _split_link_path(path: str) -> tuple[str, str, str] | None:
    parts = unquote(path).split("/", 4)
    if len(parts) != 5 or parts[1] != "v1":
        return None
    return parts[2], parts[3], parts[4]


def decorate(rows: list[dict], container: str, versions: str, versions_listing: bool) -> list[dict]:
    """Version links of a primary listing shown as their versions (in place; returns rows)."""
    for item in rows:
        if not all(k in item for k in ("symlink_path", "symlink_etag", "symlink_bytes")):
            continue
        split = _split_link_path(item["symlink_path"])
        if split is None or split[1] != versions:
            continue
        account, _, target = split
        _etag, _sep, params = item["hash"].partition(";")
        item["bytes"] = int(item.pop("symlink_bytes"))
        item["version_symlink"] = True
        item["hash"] = item.pop("symlink_etag") + (f";{params}" if params else "")
        obj, vid = names.parse_version_name(target)
        if vid is not None and not versions_listing:
            item["symlink_path"] = (quote(f"/v1/{account}/{container}/{obj}")
                                    + f"?version-id={vid}")
    return rows


def segment_source(container: str, row: dict) -> tuple[str, str, int]:
    """(container, object, bytes) to read for a listing row used as a DLO segment: a version
    link's row names the version it points at (Swift's DLO reads segments through links)."""
    versions = names.versions_container(container)
    if all(k in row for k in ("symlink_path", "symlink_bytes")):
        split = _split_link_path(row["symlink_path"])
        if split is not None and split[1] == versions:
            return versions, split[2], int(row["symlink_bytes"])
    return container, row["name"], int(row["bytes"])


def versions_query(params: dict) -> dict:
    """The versions container's listing parameters for a client's ?versions listing."""
    out = {k: params.get(k, "") for k in ("prefix", "marker", "limit", "delimiter", "reverse")}
    marker = params.get("marker")
    vmarker = params.get("version_marker")
    if marker:
        if vmarker is None:
            out["marker"] = names.object_prefix(marker) + ":"  # past all of marker's versions
        elif vmarker == "null":
            out["marker"] = names.object_prefix(marker)  # before all of them
        else:
            try:
                out["marker"] = names.version_name(marker, names.check_version(vmarker, False))
            except (ValueError, names.InvalidVersion):
                raise BadListing("invalid version_marker param") from None
    elif vmarker is not None:
        raise BadListing("version_marker param requires marker")
    delimiter = params.get("delimiter", "")
    if set(delimiter) & set("0123456789." + names.RESERVED):
        raise BadListing("invalid delimiter param")
    if params.get("prefix"):
        out["prefix"] = names.reserved(params["prefix"])
    return {k: v for k, v in out.items() if v != ""}


def page_shape(params: dict) -> tuple[bool, int]:
    """(reverse, limit) of a client's listing parameters, read as the listing nodes read them."""
    limit = params.get("limit", "")
    return (str(params.get("reverse", "")).lower() in TRUE_VALUES,
            int(limit) if str(limit).isdigit() else LISTING_LIMIT)


def _sorted(rows: list[dict], reverse: bool, limit: int) -> list[dict]:
    return sorted(rows, key=lambda r: r.get("subdir", r.get("name")), reverse=reverse)[:limit]


def merge_versions(primary: list[dict], versions_rows: list[dict] | None, account: str,
                   versions: str, reverse: bool, limit: int) -> list[dict]:
    """The ?versions listing: `primary` decorated with versions_listing=True, `versions_rows` the
    versions container's JSON rows (None when it does not exist)."""
    null_listing, subdirs, current, latest = [], set(), {}, set()
    for item in primary:
        if "name" not in item:
            subdirs.add(item["subdir"])
        elif item.get("version_symlink"):
            current[unquote(item["symlink_path"])] = item
        else:
            null_listing.append(dict(item, version_id="null", is_latest=True))
            latest.add(item["name"])
    versions_listing = []
    for item in versions_rows or []:
        if "name" not in item:
            try:
                subdirs.add(names.split_reserved(item["subdir"])[0])
            except ValueError:
                pass
            continue
        name, vid = names.parse_version_name(item["name"])
        if vid is None:
            continue
        path = f"/v1/{account}/{versions}/{item['name']}"
        if path in current:
            item["is_latest"] = True
            latest.add(name)
            del current[path]
        elif item["content_type"] == names.DELETE_MARKER and name not in latest:
            item["is_latest"] = True
            latest.add(name)
        else:
            item["is_latest"] = False
        item["name"], item["version_id"] = name, vid
        versions_listing.append(item)
    broken = []  # links whose version row is not (yet) listed
    for item in current.values():
        split = _split_link_path(item["symlink_path"])
        if split is None:
            continue
        name, vid = names.parse_version_name(split[2])
        if vid is None:
            continue
        is_latest = versions_rows is not None or name not in latest
        latest.add(name)
        broken.append({"name": name, "is_latest": is_latest, "version_id": vid,
                       "content_type": item["content_type"], "bytes": item["bytes"],
                       "hash": item["hash"], "last_modified": item["last_modified"]})
    if versions_rows is None:
        rows = null_listing + [{"subdir": s} for s in subdirs] + broken
    else:
        rows = null_listing + versions_listing + [{"subdir": s} for s in subdirs] + broken
    return _sorted(rows, reverse, limit)


def account_query(params: dict) -> dict:
    """The account listing parameters that find the versions containers of a client's page."""
    out = {k: v for k, v in params.items() if k in ("limit", "reverse", "delimiter")}
    out["prefix"] = names.versions_container(params["prefix"]) if params.get("prefix") \
        else names.reserved("versions")
    for key in ("marker", "end_marker"):
        if params.get(key):
            out[key] = names.versions_container(params[key])
    out["format"] = "json"
    return out


def merge_account(rows: list[dict], versions_rows: list[dict], reverse: bool,
                  limit: int) -> list[dict]:
    """Each container's row with its versions container's bytes added; versions containers
    whose container is gone are listed under its name with count 0 (so they can be cleaned)."""
    found = {}
    for item in versions_rows:
        if "name" in item:
            primary = names.primary_of(item["name"])
            if primary is not None:
                found[primary] = item
    if not found:
        return rows
    for item in rows:
        if "name" in item and item["name"] in found:
            item["bytes"] = item["bytes"] + found.pop(item["name"])["bytes"]
    for name, item in found.items():
        rows.append(dict(item, name=name, count=0))
    return _sorted(rows, reverse, limit)
