# cython: language_level=3
"""Compiled twin of native._md5lanes_py: MD5 of many streams, hashed side by side in batches.

A stream's update() only keeps the piece (and counts it); flush() hashes every held piece of
every stream of the pool in one C call (_md5lanes_kernels.h: sixteen streams per AVX-512 pass,
the scalar chain where one stream is alone), without the GIL, then the SHA-256 of the streams
that asked for one (_md5lanes_sha256.h: up to four interleaved with SHA-NI). A digest flushes first, so the
streams that were still receiving go along in the same pass. Pieces of at least COALESCE bytes
that are bytes (immutable) are referenced until hashed; smaller ones and other buffers are
copied, small ones into one buffer per stream, so a client's tiny pieces cost no per-piece
overhead. Without the wide kernel nothing is gained by waiting: every update hashes at once.
A pool belongs to the thread that made it; a call from any other raises RuntimeError.
"""
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_CheckExact, PyBytes_GET_SIZE
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.pythread cimport PyThread_get_thread_ident
from libc.stdint cimport uint32_t, uint64_t

cdef extern from "_md5lanes_kernels.h" nogil:
    ctypedef struct strato_md5_stream_t:
        uint64_t length
    ctypedef struct strato_md5_piece_t:
        const unsigned char *p
        size_t n
    void strato_md5_stream_init(strato_md5_stream_t *s)
    void strato_md5_run(strato_md5_stream_t **streams, size_t nstreams,
                        const strato_md5_piece_t *pieces, const size_t *first)
    void strato_md5_stream_final(const strato_md5_stream_t *s, unsigned char *out)
    int strato_md5_lanes_set_wide(int use)
    int strato_md5_lanes_wide
    const char *strato_md5_run_api
    unsigned long long strato_md5_wide_calls

cdef extern from "_md5lanes_sha256.h" nogil:
    ctypedef struct strato_sha256_stream_t:
        pass
    void strato_sha256_stream_init(strato_sha256_stream_t *s)
    void strato_sha256_run(strato_sha256_stream_t **streams, size_t nstreams,
                           const strato_md5_piece_t *pieces, const size_t *first)
    void strato_sha256_stream_final(const strato_sha256_stream_t *s, uint64_t length,
                                    unsigned char *out)
    int strato_sha256_has_ni()
    unsigned long long strato_sha256_ni_calls

cdef extern from "_md5lanes_xxh3.h" nogil:
    ctypedef struct XXH3_state_t:
        pass
    ctypedef unsigned long long XXH64_hash_t
    XXH3_state_t *XXH3_createState()
    int XXH3_freeState(XXH3_state_t *state)
    int XXH3_64bits_reset(XXH3_state_t *state)
    int XXH3_64bits_update(XXH3_state_t *state, const void *p, size_t n)
    XXH64_hash_t XXH3_64bits_digest(const XXH3_state_t *state)

# When a pool hashes: a digest is asked, one stream holds more than STREAM_LIMIT bytes, or all
# hold more than HOLD_LIMIT. A batch runs on the caller's thread (the proxy's event loop) and
# lasts about as long as its longest stream takes in one lane (~2 ms for 1 MiB), however many
# others go along (sixteen 1 MiB streams take ~2.7 ms); the width of a batch is how many
# streams hold pieces, so the limits bound memory and loop stalls, not the gain.
STREAM_LIMIT = 1024 * 1024
HOLD_LIMIT = 16 * 1024 * 1024
# Pieces below this size are copied into one buffer per stream instead of being kept one by one.
COALESCE = 4096
# xxh3 runs at update() (the piece is in cache then; ~30 GB/s): above this many bytes without the GIL
XXH3_GIL_RELEASE = 65536


def set_wide(bint use=True):
    """Use the sixteen-lane kernel where the CPU has AVX-512F (tests and benchmarks turn it off to
    run the scalar tier). Returns whether it is live."""
    return bool(strato_md5_lanes_set_wide(use))


set_wide(True)
RUN_API = strato_md5_run_api.decode("ascii")  # a stream alone: "openssl" (its assembly) or "c"


def is_wide():
    """Whether the sixteen-lane kernel is live now."""
    return bool(strato_md5_lanes_wide)


def wide_calls():
    """How many times the sixteen-lane kernel has run in this process (for tests)."""
    return strato_md5_wide_calls


def sha256_interleaved():
    """Whether two or more SHA-256 streams of a batch are hashed interleaved (SHA-NI)."""
    return bool(strato_sha256_has_ni())


