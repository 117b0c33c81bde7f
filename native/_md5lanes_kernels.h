/* MD5 block functions for native._md5lanes_c: one stream at a time (portable C), and sixteen
 * streams at once in the lanes of AVX-512 registers.
 *
 * MD5 is a chain of 64 dependent steps per 64-byte block, so one stream cannot go faster than the
 * latency of that chain (~4.5 cycles a byte here, OpenSSL's assembly included). Independent
 * streams can: the same step for sixteen of them is one instruction each on 32-bit lanes, with
 * VPROLD for the rotations and VPTERNLOGD for MD5's boolean functions, so sixteen blocks cost
 * about what one costs alone. A proxy hashing the ETags of many concurrent PUTs has such streams
 * (MinIO's md5-simd does the same for its S3 ETags).
 *
 * State layout for the lanes: st[word][lane], word 0..3 = A, B, C, D; lane i reads its blocks
 * from ptr[i]. Only the lanes set in `active` are read or changed.
 */
#ifndef STRATO_MD5LANES_KERNELS_H
#define STRATO_MD5LANES_KERNELS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define STRATO_MD5_X86 1
#endif

#define STRATO_MD5_LANES 16

static const uint32_t strato_md5_k[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

/* ---- one stream ---------------------------------------------------------------------------- */

static inline uint32_t strato_md5_rotl(uint32_t x, int s) { return (x << s) | (x >> (32 - s)); }

static inline uint32_t strato_md5_le32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#define STRATO_MD5_F(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define STRATO_MD5_G(x, y, z) ((y) ^ ((z) & ((x) ^ (y))))
#define STRATO_MD5_H(x, y, z) ((x) ^ (y) ^ (z))
#define STRATO_MD5_I(x, y, z) ((y) ^ ((x) | ~(z)))

static const unsigned char strato_md5_shift[4][4] = {
    {7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};

/* The message word step i reads (RFC 1321's order). */
static inline int strato_md5_word(int i) {
    if (i < 16) return i;
    if (i < 32) return (5 * i + 1) & 15;
    if (i < 48) return (3 * i + 5) & 15;
    return (7 * i) & 15;
}

/* The 64 steps of a block, as RFC 1321 writes them: four rounds of sixteen, in each a step
 * a = b + ((a + f(b, c, d) + X[k] + T[i]) <<< s) with the roles of a, b, c, d rotating. STEP is
 * the one-step macro of the scalar or the sixteen-lane code; every index is a constant there. */
#define STRATO_MD5_FOUR(STEP, f, i)                                                                \
    do {                                                                                           \
        STEP(f, a, b, c, d, (i));                                                                  \
        STEP(f, d, a, b, c, (i) + 1);                                                              \
        STEP(f, c, d, a, b, (i) + 2);                                                              \
        STEP(f, b, c, d, a, (i) + 3);                                                              \
    } while (0)
#define STRATO_MD5_64_STEPS(STEP, F, G, H, I)                                                      \
    do {                                                                                           \
        STRATO_MD5_FOUR(STEP, F, 0);  STRATO_MD5_FOUR(STEP, F, 4);                                 \
        STRATO_MD5_FOUR(STEP, F, 8);  STRATO_MD5_FOUR(STEP, F, 12);                                \
        STRATO_MD5_FOUR(STEP, G, 16); STRATO_MD5_FOUR(STEP, G, 20);                                \
        STRATO_MD5_FOUR(STEP, G, 24); STRATO_MD5_FOUR(STEP, G, 28);                                \
        STRATO_MD5_FOUR(STEP, H, 32); STRATO_MD5_FOUR(STEP, H, 36);                                \
        STRATO_MD5_FOUR(STEP, H, 40); STRATO_MD5_FOUR(STEP, H, 44);                                \
        STRATO_MD5_FOUR(STEP, I, 48); STRATO_MD5_FOUR(STEP, I, 52);                                \
        STRATO_MD5_FOUR(STEP, I, 56); STRATO_MD5_FOUR(STEP, I, 60);                                \
    } while (0)

#define STRATO_MD5_STEP(f, a, b, c, d, i)                                                          \
    do {                                                                                           \
        (a) += f((b), (c), (d)) + w[strato_md5_word(i)] + strato_md5_k[i];                         \
        (a) = strato_md5_rotl((a), strato_md5_shift[(i) >> 4][(i) & 3]) + (b);                     \
    } while (0)

/* `nblocks` consecutive 64-byte blocks of one stream into st[4] (A, B, C, D). */
static void strato_md5_blocks(uint32_t st[4], const unsigned char *p, size_t nblocks) {
    for (; nblocks; nblocks--, p += 64) {
        uint32_t w[16], a = st[0], b = st[1], c = st[2], d = st[3];
        int i;
        for (i = 0; i < 16; i++) w[i] = strato_md5_le32(p + 4 * i);
        STRATO_MD5_64_STEPS(STRATO_MD5_STEP, STRATO_MD5_F, STRATO_MD5_G, STRATO_MD5_H, STRATO_MD5_I);
        st[0] += a; st[1] += b; st[2] += c; st[3] += d;
    }
}

/* Runs of whole blocks of one stream: OpenSSL's assembly where its MD5_* interface is there (the
 * code hashlib runs, ~9 % faster here than the C above), the C above otherwise. MD5_Update on a
 * context with nothing buffered hands whole blocks straight to its block function; the context's
 * A-D are the chaining state and its counters are not used (the caller pads). */
#if defined(__has_include)
#if __has_include(<openssl/md5.h>)
#define OPENSSL_SUPPRESS_DEPRECATED 1 /* MD5_Update: deprecated in 3.0, present in every 3.x */
#include <openssl/opensslv.h>
#include <openssl/opensslconf.h>
#if !defined(OPENSSL_NO_DEPRECATED_3_0) && OPENSSL_VERSION_NUMBER < 0x40000000L
#define STRATO_MD5_OPENSSL 1
#endif
#endif
#endif

#ifdef STRATO_MD5_OPENSSL
#include <openssl/md5.h>
static const char strato_md5_run_api[] = "openssl";

static void strato_md5_blocks_one(uint32_t st[4], const unsigned char *p, size_t nblocks) {
    MD5_CTX c;
    memset(&c, 0, sizeof(c));
    c.A = st[0]; c.B = st[1]; c.C = st[2]; c.D = st[3];
    MD5_Update(&c, p, nblocks * 64);
    st[0] = c.A; st[1] = c.B; st[2] = c.C; st[3] = c.D;
}
#else
static const char strato_md5_run_api[] = "c";
#define strato_md5_blocks_one strato_md5_blocks
#endif

/* Each active lane through `nblocks` blocks, one lane after the other: a stream alone, and the
 * tier without AVX-512. */
static void strato_md5_lanes_scalar(uint32_t st[4][STRATO_MD5_LANES],
                                    const unsigned char *const ptr[STRATO_MD5_LANES],
                                    size_t nblocks, unsigned active) {
    int lane, j;
    for (lane = 0; lane < STRATO_MD5_LANES; lane++) {
        uint32_t one[4];
        if (!(active >> lane & 1)) continue;
        for (j = 0; j < 4; j++) one[j] = st[j][lane];
        strato_md5_blocks_one(one, ptr[lane], nblocks);
        for (j = 0; j < 4; j++) st[j][lane] = one[j];
    }
}

/* ---- sixteen streams ------------------------------------------------------------------------ */
#ifdef STRATO_MD5_X86
#define STRATO_MD5_AVX512 "avx512f"

/* Word w (0..15) of the current block of every active lane: two gathers of eight 32-bit words
 * from eight 64-bit addresses each (inactive lanes read nothing and give 0). */
__attribute__((target(STRATO_MD5_AVX512)))
static inline __m512i strato_md5_gather(__m512i lo_addr, __m512i hi_addr, __mmask16 active, int w) {
    const __m512i off = _mm512_set1_epi64(4 * w);
    const __m256i lo = _mm512_mask_i64gather_epi32(_mm256_setzero_si256(), (__mmask8)active,
                                                   _mm512_add_epi64(lo_addr, off), (const void *)0, 1);
    const __m256i hi = _mm512_mask_i64gather_epi32(_mm256_setzero_si256(), (__mmask8)(active >> 8),
                                                   _mm512_add_epi64(hi_addr, off), (const void *)0, 1);
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

/* VPTERNLOGD truth tables (bit (x<<2 | y<<1 | z) of the immediate is f(x, y, z)). */
#define STRATO_MD5X_F 0xCA  /* x ? y : z */
#define STRATO_MD5X_G 0xE4  /* z ? x : y */
#define STRATO_MD5X_H 0x96  /* x ^ y ^ z */
#define STRATO_MD5X_I 0x39  /* y ^ (x | ~z) */

#define STRATO_MD5X_STEP(imm, a, b, c, d, i)                                                      \
    do {                                                                                           \
        (a) = _mm512_add_epi32((a), _mm512_add_epi32(                                              \
            _mm512_ternarylogic_epi32((b), (c), (d), (imm)),                                       \
            _mm512_add_epi32(m[strato_md5_word(i)], _mm512_set1_epi32((int)strato_md5_k[i]))));    \
        (a) = _mm512_add_epi32(_mm512_rolv_epi32((a), _mm512_set1_epi32(                           \
            strato_md5_shift[(i) >> 4][(i) & 3])), (b));                                           \
    } while (0)

__attribute__((target(STRATO_MD5_AVX512)))
static void strato_md5_lanes_avx512(uint32_t st[4][STRATO_MD5_LANES],
                                    const unsigned char *const ptr[STRATO_MD5_LANES],
                                    size_t nblocks, unsigned active) {
    const __mmask16 k = (__mmask16)active;
    __m512i a = _mm512_loadu_si512(st[0]), b = _mm512_loadu_si512(st[1]);
    __m512i c = _mm512_loadu_si512(st[2]), d = _mm512_loadu_si512(st[3]);
    __m512i lo_addr = _mm512_loadu_si512((const void *)ptr);
    __m512i hi_addr = _mm512_loadu_si512((const void *)(ptr + 8));
    const __m512i step = _mm512_set1_epi64(64);
    for (; nblocks; nblocks--) {
        const __m512i a0 = a, b0 = b, c0 = c, d0 = d;
        __m512i m[16];
        int w;
        for (w = 0; w < 16; w++) m[w] = strato_md5_gather(lo_addr, hi_addr, k, w);
        STRATO_MD5_64_STEPS(STRATO_MD5X_STEP, STRATO_MD5X_F, STRATO_MD5X_G, STRATO_MD5X_H,
                            STRATO_MD5X_I);
        /* inactive lanes keep their state */
        a = _mm512_mask_add_epi32(a0, k, a, a0); b = _mm512_mask_add_epi32(b0, k, b, b0);
        c = _mm512_mask_add_epi32(c0, k, c, c0); d = _mm512_mask_add_epi32(d0, k, d, d0);
        lo_addr = _mm512_add_epi64(lo_addr, step);
        hi_addr = _mm512_add_epi64(hi_addr, step);
    }
    _mm512_storeu_si512(st[0], a); _mm512_storeu_si512(st[1], b);
    _mm512_storeu_si512(st[2], c); _mm512_storeu_si512(st[3], d);
}
#endif

/* 1 when the sixteen-lane kernel runs (the CPU has AVX-512F and `use` asks for it), else 0. */
static int strato_md5_lanes_wide = 0;
/* Calls of the sixteen-lane kernel so far (tests check the wide path really ran). */
static unsigned long long strato_md5_wide_calls = 0;

static int strato_md5_lanes_set_wide(int use) {
#ifdef STRATO_MD5_X86
    strato_md5_lanes_wide = use && __builtin_cpu_supports("avx512f");
#else
    (void)use;
    strato_md5_lanes_wide = 0;
#endif
    return strato_md5_lanes_wide;
}

static inline void strato_md5_lanes(uint32_t st[4][STRATO_MD5_LANES],
                                    const unsigned char *const ptr[STRATO_MD5_LANES],
                                    size_t nblocks, unsigned active) {
#ifdef STRATO_MD5_X86
    /* one stream alone is faster in the scalar chain (~620 MB/s here with OpenSSL's) than in one
     * lane of the wide kernel (~430: the gathers); from two on the lanes win (2: ~850, 16: ~5900) */
    if (strato_md5_lanes_wide && (active & (active - 1))) {
        __atomic_add_fetch(&strato_md5_wide_calls, 1, __ATOMIC_RELAXED);
        strato_md5_lanes_avx512(st, ptr, nblocks, active);
        return;
    }
#endif
    strato_md5_lanes_scalar(st, ptr, nblocks, active);
}

/* ---- many streams, each fed in pieces --------------------------------------------------------- */

/* The bytes of a stream after its last whole block, waiting for more (each hash of a stream has
 * its own: the MD5 and the SHA-256 lanes walk the same pieces separately). */
typedef struct {
    unsigned char bytes[64];
    unsigned len;
} strato_carry_t;

typedef struct {
    uint32_t st[4];           /* A, B, C, D after every whole block hashed so far */
    uint64_t length;          /* bytes fed, hashed or not */
    strato_carry_t carry;
} strato_md5_stream_t;

typedef struct {
    const unsigned char *p;
    size_t n;
} strato_md5_piece_t;

static void strato_md5_stream_init(strato_md5_stream_t *s) {
    s->st[0] = 0x67452301; s->st[1] = 0xefcdab89; s->st[2] = 0x98badcfe; s->st[3] = 0x10325476;
    s->length = 0;
    s->carry.len = 0;
}

typedef struct {
    strato_md5_stream_t *s;                 /* (the MD5 lanes' stream; the SHA-256 lanes' own) */
    strato_carry_t *carry;                  /* the carry of the hash this lane computes */
    const strato_md5_piece_t *piece, *end;  /* the piece being read, and the end of the job's */
    size_t off;                             /* bytes of *piece already taken */
    const unsigned char *seg;               /* the run of whole blocks the lane hashes now */
    size_t left;                            /* ... and how many blocks of it are left */
} strato_md5_lane_t;

/* Point the lane at its stream's next run of whole blocks: inside a piece where it can, else the
 * stream's carry once the pieces have filled it. 0 when the job has no whole block left (what
 * remains is in the carry). The carry is only refilled after the kernel has hashed it. */
static int strato_md5_next_run(strato_md5_lane_t *lane) {
    strato_carry_t *c = lane->carry;
    while (lane->piece < lane->end) {
        const unsigned char *p = lane->piece->p + lane->off;
        const size_t n = lane->piece->n - lane->off;
        size_t take;
        if (c->len) {
            take = 64 - c->len < n ? 64 - c->len : n;
            memcpy(c->bytes + c->len, p, take);
            c->len += (unsigned)take;
        } else if (n >= 64) {
            take = n & ~(size_t)63;
        } else {
            take = n;
            memcpy(c->bytes, p, n);
            c->len = (unsigned)n;
        }
        lane->off += take;
        if (lane->off == lane->piece->n) {
            lane->piece++;
            lane->off = 0;
        }
        if (c->len == 64) {
            c->len = 0;
            lane->seg = c->bytes;
            lane->left = 1;
            return 1;
        }
        if (!c->len && take) {  /* a run inside the piece */
            lane->seg = p;
            lane->left = take / 64;
            return 1;
        }
    }
    return 0;
}

/* Hash the whole blocks of every job: stream i gets pieces[first[i] .. first[i + 1]) appended
 * (their bytes must already be counted in its length). Up to sixteen streams run side by side;
 * a lane whose stream is done takes the next one. */
static void strato_md5_run(strato_md5_stream_t *const *streams, size_t nstreams,
                           const strato_md5_piece_t *pieces, const size_t *first) {
    strato_md5_lane_t lanes[STRATO_MD5_LANES];
    uint32_t st[4][STRATO_MD5_LANES] __attribute__((aligned(64)));
    const unsigned char *ptr[STRATO_MD5_LANES] __attribute__((aligned(64)));
    unsigned active = 0;
    size_t next = 0, k;
    int i, j;
    memset(ptr, 0, sizeof(ptr));
    memset(st, 0, sizeof(st));
    for (;;) {
        for (i = 0; i < STRATO_MD5_LANES && next < nstreams; i++) {
            strato_md5_lane_t *lane = &lanes[i];
            if (active >> i & 1) continue;
            while (next < nstreams) {
                lane->s = streams[next];
                lane->carry = &streams[next]->carry;
                lane->piece = pieces + first[next];
                lane->end = pieces + first[next + 1];
                lane->off = 0;
                next++;
                if (strato_md5_next_run(lane)) {
                    for (j = 0; j < 4; j++) st[j][i] = lane->s->st[j];
                    active |= 1u << i;
                    break;
                }
            }
        }
        if (!active) return;
        k = SIZE_MAX;
        for (i = 0; i < STRATO_MD5_LANES; i++)
            if (active >> i & 1) {
                ptr[i] = lanes[i].seg;
                if (lanes[i].left < k) k = lanes[i].left;
            }
        strato_md5_lanes(st, ptr, k, active);
        for (i = 0; i < STRATO_MD5_LANES; i++) {
            strato_md5_lane_t *lane = &lanes[i];
            if (!(active >> i & 1)) continue;
            lane->seg += 64 * k;
            lane->left -= k;
            if (lane->left == 0 && !strato_md5_next_run(lane)) {
                for (j = 0; j < 4; j++) lane->s->st[j] = st[j][i];
                active &= ~(1u << i);
                ptr[i] = NULL;
            }
        }
    }
}

/* The digest of everything fed to `s` (all of it hashed or in the carry); `s` stays open. */
static void strato_md5_stream_final(const strato_md5_stream_t *s, unsigned char out[16]) {
    unsigned char tail[128];
    uint32_t st[4];
    size_t n = s->carry.len, total;
    uint64_t bits = s->length * 8;
    int i;
    memcpy(st, s->st, sizeof(st));
    memcpy(tail, s->carry.bytes, n);
    tail[n++] = 0x80;
    total = n <= 56 ? 64 : 128;
    memset(tail + n, 0, total - n);
    for (i = 0; i < 8; i++) tail[total - 8 + i] = (unsigned char)(bits >> (8 * i));
    strato_md5_blocks(st, tail, total / 64);
    for (i = 0; i < 16; i++) out[i] = (unsigned char)(st[i / 4] >> (8 * (i % 4)));
}

#endif
