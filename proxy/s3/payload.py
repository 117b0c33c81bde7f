"""Checking an S3 request body as it streams: payload hash, chunk signatures, checksums, lengths.

PayloadVerifier is sans-I/O: feed() takes the bytes that arrived and returns the decoded object
bytes to pass on; finish() runs the checks that need the whole body and raises S3Error on any
mismatch. The caller must not commit the object until finish() returned: the proxy aborts its
backend writes when the body source raises, so a bad body never becomes visible.

Modes, from x-amz-content-sha256: a hex SHA-256 (whole body hashed and compared), UNSIGNED-PAYLOAD,
STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER] (each chunk signature chained from the seed
signature), STREAMING-UNSIGNED-PAYLOAD-TRAILER. Content-MD5 and x-amz-checksum-* (header or
trailer, as named by x-amz-trailer) are verified in every mode.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from native import awschunked, checksum
from proxy.s3 import sigv4
from proxy.s3.errors import S3Error

CHECKSUM_ALGORITHMS = ("crc32", "crc32c", "crc64nvme", "sha1", "sha256")
MULTIPLE = "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."
TERMINATED = "The request body terminated unexpectedly"
TOO_LONG = "You did not provide the number of bytes specified by the Content-Length HTTP header"
_DIGEST_SIZES = {"crc32": 4, "crc32c": 4, "crc64nvme": 8, "sha1": 20, "sha256": 32}


class _Checksum:
    def __init__(self, algorithm: str):
        self.algorithm = algorithm
        if algorithm in checksum.CRC_KINDS:
            self._state = checksum.Crc(algorithm)
        else:
            self._state = hashlib.new(algorithm)

    def update(self, data) -> None:
        self._state.update(data)

    def b64digest(self) -> str:
        return base64.b64encode(self._state.digest()).decode("ascii")


def _decode_b64(value: str, size: int, what: str) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != size:
        raise S3Error("InvalidRequest", f"Value for {what} header is invalid.")
    return raw


def requested_checksum(headers: dict[str, str]) -> tuple[str, str | None] | None:
    """(algorithm, expected b64 or None when it comes in the trailer) the client asked us to check."""
    trailer = headers.get("x-amz-trailer")
    found = [a for a in CHECKSUM_ALGORITHMS if f"x-amz-checksum-{a}" in headers]
    declared = headers.get("x-amz-sdk-checksum-algorithm", "").strip().lower()
    if trailer:
        names = [n.strip().lower() for n in trailer.split(",") if n.strip()]
        if len(names) > 1 and all(n.startswith("x-amz-checksum-") for n in names):
            raise S3Error("InvalidRequest", MULTIPLE)
        name = names[0] if len(names) == 1 else trailer.strip().lower()
        if not name.startswith("x-amz-checksum-") or name[15:] not in CHECKSUM_ALGORITHMS:
            raise S3Error("InvalidRequest", f"The value specified in the x-amz-trailer header is "
                          "not supported")
        if found and found != [name[15:]]:
            raise S3Error("InvalidRequest", "Expecting a single x-amz-checksum- header")
        return name[15:], None
    if found and declared and declared != found[0] and len(found) == 1:
        raise S3Error("InvalidRequest", "Value for x-amz-sdk-checksum-algorithm header is "
                      "invalid.")
    if len(found) > 1:
        raise S3Error("InvalidRequest", "Expecting a single x-amz-checksum- header. Multiple "
                      "checksum Types are not allowed.")
    if found:
        algorithm = found[0]
        value = headers[f"x-amz-checksum-{algorithm}"]
        _decode_b64(value, _DIGEST_SIZES[algorithm], f"x-amz-checksum-{algorithm}")
        return algorithm, value
    return None


class PayloadVerifier:
    def __init__(self, headers: dict[str, str], signed: sigv4.SignedRequest | None,
                 signing_key: bytes | None):
        self.mode = headers.get("x-amz-content-sha256", sigv4.UNSIGNED_PAYLOAD)
        try:
            sigv4.check_payload_hash(self.mode)
        except S3Error:
            # Not a hash at all: S3 hashes the body and reports the mismatch (the claim as sent).
            if self.mode.startswith("STREAMING-"):
                raise
        self.streaming = self.mode.startswith("STREAMING-")
        if self.streaming and signed is None and self.mode != sigv4.STREAMING_UNSIGNED_TRAILER:
            raise S3Error("AccessDenied", "Streaming signed payloads need a signed request.")
        self._signed = signed
        self._key = signing_key
        self._received = 0
        self._sha256 = hashlib.sha256() if not self.streaming and self.mode != sigv4.UNSIGNED_PAYLOAD \
            else None
        md5 = headers.get("content-md5")
        try:
            self._md5_expected = _decode_b64(md5, 16, "Content-MD5") if md5 is not None else None
        except S3Error:
            raise S3Error("InvalidDigest", ContentMD5=md5) from None
        self._md5 = hashlib.md5() if md5 is not None else None
        wanted = requested_checksum(headers)
        self.checksum_algorithm = wanted[0] if wanted else None
        self._checksum_expected = wanted[1] if wanted else None
        self._checksum = _Checksum(wanted[0]) if wanted else None
        self.checksum_value: str | None = None
        self.decoded_length: int | None = None
        if self.streaming:
            decoded = headers.get("x-amz-decoded-content-length")
            if decoded is None or not decoded.isdigit():
                raise S3Error("MissingContentLength", "You must provide the "
                              "x-amz-decoded-content-length header for aws-chunked bodies.",
                              status=411)
            self.decoded_length = int(decoded)
            chunk_signed = self.mode in (sigv4.STREAMING_SIGNED, sigv4.STREAMING_SIGNED_TRAILER)
            self._decoder = awschunked.Decoder(chunk_signed)
            self._chunk_signed = chunk_signed
            self._previous_signature = signed.signature if signed else ""
            self._chunk_hash = None
            self._chunk_claim = None
            self._trailers: list[tuple[str, str]] = []
            self._ended = False

    def feed(self, data) -> list:
        """Bytes received → object bytes to pass on (after decoding aws-chunked framing)."""
        if not self.streaming:
            self._consume(data)
            return [data] if data else []
        try:
            events = self._decoder.feed(data)
        except awschunked.AwsChunkedError as exc:
            # S3's wording (clients and Swift's tests match on it); the detail goes to the log.
            raise S3Error("IncompleteBody", TERMINATED) from exc
        out = []
        for kind, a, b in events:
            if kind == awschunked.DATA:
                self._consume(a)
                if self._chunk_hash is not None:
                    self._chunk_hash.update(a)
                out.append(a)
            elif kind == awschunked.CHUNK:
                self._close_chunk()
                if self._chunk_signed:
                    self._chunk_hash = hashlib.sha256()
                    self._chunk_claim = b
            elif kind == awschunked.TRAILER:
                self._trailers.append((a, b))
            elif kind == awschunked.END:
                self._close_chunk()
                self._ended = True
        if self.decoded_length is not None and self._received > self.decoded_length:
            raise S3Error("IncompleteBody", TOO_LONG)
        return out

    def _consume(self, data) -> None:
        self._received += len(data)
        if self._sha256 is not None:
            self._sha256.update(data)
        if self._md5 is not None:
            self._md5.update(data)
        if self._checksum is not None:
            self._checksum.update(data)

    def _close_chunk(self) -> None:
        if self._chunk_claim is None:
            return
        expected = sigv4.chunk_signature(self._key, self._signed.amz_date,
                                         self._signed.credential.scope, self._previous_signature,
                                         self._chunk_hash.hexdigest())
        if not hmac.compare_digest(expected, self._chunk_claim):
            raise S3Error("SignatureDoesNotMatch", "The chunk signature does not match.")
        self._previous_signature = expected
        self._chunk_claim = None
        self._chunk_hash = None

    def finish(self, content_length: int | None = None) -> None:
        """All bytes arrived: raise S3Error unless every hash, signature and length holds."""
        if self.streaming:
            if not self._ended:
                raise S3Error("IncompleteBody", TERMINATED)
            if self._received != self.decoded_length:
                raise S3Error("IncompleteBody")
            self._check_trailers()
        elif content_length is not None and self._received != content_length:
            raise S3Error("IncompleteBody")
        if self._sha256 is not None and self._sha256.hexdigest() != self.mode.lower():
            raise S3Error("XAmzContentSHA256Mismatch", ClientComputedContentSHA256=self.mode,
                          S3ComputedContentSHA256=self._sha256.hexdigest())
        if self._md5 is not None and self._md5.digest() != self._md5_expected:
            raise S3Error("BadDigest", ExpectedDigest=self._md5_expected.hex(),
                          CalculatedDigest=base64.b64encode(self._md5.digest()).decode())
        if self._checksum is not None:
            actual = self._checksum.b64digest()
            if self._checksum_expected is None:
                raise S3Error("InvalidRequest", "The x-amz-trailer checksum is missing.")
            if actual != self._checksum_expected:
                raise S3Error("BadDigest", f"The {self.checksum_algorithm.upper()} you specified "
                              "did not match the calculated checksum.")
            self.checksum_value = actual

    def _check_trailers(self) -> None:
        trailers = dict(self._trailers)
        signature = trailers.pop("x-amz-trailer-signature", None)
        if self.mode == sigv4.STREAMING_SIGNED_TRAILER:
            if signature is None:
                raise S3Error("SignatureDoesNotMatch", "The trailer signature is missing.")
            lines = "".join(f"{name}:{value}\n" for name, value in self._trailers
                            if name != "x-amz-trailer-signature").encode("ascii")
            expected = sigv4.trailer_signature(self._key, self._signed.amz_date,
                                               self._signed.credential.scope,
                                               self._previous_signature, lines)
            if not hmac.compare_digest(expected, signature):
                raise S3Error("SignatureDoesNotMatch", "The trailer signature does not match.")
        if self.checksum_algorithm is not None and self._checksum_expected is None:
            value = trailers.get(f"x-amz-checksum-{self.checksum_algorithm}")
            if value is None:
                raise S3Error("InvalidRequest", "The x-amz-trailer checksum is missing.")
            _decode_b64(value, _DIGEST_SIZES[self.checksum_algorithm],
                        f"x-amz-checksum-{self.checksum_algorithm}")
            self._checksum_expected = value