def sha256_interleaved_calls():
    """How many times an interleaved SHA-256 kernel has run in this process (for tests)."""
    return strato_sha256_ni_calls


cdef class Md5Lanes:
    """The streams of one thread: made there, used there only (native.md5lanes.pool())."""
    cdef list _waiting  # streams holding pieces, in the order they got their first
    cdef Py_ssize_t _held
    cdef readonly Py_ssize_t hold_limit, stream_limit
    cdef bint _running
    cdef unsigned long _owner
    # how wide the batches were: flush() calls that hashed something, streams and bytes hashed
    cdef readonly unsigned long long batches, batch_streams, batch_bytes

    def __init__(self, Py_ssize_t hold_limit=HOLD_LIMIT, Py_ssize_t stream_limit=STREAM_LIMIT):
        if hold_limit < 0 or stream_limit < 0:
            raise ValueError("hold_limit and stream_limit must be >= 0")
        self._waiting = []
        self._held = 0
        self.hold_limit = hold_limit
        self.stream_limit = stream_limit
        self._owner = PyThread_get_thread_ident()

    cdef inline int _check_thread(self) except -1:
        if PyThread_get_thread_ident() != self._owner:
            raise RuntimeError("an Md5Lanes pool is used by the thread that made it only")
        if self._running:
            raise RuntimeError("Md5Lanes re-entered while it hashes")
        return 0

    @property
    def held(self):
        """Bytes of pieces kept, not hashed yet."""
        return self._held

    def stream(self, data=None, bint xxh3=False, bint sha256=False):
        """A new MD5 stream (and xxh3-64, SHA-256 of the same bytes when asked for)."""
        self._check_thread()
        cdef Md5Stream s = Md5Stream.__new__(Md5Stream, self, xxh3, sha256)
        if data is not None:
            s.update(data)
        return s

    def flush(self):
        """Hash every piece held by every stream of the pool."""
        self._check_thread()
        cdef list waiting = self._waiting
        cdef Py_ssize_t nstreams = len(waiting), npieces = 0, i, j
        cdef Md5Stream s
        cdef strato_md5_stream_t **streams
        cdef strato_sha256_stream_t **sha_streams
        cdef strato_md5_piece_t *pieces
        cdef size_t *first
        cdef bint sha = False
        if nstreams == 0:
            return
        for s in waiting:
            s._seal_small()
            npieces += len(s._pieces)
            sha = sha or s._sha256 != NULL
        streams = <strato_md5_stream_t **>PyMem_Malloc(nstreams * sizeof(void *))
        sha_streams = <strato_sha256_stream_t **>PyMem_Malloc(nstreams * sizeof(void *))
        pieces = <strato_md5_piece_t *>PyMem_Malloc(npieces * sizeof(strato_md5_piece_t) + 1)
        first = <size_t *>PyMem_Malloc((nstreams + 1) * sizeof(size_t))
        if streams == NULL or sha_streams == NULL or pieces == NULL or first == NULL:
            PyMem_Free(streams); PyMem_Free(sha_streams); PyMem_Free(pieces); PyMem_Free(first)
            raise MemoryError()
        j = 0
        for i in range(nstreams):
            s = waiting[i]
            streams[i] = &s._state
            sha_streams[i] = s._sha256  # NULL: no SHA-256 asked for
            first[i] = j
            for piece in s._pieces:
                pieces[j].p = <const unsigned char *>PyBytes_AS_STRING(piece)
                pieces[j].n = <size_t>PyBytes_GET_SIZE(piece)
                j += 1
        first[nstreams] = j
        # the pieces stay referenced by the streams (and `waiting` by this frame) until the end
        self._running = True
        try:
            with nogil:
                strato_md5_run(streams, nstreams, pieces, first)
                if sha:  # the same pieces again, while the batch holds them (_md5lanes_sha256.h)
                    strato_sha256_run(sha_streams, nstreams, pieces, first)
        finally:
            self._running = False
            PyMem_Free(streams); PyMem_Free(sha_streams); PyMem_Free(pieces); PyMem_Free(first)
        for s in waiting:
            s._pieces = []
            s._held = 0
            s._waiting = False
        self._waiting = []
        self.batches += 1
        self.batch_streams += nstreams
        self.batch_bytes += self._held
        self._held = 0


