/* CRC kernels for native/_checksum_c.pyx: CRC32C, CRC32 (zlib's) and CRC64-NVME.
 *
 * Every kernel works on the raw register (no pre/post inversion; the .pyx does that) so calls chain.
 * Three tiers, chosen at run time so one build runs on any x86-64 (no -msse4.2 on the command line):
 *   - CRC32C: from 1 KiB on AVX-512 CPUs, the VPCLMULQDQ folding below (about twice as fast);
 *     otherwise the SSE4.2 crc32 instruction on three interleaved streams (its latency is 3 cycles,
 *     its throughput 1 per cycle), the streams joined with "append N zero bytes" tables;
 *   - CRC32 / CRC64-NVME: PCLMULQDQ folding of 4 x 128-bit lanes down to 16 bytes, which the
 *     table then finishes (no Barrett step to get wrong: the last 16 bytes are just data); on
 *     AVX-512 CPUs with VPCLMULQDQ the same folding runs on 4 x 512-bit registers (16 lanes,
 *     256 bytes a step) before handing the rest to the 128-bit loop;
 *   - everywhere else, and for short inputs: slicing-by-8 tables.
 * Multi-byte loads go through memcpy (explicit little-endian on the only targets that use them).
 * -DSTRATO_NO_SIMD builds the portable tables only, as on a non-x86 CPU (to check that path compiles).
 */
#ifndef STRATO_CHECKSUM_CRC_H
#define STRATO_CHECKSUM_CRC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(STRATO_NO_SIMD)
#define STRATO_X86 1
#include <immintrin.h>
#else
#define STRATO_X86 0
#endif

typedef struct {
    uint64_t table[8][256];   /* slicing-by-8: table[k][b] = register after byte b and k zero bytes */
    uint64_t fold1[2];        /* PCLMUL constants to move 128 bits forward by 16 bytes ... */
    uint64_t fold4[2];        /* ... and by 64 bytes (four lanes) */
    uint64_t fold2[2], fold3[2]; /* by 32 and 48 bytes: one 512-bit register's lanes into one */
    uint64_t fold16[2];       /* by 256 bytes: four 512-bit registers */
    int width;
} strato_crc_model;

static strato_crc_model strato_crc32c_model, strato_crc32_model, strato_crc64nvme_model;
static uint32_t strato_crc32c_long[4][256], strato_crc32c_short[4][256];
static int strato_have_sse42, strato_have_pclmul, strato_have_vpclmul;

#define STRATO_CRC32C_LONG 8192
#define STRATO_CRC32C_SHORT 256
#ifndef STRATO_CRC32C_VPCLMUL_MIN
#define STRATO_CRC32C_VPCLMUL_MIN 1024
#endif

static inline uint64_t strato_load64(const unsigned char *p) {
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* x^n mod P for the normal-form polynomial P of the given width (top bit implicit), bit-reversed into
 * 64 bits: the form PCLMULQDQ multiplies in for a reflected CRC (bit i stands for x^(63-i)). */
static uint64_t strato_xpow_mod_reflected(unsigned n, uint64_t poly_normal, int width) {
    uint64_t r = 1, top = (uint64_t)1 << (width - 1), mask = width == 64 ? ~(uint64_t)0
                                                                        : (((uint64_t)1 << width) - 1);
    for (unsigned i = 0; i < n; i++) {
        int carry = (r & top) != 0;
        r = (r << 1) & mask;
        if (carry) r ^= poly_normal;
    }
    uint64_t out = 0;
    for (int i = 0; i < 64; i++)
        if (r & ((uint64_t)1 << i)) out |= (uint64_t)1 << (63 - i);
    return out;
}

static void strato_crc_model_init(strato_crc_model *m, uint64_t poly_reflected, uint64_t poly_normal,
                                  int width) {
    m->width = width;
    for (unsigned b = 0; b < 256; b++) {
        uint64_t reg = b;
        for (int i = 0; i < 8; i++) reg = (reg & 1) ? (reg >> 1) ^ poly_reflected : reg >> 1;
        m->table[0][b] = reg;
    }
    for (int k = 1; k < 8; k++)
        for (unsigned b = 0; b < 256; b++) {
            uint64_t prev = m->table[k - 1][b];
            m->table[k][b] = (prev >> 8) ^ m->table[0][prev & 0xff];
        }
    /* The clmul of two reflected 64-bit values lands one bit short of the 128-bit register's
     * convention, hence x^(d-1): folding H*x^64 + L forward by D bits multiplies H by x^(D+64), L by x^D. */
    m->fold1[0] = strato_xpow_mod_reflected(128 + 64 - 1, poly_normal, width);
    m->fold1[1] = strato_xpow_mod_reflected(128 - 1, poly_normal, width);
    m->fold4[0] = strato_xpow_mod_reflected(512 + 64 - 1, poly_normal, width);
    m->fold4[1] = strato_xpow_mod_reflected(512 - 1, poly_normal, width);
    m->fold2[0] = strato_xpow_mod_reflected(256 + 64 - 1, poly_normal, width);
    m->fold2[1] = strato_xpow_mod_reflected(256 - 1, poly_normal, width);
    m->fold3[0] = strato_xpow_mod_reflected(384 + 64 - 1, poly_normal, width);
    m->fold3[1] = strato_xpow_mod_reflected(384 - 1, poly_normal, width);
    m->fold16[0] = strato_xpow_mod_reflected(2048 + 64 - 1, poly_normal, width);
    m->fold16[1] = strato_xpow_mod_reflected(2048 - 1, poly_normal, width);
}

static uint64_t strato_crc_table(const strato_crc_model *m, uint64_t reg, const unsigned char *p, size_t n) {
    while (n >= 8) {
        uint64_t w = strato_load64(p) ^ reg;
        reg = m->table[7][w & 0xff] ^ m->table[6][(w >> 8) & 0xff] ^ m->table[5][(w >> 16) & 0xff]
            ^ m->table[4][(w >> 24) & 0xff] ^ m->table[3][(w >> 32) & 0xff]
            ^ m->table[2][(w >> 40) & 0xff] ^ m->table[1][(w >> 48) & 0xff] ^ m->table[0][w >> 56];
        p += 8;
        n -= 8;
    }
    while (n--) reg = m->table[0][(reg ^ *p++) & 0xff] ^ (reg >> 8);
    return reg;
}

#if STRATO_X86
__attribute__((target("pclmul,sse4.1")))
static inline __m128i strato_fold(__m128i acc, __m128i k, __m128i next) {
    return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(acc, k, 0x00),
                                       _mm_clmulepi64_si128(acc, k, 0x11)), next);
}

