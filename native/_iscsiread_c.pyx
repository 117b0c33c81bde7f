# cython: language_level=3
"""Compiled twin of native._iscsiread_py: the iSCSI target's READ fast path.

Same API, same stopping rules and the same bytes out as the reference (see its docstring). Fields
are read and written byte by byte in big-endian order (no pointer casts); each answer is one
bytearray (Data-In header + data, as the twin's) allocated without zero-filling, that preadv2
fills in place, with the GIL released around reads of RELEASE_GIL_AT bytes or more.
"""
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_FromStringAndSize
from libc.errno cimport EINTR, errno
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from posix.types cimport off_t

cdef extern from "<sys/uio.h>" nogil:
    struct iovec:
        void *iov_base
        size_t iov_len
    ssize_t preadv2(int fd, const iovec *iov, int iovcnt, off_t offset, int flags)
    enum: RWF_NOWAIT

# C constants for the loop (a module-level Python name there is a dict lookup and a Python int
# comparison on every use); the public names below are the same numbers, as the twin has them.
cdef enum:
    _OP_SCSI_COMMAND = 0x01
    _OP_DATA_IN = 0x25
    _READ_10 = 0x28
    _READ_16 = 0x88
    _RELEASE_GIL_AT = 65536

BHS_LEN = 48
OP_SCSI_COMMAND = _OP_SCSI_COMMAND
OP_DATA_IN = _OP_DATA_IN
READ_10 = _READ_10
READ_16 = _READ_16
RELEASE_GIL_AT = _RELEASE_GIL_AT


cdef inline uint32_t _be32(const uint8_t* p) noexcept nogil:
    return (<uint32_t>p[0] << 24) | (<uint32_t>p[1] << 16) | (<uint32_t>p[2] << 8) | <uint32_t>p[3]


cdef inline void _put32(uint8_t* p, uint32_t v) noexcept nogil:
    p[0] = (v >> 24) & 0xFF
    p[1] = (v >> 16) & 0xFF
    p[2] = (v >> 8) & 0xFF
    p[3] = v & 0xFF


cdef ssize_t _read_nowait(int fd, uint8_t* dst, size_t length, off_t offset) noexcept:
    cdef iovec iov
    cdef ssize_t got
    iov.iov_base = dst
    iov.iov_len = length
    while True:
        if length >= _RELEASE_GIL_AT:
            with nogil:
                got = preadv2(fd, &iov, 1, offset, RWF_NOWAIT)
        else:
            got = preadv2(fd, &iov, 1, offset, RWF_NOWAIT)
        if got >= 0 or errno != EINTR:
            return got


def serve_reads(const unsigned char[::1] buf, Py_ssize_t start, Py_ssize_t end, int fd,
                uint64_t block_size, uint64_t num_blocks, uint64_t max_blocks, uint64_t max_data,
                dict tasks, uint32_t exp_cmdsn, uint32_t max_cmdsn, uint32_t stat_sn,
                uint32_t window, list out):
    """Answer the plain READs in buf[start:end]; returns (pos, exp_cmdsn, max_cmdsn, stat_sn)."""
    if start < 0 or end > buf.shape[0] or start > end:
        raise ValueError("start/end outside the buffer")
    cdef Py_ssize_t pos = start
    cdef const uint8_t* p
    cdef const uint8_t* cdb
    cdef uint32_t itt, edtl, proposed
    cdef uint64_t lba, blocks, length, control
    cdef bytearray pdu
    cdef uint8_t* h
    cdef ssize_t got
    while end - pos >= 48:
        p = &buf[pos]
        if (p[0] != _OP_SCSI_COMMAND or (p[1] & 0xE0) != 0xC0 or p[4] or p[5] or p[6] or p[7]
                or _be32(p + 8) or _be32(p + 12)):
            break
        itt = _be32(p + 16)
        edtl = _be32(p + 20)
        if itt == 0xFFFFFFFF or _be32(p + 24) != exp_cmdsn or itt in tasks:
            break
        cdb = p + 32
        if cdb[0] == _READ_10:
            lba = _be32(cdb + 2)
            blocks = (<uint64_t>cdb[7] << 8) | cdb[8]
            control = cdb[9]
        elif cdb[0] == _READ_16:
            lba = (<uint64_t>_be32(cdb + 2) << 32) | _be32(cdb + 6)
            blocks = _be32(cdb + 10)
            control = cdb[15]
        else:
            break
        if (cdb[1] & 0xE0) or (control & 0x04):
            break
        # lba + blocks cannot wrap: lba < num_blocks and blocks < 2^32
        if blocks == 0 or blocks > max_blocks or lba >= num_blocks or lba + blocks > num_blocks:
            break
        length = blocks * block_size
        if length != edtl or length > max_data:
            break
        pdu = PyByteArray_FromStringAndSize(NULL, 48 + length)
        h = <uint8_t*>PyByteArray_AS_STRING(pdu)
        got = _read_nowait(fd, h + 48, length, <off_t>(lba * block_size))
        if got < 0 or <uint64_t>got != length:
            break
        exp_cmdsn = exp_cmdsn + 1
        proposed = exp_cmdsn + window - 1 - <uint32_t>len(tasks)
        if max_cmdsn != proposed and <uint32_t>(proposed - max_cmdsn) < 0x80000000u:
            max_cmdsn = proposed
        h[0] = _OP_DATA_IN
        h[1] = 0x81
        h[2] = 0
        h[3] = 0
        h[4] = 0
        h[5] = (length >> 16) & 0xFF
        h[6] = (length >> 8) & 0xFF
        h[7] = length & 0xFF
        _put32(h + 8, 0)
        _put32(h + 12, 0)
        _put32(h + 16, itt)
        _put32(h + 20, 0xFFFFFFFF)
        _put32(h + 24, stat_sn)
        _put32(h + 28, exp_cmdsn)
        _put32(h + 32, max_cmdsn)
        _put32(h + 36, 0)
        _put32(h + 40, 0)
        _put32(h + 44, 0)
        stat_sn = stat_sn + 1
        out.append(pdu)
        pos += 48
    return pos, exp_cmdsn, max_cmdsn, stat_sn
