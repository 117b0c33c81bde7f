"""Checking an S3 request body: the headers that describe it, then the bytes as they stream.

check_request() runs on every request before anything is read: it turns x-amz-content-sha256,
x-amz-decoded-content-length, Content-MD5, x-amz-checksum-*, x-amz-trailer and
x-amz-sdk-checksum-algorithm into a Plan, or raises the S3Error S3 answers for them, in S3's
order (payload hash, then Content-MD5, then checksums). PayloadVerifier is sans-I/O: feed() takes
the bytes that arrived and returns the object bytes to pass on; finish() runs the checks that need
the whole body. The caller must not commit the object until finish() returned: the proxy aborts its
backend writes when the body source raises, so a bad body never becomes visible.

The rules (which error, which message, which fields, which check first) are S3's as its clients
and OpenStack Swift's cross-compatibility tests (test/s3api/test_input_errors.py) observe them,
including the lenient ones: whatever follows the empty line after the trailers is ignored, a
trailer section may end at the end of the body, and the last duplicate trailer wins.
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import hashlib
import hmac
import re

from native import awschunked, checksum
from proxy.s3 import sigv4
from proxy.s3.errors import S3Error

CHECKSUM_ALGORITHMS = ("crc32", "crc32c", "crc64nvme", "sha1", "sha256")
MULTIPLE = "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."
SINGLE = "Expecting a single x-amz-checksum- header"
TERMINATED = "The request body terminated unexpectedly"
TOO_LONG = "You did not provide the number of bytes specified by the Content-Length HTTP header"
TRAILER_SIGNATURE = "x-amz-trailer-signature"
MIN_CHUNK = 8192  # S3: every chunk but the last carries at least 8 KiB
ECDSA_MODES = ("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
               "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER")
STREAMING_MODES = (sigv4.STREAMING_UNSIGNED_TRAILER, sigv4.STREAMING_SIGNED,
                   sigv4.STREAMING_SIGNED_TRAILER) + ECDSA_MODES
_DIGEST_SIZES = {"crc32": 4, "crc32c": 4, "crc64nvme": 8, "sha1": 20, "sha256": 32}
_MD5_TEXT = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")
_CONTROL = re.compile(r"^[\x00-\x20]*|[\x00-\x20]*$")
_SHA256_HEX = re.compile(r"^[0-9a-fA-F]{64}$")
_EXEMPT_CHECKSUM_HEADERS = ("x-amz-checksum-algorithm", "x-amz-checksum-type")


@dataclasses.dataclass(frozen=True, init=False)
class Plan:
    """What the headers say the body is and how to check it."""

    mode: str | None                    # x-amz-content-sha256 as sent (None: absent)
    streaming: bool = False             # an aws-chunked body this request can decode
    decoded_length: int | None = None   # x-amz-decoded-content-length
    report_body_sha256: bool = False    # streaming without SigV4 headers: S3 hashes and refuses
    md5: bytes | None = None            # Content-MD5, decoded
    md5_text: str | None = None         # Content-MD5 as sent (stripped)
    algorithm: str | None = None        # x-amz-checksum-<algorithm> to compute
    expected_checksum: str | None = None  # its value when it came as a header
    checksum_trailer: str | None = None   # its trailer name when it comes after the body
    verify_checksum: bool = False       # S3 does not check checksums of some POSTs (Complete)
    signed_trailer: bool = False        # STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
    content_length: int | None = None   # Content-Length as sent, checked (None: absent)
    expected_digest: bytes | None = None  # expected_checksum decoded (validated once, here)

    def __init__(self, mode, streaming=False, decoded_length=None, report_body_sha256=False,
                 md5=None, md5_text=None, algorithm=None, expected_checksum=None,
                 checksum_trailer=None, verify_checksum=False, signed_trailer=False,
                 content_length=None, expected_digest=None):
        # One per PUT: one dict update instead of object.__setattr__ per field (13 fields:
        # ~1.2 -> 0.5 us); still frozen for everyone else.
        self.__dict__.update(
            mode=mode, streaming=streaming, decoded_length=decoded_length,
            report_body_sha256=report_body_sha256, md5=md5, md5_text=md5_text,
            algorithm=algorithm, expected_checksum=expected_checksum,
            checksum_trailer=checksum_trailer, verify_checksum=verify_checksum,
            signed_trailer=signed_trailer, content_length=content_length,
            expected_digest=expected_digest)

    @property
    def expected_trailers(self) -> frozenset:
        names = {self.checksum_trailer} if self.checksum_trailer else set()
        if self.signed_trailer:
            names.add(TRAILER_SIGNATURE)
        return frozenset(names)


def _strip(value: str | None) -> str | None:
    """S3 strips control characters and spaces around header values; nothing left = absent."""
    if value is None:
        return None
    stripped = _CONTROL.sub("", value)
    return stripped or None


def _b64(value: str | None, size: int, canonical: bool = True) -> bytes | None:
    """value decoded when it is base64 of exactly `size` bytes (and, for checksums, written the
    one canonical way: S3 refuses 'y/Q5Jh==' for 'y/Q5Jg==')."""
    try:
        raw = base64.b64decode(value or "", validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != size or (canonical and base64.b64encode(raw).decode() != value):
        return None
    return raw


def content_length(headers: dict[str, str]) -> int | None:
    """Content-Length as a number (None when absent); S3's InvalidArgument when it is not one."""
    value = headers.get("content-length")
    if value is None:
        return None
    if not value.strip().isdigit():
        raise S3Error("InvalidArgument", ArgumentName="Content-Length", ArgumentValue=value)
    return int(value)


