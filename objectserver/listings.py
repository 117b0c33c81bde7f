"""Listing requests and answers as Swift renders them: query parameters, format negotiation, and
the json / xml / plain bodies (Swift's listing_formats). Sans-I/O: plain values in, bytes out."""
from __future__ import annotations

import dataclasses
import json
from xml.etree.ElementTree import Element, SubElement, tostring

from .errors import HTTPError

LISTING_LIMIT = 10000
TRUE_VALUES = ("true", "1", "yes", "on", "t", "y")
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


def parse_params(query) -> ListingParams:
    """From the request's decoded query (a mapping); raises HTTPError 412/400 like Swift."""
    values = {}
    for name in ("prefix", "delimiter", "marker", "end_marker", "path", "limit", "reverse"):
        value = query.get(name)
        if value is not None and ("\x00" in value or "\ufffd" in value):
            raise HTTPError(400, "Invalid UTF8 or contains NULL")
        values[name] = value
    limit = LISTING_LIMIT
    given = values["limit"]
    if given and given.isdigit():
        limit = int(given)
        if limit > LISTING_LIMIT:
            raise HTTPError(412, f"Maximum limit is {LISTING_LIMIT}")
    delimiter = values["delimiter"] or ""
    if delimiter and (len(delimiter) > 1 or ord(delimiter) > 254):
        raise HTTPError(412, "Bad delimiter")
    prefix = values["prefix"] or ""
    path = values["path"]
    if path is not None:  # Swift's legacy `path`: the names directly "inside" path
        prefix = path.rstrip("/") + "/" if path else ""
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
           "account": ("container", ("name", "count", "bytes", "last_modified"))}


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
            SubElement(sub, field).text = str(row[field])
    return tostring(doc, encoding="UTF-8", xml_declaration=True).replace(
        b"<?xml version='1.0' encoding='UTF-8'?>", b'<?xml version="1.0" encoding="UTF-8"?>', 1)
