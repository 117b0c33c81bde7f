# cython: language_level=3
"""Compiled twin of native._iscsipdu_py: iSCSI BHS parse/build with explicit big-endian reads.

Same API and the same errors as the reference; every multi-byte field is assembled byte by byte
(no pointer casts), so the result does not depend on the host's byte order or alignment.
"""
from cpython.bytes cimport PyBytes_FromStringAndSize, PyBytes_AS_STRING
from libc.stdint cimport uint8_t, uint32_t, uint64_t

BHS_LEN = 48
FIELDS = ("opcode", "immediate", "flags", "byte2", "byte3", "ahs_length", "data_length", "lun",
          "itt", "w20", "w24", "w28", "w32", "w36", "w40", "w44")


cdef inline uint32_t _be32(const uint8_t* p) noexcept nogil:
    return (<uint32_t>p[0] << 24) | (<uint32_t>p[1] << 16) | (<uint32_t>p[2] << 8) | <uint32_t>p[3]


cdef inline void _put32(uint8_t* p, uint32_t v) noexcept nogil:
    p[0] = (v >> 24) & 0xFF
    p[1] = (v >> 16) & 0xFF
    p[2] = (v >> 8) & 0xFF
    p[3] = v & 0xFF


def parse_bhs(const unsigned char[::1] buf, Py_ssize_t offset=0):
    """The fields of the 48-byte BHS at buf[offset:]; ValueError when fewer bytes are there."""
    if offset < 0 or buf.shape[0] - offset < 48:
        raise ValueError("a BHS needs 48 bytes")
    cdef const uint8_t* p = &buf[offset]
    cdef uint64_t lun = (<uint64_t>_be32(p + 8) << 32) | _be32(p + 12)
    return (p[0] & 0x3F, (p[0] >> 6) & 1, p[1], p[2], p[3], <int>p[4] * 4,
            (<uint32_t>p[5] << 16) | (<uint32_t>p[6] << 8) | p[7], lun, _be32(p + 16),
            _be32(p + 20), _be32(p + 24), _be32(p + 28), _be32(p + 32), _be32(p + 36),
            _be32(p + 40), _be32(p + 44))


cdef int _fill(uint8_t* p, int opcode, int immediate, int flags, int byte2, int byte3,
               long ahs_length, long data_length, uint64_t lun, uint32_t itt, uint32_t w20,
               uint32_t w24, uint32_t w28, uint32_t w32, uint32_t w36, uint32_t w40,
               uint32_t w44) except -1:
    if opcode < 0 or opcode > 0x3F:
        raise ValueError("opcode out of range")
    if immediate != 0 and immediate != 1:
        raise ValueError("immediate is a bit")
    if ahs_length % 4 or ahs_length < 0 or ahs_length > 255 * 4:
        raise ValueError("ahs_length must be a multiple of 4 below 1024")
    if data_length < 0 or data_length > 0xFFFFFF:
        raise ValueError("data_length is 24 bits")
    if flags < 0 or flags > 255 or byte2 < 0 or byte2 > 255 or byte3 < 0 or byte3 > 255:
        raise OverflowError("byte field out of range")
    p[0] = (immediate << 6) | opcode
    p[1] = flags
    p[2] = byte2
    p[3] = byte3
    p[4] = ahs_length // 4
    p[5] = (data_length >> 16) & 0xFF
    p[6] = (data_length >> 8) & 0xFF
    p[7] = data_length & 0xFF
    _put32(p + 8, lun >> 32)
    _put32(p + 12, lun & 0xFFFFFFFF)
    _put32(p + 16, itt)
    _put32(p + 20, w20)
    _put32(p + 24, w24)
    _put32(p + 28, w28)
    _put32(p + 32, w32)
    _put32(p + 36, w36)
    _put32(p + 40, w40)
    _put32(p + 44, w44)
    return 0


def build_bhs(int opcode, int immediate, int flags, int byte2, int byte3, long ahs_length,
              long data_length, uint64_t lun, uint32_t itt, uint32_t w20, uint32_t w24,
              uint32_t w28, uint32_t w32, uint32_t w36, uint32_t w40, uint32_t w44):
    """48 bytes of BHS from the fields parse_bhs() returns."""
    out = PyBytes_FromStringAndSize(NULL, 48)
    _fill(<uint8_t*>PyBytes_AS_STRING(out), opcode, immediate, flags, byte2, byte3, ahs_length,
          data_length, lun, itt, w20, w24, w28, w32, w36, w40, w44)
    return out


def build_bhs_into(unsigned char[::1] buf, Py_ssize_t offset, int opcode, int immediate,
                   int flags, int byte2, int byte3, long ahs_length, long data_length,
                   uint64_t lun, uint32_t itt, uint32_t w20, uint32_t w24, uint32_t w28,
                   uint32_t w32, uint32_t w36, uint32_t w40, uint32_t w44):
    """build_bhs() written into the writable buffer buf at offset (no allocation)."""
    if opcode < 0 or opcode > 0x3F:
        raise ValueError("opcode out of range")
    if offset < 0 or buf.shape[0] - offset < 48:
        raise ValueError("a BHS needs 48 bytes")
    _fill(&buf[offset], opcode, immediate, flags, byte2, byte3, ahs_length, data_length, lun,
          itt, w20, w24, w28, w32, w36, w40, w44)


def pad_length(Py_ssize_t length):
    """Bytes of zero padding after a data segment of `length` bytes (segments end on 4 bytes)."""
    return -length & 3


def segment_lengths(long ahs_length, long data_length, bint header_digest, bint data_digest):
    """Bytes that follow the BHS on the wire: AHS, header digest, padded data, data digest."""
    cdef long total = ahs_length + (4 if header_digest else 0)
    if data_length:
        total += data_length + (-data_length & 3) + (4 if data_digest else 0)
    return total
