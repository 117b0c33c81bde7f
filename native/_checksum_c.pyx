# cython: language_level=3
"""Compiled twin of native._checksum_py: same API, kernels in _checksum_crc.h and _checksum_md5xxh3.h.

Buffers come in through the buffer protocol (bytes, bytearray, memoryview, mmap: no copy). A typed
memoryview would cost more than the CRC itself on a 48-byte iSCSI header, so the Py_buffer is taken
directly. The GIL is released once a call's work outlasts the hand-over (~0.1 us): above
GIL_RELEASE_BYTES for MD5+xxh3 and table CRCs (about 5 us and 2 us there), above
GIL_RELEASE_BYTES_HW for the hardware CRC tiers (16-30 GB/s: 4 KiB takes only 0.15-0.25 us).
"""
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.pythread cimport (NOWAIT_LOCK, WAIT_LOCK, PyThread_acquire_lock, PyThread_allocate_lock,
                               PyThread_free_lock, PyThread_release_lock, PyThread_type_lock)
from libc.stdint cimport uint32_t, uint64_t

import base64

cdef extern from "_checksum_crc.h" nogil:
    void strato_crc_init()
    int strato_crc_set_hw(int use_hw)
    uint32_t strato_crc32c_raw(uint32_t reg, const unsigned char *p, size_t n)
    uint32_t strato_crc32_raw(uint32_t reg, const unsigned char *p, size_t n)
    uint64_t strato_crc64nvme_raw(uint64_t reg, const unsigned char *p, size_t n)

cdef extern from "_checksum_md5xxh3.h" nogil:
    ctypedef struct strato_md5_t:
        pass
    ctypedef struct XXH3_state_t:
        pass
    ctypedef unsigned long long XXH64_hash_t
    enum: STRATO_XXH3_SPACE
    const char *strato_md5_api
    int strato_md5_init(strato_md5_t *m)
    void strato_md5_clear(strato_md5_t *m)
    int strato_md5_copy(strato_md5_t *dst, const strato_md5_t *src)
    int strato_md5_peek(const strato_md5_t *m, unsigned char *out)
    XXH3_state_t *strato_xxh3_at(char *space)
    int XXH3_64bits_reset(XXH3_state_t *state)
    void XXH3_copyState(XXH3_state_t *dst, const XXH3_state_t *src)
    XXH64_hash_t XXH3_64bits_digest(const XXH3_state_t *state)
    int strato_md5xxh3_update(strato_md5_t *md5, XXH3_state_t *xxh3, const unsigned char *p, size_t n)

GIL_RELEASE_BYTES = 4096
GIL_RELEASE_BYTES_HW = 32768
cdef Py_ssize_t _GIL_RELEASE = GIL_RELEASE_BYTES
cdef Py_ssize_t[3] _crc_gil_release = [GIL_RELEASE_BYTES, GIL_RELEASE_BYTES, GIL_RELEASE_BYTES]

strato_crc_init()
MD5_API = strato_md5_api.decode("ascii")  # "MD5_*" or "EVP": which libcrypto interface is in use


HW_TABLES, HW_SSE, HW_BEST = 0, 1, 2


def set_hardware(int level=HW_BEST):
    """Pick the CRC tier for the whole process (tests and benchmarks): HW_TABLES, HW_SSE (SSE4.2 and
    128-bit PCLMULQDQ) or HW_BEST (also AVX-512 VPCLMULQDQ), each where the CPU has it. Returns a
    mask of what is live: 1 = SSE4.2 CRC32C, 2 = PCLMUL folding, 4 = VPCLMUL folding."""
    live = strato_crc_set_hw(level)
    _crc_gil_release[0] = GIL_RELEASE_BYTES_HW if live & 2 else GIL_RELEASE_BYTES  # crc32
    _crc_gil_release[1] = GIL_RELEASE_BYTES_HW if live & 1 else GIL_RELEASE_BYTES  # crc32c
    _crc_gil_release[2] = GIL_RELEASE_BYTES_HW if live & 2 else GIL_RELEASE_BYTES  # crc64nvme
    return live