__attribute__((target("pclmul,sse4.1")))
static uint64_t strato_crc_pclmul(const strato_crc_model *m, uint64_t reg, const unsigned char *p, size_t n) {
    if (n < 64) return strato_crc_table(m, reg, p, n);
    __m128i k4 = _mm_set_epi64x((long long)m->fold4[1], (long long)m->fold4[0]);
    __m128i k1 = _mm_set_epi64x((long long)m->fold1[1], (long long)m->fold1[0]);
    /* The incoming register is XORed into the first bytes of the message: same CRC, zero start. */
    __m128i x0 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)p), _mm_cvtsi64_si128((long long)reg));
    __m128i x1 = _mm_loadu_si128((const __m128i *)(p + 16));
    __m128i x2 = _mm_loadu_si128((const __m128i *)(p + 32));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(p + 48));
    p += 64;
    n -= 64;
    while (n >= 64) {
        x0 = strato_fold(x0, k4, _mm_loadu_si128((const __m128i *)p));
        x1 = strato_fold(x1, k4, _mm_loadu_si128((const __m128i *)(p + 16)));
        x2 = strato_fold(x2, k4, _mm_loadu_si128((const __m128i *)(p + 32)));
        x3 = strato_fold(x3, k4, _mm_loadu_si128((const __m128i *)(p + 48)));
        p += 64;
        n -= 64;
    }
    x0 = strato_fold(x0, k1, x1);
    x0 = strato_fold(x0, k1, x2);
    x0 = strato_fold(x0, k1, x3);
    while (n >= 16) {
        x0 = strato_fold(x0, k1, _mm_loadu_si128((const __m128i *)p));
        p += 16;
        n -= 16;
    }
    unsigned char last[16];
    _mm_storeu_si128((__m128i *)last, x0);
    reg = strato_crc_table(m, 0, last, 16);
    return strato_crc_table(m, reg, p, n);
}

#define STRATO_AVX512 "avx512f,avx512vl,avx512bw,vpclmulqdq,pclmul,sse4.1"

__attribute__((target(STRATO_AVX512)))
static inline __m512i strato_fold512(__m512i acc, __m512i k, __m512i next) {
    /* 0x96: three-way XOR of the two products and the next data */
    return _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(acc, k, 0x00),
                                     _mm512_clmulepi64_epi128(acc, k, 0x11), next, 0x96);
}

__attribute__((target(STRATO_AVX512)))
static inline __m512i strato_k512(const uint64_t k[2]) {
    return _mm512_broadcast_i32x4(_mm_set_epi64x((long long)k[1], (long long)k[0]));
}

