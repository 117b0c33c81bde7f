"""Pure-Python reference for native.checksum: MD5 + xxh3-64 in one object, CRC32, CRC32C, CRC64-NVME.

MD5 is hashlib's, xxh3 the xxhash package's, CRC32 zlib's. CRC32C uses the `crc32c` package when it
is installed (a fast, independent implementation) and the table below otherwise; CRC64-NVME has no
common library, so it is a byte-at-a-time table here. Both tables are the definition the compiled
twin is checked against.
"""
import base64
import hashlib
import zlib

import xxhash

# Reflected (LSB-first) polynomials, as their specifications give them.
CRC32C_POLY = 0x82F63B78  # Castagnoli, RFC 3720 B.4
CRC64NVME_POLY = 0x9A6C9329AC4BC9B5  # NVM Express 2.0 CRC64 (normal form 0xAD93D23594C93659)
_MASK32 = 0xFFFFFFFF
_MASK64 = 0xFFFFFFFFFFFFFFFF


def _table(poly: int) -> tuple:
    out = []
    for byte in range(256):
        reg = byte
        for _ in range(8):
            reg = (reg >> 1) ^ poly if reg & 1 else reg >> 1
        out.append(reg)
    return tuple(out)


_CRC32C_TABLE = _table(CRC32C_POLY)
_CRC64NVME_TABLE = _table(CRC64NVME_POLY)


def _byte_view(data) -> memoryview:
    view = memoryview(data)
    if not view.c_contiguous:  # the same error hashlib, zlib and the compiled twin raise
        raise BufferError("memoryview: underlying buffer is not C-contiguous")
    return view.cast("B")


def crc32c_table(data, value: int = 0) -> int:
    """CRC32C by table: `value` is a previous result, so calls chain like zlib.crc32."""
    table = _CRC32C_TABLE
    reg = ~value & _MASK32
    for byte in _byte_view(data):
        reg = table[(reg ^ byte) & 0xFF] ^ (reg >> 8)
    return ~reg & _MASK32


def crc64nvme(data, value: int = 0) -> int:
    """CRC64-NVME (S3's CRC64NVME): reflected, init and xorout all ones; chains like crc32c."""
    table = _CRC64NVME_TABLE
    reg = ~value & _MASK64
    for byte in _byte_view(data):
        reg = table[(reg ^ byte) & 0xFF] ^ (reg >> 8)
    return ~reg & _MASK64


try:
    from crc32c import crc32c as _crc32c_lib
except ImportError:  # the package is optional at run time: the table is always correct
    _crc32c_lib = None


def crc32c(data, value: int = 0) -> int:
    """CRC32C (Castagnoli), for iSCSI digests and S3 CRC32C; chains like zlib.crc32."""
    if _crc32c_lib is not None:
        return _crc32c_lib(data, value & _MASK32)
    return crc32c_table(data, value)


def crc32(data, value: int = 0) -> int:
    """CRC32 exactly as zlib.crc32."""
    return zlib.crc32(data, value)


_CRC_FUNCTIONS = {"crc32": (crc32, 4), "crc32c": (crc32c, 4), "crc64nvme": (crc64nvme, 8)}
CRC_KINDS = tuple(_CRC_FUNCTIONS)


class Crc:
    """Streaming CRC of one kind ("crc32", "crc32c", "crc64nvme"); digest() is big-endian, as S3 sends it."""

    __slots__ = ("kind", "_func", "_size", "_value")

    def __init__(self, kind: str, value: int = 0):
        try:
            self._func, self._size = _CRC_FUNCTIONS[kind]
        except (KeyError, TypeError):
            raise ValueError(f"unknown CRC kind {kind!r}; expected one of {', '.join(CRC_KINDS)}")
        self.kind = kind
        self._value = value

    def update(self, data) -> None:
        self._value = self._func(data, self._value)

    def intdigest(self) -> int:
        return self._value

    def digest(self) -> bytes:
        return self._value.to_bytes(self._size, "big")

    def hexdigest(self) -> str:
        return self.digest().hex()

    def b64digest(self) -> str:
        return base64.b64encode(self.digest()).decode("ascii")

    def copy(self) -> "Crc":
        return Crc(self.kind, self._value)


class Md5Xxh3:
    """MD5 (the ETag) and xxh3-64 (the integrity checksum) of one stream, fed by one update()."""

    __slots__ = ("_md5", "_xxh3")

    def __init__(self, data=None):
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._xxh3 = xxhash.xxh3_64()
        if data is not None:
            self.update(data)

    def update(self, data) -> None:
        self._md5.update(data)
        self._xxh3.update(data)

    def md5_digest(self) -> bytes:
        return self._md5.digest()

    def md5_hexdigest(self) -> str:
        return self._md5.hexdigest()

    def xxh3_digest(self) -> bytes:
        return self._xxh3.digest()

    def xxh3_hexdigest(self) -> str:
        return self._xxh3.hexdigest()

    def xxh3_intdigest(self) -> int:
        return self._xxh3.intdigest()

    def copy(self) -> "Md5Xxh3":
        twin = Md5Xxh3.__new__(Md5Xxh3)
        twin._md5 = self._md5.copy()
        twin._xxh3 = self._xxh3.copy()
        return twin
