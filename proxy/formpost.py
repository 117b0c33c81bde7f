"""Swift's form POST (the formpost middleware): a browser's `multipart/form-data` POST to
/v1/<account>/<container>[/<prefix>] stores each file field as the object <prefix><filename>,
authorized by an HMAC of the form's fields with the account's or the container's TempURL key
instead of a token.

    signature = HMAC(key, "<path>\\n<redirect>\\n<max_file_size>\\n<max_file_count>\\n<expires>")

hex, or "<digest>:<base64>", with SHA1, SHA256 or SHA512 (proxy/tempurl.py reads both forms).
As in Swift: fields apply to the files that come after them (the form is read as it streams,
never held); a field's value is read up to MAX_VALUE_LENGTH; the signature and the expiry are
checked when a file comes; optional fields x_delete_at, x_delete_after, content-type and
content-encoding (also per file part); each file streams to its own object PUT (quotas,
versioning and the rest as for any PUT) and a file longer than max_file_size is refused (400)
with nothing stored. The answer is Swift's: the last file's status as text, or with a
`redirect` field a 303 to it with status= and message= added.
"""
from __future__ import annotations

import hmac
import time
from typing import AsyncIterator
from urllib.parse import quote

from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from proxy import tempurl
from proxy.errors import SwiftError, reason

MAX_VALUE_LENGTH = 4096  # bytes kept of a non-file field (Swift's limit)
READ_CHUNK = 65536
DIGESTS = ("sha1", "sha256", "sha512")  # /info formpost.allowed_digests


class FormInvalid(Exception):
    """400 "FormPost: <message>"."""


class FormUnauthorized(Exception):
    """401 "FormPost: <Message>"."""


def applies(request: web.Request, container: str | None) -> bool:
    """Whether this request is a form POST to a container (or a prefix in it): multipart/form-data
    with a boundary (aiohttp's reader parses it again); a plain POST of metadata is not."""
    if request.method != "POST" or container is None:
        return False
    kind, *params = request.headers.get("Content-Type", "").split(";")
    return kind.strip().lower() == "multipart/form-data" and any(
        name.strip().lower() == "boundary" and value.strip()
        for name, _, value in (param.partition("=") for param in params))


def signature_body(path: str, fields: dict) -> bytes:
    return "\n".join([path, fields.get("redirect") or "", fields.get("max_file_size") or "0",
                      fields.get("max_file_count") or "0",
                      fields.get("expires") or "0"]).encode("utf-8")


def check_signature(path: str, fields: dict, keys: list[str]) -> None:
    """Raises FormUnauthorized unless the form is unexpired and signed with one of `keys`;
    FormInvalid for a malformed expires."""
    if not keys:
        raise FormUnauthorized("invalid signature")
    try:
        if int(fields.get("expires") or 0) < time.time():
            raise FormUnauthorized("form expired")
    except ValueError:
        raise FormInvalid("expired not an integer") from None
    try:
        digest, given = tempurl.split_signature(fields.get("signature", ""))
    except SwiftError:
        raise FormUnauthorized("invalid signature") from None
    if digest not in DIGESTS:
        raise FormUnauthorized("invalid signature")
    body = signature_body(path, fields)
    if not any(hmac.compare_digest(hmac.new(key.encode(), body, digest).digest(), given)
               for key in keys):
        raise FormUnauthorized("invalid signature")


def sub_request_headers(fields: dict, part_headers) -> CIMultiDict:
    """The headers of one file's object PUT, from the fields before it and its own part."""
    headers = CIMultiDict({"Transfer-Encoding": "chunked"})  # its length is known at the end
    for name, header, what in (("x_delete_at", "X-Delete-At", "Unix timestamp required."),
                               ("x_delete_after", "X-Delete-After", "Number of seconds required.")):
        if name in fields:
            try:
                headers[header] = str(int(fields[name]))
            except ValueError:
                raise FormInvalid(f"{name} not an integer: {what}") from None
    ctype = fields["content-type"] if "content-type" in fields \
        else part_headers.get("Content-Type")
    if ctype is not None:
        headers["Content-Type"] = ctype or "application/octet-stream"
    encoding = fields["content-encoding"] if "content-encoding" in fields \
        else part_headers.get("Content-Encoding")
    if encoding is not None:
        headers["Content-Encoding"] = encoding
    return headers


