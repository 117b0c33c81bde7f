"""Listing requests and answers as Swift renders them: query parameters, format negotiation, and
the json / xml / plain bodies (Swift's listing_formats). Sans-I/O: plain values in, bytes out."""
from __future__ import annotations

import dataclasses
import json
import re
from urllib.parse import parse_qsl
from xml.etree.ElementTree import Element, SubElement, tostring

from .errors import HTTPError

LISTING_LIMIT = 10000
from strato.truth import TRUE_VALUES  # noqa: F401 (callers read it from here)
FORMATS = {"json": "application/json", "xml": "application/xml", "plain": "text/plain"}
OFFERS = ("text/plain", "application/json", "application/xml", "text/xml")


@dataclasses.dataclass(frozen=True)
class ListingParams:
    prefix: str = ""
    delimiter: str = ""
    marker: str = ""
    end_marker: str = ""
    limit: int = LISTING_LIMIT
    reverse: bool = False
    path: str | None = None  # Swift's legacy `path` query (sets prefix and delimiter too)

    def as_kwargs(self) -> dict:
        return dataclasses.asdict(self)


PARAM_NAMES = ("prefix", "delimiter", "marker", "end_marker", "path", "limit", "reverse", "format")


def query_of(raw_query: str) -> dict[str, str]:
    """The listing parameters of a raw (percent-encoded) query string, decoded as Swift's
    get_param does: the last value of a name wins; a value that is not UTF-8 is a 400. A NUL is
    accepted (Swift's container server only keeps reserved names out of the listing)."""
    # one latin-1 character per byte, as WSGI strings: a client may also send raw (unquoted)
    # UTF-8, which arrives here already decoded
    wsgi = raw_query.encode("utf-8", "surrogateescape").decode("latin-1")
    values = dict(parse_qsl(wsgi, keep_blank_values=True, encoding="latin-1"))
    out = {}
    for name in PARAM_NAMES:
        value = values.get(name)
        if value is None:
            continue
        try:
            out[name] = value.encode("latin-1").decode("utf-8")
        except UnicodeDecodeError:
            raise HTTPError(400, f'"{name}" parameter not valid UTF-8') from None
    return out


def parse_params(query) -> ListingParams:
    """From the decoded query (a mapping, see query_of); raises HTTPError 412 like Swift. Any
    delimiter string is accepted: names roll up at its first occurrence after the prefix."""
    values = {name: query.get(name) for name in PARAM_NAMES}
    limit = LISTING_LIMIT
    given = values["limit"]
    if given and given.isdigit():
        limit = int(given)
        if limit > LISTING_LIMIT:
            raise HTTPError(412, f"Maximum limit is {LISTING_LIMIT}")
    delimiter = values["delimiter"] or ""
    prefix = values["prefix"] or ""
    path = values["path"]
    if path is not None:  # Swift's legacy `path`: the names directly "inside" path
        # normalised as Swift's (path=/dir1 lists inside "/dir1/" and never "/dir1/" itself)
        prefix = path = path.rstrip("/") + "/" if path else ""
        delimiter = "/"
    return ListingParams(prefix=prefix, delimiter=delimiter, marker=values["marker"] or "",
                         end_marker=values["end_marker"] or "", limit=limit,
                         reverse=(values["reverse"] or "").lower() in TRUE_VALUES, path=path)


def _accept_ranges(header: str) -> list[tuple[str, float]]:
    ranges = []
    for item in header.split(","):
        media, *params = [p.strip() for p in item.split(";")]
        if not media:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        ranges.append((media.lower(), q))
    return ranges


def negotiate(query_format: str | None, accept: str | None) -> str:
    """The listing's media type: `format` wins over Accept; 406 when nothing acceptable."""
    if query_format:
        accept = FORMATS.get(query_format.lower(), "text/plain")
    if not accept:
        return "text/plain"
    ranges = _accept_ranges(accept)
    best, best_q = None, 0.0
    for offer in OFFERS:
        otype = offer.split("/")[0]
        q_for = None
        specificity = -1
        for media, q in ranges:
            if media == offer:
                rank = 2
            elif media == f"{otype}/*":
                rank = 1
            elif media == "*/*":
                rank = 0
            else:
                continue
            if rank > specificity:
                specificity, q_for = rank, q
        if q_for is not None and q_for > best_q:
            best, best_q = offer, q_for
    if best is None:
        raise HTTPError(406)
    return best


def render(media_type: str, kind: str, name: str, listing: list[dict]) -> tuple[int, bytes, str]:
    """(status, body, content type) of a container ("container") or account ("account") listing."""
    content_type = f"{media_type}; charset=utf-8"
    if media_type == "application/json":
        return 200, json.dumps(listing).encode(), content_type
    if media_type in ("application/xml", "text/xml"):
        return 200, _xml(kind, name, listing), content_type
    body = b"".join((row.get("name", row.get("subdir"))).encode() + b"\n" for row in listing)
    return (200 if body else 204), body, content_type