__attribute__((target(STRATO_AVX512)))
static uint64_t strato_crc_vpclmul(const strato_crc_model *m, uint64_t reg, const unsigned char *p, size_t n) {
    if (n < 256) return strato_crc_pclmul(m, reg, p, n);
    __m512i k16 = strato_k512(m->fold16), k4 = strato_k512(m->fold4);
    __m512i first = _mm512_inserti32x4(_mm512_setzero_si512(), _mm_cvtsi64_si128((long long)reg), 0);
    __m512i x0 = _mm512_xor_si512(_mm512_loadu_si512((const void *)p), first);
    __m512i x1 = _mm512_loadu_si512((const void *)(p + 64));
    __m512i x2 = _mm512_loadu_si512((const void *)(p + 128));
    __m512i x3 = _mm512_loadu_si512((const void *)(p + 192));
    p += 256;
    n -= 256;
    while (n >= 256) {
        x0 = strato_fold512(x0, k16, _mm512_loadu_si512((const void *)p));
        x1 = strato_fold512(x1, k16, _mm512_loadu_si512((const void *)(p + 64)));
        x2 = strato_fold512(x2, k16, _mm512_loadu_si512((const void *)(p + 128)));
        x3 = strato_fold512(x3, k16, _mm512_loadu_si512((const void *)(p + 192)));
        p += 256;
        n -= 256;
    }
    x0 = strato_fold512(x0, k4, x1);
    x0 = strato_fold512(x0, k4, x2);
    x0 = strato_fold512(x0, k4, x3);
    while (n >= 64) {
        x0 = strato_fold512(x0, k4, _mm512_loadu_si512((const void *)p));
        p += 64;
        n -= 64;
    }
    /* Lane 0 holds the earliest 16 bytes: move it 48 bytes on, lane 1 by 32, lane 2 by 16. */
    __m128i k3 = _mm_set_epi64x((long long)m->fold3[1], (long long)m->fold3[0]);
    __m128i k2 = _mm_set_epi64x((long long)m->fold2[1], (long long)m->fold2[0]);
    __m128i k1 = _mm_set_epi64x((long long)m->fold1[1], (long long)m->fold1[0]);
    __m128i acc = _mm512_extracti32x4_epi32(x0, 3);
    acc = strato_fold(_mm512_extracti32x4_epi32(x0, 0), k3, acc);
    acc = strato_fold(_mm512_extracti32x4_epi32(x0, 1), k2, acc);
    acc = strato_fold(_mm512_extracti32x4_epi32(x0, 2), k1, acc);
    while (n >= 16) {
        acc = strato_fold(acc, k1, _mm_loadu_si128((const __m128i *)p));
        p += 16;
        n -= 16;
    }
    unsigned char last[16];
    _mm_storeu_si128((__m128i *)last, acc);
    reg = strato_crc_table(m, 0, last, 16);
    return strato_crc_table(m, reg, p, n);
}

static inline uint32_t strato_crc32c_shift(const uint32_t t[4][256], uint32_t reg) {
    return t[0][reg & 0xff] ^ t[1][(reg >> 8) & 0xff] ^ t[2][(reg >> 16) & 0xff] ^ t[3][reg >> 24];
}

__attribute__((target("sse4.2")))
static uint32_t strato_crc32c_sse42(uint32_t reg32, const unsigned char *p, size_t n) {
    uint64_t reg = reg32;
    while (n >= 3 * STRATO_CRC32C_LONG) {
        uint64_t c1 = 0, c2 = 0;
        const unsigned char *end = p + STRATO_CRC32C_LONG;
        do {
            reg = _mm_crc32_u64(reg, strato_load64(p));
            c1 = _mm_crc32_u64(c1, strato_load64(p + STRATO_CRC32C_LONG));
            c2 = _mm_crc32_u64(c2, strato_load64(p + 2 * STRATO_CRC32C_LONG));
            p += 8;
        } while (p < end);
        reg = strato_crc32c_shift(strato_crc32c_long, (uint32_t)reg) ^ c1;
        reg = strato_crc32c_shift(strato_crc32c_long, (uint32_t)reg) ^ c2;
        p += 2 * STRATO_CRC32C_LONG;
        n -= 3 * STRATO_CRC32C_LONG;
    }
    while (n >= 3 * STRATO_CRC32C_SHORT) {
        uint64_t c1 = 0, c2 = 0;
        const unsigned char *end = p + STRATO_CRC32C_SHORT;
        do {
            reg = _mm_crc32_u64(reg, strato_load64(p));
            c1 = _mm_crc32_u64(c1, strato_load64(p + STRATO_CRC32C_SHORT));
            c2 = _mm_crc32_u64(c2, strato_load64(p + 2 * STRATO_CRC32C_SHORT));
            p += 8;
        } while (p < end);
        reg = strato_crc32c_shift(strato_crc32c_short, (uint32_t)reg) ^ c1;
        reg = strato_crc32c_shift(strato_crc32c_short, (uint32_t)reg) ^ c2;
        p += 2 * STRATO_CRC32C_SHORT;
        n -= 3 * STRATO_CRC32C_SHORT;
    }
    while (n >= 8) {
        reg = _mm_crc32_u64(reg, strato_load64(p));
        p += 8;
        n -= 8;
    }
    while (n--) reg = _mm_crc32_u8((uint32_t)reg, *p++);
    return (uint32_t)reg;
}
#endif

