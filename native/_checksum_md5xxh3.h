/* MD5 (OpenSSL's libcrypto, the same tuned assembly hashlib uses) and xxh3-64 (libxxhash, with its
 * run-time SSE2/AVX2/AVX-512 dispatch on x86-64) fed from one pass over the caller's buffer.
 *
 * The buffer is walked in blocks small enough to stay in L1/L2 between the two hashes, so memory is
 * read once and xxh3 costs only its arithmetic (a few percent of MD5's).
 */
#ifndef STRATO_CHECKSUM_MD5XXH3_H
#define STRATO_CHECKSUM_MD5XXH3_H

#include <stddef.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <xxhash.h>
#if defined(__x86_64__) || defined(__i386__)
#include <xxh_x86dispatch.h>
#endif

#define STRATO_MD5XXH3_BLOCK 16384

static EVP_MD *strato_md5_fetched;

/* The MD5 implementation, fetched once; "-fips" as hashlib's usedforsecurity=False (ETags are not
 * a security function), so FIPS-mode hosts still serve objects. */
static const EVP_MD *strato_md5(void) {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    if (strato_md5_fetched == NULL) strato_md5_fetched = EVP_MD_fetch(NULL, "MD5", "-fips");
    return strato_md5_fetched;
#else
    return EVP_md5();
#endif
}

/* Returns 0 on success, -1 when libcrypto refused (then the object is unusable). */
static int strato_md5xxh3_update(EVP_MD_CTX *md5, XXH3_state_t *xxh3, const unsigned char *p, size_t n) {
    while (n) {
        size_t step = n < STRATO_MD5XXH3_BLOCK ? n : STRATO_MD5XXH3_BLOCK;
        if (EVP_DigestUpdate(md5, p, step) != 1) return -1;
        if (XXH3_64bits_update(xxh3, p, step) != XXH_OK) return -1;
        p += step;
        n -= step;
    }
    return 0;
}

#endif
