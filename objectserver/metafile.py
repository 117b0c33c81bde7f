"""The object file format: body first, then its metadata as a trailer, so one rename commits both.

    <data bytes> <metadata: UTF-8 JSON object> <JSON length: uint32 big-endian> <MAGIC: 8 bytes>

A trailer rather than a header because the ETag and xxh3 are only known once the body has been
streamed to disk. Readers take the last 12 bytes, check the magic by value, then read the JSON just
before them. `.ts` tombstones and `.meta` files use the same format with an empty body.
Sans-I/O: bytes in, values out.
"""
from __future__ import annotations

import json
import struct

MAGIC = b"STRTOBJ1"
FIXED_TAIL = 4 + len(MAGIC)
MAX_METADATA = 1 << 20  # far above what the proxy accepts; bounds what a reader will allocate
_LEN = struct.Struct(">I")


class MetadataError(ValueError):
    """The file's trailer is missing, truncated or not ours: the file must be quarantined."""


def encode(metadata: dict) -> bytes:
    """The trailer bytes to append after the body."""
    # surrogateescape: header bytes that are not UTF-8 (aiohttp hands them over as lone
    # surrogates) are stored as the very bytes the client sent, as Swift keeps them
    blob = json.dumps(metadata, separators=(",", ":"), ensure_ascii=False,
                      sort_keys=True).encode("utf-8", "surrogateescape")
    if len(blob) > MAX_METADATA:
        raise ValueError(f"metadata of {len(blob)} bytes exceeds {MAX_METADATA}")
    return blob + _LEN.pack(len(blob)) + MAGIC


def metadata_length(tail: bytes, file_size: int) -> int:
    """From the file's last FIXED_TAIL bytes: the length of the JSON that precedes them."""
    if len(tail) != FIXED_TAIL or file_size < FIXED_TAIL:
        raise MetadataError("file too short for a metadata trailer")
    if tail[4:] != MAGIC:
        raise MetadataError("bad trailer magic")
    (length,) = _LEN.unpack(tail[:4])
    if length > MAX_METADATA or length + FIXED_TAIL > file_size:
        raise MetadataError(f"bad metadata length {length}")
    return length


def decode(blob: bytes) -> dict:
    try:
        metadata = json.loads(blob.decode("utf-8", "surrogateescape"))
    except ValueError:
        raise MetadataError("metadata is not valid JSON") from None
    if not isinstance(metadata, dict):
        raise MetadataError("metadata is not a JSON object")
    return metadata


def parse_tail(tail: bytes, file_size: int) -> tuple[dict, int]:
    """(metadata, data length) from the last bytes of a file (at least the whole trailer)."""
    length = metadata_length(tail[-FIXED_TAIL:], file_size)
    if len(tail) < length + FIXED_TAIL:
        raise MetadataError("tail does not hold the whole trailer")
    blob = tail[len(tail) - FIXED_TAIL - length:len(tail) - FIXED_TAIL]
    return decode(blob), file_size - FIXED_TAIL - length
