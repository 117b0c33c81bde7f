/* SHA-256 for native._md5lanes_c: the streams of a pool that ask for it (an S3 PUT's signed
 * payload hash, which SigV4 over HTTP requires of every body byte) are hashed in the same flush
 * as their MD5s, over the same held pieces.
 *
 * SHA-NI's rounds, like MD5's steps, are one dependent chain per stream: one stream alone leaves
 * the unit idle most of the time (OpenSSL's assembly: ~630-670 us a MiB here). Two to four
 * streams whose rounds are interleaved in one loop fill it: ~520-560 us a MiB each (measured
 * 2026-11-22 in C on 1 MiB streams; three or four gain no more than two, but none loses). The
 * lanes below take up to four streams at a time; a stream alone, or every stream on a CPU
 * without SHA-NI, runs OpenSSL's.
 *
 * The SHA-NI code is legacy-SSE encoded (there is no VEX form) and compiled without AVX: mixed
 * with AVX-512 code in one function it ran 100 times slower here.
 */
#ifndef STRATO_MD5LANES_SHA256_H
#define STRATO_MD5LANES_SHA256_H

#include "_md5lanes_kernels.h"

#define STRATO_SHA_LANES 4

typedef struct {
    uint32_t h[8];          /* the chaining state after every whole block hashed so far */
    strato_carry_t carry;   /* (the length is the MD5 stream's: the same bytes) */
} strato_sha256_stream_t;

static const uint32_t strato_sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static void strato_sha256_stream_init(strato_sha256_stream_t *s) {
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, iv, sizeof(iv));
    s->carry.len = 0;
}

/* ---- one stream ---------------------------------------------------------------------------- */

static inline uint32_t strato_sha256_rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static inline uint32_t strato_sha256_be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* FIPS 180-4's block function in C: where neither OpenSSL's header nor SHA-NI is there. */
static void strato_sha256_blocks_c(uint32_t h[8], const unsigned char *p, size_t nblocks) {
    for (; nblocks; nblocks--, p += 64) {
        uint32_t w[64], v[8];
        int i;
        for (i = 0; i < 16; i++) w[i] = strato_sha256_be32(p + 4 * i);
        for (i = 16; i < 64; i++) {
            const uint32_t s0 = strato_sha256_rotr(w[i - 15], 7) ^ strato_sha256_rotr(w[i - 15], 18)
                                ^ (w[i - 15] >> 3);
            const uint32_t s1 = strato_sha256_rotr(w[i - 2], 17) ^ strato_sha256_rotr(w[i - 2], 19)
                                ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        memcpy(v, h, sizeof(v));
        for (i = 0; i < 64; i++) {
            const uint32_t e = v[4], a = v[0];
            const uint32_t t1 = v[7] + (strato_sha256_rotr(e, 6) ^ strato_sha256_rotr(e, 11)
                                        ^ strato_sha256_rotr(e, 25))
                                + ((e & v[5]) ^ (~e & v[6])) + strato_sha256_k[i] + w[i];
            const uint32_t t2 = (strato_sha256_rotr(a, 2) ^ strato_sha256_rotr(a, 13)
                                 ^ strato_sha256_rotr(a, 22))
                                + ((a & v[1]) ^ (a & v[2]) ^ (v[1] & v[2]));
            memmove(v + 1, v, 7 * sizeof(uint32_t));
            v[4] += t1;
            v[0] = t1 + t2;
        }
        for (i = 0; i < 8; i++) h[i] += v[i];
    }
}

/* Runs of whole blocks of one stream: OpenSSL's assembly (hashlib's code) where its SHA256_*
 * interface is there, as for MD5 (_md5lanes_kernels.h): SHA256_Update on a context with nothing
 * buffered hands whole blocks straight to its block function; the caller pads. */
#if defined(__has_include)
#if __has_include(<openssl/sha.h>) && defined(STRATO_MD5_OPENSSL)
#include <openssl/sha.h>
#define STRATO_SHA256_OPENSSL 1
#endif
#endif

#ifdef STRATO_SHA256_OPENSSL
static void strato_sha256_blocks_one(uint32_t h[8], const unsigned char *p, size_t nblocks) {
    SHA256_CTX c;
    memset(&c, 0, sizeof(c));
    memcpy(c.h, h, 8 * sizeof(uint32_t));
    c.md_len = SHA256_DIGEST_LENGTH;
    SHA256_Update(&c, p, nblocks * 64);
    memcpy(h, c.h, 8 * sizeof(uint32_t));
}
#else
#define strato_sha256_blocks_one strato_sha256_blocks_c
#endif

/* ---- two to four streams, interleaved (SHA-NI) --------------------------------------------- */
#ifdef STRATO_MD5_X86
#include <cpuid.h>
#define STRATO_SHA_NI __attribute__((target("sha,sse4.1,ssse3")))

/* h[0..7] <-> the two registers SHA256RNDS2 works on (ABEF and CDGH). */
STRATO_SHA_NI static inline void strato_sha256_ni_load(const uint32_t h[8], __m128i *abef,
                                                       __m128i *cdgh) {
    __m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[0]), 0xB1);
    __m128i u = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[4]), 0x1B);
    *abef = _mm_alignr_epi8(t, u, 8);
    *cdgh = _mm_blend_epi16(u, t, 0xF0);
}