def is_streaming(headers: dict[str, str]) -> bool:
    return headers.get("x-amz-content-sha256") in STREAMING_MODES


def stored_content_encoding(headers: dict[str, str]) -> str | None:
    """Content-Encoding to store: an aws-chunked body loses the aws-chunked token, any other body
    keeps the header as sent (S3 keeps 'aws-chunked' when the body was not aws-chunked)."""
    value = headers.get("content-encoding")
    if value is None or not is_streaming(headers) or "aws-chunked" not in value:
        return value
    kept = [v for v in (p.strip() for p in value.split(",")) if v and v != "aws-chunked"]
    return ", ".join(kept) or None


def check_request(method: str, headers: dict[str, str], query, v4_header: bool) -> Plan:
    """The checks S3 makes on a request's headers before it reads the body; raises S3Error."""
    if headers.get("x-amz-content-sha256") == sigv4.EMPTY_SHA256 and method not in ("PUT", "POST") \
            and "content-length" not in headers and "content-md5" not in headers:
        return _EMPTY_BODY  # what the checks below give every plain GET/HEAD/DELETE boto3 signs
    sent_length = content_length(headers)
    mode = headers.get("x-amz-content-sha256")
    streaming = mode in STREAMING_MODES
    decoded = None
    if not mode:
        if v4_header:
            raise S3Error("InvalidRequest", "Missing required header for this request: "
                          "x-amz-content-sha256")
        mode = None
    elif streaming:
        try:
            decoded = int(headers.get("x-amz-decoded-content-length"))
        except (TypeError, ValueError):
            raise S3Error("MissingContentLength") from None
        if decoded < 0:
            raise S3Error("InvalidArgument", ArgumentName="x-amz-decoded-content-length",
                          ArgumentValue=decoded)
        if not v4_header:
            # Only SigV4 header authentication can sign chunks: S3 treats the body as plain
            # bytes whose SHA-256 cannot be the marker it was given.
            if decoded < (sent_length or 0):
                raise S3Error("IncompleteBody", TOO_LONG, NumberBytesExpected=decoded,
                              NumberBytesProvided=sent_length)
            return Plan(mode, report_body_sha256=True, content_length=sent_length)
        if mode in ECDSA_MODES:
            raise S3Error("NotImplemented", f"Don't know how to validate {mode} streams")
    elif mode != sigv4.UNSIGNED_PAYLOAD and not _SHA256_HEX.match(mode) and v4_header:
        sigv4.check_payload_hash(mode)
    md5_text = _strip(headers.get("content-md5"))
    md5 = None
    if md5_text is not None:
        md5 = _b64(md5_text, 16, canonical=False) if _MD5_TEXT.match(md5_text) else None
        if md5 is None:
            raise S3Error("InvalidDigest", "The Content-MD5 you specified was invalid.",
                          ContentMD5=md5_text)
    signed_trailer = streaming and mode == sigv4.STREAMING_SIGNED_TRAILER
    if method not in ("PUT", "POST"):
        return _bodiless_plan(mode, streaming, decoded, md5, md5_text, signed_trailer,
                              sent_length)
    algorithm, header_value, trailer, digest = _checksum_headers(headers)
    if trailer and not streaming:
        raise _malformed_trailer()
    verify = method == "PUT" or "delete" in query
    # One construction (dataclasses.replace() introspects the fields: ~8 us per request).
    return Plan(mode, streaming, decoded, md5=md5, md5_text=md5_text, algorithm=algorithm,
                expected_checksum=header_value, checksum_trailer=trailer,
                verify_checksum=verify, signed_trailer=signed_trailer,
                content_length=sent_length, expected_digest=digest)


