/* MD5 (OpenSSL's libcrypto, the same tuned assembly hashlib uses) and xxh3-64 (libxxhash, with its
 * run-time SSE2/AVX2/AVX-512 dispatch on x86-64) fed from one pass over the caller's buffer.
 *
 * The buffer is walked in blocks small enough to stay in L1/L2 between the two hashes, so memory is
 * read once and xxh3 costs only its arithmetic (a few percent of MD5's).
 *
 * MD5 goes through libcrypto's MD5_* functions where the build still has them (deprecated in 3.0,
 * present in every 3.x): the context is a plain struct kept inside the Python object, so creating,
 * copying and finishing one costs no allocation and no provider dispatch, which is most of what a
 * 4 KiB object pays on top of the hashing itself. A libcrypto built without deprecated APIs (or
 * -DSTRATO_MD5_EVP) gets the EVP interface instead: same results, some 100 ns more per object.
 */
#ifndef STRATO_CHECKSUM_MD5XXH3_H
#define STRATO_CHECKSUM_MD5XXH3_H

#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <stddef.h>
#include <openssl/opensslv.h>
#include <openssl/opensslconf.h>
#include <openssl/evp.h>
#include <stdint.h>
#define XXH_STATIC_LINKING_ONLY 1 /* the state's size, to keep it inside the object (no malloc) */
#include <xxhash.h>
#if (defined(__x86_64__) || defined(__i386__)) && defined(__has_include)
#if __has_include(<xxh_x86dispatch.h>) /* libxxhash >= 0.8.0: pick SSE2/AVX2/AVX-512 at run time */
#include <xxh_x86dispatch.h>
#endif
#endif

#define STRATO_MD5XXH3_BLOCK 16384
/* XXH3_state_t wants 64-byte alignment; Python objects give 16, so the object holds this much
 * space and strato_xxh3_at() finds the aligned state inside it. */
#define STRATO_XXH3_SPACE (sizeof(XXH3_state_t) + 64)

static inline XXH3_state_t *strato_xxh3_at(char *space) {
    return (XXH3_state_t *)(((uintptr_t)space + 63) & ~(uintptr_t)63);
}

#if !defined(STRATO_MD5_EVP) && (defined(OPENSSL_NO_DEPRECATED_3_0) || OPENSSL_VERSION_NUMBER >= 0x40000000L)
#define STRATO_MD5_EVP 1
#endif

#ifndef STRATO_MD5_EVP
#include <openssl/md5.h>

typedef struct { MD5_CTX ctx; } strato_md5_t;
static const char strato_md5_api[] = "MD5_*";

static int strato_md5_init(strato_md5_t *m) { return MD5_Init(&m->ctx) == 1 ? 0 : -1; }
static void strato_md5_clear(strato_md5_t *m) { (void)m; }
static int strato_md5_update(strato_md5_t *m, const void *p, size_t n) {
    return MD5_Update(&m->ctx, p, n) == 1 ? 0 : -1;
}
static int strato_md5_copy(strato_md5_t *dst, const strato_md5_t *src) {
    *dst = *src;
    return 0;
}
/* The digest of what was fed so far; `m` itself stays open for more. */
static int strato_md5_peek(const strato_md5_t *m, unsigned char out[16]) {
    MD5_CTX tmp = m->ctx;
    return MD5_Final(out, &tmp) == 1 ? 0 : -1;
}

#else
typedef struct { EVP_MD_CTX *ctx; } strato_md5_t;
static const char strato_md5_api[] = "EVP";
static EVP_MD *strato_md5_fetched;

/* Fetched once; "-fips" as hashlib's usedforsecurity=False (ETags are not a security function). */
static const EVP_MD *strato_md5_md(void) {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    if (strato_md5_fetched == NULL) strato_md5_fetched = EVP_MD_fetch(NULL, "MD5", "-fips");
    return strato_md5_fetched;
#else
    return EVP_md5();
#endif
}

static int strato_md5_init(strato_md5_t *m) {
    const EVP_MD *md = strato_md5_md();
    if (md == NULL) return -1;
    if (m->ctx == NULL && (m->ctx = EVP_MD_CTX_new()) == NULL) return -1;
    return EVP_DigestInit_ex(m->ctx, md, NULL) == 1 ? 0 : -1;
}
static void strato_md5_clear(strato_md5_t *m) {
    EVP_MD_CTX_free(m->ctx);
    m->ctx = NULL;
}
static int strato_md5_update(strato_md5_t *m, const void *p, size_t n) {
    return EVP_DigestUpdate(m->ctx, p, n) == 1 ? 0 : -1;
}
static int strato_md5_copy(strato_md5_t *dst, const strato_md5_t *src) {
    if (dst->ctx == NULL && (dst->ctx = EVP_MD_CTX_new()) == NULL) return -1;
    return EVP_MD_CTX_copy_ex(dst->ctx, src->ctx) == 1 ? 0 : -1;
}
static int strato_md5_peek(const strato_md5_t *m, unsigned char out[16]) {
    unsigned int size = 0;
    int ok;
    EVP_MD_CTX *tmp = EVP_MD_CTX_new();
    if (tmp == NULL) return -1;
    ok = EVP_MD_CTX_copy_ex(tmp, m->ctx) == 1 && EVP_DigestFinal_ex(tmp, out, &size) == 1 && size == 16;
    EVP_MD_CTX_free(tmp);
    return ok ? 0 : -1;
}
#endif

/* Returns 0 on success, -1 when libcrypto or libxxhash refused. */
static int strato_md5xxh3_update(strato_md5_t *md5, XXH3_state_t *xxh3, const unsigned char *p, size_t n) {
    while (n) {
        size_t step = n < STRATO_MD5XXH3_BLOCK ? n : STRATO_MD5XXH3_BLOCK;
        if (strato_md5_update(md5, p, step) != 0) return -1;
        if (XXH3_64bits_update(xxh3, p, step) != XXH_OK) return -1;
        p += step;
        n -= step;
    }
    return 0;
}

#endif