async def _next(reader):
    """The next part; FormInvalid for a body that is not the multipart the header announced."""
    try:
        return await reader.next()
    except (ValueError, AssertionError):  # what aiohttp's reader raises on a malformed body
        raise FormInvalid("invalid starting boundary") from None


async def _read(part) -> bytes:
    try:
        return await part.read_chunk(READ_CHUNK)
    except (ValueError, AssertionError):
        raise FormInvalid("invalid multipart body") from None


async def _capped(part, limit: int) -> AsyncIterator[bytes]:
    """A file part's bytes; FormInvalid once more than `limit` came (its PUT is then aborted:
    a replica that did not get the whole body stores nothing)."""
    seen = 0
    while chunk := await _read(part):
        seen += len(chunk)
        if seen > limit:
            raise FormInvalid("max_file_size exceeded")
        yield chunk


async def _field_value(part) -> str:
    data = b""
    while chunk := await _read(part):  # whatever is beyond the limit is read and dropped
        if len(data) < MAX_VALUE_LENGTH:
            data += chunk
    # (as Swift: trailing CR, LF and '-' characters are not part of a value)
    return data[:MAX_VALUE_LENGTH].decode("utf-8", "replace").rstrip("\r\n-")


async def serve(request: web.Request, path: str, prefix: str | None, keys: list[str],
                put_file) -> web.Response:
    """The whole form: `put_file(name, headers, body) -> web.StreamResponse` stores one file
    (the caller's object PUT as the account's owner); `keys` are the TempURL keys in force."""
    try:
        return await _translate(request, path, prefix, keys, put_file)
    except FormInvalid as exc:
        return _text(400, f"FormPost: {exc}")
    except FormUnauthorized as exc:
        return _text(401, f"FormPost: {str(exc).title()}",
                     {"Www-Authenticate": 'Swift realm="unknown"'})


async def _translate(request, path, prefix, keys, put_file) -> web.Response:
    fields: dict[str, str] = {}
    status, message, body, files = 0, "", b"", 0
    reader = await request.multipart()
    while (part := await _next(reader)) is not None:
        if not part.filename:  # (an empty file input is a field, as in Swift)
            value = await _field_value(part)
            if part.name:
                fields[part.name.lower()] = value
            continue
        files += 1
        try:
            if files > int(fields.get("max_file_count") or 0):
                status, message = 400, "max file count exceeded"
                break
        except ValueError:
            raise FormInvalid("max_file_count not an integer") from None
        try:
            limit = int(fields.get("max_file_size") or 0)
        except ValueError:
            raise FormInvalid("max_file_size not an integer") from None
        headers = sub_request_headers(fields, part.headers)
        check_signature(path, fields, keys)
        # <prefix><filename>: the form's path after the container, then the file's name
        response = await put_file((prefix or "") + part.filename, headers, _capped(part, limit))
        status, body = response.status, response.body or b""
        if not 200 <= status < 300:
            break
    if not status:
        status, message = 400, "no files to process"
    redirect = fields.get("redirect")
    line = f"{status} {reason(status)}"
    if not redirect:
        text = (line + ("\r\nFormPost: " + message.title() if message else "")).encode()
        if not 200 <= status < 300 and body:
            text = body
        return web.Response(status=status, body=text, content_type="text/plain")
    redirect += ("&" if "?" in redirect else "?") + \
        f"status={quote(str(status))}&message={quote(message)}"
    page = f'<html><body><p><a href="{redirect}">Click to continue...</a></p></body></html>'
    return web.Response(status=303, body=page.encode(), headers={"Location": redirect})


def _text(status: int, text: str, headers=None) -> web.Response:
    return web.Response(status=status, body=text.encode(), content_type="text/plain",
                        headers=headers)


def sub_request(request: web.Request, account: str, container: str, obj: str,
                headers: CIMultiDict) -> web.Request:
    """The object PUT a file becomes (its body comes from the form, not this request's)."""
    url = URL.build(path=f"/v1/{account}/{container}/{obj}")
    return request.clone(method="PUT", rel_url=url, headers=headers)