HARDWARE = set_hardware(HW_BEST)


cdef uint64_t _crc_raw(int code, uint64_t reg, data) except? 0:
    """Run kind `code` (0 crc32, 1 crc32c, 2 crc64nvme) over data's buffer from raw register reg."""
    cdef Py_buffer view
    cdef const unsigned char *p
    cdef size_t n
    PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
    p = <const unsigned char *>view.buf
    n = <size_t>view.len
    if view.len >= _crc_gil_release[code]:
        with nogil:
            reg = _crc_kernel(code, reg, p, n)
    else:
        reg = _crc_kernel(code, reg, p, n)
    PyBuffer_Release(&view)
    return reg


cdef inline uint64_t _crc_kernel(int code, uint64_t reg, const unsigned char *p, size_t n) noexcept nogil:
    if code == 0:
        return strato_crc32_raw(<uint32_t>reg, p, n)
    if code == 1:
        return strato_crc32c_raw(<uint32_t>reg, p, n)
    return strato_crc64nvme_raw(reg, p, n)


def crc32c(data, value=0):
    """CRC32C (Castagnoli), for iSCSI digests and S3 CRC32C; chains like zlib.crc32."""
    return ~(<uint32_t>_crc_raw(1, ~(<uint32_t>(value & 0xFFFFFFFF)), data)) & 0xFFFFFFFF


def crc32(data, value=0):
    """CRC32 exactly as zlib.crc32."""
    return ~(<uint32_t>_crc_raw(0, ~(<uint32_t>(value & 0xFFFFFFFF)), data)) & 0xFFFFFFFF


def crc64nvme(data, value=0):
    """CRC64-NVME (S3's CRC64NVME): reflected, init and xorout all ones; chains like crc32c."""
    return ~_crc_raw(2, ~(<uint64_t>(value & 0xFFFFFFFFFFFFFFFF)), data)


cdef dict _CRC_KINDS = {"crc32": 0, "crc32c": 1, "crc64nvme": 2}
CRC_KINDS = tuple(_CRC_KINDS)


cdef class Crc:
    """Streaming CRC of one kind ("crc32", "crc32c", "crc64nvme"); digest() is big-endian, as S3 sends it."""
    cdef int _code
    cdef uint64_t _value
    cdef uint64_t _mask
    cdef readonly str kind

    def __init__(self, kind, value=0):
        code = _CRC_KINDS.get(kind) if isinstance(kind, str) else None
        if code is None:
            raise ValueError(f"unknown CRC kind {kind!r}; expected one of {', '.join(CRC_KINDS)}")
        self._code = code
        self.kind = kind
        self._mask = 0xFFFFFFFFFFFFFFFF if code == 2 else 0xFFFFFFFF
        self._value = value & self._mask

    def update(self, data):
        # _value is the public CRC; the kernels work on its complement (the raw register).
        self._value = ~_crc_raw(self._code, ~self._value & self._mask, data) & self._mask

    def intdigest(self):
        return self._value

    def digest(self):
        return self._value.to_bytes(8 if self._code == 2 else 4, "big")

    def hexdigest(self):
        return self.digest().hex()

    def b64digest(self):
        return base64.b64encode(self.digest()).decode("ascii")

    def copy(self):
        return Crc(self.kind, self._value)


cdef str _hex(const unsigned char *p, int n):
    cdef char out[64]
    cdef int i
    for i in range(n):
        out[2 * i] = b"0123456789abcdef"[p[i] >> 4]
        out[2 * i + 1] = b"0123456789abcdef"[p[i] & 15]
    return out[:2 * n].decode("ascii")


