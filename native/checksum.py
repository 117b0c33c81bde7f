"""Checksums for the storage paths: the only module the object server, proxy, S3 layer and iSCSI
target import for them.

    Md5Xxh3()            streaming MD5 (ETag) + xxh3-64 (integrity) over the same buffers in one call
    crc32c(data, value=0), crc32(data, value=0), crc64nvme(data, value=0) -> int   (chain like zlib.crc32)
    Crc(kind)            streaming "crc32" | "crc32c" | "crc64nvme"; digest() big-endian, b64digest() for S3

Every function takes bytes, bytearray, memoryview or mmap without copying. The compiled module
(native/_checksum_c.pyx) is used when built; STRATO_NO_EXTENSIONS=1 selects the reference twin.
"""
import native

_impl = native.load("checksum")

Md5Xxh3 = _impl.Md5Xxh3
Crc = _impl.Crc
crc32c = _impl.crc32c
crc32 = _impl.crc32
crc64nvme = _impl.crc64nvme
CRC_KINDS = _impl.CRC_KINDS
IMPLEMENTATION = "c" if _impl.__name__.endswith("_c") else "py"

__all__ = ["Md5Xxh3", "Crc", "crc32c", "crc32", "crc64nvme", "CRC_KINDS", "IMPLEMENTATION"]
