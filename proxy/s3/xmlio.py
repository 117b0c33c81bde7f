"""S3 XML in and out: bounded, entity-safe parsing of request bodies and a small document builder.

Request bodies are parsed by expat after a size cap with entity references dropped, never
expanded: a DTD may declare entities (internal or SYSTEM), and `<ID>id&xxe;</ID>` reads as "id",
as Swift's s3api (lxml, resolve_entities=False) reads it; nothing is fetched and nothing grows.
Anything that is not well-formed, or whose root element is not the one expected, is MalformedXML.
Responses are built with ElementTree in the S3 namespace.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
import xml.parsers.expat as expat

from proxy.s3.errors import S3Error

NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
MAX_BODY = 1024 * 1024  # DeleteObjects with 1000 keys of 1 KiB fits


def parse(body: bytes, root: str, *, max_bytes: int = MAX_BODY, error: str = "MalformedXML"):
    """Parse an S3 request body whose root element must be `root` (namespace optional)."""
    if len(body) > max_bytes:
        raise S3Error("MaxMessageLengthExceeded" if max_bytes >= MAX_BODY else error)
    if not body.strip():
        raise S3Error(error)
    try:
        element = _parse_dropping_entities(body)
    except (expat.ExpatError, ValueError):
        raise S3Error(error) from None
    if local(element.tag) != root:
        raise S3Error(error)
    return element


def _parse_dropping_entities(body: bytes) -> ET.Element:
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def name(raw: str) -> str:  # expat gives "uri}local"; ElementTree spells it "{uri}local"
        return "{" + raw if "}" in raw else raw

    parser.StartElementHandler = lambda tag, attrs: builder.start(
        name(tag), {name(k): v for k, v in attrs.items()})
    parser.EndElementHandler = lambda tag: builder.end(name(tag))
    parser.CharacterDataHandler = builder.data
    # A default handler turns off expansion of general entities: their references (and the
    # DTD's text) arrive here and are dropped. Character references and &amp; etc. still work.
    parser.DefaultHandler = lambda data: None
    parser.Parse(body, True)
    return builder.close()


def local(tag: str) -> str:
    """The element name without its namespace."""
    return tag.rsplit("}", 1)[-1]


def children(element, name: str) -> list:
    return [child for child in element if local(child.tag) == name]


def child(element, name: str):
    found = children(element, name)
    return found[0] if found else None


def text(element, name: str, default: str | None = None) -> str | None:
    found = child(element, name)
    if found is None:
        return default
    return found.text or ""


def document(root: str, *, namespace: bool = True) -> ET.Element:
    element = ET.Element(root)
    if namespace:
        element.set("xmlns", NAMESPACE)
    return element


def add(parent: ET.Element, name: str, value=None) -> ET.Element:
    element = ET.SubElement(parent, name)
    if value is not None:
        element.text = value if isinstance(value, str) else str(value)
    return element


def render(element: ET.Element) -> bytes:
    body = ET.tostring(element, encoding="utf-8")
    if b"\r" in body:  # (a key with a carriage return; ElementTree leaves it bare in text)
        body = body.replace(b"\r", CR_REFERENCE)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


# XML parsers turn a bare CR into LF (end-of-line handling, XML 1.0 2.11): a key "a\rb" in a
# listing without encoding-type=url (rclone's default against other providers) would read back
# as "a\nb", a key that does not exist. As a character reference it survives, as from AWS.
CR_REFERENCE = b"&#13;"