cdef class Md5Xxh3:
    """MD5 (the ETag) and xxh3-64 (the integrity checksum) of one stream, fed by one update()."""
    cdef strato_md5_t _md5
    cdef XXH3_state_t *_xxh3  # points into _xxh3_space, 64-byte aligned
    cdef char _xxh3_space[STRATO_XXH3_SPACE]
    # Made by the first update that drops the GIL (as hashlib does): until then every call holds the
    # GIL from start to end and needs no lock, and most objects (small bodies) never make one.
    cdef PyThread_type_lock _lock

    def __cinit__(self, data=None):
        self._xxh3 = strato_xxh3_at(self._xxh3_space)
        if strato_md5_init(&self._md5) != 0 or XXH3_64bits_reset(self._xxh3) != 0:
            raise ValueError("could not initialise MD5/xxh3")
        if data is not None:
            self.update(data)

    def __dealloc__(self):
        strato_md5_clear(&self._md5)
        if self._lock != NULL:
            PyThread_free_lock(self._lock)

    cdef inline void _acquire(self):
        # Uncontended (the normal case): take it with the GIL held; else wait without the GIL.
        if self._lock != NULL and not PyThread_acquire_lock(self._lock, NOWAIT_LOCK):
            with nogil:
                PyThread_acquire_lock(self._lock, WAIT_LOCK)

    cdef inline void _release(self):
        if self._lock != NULL:
            PyThread_release_lock(self._lock)

    def update(self, data):
        cdef Py_buffer view
        cdef int rc
        PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
        if view.len >= _GIL_RELEASE and self._lock == NULL:
            self._lock = PyThread_allocate_lock()
            if self._lock == NULL:
                PyBuffer_Release(&view)
                raise MemoryError()
        self._acquire()
        if view.len >= _GIL_RELEASE:
            with nogil:
                rc = strato_md5xxh3_update(&self._md5, self._xxh3, <const unsigned char *>view.buf, view.len)
        else:
            rc = strato_md5xxh3_update(&self._md5, self._xxh3, <const unsigned char *>view.buf, view.len)
        self._release()
        PyBuffer_Release(&view)
        if rc != 0:
            raise ValueError("MD5/xxh3 update failed")

    cdef int _md5_final(self, unsigned char *out) except -1:
        cdef int rc
        self._acquire()
        rc = strato_md5_peek(&self._md5, out)
        self._release()
        if rc != 0:
            raise ValueError("MD5 final failed")
        return 0

    def md5_digest(self):
        cdef unsigned char out[16]
        self._md5_final(out)
        return out[:16]

    def md5_hexdigest(self):
        cdef unsigned char out[16]
        self._md5_final(out)
        return _hex(out, 16)

    cdef XXH64_hash_t _xxh3_final(self):
        cdef XXH64_hash_t h
        self._acquire()
        h = XXH3_64bits_digest(self._xxh3)
        self._release()
        return h

    def xxh3_intdigest(self):
        return self._xxh3_final()

    def xxh3_digest(self):
        cdef unsigned char out[8]
        cdef XXH64_hash_t h = self._xxh3_final()
        cdef int i
        for i in range(8):  # canonical form: big-endian, as xxhash's digest()
            out[i] = (h >> (56 - 8 * i)) & 0xFF
        return out[:8]

    def xxh3_hexdigest(self):
        cdef unsigned char out[8]
        cdef XXH64_hash_t h = self._xxh3_final()
        cdef int i
        for i in range(8):
            out[i] = (h >> (56 - 8 * i)) & 0xFF
        return _hex(out, 8)

    def copy(self):
        cdef int rc
        cdef Md5Xxh3 twin = Md5Xxh3.__new__(Md5Xxh3)
        self._acquire()
        rc = strato_md5_copy(&twin._md5, &self._md5)
        XXH3_copyState(twin._xxh3, self._xxh3)
        self._release()
        if rc != 0:
            raise ValueError("MD5 copy failed")
        return twin