_EMPTY_BODY = Plan(sigv4.EMPTY_SHA256)


@functools.lru_cache(maxsize=256)
def _bodiless_plan(mode, streaming, decoded, md5, md5_text, signed_trailer, content_length) -> Plan:
    # A Plan is frozen, so one per distinct set of values is shared: a client's GETs and HEADs
    # all send the same few (the empty body's SHA-256, no length), and building the 13-field
    # dataclass was the largest part of check_request for them.
    return Plan(mode, streaming, decoded, md5=md5, md5_text=md5_text,
                signed_trailer=signed_trailer, content_length=content_length)


def _checksum_headers(headers: dict[str, str]
                      ) -> tuple[str | None, str | None, str | None, bytes | None]:
    """(algorithm, value from the header, trailer name, the value decoded): at most one
    checksum, header or trailer."""
    # One pass over the names (no dict of the values): boto3 sends one checksum header per PUT.
    found, count, known = None, 0, True
    for name in headers:
        if name.startswith("x-amz-checksum-") and name not in _EXEMPT_CHECKSUM_HEADERS:
            count += 1
            known = known and name[15:] in CHECKSUM_ALGORITHMS
            found = found or name
    if not known:
        raise S3Error("InvalidRequest", "The algorithm type you specified in x-amz-checksum- "
                      "header is invalid.")
    if count > 1:
        raise S3Error("InvalidRequest", MULTIPLE)
    declared = headers.get("x-amz-trailer")
    declared = declared.strip() if declared else ""
    trailers = [v.strip() for v in declared.rstrip(",").split(",")] if declared else ()
    if any(not t.startswith("x-amz-checksum-") or t[15:] not in CHECKSUM_ALGORITHMS
           for t in trailers):
        raise S3Error("InvalidRequest", "The value specified in the x-amz-trailer header is not "
                      "supported")
    if len(trailers) > 1:
        raise S3Error("InvalidRequest", MULTIPLE)
    if count + len(trailers) > 1:
        raise S3Error("InvalidRequest", SINGLE)
    algorithm = header_value = trailer = digest = None
    if found:
        name, header_value = found, headers[found]
        algorithm = name[15:]
        digest = _b64(header_value, _DIGEST_SIZES[algorithm])
        if digest is None:
            raise S3Error("InvalidRequest", f"Value for {name} header is invalid.")
    elif trailers:
        trailer = trailers[0]
        algorithm = trailer[15:]
    sdk = headers.get("x-amz-sdk-checksum-algorithm")
    if sdk:
        if algorithm is None:
            raise S3Error("InvalidRequest", "x-amz-sdk-checksum-algorithm specified, but no "
                          "corresponding x-amz-checksum-* or x-amz-trailer headers were found.")
        if sdk.lower() != algorithm:
            raise S3Error("InvalidRequest", "Value for x-amz-sdk-checksum-algorithm header is "
                          "invalid.")
    return algorithm, header_value, trailer, digest


def _new_checksum(algorithm: str):
    """The running hash of one x-amz-checksum-* algorithm (update/digest, as S3 encodes it: a CRC
    big-endian), used as is: no Python frame of ours per piece."""
    if algorithm in checksum.CRC_KINDS:
        return checksum.Crc(algorithm)
    return hashlib.new(algorithm)