cdef class Md5Stream:
    """MD5 (and optionally xxh3-64 and SHA-256) of one stream; made by Md5Lanes.stream()."""
    cdef strato_md5_stream_t _state
    cdef list _pieces     # bytes, in order, not hashed yet (the last may be followed by _small)
    cdef bytearray _small  # pieces under COALESCE bytes that came after _pieces, joined
    cdef Py_ssize_t _held  # bytes of _pieces and _small
    cdef bint _waiting
    cdef Md5Lanes _lanes
    cdef XXH3_state_t *_xxh3
    cdef strato_sha256_stream_t *_sha256  # hashed with the MD5, in the pool's batches

    def __cinit__(self, Md5Lanes lanes not None, bint xxh3, bint sha256=False):
        strato_md5_stream_init(&self._state)
        self._pieces = []
        self._lanes = lanes
        if xxh3:
            self._xxh3 = XXH3_createState()
            if self._xxh3 == NULL or XXH3_64bits_reset(self._xxh3) != 0:
                raise MemoryError()
        if sha256:
            self._sha256 = <strato_sha256_stream_t *>PyMem_Malloc(sizeof(strato_sha256_stream_t))
            if self._sha256 == NULL:
                raise MemoryError()
            strato_sha256_stream_init(self._sha256)

    def __dealloc__(self):
        if self._xxh3 != NULL:
            XXH3_freeState(self._xxh3)
        PyMem_Free(self._sha256)

    cdef inline void _seal_small(self):
        if self._small is not None:
            self._pieces.append(bytes(self._small))
            self._small = None

    def update(self, data):
        cdef Md5Lanes lanes = self._lanes
        cdef Py_ssize_t n
        cdef const char *p
        lanes._check_thread()
        if not PyBytes_CheckExact(data):
            data = bytes(memoryview(data))  # may change before it is hashed: keep a copy
        n = PyBytes_GET_SIZE(data)
        if n == 0:
            return
        if self._xxh3 != NULL:
            p = PyBytes_AS_STRING(data)
            if n >= XXH3_GIL_RELEASE:
                with nogil:
                    XXH3_64bits_update(self._xxh3, p, <size_t>n)
            else:
                XXH3_64bits_update(self._xxh3, p, <size_t>n)
        if n < COALESCE:
            if self._small is None:
                self._small = bytearray(data)
            else:
                self._small += data
            if len(self._small) >= COALESCE:
                self._seal_small()
        else:
            self._seal_small()
            self._pieces.append(data)
        self._held += n
        self._state.length += <uint64_t>n
        if not self._waiting:
            self._waiting = True
            lanes._waiting.append(self)
        lanes._held += n
        if not strato_md5_lanes_wide or self._held > lanes.stream_limit \
                or lanes._held > lanes.hold_limit:
            lanes.flush()

    def discard(self):
        """Drop what the stream holds, unhashed (its PUT failed): the pool neither keeps nor
        hashes it. The stream then starts over, empty."""
        cdef Md5Lanes lanes = self._lanes
        lanes._check_thread()
        if self._waiting:
            lanes._waiting.remove(self)
            lanes._held -= self._held
            self._waiting = False
        self._pieces = []
        self._small = None
        self._held = 0
        strato_md5_stream_init(&self._state)
        if self._xxh3 != NULL:
            XXH3_64bits_reset(self._xxh3)
        if self._sha256 != NULL:
            strato_sha256_stream_init(self._sha256)

    cdef _final(self, unsigned char *out):
        if self._waiting:
            self._lanes.flush()
        strato_md5_stream_final(&self._state, out)

    def md5_digest(self):
        cdef unsigned char out[16]
        self._final(out)
        return out[:16]

    def md5_hexdigest(self):
        cdef unsigned char out[16]
        self._final(out)
        return out[:16].hex()

    cdef _sha256_final(self, unsigned char *out):
        if self._sha256 == NULL:
            raise ValueError("this stream was made without sha256")
        if self._waiting:
            self._lanes.flush()
        strato_sha256_stream_final(self._sha256, self._state.length, out)

    def sha256_digest(self):
        cdef unsigned char out[32]
        self._sha256_final(out)
        return out[:32]

    def sha256_hexdigest(self):
        cdef unsigned char out[32]
        self._sha256_final(out)
        return out[:32].hex()

    cdef XXH64_hash_t _xxh3_value(self) except? 0:
        if self._xxh3 == NULL:
            raise ValueError("this stream was made without xxh3")
        return XXH3_64bits_digest(self._xxh3)

    def xxh3_intdigest(self):
        return self._xxh3_value()

    def xxh3_hexdigest(self):
        return format(self._xxh3_value(), "016x")

    @property
    def length(self):
        """Bytes fed so far."""
        return self._state.length
