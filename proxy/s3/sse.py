"""Server-side encryption. SSE-C: the object is stored AES-256-CTR encrypted with the customer's
key, which is never stored; only a salted HMAC of it (to refuse a wrong key) and the random IV are
kept in the object's system metadata. CTR keeps ciphertext and plaintext the same length and lets
a Range read start at any 16-byte block. SSE-S3 (x-amz-server-side-encryption: AES256) requests are
accepted and answered as such (the bytes are stored as given).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from multidict import CIMultiDict

from proxy import conditional
from proxy.core import Result
from proxy.errors import SwiftError
from proxy.s3.errors import S3Error

PREFIX = "x-amz-server-side-encryption-customer-"
SSE_C_HEADERS = (PREFIX + "algorithm", PREFIX + "key", PREFIX + "key-md5")
KEY_HMAC = "X-Object-Sysmeta-S3-Ssec-Hmac"     # "<salt b64>:<hmac b64>"
IV = "X-Object-Sysmeta-S3-Ssec-Iv"
SSE = "X-Object-Sysmeta-S3-Sse"
BLOCK = 16


def customer_key(headers: dict, prefix: str = PREFIX) -> bytes | None:
    """The validated 32-byte SSE-C key of a request, or None when it names none."""
    if prefix == PREFIX and SSE_C_HEADERS[0] not in headers and SSE_C_HEADERS[1] not in \
            headers and SSE_C_HEADERS[2] not in headers:
        return None  # (every plain GET and PUT asks: answered without building the names)
    names = [prefix + n for n in ("algorithm", "key", "key-md5")]
    present = [n in headers for n in names]
    if not any(present):
        return None
    if not all(present):
        raise S3Error("InvalidArgument", "Requests specifying Server Side Encryption with "
                      "Customer provided keys must provide the client calculated MD5 of the "
                      "secret key.", ArgumentName=names[present.index(False)])
    if headers[names[0]] != "AES256":
        raise S3Error("InvalidEncryptionAlgorithmError", "The Encryption request you specified "
                      "is not valid. Supported value: AES256.", ArgumentName=names[0],
                      ArgumentValue=headers[names[0]])
    try:
        key = base64.b64decode(headers[names[1]], validate=True)
        md5 = base64.b64decode(headers[names[2]], validate=True)
    except (binascii.Error, ValueError):
        raise S3Error("InvalidArgument", "The secret key was invalid for the specified "
                      "algorithm.", ArgumentName=names[1]) from None
    if len(key) != 32:
        raise S3Error("InvalidArgument", "The secret key was invalid for the specified "
                      "algorithm.", ArgumentName=names[1])
    if hashlib.md5(key).digest() != md5:
        raise S3Error("InvalidArgument", "The calculated MD5 hash of the key did not match the "
                      "hash that was provided.", ArgumentName=names[2])
    return key


def _key_hmac(key: bytes, salt: bytes) -> bytes:
    return hmac.new(salt, key, hashlib.sha256).digest()


def _cipher(key: bytes, iv: bytes, block: int):
    counter = (int.from_bytes(iv, "big") + block) % (1 << 128)
    return Cipher(algorithms.AES(key), modes.CTR(counter.to_bytes(16, "big"))).encryptor()


class Encryption:
    def __init__(self, key: bytes):
        self.key = key
        self.iv = os.urandom(16)
        self.salt = os.urandom(16)

    def headers(self) -> dict:
        return {KEY_HMAC: base64.b64encode(self.salt).decode() + ":" +
                base64.b64encode(_key_hmac(self.key, self.salt)).decode(),
                IV: base64.b64encode(self.iv).decode()}

    async def encrypt(self, source):
        cipher = _cipher(self.key, self.iv, 0)
        async for piece in source:  # a piece keeps its shape: bytes, or a tuple (piece_parts)
            yield tuple(map(cipher.update, piece)) if type(piece) is tuple else cipher.update(piece)

    def response_headers(self) -> dict:
        return {PREFIX + "algorithm": "AES256",
                PREFIX + "key-md5": base64.b64encode(hashlib.md5(self.key).digest()).decode()}


def for_write(s3, headers: dict) -> Encryption | None:
    """Set the metadata of an SSE-C PUT; the Encryption wraps the body source. (SSE-S3 is
    recorded by objects.new_object_headers, which made `headers`.)"""
    key = customer_key(s3.headers)
    if key is None:
        return None
    if SSE in headers:
        raise S3Error("InvalidArgument", "Server Side Encryption with Customer provided key "
                      "is incompatible with the encryption method specified")
    encryption = Encryption(key)
    headers.update(encryption.headers())
    return encryption


def is_encrypted(backend_headers) -> bool:
    return bool((backend_headers or {}).get(KEY_HMAC))


def check_key(headers: dict, backend_headers, prefix: str = PREFIX) -> bytes | None:
    """The key that opens this object (None if it is not SSE-C); S3's errors otherwise."""
    key = customer_key(headers, prefix)
    if not is_encrypted(backend_headers):
        if key is not None:
            raise S3Error("InvalidRequest", "The encryption parameters are not applicable to "
                          "this object.")
        return None
    if key is None:
        raise S3Error("InvalidRequest", "The object was stored using a form of Server Side "
                      "Encryption. The correct parameters must be provided to retrieve the "
                      "object.")
    salt_b64, _, mac_b64 = backend_headers[KEY_HMAC].partition(":")
    salt, mac = base64.b64decode(salt_b64), base64.b64decode(mac_b64)
    if not hmac.compare_digest(_key_hmac(key, salt), mac):
        raise S3Error("AccessDenied", "The provided key does not match the one used to encrypt "
                      "the object.")
    return key