class PayloadVerifier:
    """Checks one body against its Plan. signed/signing_key: the SigV4 header signature the chunk
    signatures chain from; canonical_request: a callable giving the request's canonical request,
    only called to fill a SignatureDoesNotMatch answer."""

    def __init__(self, plan: Plan, signed: sigv4.SignedRequest | None = None,
                 signing_key: bytes | None = None, canonical_request=None,
                 md5_hex_in_error: bool = True):
        self.plan = plan
        self.mode = plan.mode or sigv4.UNSIGNED_PAYLOAD
        self.streaming = plan.streaming
        self.decoded_length = plan.decoded_length
        self.checksum_algorithm = plan.algorithm if plan.verify_checksum else None
        self.checksum_value: str | None = None   # the verified b64 checksum, after finish()
        self._signed = signed
        self._key = signing_key
        self._canonical_request = canonical_request
        self._md5_hex_in_error = md5_hex_in_error
        self._received = 0
        hashed = plan.report_body_sha256 or (
            not plan.streaming and plan.mode not in (None, sigv4.UNSIGNED_PAYLOAD))
        self._sha256 = hashlib.sha256() if hashed else None
        self._md5 = hashlib.md5() if plan.md5 is not None else None
        self._checksum = _new_checksum(plan.algorithm) if self.checksum_algorithm else None
        self._md5_left_to_store = False  # True: the store checks Content-MD5 (md5_for_store)
        self._sha256_left_to_store = False  # True: the store hashes the payload (sha256_for_store)
        self._finished = False
        if self.streaming:
            self._decoder = awschunked.Decoder()
            self._chunk_signed = self.mode in (sigv4.STREAMING_SIGNED,
                                               sigv4.STREAMING_SIGNED_TRAILER)
            self._previous_signature = signed.signature if signed else ""
            self._string_to_sign = ""
            self._chunk_number = 0
            self._last_chunk_size: int | None = None
            self._chunk_left = 0
            self._chunk_hash = None
            self._chunk_claim = None
            self._trailers: dict[str, str] = {}
            self._trailers_checked = False

    @property
    def expected_checksum(self) -> str | None:
        """The checksum value known before the body (from a header), to store with the object."""
        return self.plan.expected_checksum if self.checksum_algorithm else None

    def md5_for_store(self) -> str | None:
        """Content-MD5 as the hex ETag to hand the proxy's object PUT, which computes the body's
        MD5 anyway (it is the stored ETag) and stores nothing when they differ (SwiftError 422,
        after this verifier's own checks passed: see md5_mismatch). This verifier then stops
        hashing MD5 itself: one MD5 pass per body instead of two (~1.3 ms per MiB here).
        None when no Content-MD5 was sent. Only for bodies stored as sent (not SSE-encrypted)."""
        if self.plan.md5 is None:
            return None
        self._md5 = None
        self._md5_left_to_store = True
        return self.plan.md5.hex()

    def sha256_for_store(self):
        """The payload hash check to hand the proxy's object PUT, or None. That PUT hashes the
        body's SHA-256 beside its MD5 in the loop's md5lanes pool, where the bodies of concurrent
        PUTs are hashed two to four at a time (SHA-NI interleaved, ~1.2x one at a time), and
        calls the check once the body is in, before any replica can commit. The check then does
        what finish() would have after the length: the payload hash, the x-amz-checksum, an
        unhanded Content-MD5, in that order; finish() itself checks the length only. None (this
        verifier hashes it) for an unsigned or aws-chunked payload, or one already read whole.
        Only for bodies stored as sent (not SSE-encrypted)."""
        if self._sha256 is None or self.streaming or self.plan.report_body_sha256 \
                or self._finished:
            return None
        self._sha256 = None
        self._sha256_left_to_store = True
        return self._check_digests

    def md5_mismatch(self) -> S3Error:
        """The BadDigest for a Content-MD5 the store found wrong (it does not report the MD5 it
        computed, so there is no CalculatedDigest: Swift's s3api gives none either)."""
        expected = self.plan.md5.hex() if self._md5_hex_in_error else self.plan.md5_text
        return S3Error("BadDigest", ExpectedDigest=expected)

    @property
    def md5_left_to_store(self) -> bool:
        return self._md5_left_to_store

    def feed(self, data) -> list:
        """Bytes received → object bytes to pass on (after decoding aws-chunked framing)."""
        if not self.streaming:
            self.consume(data)
            return [data] if data else []
        if self._trailers_checked:
            return []  # S3 reads no further than the end of the trailers
        try:
            events = self._decoder.feed(data)
        except awschunked.AwsChunkedError as exc:
            # S3's wording (clients and Swift's tests match on it); the detail goes to the log.
            raise S3Error("IncompleteBody", TERMINATED) from exc
        out = []
        for kind, a, b in events:
            if kind == awschunked.DATA:
                self.consume(a)
                if self._chunk_hash is not None:
                    self._chunk_hash.update(a)
                self._chunk_left -= len(a)
                if self._chunk_left == 0:
                    self._close_chunk()
                out.append(a)
            elif kind == awschunked.CHUNK:
                self._open_chunk(a, b)
            elif kind == awschunked.TRAILER:
                self._trailer(a, b)
            elif kind == awschunked.END:
                self._check_trailers()
                break
        return out

    def consume(self, data) -> None:
        """A plain (not aws-chunked) body's bytes: hashed and counted, passed on as they are
        (feed() without its list per piece; body.verified_body's loop calls this)."""
        self._received += len(data)
        if self._sha256 is not None:
            self._sha256.update(data)
        if self._md5 is not None:
            self._md5.update(data)
        if self._checksum is not None:
            self._checksum.update(data)

    def _open_chunk(self, size: int, params: str | None) -> None:
        self._chunk_number += 1
        last = self._last_chunk_size
        # Signed chunks only: S3 documents the 8 KiB minimum for them, and an unsigned stream
        # from a client that reads a pipe may well carry short chunks.
        if self._chunk_signed and last is not None and last < MIN_CHUNK and size != 0:
            raise S3Error("InvalidChunkSizeError", "Only the last chunk is allowed to have a size "
                          "less than 8192 bytes", status=403, Chunk=self._chunk_number,
                          BadChunkSize=last)
        self._last_chunk_size = size
        if size > self.decoded_length - self._received:
            raise S3Error("IncompleteBody", TOO_LONG, NumberBytesExpected=self.decoded_length,
                          NumberBytesProvided=self._received + size)
        self._chunk_left = size
        if self._chunk_signed:
            self._chunk_claim = self._chunk_signature(params)
            self._chunk_hash = hashlib.sha256()
            if size == 0:
                self._close_chunk()

    def _chunk_signature(self, params: str | None) -> str:
        if not params:
            raise S3Error("IncompleteBody", TERMINATED)
        name, _, value = params.partition("=")
        if name.strip() != "chunk-signature":
            self._string_to_sign = self._chunk_string_to_sign("")
            raise self._signature_mismatch(value)
        if ";" in value or not value.strip():
            raise S3Error("IncompleteBody", TERMINATED)
        return value.strip()

    def _chunk_string_to_sign(self, chunk_sha256: str) -> str:
        return "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", self._signed.amz_date,
                          self._signed.credential.scope, self._previous_signature,
                          sigv4.EMPTY_SHA256, chunk_sha256])

    def _close_chunk(self) -> None:
        if self._chunk_claim is None:
            return
        self._string_to_sign = self._chunk_string_to_sign(self._chunk_hash.hexdigest())
        expected = hmac.new(self._key, self._string_to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), self._chunk_claim.encode("latin-1")):
            raise self._signature_mismatch(self._chunk_claim)
        self._previous_signature = expected
        self._chunk_claim = None
        self._chunk_hash = None

    def _signature_mismatch(self, provided: str) -> S3Error:
        fields = {"AWSAccessKeyId": self._signed.credential.access_key,
                  "StringToSign": self._string_to_sign, "SignatureProvided": provided,
                  "StringToSignBytes": self._string_to_sign.encode().hex(" ")}
        if self._canonical_request is not None:
            canonical = self._canonical_request()
            fields["CanonicalRequest"] = canonical
            fields["CanonicalRequestBytes"] = canonical.encode().hex(" ")
        return S3Error("SignatureDoesNotMatch", **fields)

    def _trailer(self, name: str, value: str) -> None:
        expected = self.plan.expected_trailers
        if not expected:
            # Nothing may follow the last chunk but one empty line.
            raise S3Error("IncompleteBody", TERMINATED)
        if name.lower() not in expected:
            raise _malformed_trailer()
        self._trailers[name.strip()] = value.strip()  # a repeated trailer: the last one counts

    def _check_trailers(self) -> None:
        self._trailers_checked = True
        expected = self.plan.expected_trailers
        if not expected:
            return
        trailers = self._trailers
        if TRAILER_SIGNATURE in expected and TRAILER_SIGNATURE not in trailers:
            raise S3Error("IncompleteBody", TERMINATED)
        if set(trailers) != expected:
            raise _malformed_trailer()
        if TRAILER_SIGNATURE in expected and self._key is not None:
            lines = "".join(f"{k}:{v}\n" for k, v in sorted(trailers.items(),
                                                             key=lambda kv: kv[0].lower())
                            if k != TRAILER_SIGNATURE) or "\n"
            self._string_to_sign = "\n".join([
                "AWS4-HMAC-SHA256-TRAILER", self._signed.amz_date, self._signed.credential.scope,
                self._previous_signature,
                hashlib.sha256(lines.encode("latin-1")).hexdigest()])
            expected_sig = hmac.new(self._key, self._string_to_sign.encode(),
                                    hashlib.sha256).hexdigest()
            claim = trailers[TRAILER_SIGNATURE]
            if not hmac.compare_digest(expected_sig.encode(), claim.encode("latin-1")):
                raise self._signature_mismatch(claim)
            if len(trailers) == 1:
                raise S3Error("IncompleteBody", TERMINATED)

    def finish(self, content_length: int | None = None) -> None:
        """All bytes arrived: raise S3Error unless every hash, signature and length holds."""
        if self.plan.report_body_sha256:
            raise S3Error("XAmzContentSHA256Mismatch", ClientComputedContentSHA256=self.mode,
                          S3ComputedContentSHA256=self._sha256.hexdigest())
        if self.streaming:
            if not self._trailers_checked:
                try:
                    self._decoder.close()
                except awschunked.AwsChunkedError as exc:
                    raise S3Error("IncompleteBody", TERMINATED) from exc
                self._check_trailers()
            if self._received != self.decoded_length:
                raise S3Error("IncompleteBody", TOO_LONG, NumberBytesExpected=self.decoded_length,
                              NumberBytesProvided=self._received)
        elif content_length is not None and self._received != content_length:
            raise S3Error("IncompleteBody", TOO_LONG, NumberBytesExpected=content_length,
                          NumberBytesProvided=self._received)
        self._finished = True
        if not self._sha256_left_to_store:
            self._check_digests(self._sha256.hexdigest() if self._sha256 is not None else None)

    def _check_digests(self, sha256_hex: str | None) -> None:
        """finish()'s checks after the length: the payload hash (sha256_hex: the body's SHA-256,
        None when the payload is not signed), the checksum, Content-MD5."""
        if sha256_hex is not None and sha256_hex != self.mode.lower():
            raise S3Error("XAmzContentSHA256Mismatch", ClientComputedContentSHA256=self.mode,
                          S3ComputedContentSHA256=sha256_hex)
        if self._checksum is not None:
            self._check_checksum()
        if self._md5 is not None and self._md5.digest() != self.plan.md5:
            expected = self.plan.md5.hex() if self._md5_hex_in_error else self.plan.md5_text
            raise S3Error("BadDigest", ExpectedDigest=expected,
                          CalculatedDigest=base64.b64encode(self._md5.digest()).decode())

    def _check_checksum(self) -> None:
        algorithm = self.checksum_algorithm
        if self.plan.checksum_trailer:
            value = self._trailers.get(self.plan.checksum_trailer)
            expected = _b64(value, _DIGEST_SIZES[algorithm])
            if expected is None:
                # The value is not echoed: it came from the body and may be anything.
                raise S3Error("InvalidRequest", f"Value for {self.plan.checksum_trailer} "
                              "trailing header is invalid.")
        else:
            value = self.plan.expected_checksum
            expected = self.plan.expected_digest
            if expected is None:
                expected = _b64(value, _DIGEST_SIZES[algorithm])
        if self._checksum.digest() != expected:
            raise S3Error("BadDigest", f"The {algorithm.upper()} you specified did not match the "
                          "calculated checksum.")
        # value is the canonical base64 of what matched (_b64 checked that): no re-encoding.
        self.checksum_value = value


def _malformed_trailer() -> S3Error:
    return S3Error("MalformedTrailerError", "The request contained trailing data that was not "
                   "well-formed or did not conform to our published schema.")


def verifier_for(s3, md5_hex_in_error: bool = True) -> PayloadVerifier:
    """The verifier for this request's body, from the Plan context.build() made."""
    def canonical() -> str:
        from proxy.s3.context import raw_target  # (context imports this module)
        return sigv4.canonical_for(s3.signed, s3.method, raw_target(s3.request),
                                   list(s3.request.query.items()), s3.headers)
    return PayloadVerifier(s3.plan, s3.signed, s3.signing_key,
                           canonical if s3.signed is not None else None, md5_hex_in_error)

