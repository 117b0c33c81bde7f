"""AWS Signature Version 4 for S3, sans-I/O: parse, canonicalise, verify; chunk and trailer signatures.

The caller hands in what arrived (method, raw path, raw query pairs, lower-cased headers) and the
secret of the access key named in the request; verify() raises S3Error with the code S3 would use,
or returns the signing key so that streaming bodies can check each chunk signature.

Canonical URI: each path segment is percent-decoded and re-encoded with the RFC 3986 unreserved
set, as the SDKs encode it; a request signed over its path exactly as sent is also accepted (some
clients leave characters such as '(' unencoded in what they sign).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import hmac
import re
import time
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote

from proxy.s3.errors import S3Error

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MAX_PRESIGNED_EXPIRES = 7 * 24 * 3600
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"

_CREDENTIAL = re.compile(r"^([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request$")
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_SPACES = re.compile(r"\s+")
_PLAIN_PATH = re.compile(r"/[A-Za-z0-9_.~/-]*\Z")  # RFC 3986 unreserved and "/": canonical as is


@dataclasses.dataclass(frozen=True)
class Credential:
    access_key: str
    date: str
    region: str
    service: str

    @functools.cached_property  # (a Credential is shared by a client's requests: see parse)
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


@dataclasses.dataclass(frozen=True, init=False)
class SignedRequest:
    """What a request claims: who signed it, when, over which headers, and the signature."""

    credential: Credential
    amz_date: str
    signed_headers: tuple[str, ...]
    signature: str
    payload_hash: str
    presigned: bool
    expires: int | None = None

    def __init__(self, credential, amz_date, signed_headers, signature, payload_hash, presigned,
                 expires=None):
        # One per request: one dict update instead of object.__setattr__ per field (0.55 ->
        # 0.3 us); still frozen for everyone else.
        self.__dict__.update(credential=credential, amz_date=amz_date,
                             signed_headers=signed_headers, signature=signature,
                             payload_hash=payload_hash, presigned=presigned, expires=expires)


@functools.lru_cache(maxsize=256)  # one client signs many requests with one scope a day
def _parse_credential(text: str, presigned: bool) -> Credential:
    match = _CREDENTIAL.match(text)
    if not match:
        if presigned:
            raise S3Error("AuthorizationQueryParametersError",
                          "Error parsing the X-Amz-Credential parameter; the Credential is "
                          "mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".")
        raise S3Error("AuthorizationHeaderMalformed",
                      "The authorization header is malformed; the Credential is mal-formed; "
                      "expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".")
    access_key, date, region, service = match.groups()
    if service != "s3":
        raise S3Error("AuthorizationHeaderMalformed",
                      f"The authorization header is malformed; incorrect service \"{service}\". "
                      "This endpoint belongs to \"s3\".")
    return Credential(access_key, date, region, service)


def parse(method: str, headers: dict[str, str], query: list[tuple[str, str]]) -> SignedRequest | None:
    """The request's SigV4 claims (header or presigned form), or None for an anonymous request.

    headers: lower-cased names; query: decoded (name, value) pairs in arrival order.
    """
    auth = headers.get("authorization")
    if auth is not None:
        if not auth.startswith(ALGORITHM + " "):
            if auth.startswith("AWS "):
                raise S3Error("NotImplemented", "Signature Version 2 is not implemented; use "
                              "Signature Version 4.")
            raise S3Error("AuthorizationHeaderMalformed", "Unsupported Authorization Type")
        text = auth[len(ALGORITHM) + 1:]
        head, sep, signature = text.rpartition("Signature=")
        head = head.rstrip()
        if sep and head.endswith(",") and "," not in signature:
            # The usual shape, Signature last: only it changes from request to request, so the
            # rest is read once per client (the same fields as the loop below would give).
            credential, names = _claims(head[:-1])
            signature = signature.rstrip()
        else:
            fields = _header_fields(text)
            _check_fields(fields, signature=True)
            credential = _parse_credential(fields["Credential"], presigned=False)
            names, signature = fields["SignedHeaders"], fields["Signature"]
        amz_date = headers.get("x-amz-date") or _http_date_to_amz(headers.get("date"))
        payload_hash = headers.get("x-amz-content-sha256")
        if payload_hash is None:
            raise S3Error("InvalidRequest", "Missing required header for this request: "
                          "x-amz-content-sha256")
        return SignedRequest(credential, amz_date, _signed_headers(names), signature,
                             payload_hash, presigned=False)
    params = dict(query)
    if "X-Amz-Algorithm" in params or "X-Amz-Credential" in params or "X-Amz-Signature" in params:
        if params.get("X-Amz-Algorithm") != ALGORITHM:
            raise S3Error("AuthorizationQueryParametersError",
                          "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
        for name in ("X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature",
                     "X-Amz-Expires"):
            if name not in params:
                raise S3Error("AuthorizationQueryParametersError",
                              f"Query-string authentication version 4 requires the {name} parameter.")
        try:
            expires = int(params["X-Amz-Expires"])
            if expires >= 2 ** 63:  # not a 64-bit number of seconds (Swift's s3api wording)
                raise ValueError
        except ValueError:
            raise S3Error("AuthorizationQueryParametersError",
                          "X-Amz-Expires should be a number") from None
        if expires < 0:
            raise S3Error("AuthorizationQueryParametersError",
                          "X-Amz-Expires must be non-negative")
        if expires > MAX_PRESIGNED_EXPIRES:
            raise S3Error("AuthorizationQueryParametersError",
                          f"X-Amz-Expires must be less than {MAX_PRESIGNED_EXPIRES} seconds")
        credential = _parse_credential(params["X-Amz-Credential"], presigned=True)
        return SignedRequest(credential, params["X-Amz-Date"],
                             _signed_headers(params["X-Amz-SignedHeaders"]),
                             params["X-Amz-Signature"],
                             headers.get("x-amz-content-sha256", UNSIGNED_PAYLOAD),
                             presigned=True, expires=expires)
    if "AWSAccessKeyId" in params and "Signature" in params:
        raise S3Error("NotImplemented", "Signature Version 2 presigned URLs are not implemented; "
                      "use Signature Version 4.")
    return None


def _check_fields(fields: dict, signature: bool) -> None:
    missing = [f for f in ("Credential", "SignedHeaders", "Signature")
               if f not in fields and (signature or f != "Signature")]
    if missing:
        raise S3Error("AuthorizationHeaderMalformed",
                      f"The authorization header is malformed; missing {', '.join(missing)}.")


@functools.lru_cache(maxsize=256)  # one entry per client key and signed-header list
def _claims(head: str) -> tuple[Credential, str]:
    """(Credential, SignedHeaders text) of the Authorization fields before Signature."""
    fields = _header_fields(head)
    _check_fields(fields, signature=False)
    return _parse_credential(fields["Credential"], presigned=False), fields["SignedHeaders"]


def _header_fields(text: str) -> dict[str, str]:
    """The name=value pairs of an Authorization header after the algorithm. Not cached itself:
    the usual shape is cached by _claims(), and the other texts include the signature."""
    fields = {}
    for part in text.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            raise S3Error("AuthorizationHeaderMalformed",
                          f"The authorization header is malformed; \"{part.strip()}\" is not a "
                          "key=value pair.")
        fields[name] = value
    return fields


@functools.lru_cache(maxsize=256)  # a client sends the same list with every request
def _signed_headers(text: str) -> tuple[str, ...]:
    names = tuple(text.split(";"))
    if not text or any(not n or n != n.lower() for n in names):
        raise S3Error("AuthorizationHeaderMalformed",
                      "The authorization header is malformed; SignedHeaders is invalid.")
    return names


def _http_date_to_amz(value: str | None) -> str:
    if not value:
        raise S3Error("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header")
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        raise S3Error("AccessDenied", "AWS authentication requires a valid Date or x-amz-date "
                      "header") from None
    return when.astimezone(dt.timezone.utc).strftime(AMZ_DATE_FORMAT)


@functools.lru_cache(maxsize=256)
def _amz_seconds(text: str) -> float:
    return parse_amz_date(text).timestamp()


@functools.lru_cache(maxsize=256)
def parse_amz_date(text: str) -> dt.datetime:
    # Cached and sliced by hand: strptime (locale lookups, regex) was a visible share of a small
    # request's CPU, and clients sign many requests within one second.
    try:
        if len(text) != 16 or not text.isascii() or text[8] != "T" or text[15] != "Z" or \
                not (text[:8] + text[9:15]).isdigit():
            raise ValueError(text)
        return dt.datetime(int(text[:4]), int(text[4:6]), int(text[6:8]), int(text[9:11]),
                           int(text[11:13]), int(text[13:15]), tzinfo=dt.timezone.utc)
    except ValueError:
        raise S3Error("AccessDenied", "AWS authentication requires a valid Date or x-amz-date "
                      "header") from None


def check_time(signed: SignedRequest, now: dt.datetime | None, max_skew: int) -> None:
    """Clock skew for header auth (RequestTimeTooSkewed); expiry for presigned URLs (AccessDenied).
    now: None for the current time."""
    # In seconds since the epoch: datetime arithmetic per request was ~1 us of a small GET.
    when = _amz_seconds(signed.amz_date)
    now_s = time.time() if now is None else now.timestamp()
    if signed.credential.date != signed.amz_date[:8]:
        raise S3Error("SignatureDoesNotMatch", "Credential date does not match the request date.")
    if signed.presigned:
        if now_s > when + signed.expires:
            raise S3Error("AccessDenied", "Request has expired",
                          Expires=_iso_z(when + signed.expires), ServerTime=_iso_z(now_s))
        if when - now_s > max_skew:
            raise S3Error("AccessDenied", "Request is not valid yet")
        return
    if abs(now_s - when) > max_skew:
        raise S3Error("RequestTimeTooSkewed", RequestTime=signed.amz_date,
                      ServerTime=_iso_z(now_s), MaxAllowedSkewMilliseconds=max_skew * 1000)


def _iso_z(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _encode(text: str) -> str:
    return quote(text, safe="-_.~")


def canonical_uri(raw_path: str) -> str:
    if _PLAIN_PATH.match(raw_path):  # nothing to decode or encode (most keys): as it is
        return raw_path
    return "/".join(_encode(unquote(segment)) for segment in raw_path.split("/")) or "/"


def canonical_query(query: list[tuple[str, str]], presigned: bool) -> str:
    if not query:  # (most requests)
        return ""
    pairs = sorted((_encode(k), _encode(v)) for k, v in query
                   if not (presigned and k == "X-Amz-Signature"))
    return "&".join(f"{k}={v}" for k, v in pairs)


def canonical_headers(headers: dict[str, str], names: tuple[str, ...]) -> str:
    lines = []
    for name in names:
        value = headers.get(name)
        if value is None:
            raise S3Error("SignatureDoesNotMatch", f"The signed header {name} is not in the request.")
        value = value.strip()
        # isprintable(): no whitespace but ASCII spaces (others are Unicode "Separator"/"Other"),
        # so without a double space there is nothing for the regex to fold.
        if not value.isprintable() or "  " in value:
            value = _SPACES.sub(" ", value)
        lines.append(f"{name}:{value}\n")
    return "".join(lines)


def canonical_request(method: str, uri: str, query: str, headers: str, names: tuple[str, ...],
                      payload_hash: str) -> str:
    return "\n".join([method, uri, query, headers, ";".join(names), payload_hash])


@functools.lru_cache(maxsize=1024)
def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


@functools.lru_cache(maxsize=1024)  # keyed by a signing key: per (secret, date, region, service)
def _keyed_hmac(key: bytes) -> hmac.HMAC:
    """An HMAC-SHA256 with the key already absorbed (read-only: each signature copies it).
    The hmac module's own copy() instead of hand-made RFC 2104 pads: ~1.0 us a signature
    against 0.7 for the pads and 1.4 for a fresh one-shot HMAC."""
    return hmac.new(key, digestmod=hashlib.sha256)


def _sign(key: bytes, text: str) -> str:
    mac = _keyed_hmac(key).copy()
    mac.update(text.encode("utf-8"))
    return mac.hexdigest()


def string_to_sign(amz_date: str, scope: str, canonical: str) -> str:
    return f"{ALGORITHM}\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"


def verify(signed: SignedRequest, secret: str, method: str, raw_path: str,
           query: list[tuple[str, str]], headers: dict[str, str]) -> bytes:
    """Check the signature; return the signing key (for chunk signatures) or raise S3Error."""
    names = signed.signed_headers
    if "host" not in names:
        raise S3Error("AccessDenied", "Host must be a signed header.")
    cred = signed.credential
    key = signing_key(secret, cred.date, cred.region, cred.service)
    query_text = canonical_query(query, signed.presigned)
    header_text = canonical_headers(headers, names)
    payload = _payload_hash(signed, headers)
    uri = canonical_uri(raw_path)
    scope = cred.scope
    for form in ((uri,) if uri == raw_path else (uri, raw_path)):
        canonical = canonical_request(method, form, query_text, header_text, names, payload)
        expected = _sign(key, string_to_sign(signed.amz_date, scope, canonical))
        if hmac.compare_digest(expected, signed.signature):
            return key
    canonical = canonical_for(signed, method, raw_path, query, headers)
    raise S3Error("SignatureDoesNotMatch", AWSAccessKeyId=cred.access_key,
                  StringToSign=string_to_sign(signed.amz_date, scope, canonical),
                  CanonicalRequest=canonical)


def _payload_hash(signed: SignedRequest, headers: dict[str, str]) -> str:
    """The payload line of the canonical request (a presigned URL without the header: unsigned)."""
    if signed.presigned and "x-amz-content-sha256" not in headers:
        return UNSIGNED_PAYLOAD
    return signed.payload_hash


def check_payload_hash(value: str) -> None:
    """x-amz-content-sha256 must be a hex SHA-256 or one of the streaming/unsigned markers."""
    if value == EMPTY_SHA256:  # (every bodiless request boto3 signs: no regex)
        return
    if value in (UNSIGNED_PAYLOAD, STREAMING_SIGNED, STREAMING_SIGNED_TRAILER,
                 STREAMING_UNSIGNED_TRAILER) or value.startswith("STREAMING-AWS4-ECDSA-P256-"):
        return  # (ECDSA streams are refused later, as not implemented)
    if not _HEX64.match(value):
        raise S3Error("InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
                      "STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, "
                      "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.",
                      ArgumentName="x-amz-content-sha256", ArgumentValue=value)


def canonical_for(signed: SignedRequest, method: str, raw_path: str,
                  query: list[tuple[str, str]], headers: dict[str, str]) -> str:
    """The canonical request as verify() built it first (for SignatureDoesNotMatch answers)."""
    return canonical_request(method, canonical_uri(raw_path.split("?", 1)[0]),
                             canonical_query(query, signed.presigned),
                             canonical_headers(headers, signed.signed_headers),
                             signed.signed_headers, _payload_hash(signed, headers))


def chunk_signature(key: bytes, amz_date: str, scope: str, previous: str, chunk_sha256: str) -> str:
    """The signature of one aws-chunked chunk (STREAMING-AWS4-HMAC-SHA256-PAYLOAD)."""
    text = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, previous, EMPTY_SHA256,
                      chunk_sha256])
    return _sign(key, text)


def trailer_signature(key: bytes, amz_date: str, scope: str, previous: str,
                      trailer_lines: bytes) -> str:
    """The signature over the trailing headers (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER)."""
    text = "\n".join(["AWS4-HMAC-SHA256-TRAILER", amz_date, scope, previous,
                      hashlib.sha256(trailer_lines).hexdigest()])
    return _sign(key, text)