STRATO_SHA_NI static inline void strato_sha256_ni_store(uint32_t h[8], __m128i abef, __m128i cdgh) {
    __m128i t = _mm_shuffle_epi32(abef, 0x1B);
    cdgh = _mm_shuffle_epi32(cdgh, 0xB1);
    _mm_storeu_si128((__m128i *)&h[0], _mm_blend_epi16(t, cdgh, 0xF0));
    _mm_storeu_si128((__m128i *)&h[4], _mm_alignr_epi8(cdgh, t, 8));
}

/* Four rounds (i = 0..15 of a block) of every stream: message schedule words 4i..4i+3, then two
 * SHA256RNDS2. The streams' chains are independent, so their instructions overlap. */
#define STRATO_SHA_QUAD(N, i)                                                                      \
    do {                                                                                           \
        const __m128i k = _mm_loadu_si128((const __m128i *)&strato_sha256_k[4 * (i)]);             \
        int l;                                                                                     \
        _Pragma("GCC unroll 4") for (l = 0; l < (N); l++) {                                        \
            __m128i w, m;                                                                          \
            if ((i) < 4) {                                                                         \
                w = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(d[l] + 16 * (i))), swap);   \
            } else {                                                                               \
                __m128i x = _mm_sha256msg1_epu32(W[l][(i) & 3], W[l][((i) + 1) & 3]);              \
                x = _mm_add_epi32(                                                                 \
                    x, _mm_alignr_epi8(W[l][((i) + 3) & 3], W[l][((i) + 2) & 3], 4));              \
                w = _mm_sha256msg2_epu32(x, W[l][((i) + 3) & 3]);                                  \
            }                                                                                      \
            W[l][(i) & 3] = w;                                                                     \
            m = _mm_add_epi32(w, k);                                                               \
            cdgh[l] = _mm_sha256rnds2_epu32(cdgh[l], abef[l], m);                                  \
            abef[l] = _mm_sha256rnds2_epu32(abef[l], cdgh[l], _mm_shuffle_epi32(m, 0x0E));         \
        }                                                                                          \
    } while (0)

#define STRATO_SHA_NI_KERNEL(N)                                                                    \
    STRATO_SHA_NI static void strato_sha256_ni_x##N(uint32_t *const h[(N)],                        \
                                                    const unsigned char *const p[(N)],             \
                                                    size_t nblocks) {                              \
        const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);         \
        __m128i abef[(N)], cdgh[(N)];                                                              \
        const unsigned char *d[(N)];                                                               \
        size_t b;                                                                                  \
        int l;                                                                                     \
        for (l = 0; l < (N); l++) {                                                                \
            strato_sha256_ni_load(h[l], &abef[l], &cdgh[l]);                                       \
            d[l] = p[l];                                                                           \
        }                                                                                          \
        for (b = 0; b < nblocks; b++) {                                                            \
            __m128i abef0[(N)], cdgh0[(N)], W[(N)][4];                                             \
            for (l = 0; l < (N); l++) { abef0[l] = abef[l]; cdgh0[l] = cdgh[l]; }                  \
            STRATO_SHA_QUAD(N, 0);  STRATO_SHA_QUAD(N, 1);  STRATO_SHA_QUAD(N, 2);                 \
            STRATO_SHA_QUAD(N, 3);  STRATO_SHA_QUAD(N, 4);  STRATO_SHA_QUAD(N, 5);                 \
            STRATO_SHA_QUAD(N, 6);  STRATO_SHA_QUAD(N, 7);  STRATO_SHA_QUAD(N, 8);                 \
            STRATO_SHA_QUAD(N, 9);  STRATO_SHA_QUAD(N, 10); STRATO_SHA_QUAD(N, 11);                \
            STRATO_SHA_QUAD(N, 12); STRATO_SHA_QUAD(N, 13); STRATO_SHA_QUAD(N, 14);                \
            STRATO_SHA_QUAD(N, 15);                                                                \
            for (l = 0; l < (N); l++) {                                                            \
                abef[l] = _mm_add_epi32(abef[l], abef0[l]);                                        \
                cdgh[l] = _mm_add_epi32(cdgh[l], cdgh0[l]);                                        \
                d[l] += 64;                                                                        \
            }                                                                                      \
        }                                                                                          \
        for (l = 0; l < (N); l++) strato_sha256_ni_store(h[l], abef[l], cdgh[l]);                  \
    }
