#ifndef CAIRN_HASH_H
#define CAIRN_HASH_H
/*
 * Object ids and content digests.
 *
 * An object id (struct oid) is the XXH3-128 of bytes, in xxHash's canonical
 * (big-endian) byte order: fast, and the key for deduplication. It is not
 * collision resistant, so every file and tree also carries a SHA-256
 * (struct sha256), which is what makes tampering detectable.
 */
#include <stddef.h>
#include <stdint.h>
#include <xxhash.h>

#define OID_RAWSZ 16
#define OID_HEXSZ 32
#define SHA256_RAWSZ 32
#define SHA256_HEXSZ 64

struct oid {
	uint8_t b[OID_RAWSZ];
};

struct sha256 {
	uint8_t b[SHA256_RAWSZ];
};

void oid_hash(struct oid *out, const void *data, size_t len);
int oid_eq(const struct oid *a, const struct oid *b);
int oid_cmp(const struct oid *a, const struct oid *b);
int oid_is_zero(const struct oid *a);
/* Hex: `out` must hold OID_HEXSZ + 1 bytes. */
char *oid_to_hex(const struct oid *o, char *out);
/* Parse exactly OID_HEXSZ lowercase hex digits; 0 or CAIRN_EFORMAT. */
int oid_from_hex(struct oid *o, const char *hex, size_t len);

/* Streaming XXH3-128. */
struct oid_ctx {
	XXH3_state_t *st;
};
void oid_ctx_init(struct oid_ctx *c);
void oid_ctx_update(struct oid_ctx *c, const void *data, size_t len);
void oid_ctx_final(struct oid_ctx *c, struct oid *out); /* also frees */

/* SHA-256 through OpenSSL's libcrypto. */
struct sha256_ctx {
	void *md; /* EVP_MD_CTX */
};
void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
void sha256_final(struct sha256_ctx *c, struct sha256 *out); /* also frees */
void sha256_hash(struct sha256 *out, const void *data, size_t len);
int sha256_eq(const struct sha256 *a, const struct sha256 *b);
char *sha256_to_hex(const struct sha256 *s, char *out); /* SHA256_HEXSZ + 1 */
int sha256_from_hex(struct sha256 *s, const char *hex, size_t len);

/* 64-bit XXH3 for internal checksums (pack index trailers, manifests). */
uint64_t xxh64_sum(const void *data, size_t len);

/* Lowercase hex of `len` bytes into `out` (2*len+1). */
void hex_encode(char *out, const uint8_t *in, size_t len);
/* Strict lowercase hex decode; 0 on success, -1 on any bad digit. */
int hex_decode(uint8_t *out, const char *in, size_t len);

#endif