/* t[k][b]: the register that (b << 8k) becomes after `nbytes` zero bytes; CRC is linear, so four
 * lookups move any register across that many bytes. */
static void strato_crc32c_shift_init(uint32_t t[4][256], size_t nbytes) {
    uint32_t basis[32];
    for (int i = 0; i < 32; i++) {
        uint64_t reg = (uint64_t)1 << i;
        for (size_t j = 0; j < nbytes; j++)
            reg = strato_crc32c_model.table[0][reg & 0xff] ^ (reg >> 8);
        basis[i] = (uint32_t)reg;
    }
    for (int k = 0; k < 4; k++)
        for (unsigned b = 0; b < 256; b++) {
            uint32_t v = 0;
            for (int j = 0; j < 8; j++)
                if (b & (1u << j)) v ^= basis[8 * k + j];
            t[k][b] = v;
        }
}

static int strato_crc_set_hw(int use_hw);

/* Called once at import: builds the tables, then picks the hardware tier the CPU offers. */
static void strato_crc_init(void) {
    strato_crc_model_init(&strato_crc32c_model, 0x82F63B78u, 0x1EDC6F41u, 32);
    strato_crc_model_init(&strato_crc32_model, 0xEDB88320u, 0x04C11DB7u, 32);
    strato_crc_model_init(&strato_crc64nvme_model, 0x9A6C9329AC4BC9B5ull, 0xAD93D23594C93659ull, 64);
    strato_crc32c_shift_init(strato_crc32c_long, STRATO_CRC32C_LONG);
    strato_crc32c_shift_init(strato_crc32c_short, STRATO_CRC32C_SHORT);
    strato_crc_set_hw(2);
}

/* Selects the tier: 0 = tables only, 1 = up to SSE4.2/PCLMULQDQ, 2 = also AVX-512 VPCLMULQDQ, each
 * only where the CPU (and the OS, for AVX-512 state) has it. Returns a mask of what is now live:
 * 1 = SSE4.2 CRC32C, 2 = PCLMUL folding, 4 = VPCLMUL folding. */
static int strato_crc_set_hw(int level) {
#if STRATO_X86
    __builtin_cpu_init();
    strato_have_sse42 = level >= 1 && __builtin_cpu_supports("sse4.2");
    strato_have_pclmul = level >= 1 && __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
    strato_have_vpclmul = level >= 2 && strato_have_pclmul && __builtin_cpu_supports("avx512f")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("vpclmulqdq");
#else
    (void)level;
#endif
    return strato_have_sse42 | (strato_have_pclmul << 1) | (strato_have_vpclmul << 2);
}

static uint32_t strato_crc32c_raw(uint32_t reg, const unsigned char *p, size_t n) {
#if STRATO_X86
    if (strato_have_vpclmul && n >= STRATO_CRC32C_VPCLMUL_MIN)
        return (uint32_t)strato_crc_vpclmul(&strato_crc32c_model, reg, p, n);
    if (strato_have_sse42) return strato_crc32c_sse42(reg, p, n);
#endif
    return (uint32_t)strato_crc_table(&strato_crc32c_model, reg, p, n);
}

static uint32_t strato_crc32_raw(uint32_t reg, const unsigned char *p, size_t n) {
#if STRATO_X86
    if (strato_have_vpclmul) return (uint32_t)strato_crc_vpclmul(&strato_crc32_model, reg, p, n);
    if (strato_have_pclmul) return (uint32_t)strato_crc_pclmul(&strato_crc32_model, reg, p, n);
#endif
    return (uint32_t)strato_crc_table(&strato_crc32_model, reg, p, n);
}

static uint64_t strato_crc64nvme_raw(uint64_t reg, const unsigned char *p, size_t n) {
#if STRATO_X86
    if (strato_have_vpclmul) return strato_crc_vpclmul(&strato_crc64nvme_model, reg, p, n);
    if (strato_have_pclmul) return strato_crc_pclmul(&strato_crc64nvme_model, reg, p, n);
#endif
    return strato_crc_table(&strato_crc64nvme_model, reg, p, n);
}

#endif