STRATO_SHA_NI_KERNEL(2)
STRATO_SHA_NI_KERNEL(3)
STRATO_SHA_NI_KERNEL(4)

static int strato_sha256_cpu_has_ni(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b >> 29) & 1;  /* CPUID.(EAX=7,ECX=0):EBX.SHA[bit 29] */
}
#endif

/* -1 until first asked; then 1 when the interleaved SHA-NI kernels run. */
static int strato_sha256_ni = -1;
/* Calls of an interleaved kernel so far (tests check that it really ran). */
static unsigned long long strato_sha256_ni_calls = 0;

static int strato_sha256_has_ni(void) {
    if (strato_sha256_ni < 0) {
#ifdef STRATO_MD5_X86
        strato_sha256_ni = strato_sha256_cpu_has_ni();
#else
        strato_sha256_ni = 0;
#endif
    }
    return strato_sha256_ni;
}

/* `nblocks` blocks of each of n streams (h[i] from p[i]). */
static void strato_sha256_lanes(uint32_t *const h[STRATO_SHA_LANES],
                                const unsigned char *const p[STRATO_SHA_LANES], int n,
                                size_t nblocks) {
#ifdef STRATO_MD5_X86
    if (n >= 2 && strato_sha256_has_ni()) {
        __atomic_add_fetch(&strato_sha256_ni_calls, 1, __ATOMIC_RELAXED);
        if (n == 2) strato_sha256_ni_x2(h, p, nblocks);
        else if (n == 3) strato_sha256_ni_x3(h, p, nblocks);
        else strato_sha256_ni_x4(h, p, nblocks);
        return;
    }
#endif
    for (int i = 0; i < n; i++) strato_sha256_blocks_one(h[i], p[i], nblocks);
}

/* The whole blocks of every job whose stream is not NULL: streams[i] gets
 * pieces[first[i] .. first[i + 1]) (as strato_md5_run; the same arrays). Up to four side by
 * side. */
static void strato_sha256_run(strato_sha256_stream_t *const *streams, size_t nstreams,
                              const strato_md5_piece_t *pieces, const size_t *first) {
    strato_md5_lane_t lanes[STRATO_SHA_LANES];
    strato_sha256_stream_t *owner[STRATO_SHA_LANES];
    int nactive = 0, i;
    size_t next = 0;
    for (;;) {
        /* fill the free lanes (the active ones are 0 .. nactive - 1) */
        while (nactive < STRATO_SHA_LANES && next < nstreams) {
            strato_md5_lane_t *lane = &lanes[nactive];
            strato_sha256_stream_t *s = streams[next];
            if (s != NULL) {
                lane->s = NULL;
                lane->carry = &s->carry;
                lane->piece = pieces + first[next];
                lane->end = pieces + first[next + 1];
                lane->off = 0;
                if (strato_md5_next_run(lane)) owner[nactive++] = s;
            }
            next++;
        }
        if (!nactive) return;
        {
            uint32_t *h[STRATO_SHA_LANES];
            const unsigned char *p[STRATO_SHA_LANES];
            size_t k = SIZE_MAX;
            for (i = 0; i < nactive; i++) {
                h[i] = owner[i]->h;
                p[i] = lanes[i].seg;
                if (lanes[i].left < k) k = lanes[i].left;
            }
            strato_sha256_lanes(h, p, nactive, k);
            for (i = 0; i < nactive; i++) {
                lanes[i].seg += 64 * k;
                lanes[i].left -= k;
            }
        }
        /* drop the lanes whose job is done (the last active one takes the place) */
        for (i = nactive - 1; i >= 0; i--) {
            if (lanes[i].left == 0 && !strato_md5_next_run(&lanes[i])) {
                nactive--;
                lanes[i] = lanes[nactive];
                owner[i] = owner[nactive];
            }
        }
    }
}

/* The digest of the `length` bytes fed to `s` (all hashed or in the carry); `s` stays open. */
static void strato_sha256_stream_final(const strato_sha256_stream_t *s, uint64_t length,
                                       unsigned char out[32]) {
    unsigned char tail[128];
    uint32_t h[8];
    size_t n = s->carry.len, total;
    const uint64_t bits = length * 8;
    int i;
    memcpy(h, s->h, sizeof(h));
    memcpy(tail, s->carry.bytes, n);
    tail[n++] = 0x80;
    total = n <= 56 ? 64 : 128;
    memset(tail + n, 0, total - n);
    for (i = 0; i < 8; i++) tail[total - 1 - i] = (unsigned char)(bits >> (8 * i));
    strato_sha256_blocks_one(h, tail, total / 64);
    for (i = 0; i < 32; i++) out[i] = (unsigned char)(h[i / 4] >> (24 - 8 * (i % 4)));
}

#endif