def check_read(s3, backend_headers) -> None:
    check_key(s3.headers, backend_headers)


async def read(s3, bucket, key_name: str, method: str, head: Result, req_headers) -> Result:
    """GET/HEAD of an SSE-C object: ranges mapped to whole cipher blocks, decrypted as it streams."""
    key = check_key(s3.headers, head.backend_headers)
    bh = head.backend_headers
    iv = base64.b64decode(bh[IV])
    length = int(head.headers.get("Content-Length", "0") or 0)
    node_headers = {k: v for k, v in req_headers.items() if k.lower() != "range"}
    wanted = None
    try:
        wanted = conditional.parse_range(req_headers.get("Range"), length)
    except SwiftError:
        raise S3Error("InvalidRange") from None
    if wanted is not None:
        node_headers["Range"] = f"bytes={wanted[0] // BLOCK * BLOCK}-{wanted[1]}"
    result = await s3.core.object_read(method, bucket.account, bucket.name, key_name,
                                       headers=node_headers)
    result.backend_headers = bh
    if result.status // 100 != 2:
        return result
    headers = CIMultiDict(result.headers)
    if wanted is not None:
        headers["Content-Range"] = f"bytes {wanted[0]}-{wanted[1]}/{length}"
        headers["Content-Length"] = str(wanted[1] - wanted[0] + 1)
    if method == "HEAD" or result.stream is None:
        result.close()
        return Result(result.status, headers, backend_headers=bh)
    start = wanted[0] if wanted else 0
    skip = start % BLOCK
    cipher = _cipher(key, iv, start // BLOCK)

    async def plain():
        nonlocal skip
        async for chunk in result.iter_body():
            data = cipher.update(chunk)
            if skip:
                data, skip = data[skip:], max(0, skip - len(data))
            if data:
                yield data

    return Result(result.status, headers, backend_headers=bh, body_iter=plain())


def response_headers(backend_headers) -> dict:
    bh = backend_headers or {}
    if bh.get(SSE) == "AES256":
        return {"x-amz-server-side-encryption": "AES256"}
    if is_encrypted(bh):
        return {PREFIX + "algorithm": "AES256"}
    return {}
