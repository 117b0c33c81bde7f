"""CRC32C header/data digests (RFC 7143 12.1); the 32-bit value goes least significant byte first.

crc32c comes from native.checksum (compiled, with SSE4.2/VPCLMULQDQ, or its twin).
"""
from __future__ import annotations

from native.checksum import crc32c


def digest(data) -> bytes:
    """The 4 digest bytes for `data` (a header with its AHS, or a padded data segment)."""
    return crc32c(data).to_bytes(4, "little")


def digest_of_parts(*parts) -> bytes:
    """digest() of the concatenation of parts, without joining them."""
    value = 0
    for part in parts:
        if part:
            value = crc32c(part, value)
    return value.to_bytes(4, "little")