_FIELDS = {"container": ("object", ("name", "hash", "bytes", "content_type", "last_modified")),
           "account": ("container", ("name", "count", "bytes", "last_modified", "storage_policy"))}


def _xml(kind: str, name: str, listing: list[dict]) -> bytes:
    element, fields = _FIELDS[kind]
    doc = Element(kind, name=name)
    for row in listing:
        if "subdir" in row:
            sub = SubElement(doc, "subdir", name=row["subdir"])
            SubElement(sub, "name").text = row["subdir"]
            continue
        sub = SubElement(doc, element)
        for field in fields:
            if field in row:  # storage_policy: absent from rows that predate policies
                SubElement(sub, field).text = str(row[field])
    return tostring(doc, encoding="UTF-8", xml_declaration=True).replace(
        b"<?xml version='1.0' encoding='UTF-8'?>", b'<?xml version="1.0" encoding="UTF-8"?>', 1)


# Swift's parse_content_type patterns: RFC tokens for content types, loose ones (which allow "/")
# for the parameters carried in a row's ETag
_TOKEN = r'[^()<>@,;:\"/\[\]?={}\x00-\x20\x7f]+'
_LOOSE_TOKEN = r'[^()<>@,;:\"\[\]?={}\x00-\x20\x7f]+'


def _param_pattern(token: str) -> re.Pattern:
    return re.compile(r'(?:\s*;\s*(' + token + r")\s*(?:=\s*(" + token + r'|"(?:[^"\\]|\\.)*"))?)')


_STRICT_PARAMS, _LOOSE_PARAMS = _param_pattern(_TOKEN), _param_pattern(_LOOSE_TOKEN)


def split_params(value: str, loose: bool = False) -> tuple[str, list[tuple[str, str]]]:
    """'text/plain; a=1' -> ('text/plain', [('a', '1')]), as Swift's parse_content_type."""
    if ";" not in value:
        return value, []
    head, rest = value.split(";", 1)
    pattern = _LOOSE_PARAMS if loose else _STRICT_PARAMS
    return head, [(k.strip(), v.strip()) for k, v in pattern.findall(";" + rest)]


def object_row(row: dict, account: str) -> dict:
    """A container-listing row as Swift's proxy answers it. Rows keep Swift's encodings: a
    `swift_bytes` content-type parameter overrides `bytes` (container server), and parameters of
    the ETag become fields: `slo_etag` (slo middleware), `symlink_path`, `symlink_etag`,
    `symlink_bytes` (symlink middleware); any other parameter stays in `hash`."""
    if "subdir" in row:
        return row
    out = dict(row)
    content_type, params = split_params(row["content_type"])
    for key, value in params:
        if key == "swift_bytes":
            try:
                out["bytes"] = int(value)
            except ValueError:
                pass
        else:
            content_type += f";{key}={value}"
    out["content_type"] = content_type
    etag, params = split_params(row["hash"], loose=True)
    if not params:
        return out
    target = None
    extras = {}
    for key, value in dict(params).items():
        if key == "symlink_target":
            target = value
        elif key == "symlink_target_account":
            account = value
        elif key == "symlink_target_etag":
            extras["symlink_etag"] = value
        elif key == "symlink_target_bytes":
            extras["symlink_bytes"] = int(value) if value.isdigit() else value
        elif key == "slo_etag":
            extras["slo_etag"] = f'"{value}"'
        else:
            etag += f"; {key}={value}"
    out["hash"] = etag
    if target:
        out["symlink_path"] = f"/v1/{account}/{target}"
    out.update(extras)
    return out


def row_etag(etag: str, metadata) -> str:
    """The ETag an object's container update carries: `etag` (after any override) plus, as Swift's
    slo and symlink middlewares add them, `; slo_etag=` for an SLO manifest and `; symlink_target=`
    (with _account, and _etag/_bytes for a static link) for a symlink. `metadata` is the object's
    stored headers (title case). Parameters the override already carries are kept, not repeated."""
    _, present = split_params(etag, loose=True)
    have = {key for key, _ in present}
    extra = []
    slo = metadata.get("X-Object-Sysmeta-Slo-Etag")
    if slo and "slo_etag" not in have:
        extra.append(("slo_etag", slo))
    target = metadata.get("X-Symlink-Target")
    if target and "symlink_target" not in have:
        extra.append(("symlink_target", target))
        for header, key in (("X-Symlink-Target-Account", "symlink_target_account"),
                            ("X-Symlink-Target-Etag", "symlink_target_etag"),
                            ("X-Symlink-Target-Bytes", "symlink_target_bytes")):
            if metadata.get(header):
                extra.append((key, metadata[header].strip('"') if key.endswith("etag")
                              else metadata[header]))
    return etag + "".join(f"; {key}={value}" for key, value in extra)
