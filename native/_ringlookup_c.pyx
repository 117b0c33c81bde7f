# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled twin of native/_ringlookup_py.py: hash, partition and primaries in one C call.

The path is assembled in a C buffer straight from the str's cached UTF-8 (no temporary bytes
objects) and hashed with xxh3 from libxxhash's header, inlined (XXH_INLINE_ALL). Where the header
is missing at build time the module still builds and hashes through the xxhash package instead
(C_XXH3 is then False), so the build never depends on libxxhash-dev. The GIL is held: a lookup is
a few hundred nanoseconds, less than releasing and re-taking it would cost.
"""
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.exc cimport PyErr_Clear
from cpython.tuple cimport PyTuple_GET_ITEM
from cpython.unicode cimport PyUnicode_Check
from libc.stdint cimport uint16_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

import xxhash

cdef extern from "Python.h":
    const char* PyUnicode_AsUTF8AndSize(object unicode, Py_ssize_t* size)
    bint PyBytes_Check(object o)

cdef extern from *:
    """
    #if defined(__has_include)
    #  if __has_include(<xxhash.h>)
    #    define XXH_INLINE_ALL
    #    include <xxhash.h>
    #    define STRATO_HAVE_XXH3 1
    #  endif
    #endif
    #ifndef STRATO_HAVE_XXH3
    #  define STRATO_HAVE_XXH3 0
    static unsigned long long XXH3_64bits(const void *p, size_t n) { (void)p; (void)n; return 0; }
    #endif
    """
    int STRATO_HAVE_XXH3
    unsigned long long XXH3_64bits(const void* data, size_t length) nogil

IMPLEMENTATION = "c"
C_XXH3 = bool(STRATO_HAVE_XXH3)
MAX_PART_POWER = 22
DEF STACK_KEY = 1024  # longer paths (rare) use a heap buffer

_xxh3_64 = xxhash.xxh3_64_intdigest


def _ring_error(message):
    """ring.errors.RingError(message), imported on first use: importing the ring package here
    at module load would be circular (ring.lookup imports native.ringlookup, which loads us)."""
    from ring.errors import RingError as error
    return error(message)


cdef object _encoded(object value):
    """value as UTF-8 bytes when its cached UTF-8 cannot be used (surrogates) or it is bytes."""
    if PyBytes_Check(value):
        return value
    if isinstance(value, bytearray):
        return bytes(value)
    if PyUnicode_Check(value):
        try:
            return (<str>value).encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            raise _ring_error(f"path component {value!r} cannot be encoded as UTF-8") from None
    raise _ring_error(f"path components must be str or bytes, got {type(value).__name__}")


cdef class RingTable:
    cdef readonly int part_power
    cdef readonly int replica_count
    cdef int shift
    cdef Py_ssize_t parts
    cdef const uint16_t[::1] table  # replica-major: table[r * parts + part]; holds `flat`
    cdef tuple devs
    cdef bytes prefix
    cdef bytes suffix

    def __init__(self, part_power, replica2part2dev, devices, hash_prefix="",
                 hash_suffix=""):
        import array
        devs = tuple(devices)
        if isinstance(part_power, bool) or not isinstance(part_power, int) or \
                not 1 <= part_power <= MAX_PART_POWER:
            raise _ring_error(f"part_power must be an integer between 1 and {MAX_PART_POWER}")
        if not replica2part2dev:
            raise _ring_error("a ring needs at least one replica")
        flat = array.array("H")
        for row in replica2part2dev:
            if len(row) != 1 << part_power:
                raise _ring_error(f"a replica row has {len(row)} partitions, expected "
                                f"{1 << part_power}")
            for dev_id in set(row):
                if not 0 <= dev_id < len(devs) or devs[dev_id] is None:
                    raise _ring_error(f"partitions are assigned to missing device {dev_id}")
            flat.extend(array.array("H", row))
        self.part_power = part_power
        self.replica_count = len(replica2part2dev)
        self.shift = 64 - part_power
        self.parts = 1 << part_power
        self.table = flat
        self.devs = devs
        self.prefix = _encoded(hash_prefix)
        self.suffix = _encoded(hash_suffix)

    cdef Py_ssize_t _part(self, object account, object container, object obj) except -1:
        cdef const char* pieces[3]
        cdef Py_ssize_t sizes[3]
        cdef object keep0 = None, keep1 = None, keep2 = None  # fallback bytes stay alive
        cdef int count = 1
        cdef Py_ssize_t total, pos, i
        cdef char stack[STACK_KEY]
        cdef char* buf
        cdef uint64_t h
        if obj is not None and container is None:
            raise _ring_error("a container is required when an object is given")
        if container is not None:
            count = 3 if obj is not None else 2
        for i in range(count):
            value = account if i == 0 else (container if i == 1 else obj)
            pieces[i] = NULL
            if PyUnicode_Check(value):
                pieces[i] = PyUnicode_AsUTF8AndSize(value, &sizes[i])
                if pieces[i] == NULL:
                    PyErr_Clear()
            if pieces[i] == NULL:
                b = _encoded(value)
                if i == 0:
                    keep0 = b
                elif i == 1:
                    keep1 = b
                else:
                    keep2 = b
                pieces[i] = PyBytes_AS_STRING(b)
                sizes[i] = PyBytes_GET_SIZE(b)
        total = PyBytes_GET_SIZE(self.prefix) + PyBytes_GET_SIZE(self.suffix) + count
        for i in range(count):
            total += sizes[i]
        if total <= STACK_KEY:
            buf = &stack[0]
        else:
            buf = <char*>malloc(total)
        if buf == NULL:
            raise MemoryError()
        pos = PyBytes_GET_SIZE(self.prefix)
        memcpy(buf, PyBytes_AS_STRING(self.prefix), pos)
        for i in range(count):
            buf[pos] = b"/"
            memcpy(buf + pos + 1, pieces[i], sizes[i])
            pos += 1 + sizes[i]
        memcpy(buf + pos, PyBytes_AS_STRING(self.suffix), PyBytes_GET_SIZE(self.suffix))
        try:
            if STRATO_HAVE_XXH3:
                h = XXH3_64bits(buf, total)
            else:
                h = _xxh3_64(buf[:total])
        finally:
            if buf != &stack[0]:
                free(buf)
        return <Py_ssize_t>(h >> self.shift)

    cdef list _nodes(self, Py_ssize_t part):
        cdef list out = []
        cdef int r
        for r in range(self.replica_count):
            out.append(<object>PyTuple_GET_ITEM(self.devs, self.table[r * self.parts + part]))
        return out

    def get_part(self, account, container=None, obj=None):
        return self._part(account, container, obj)

    def get_nodes(self, account, container=None, obj=None):
        cdef Py_ssize_t part = self._part(account, container, obj)
        return part, self._nodes(part)

    def get_dev_ids(self, account, container=None, obj=None):
        cdef Py_ssize_t part = self._part(account, container, obj)
        cdef int r
        return part, tuple([self.table[r * self.parts + part] for r in range(self.replica_count)])

    def get_part_nodes(self, part):
        if isinstance(part, bool) or not isinstance(part, int) or not 0 <= part < self.parts:
            raise _ring_error(f"partition {part!r} is out of range 0..{self.parts - 1}")
        return self._nodes(part)
