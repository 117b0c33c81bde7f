"""Placement hashing: which partition a Swift path lands in, and its on-disk hash directory name.

The hashed string is hash_prefix + "/account[/container[/object]]" + hash_suffix, UTF-8 encoded
(lone surrogates pass through with surrogateescape, so any path a server decoded still hashes).
The partition is the top part_power bits of its 64-bit xxh3; the object directory name is its
xxh3-128 in hex. Golden vectors in tests/unit/ring pin both: changing them moves every object.
"""
from __future__ import annotations

import xxhash

from ring.errors import RingError


def _text(value) -> bytes:
    if isinstance(value, str):
        try:
            return value.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            raise RingError(f"path component {value!r} cannot be encoded as UTF-8") from None
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    raise RingError(f"path components must be str or bytes, got {type(value).__name__}")


def path_key(account, container=None, obj=None, *, prefix="", suffix="") -> bytes:
    """The exact bytes that are hashed for /account[/container[/object]]."""
    if obj is not None and container is None:
        raise RingError("a container is required when an object is given")
    if account is None:
        raise RingError("an account is required")
    key = _text(prefix) + b"/" + _text(account)
    if container is not None:
        key += b"/" + _text(container)
        if obj is not None:
            key += b"/" + _text(obj)
    return key + _text(suffix)


def hash_path(account, container=None, obj=None, *, prefix="", suffix="") -> str:
    """The 32-hex-char xxh3-128 digest of the path: the object's directory name on disk."""
    return xxhash.xxh3_128_hexdigest(path_key(account, container, obj, prefix=prefix,
                                              suffix=suffix))


def partition_of_key(key: bytes, part_power: int) -> int:
    """Top part_power bits of the key's xxh3-64 (as a big-endian unsigned integer)."""
    return xxhash.xxh3_64_intdigest(key) >> (64 - part_power)


def partition_for(account, container=None, obj=None, *, part_power: int, prefix="",
                  suffix="") -> int:
    """The partition of /account[/container[/object]] in a ring of 2**part_power partitions."""
    return partition_of_key(path_key(account, container, obj, prefix=prefix, suffix=suffix),
                            part_power)
