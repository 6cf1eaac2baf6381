#include "core/hash.h"
#include "core/util.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

void oid_hash(struct oid *out, const void *data, size_t len)
{
	XXH128_hash_t h = XXH3_128bits(data, len);
	XXH128_canonicalFromHash((XXH128_canonical_t *)out->b, h);
}

int oid_eq(const struct oid *a, const struct oid *b)
{
	return memcmp(a->b, b->b, OID_RAWSZ) == 0;
}

int oid_cmp(const struct oid *a, const struct oid *b)
{
	return memcmp(a->b, b->b, OID_RAWSZ);
}

int oid_is_zero(const struct oid *a)
{
	static const struct oid zero;
	return oid_eq(a, &zero);
}

void hex_encode(char *out, const uint8_t *in, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;
	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int hex_decode(uint8_t *out, const char *in, size_t len)
{
	size_t i;
	for (i = 0; i < len; i++) {
		int hi = hexval(in[2 * i]), lo = hexval(in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

char *oid_to_hex(const struct oid *o, char *out)
{
	hex_encode(out, o->b, OID_RAWSZ);
	return out;
}

int oid_from_hex(struct oid *o, const char *hex, size_t len)
{
	if (len != OID_HEXSZ || hex_decode(o->b, hex, OID_RAWSZ) < 0)
		return CAIRN_EFORMAT;
	return 0;
}

void oid_ctx_init(struct oid_ctx *c)
{
	c->st = XXH3_createState();
	if (!c->st)
		abort();
	XXH3_128bits_reset(c->st);
}

void oid_ctx_update(struct oid_ctx *c, const void *data, size_t len)
{
	XXH3_128bits_update(c->st, data, len);
}

void oid_ctx_final(struct oid_ctx *c, struct oid *out)
{
	XXH128_hash_t h = XXH3_128bits_digest(c->st);
	XXH128_canonicalFromHash((XXH128_canonical_t *)out->b, h);
	XXH3_freeState(c->st);
	c->st = NULL;
}

void sha256_init(struct sha256_ctx *c)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	if (!m || EVP_DigestInit_ex(m, EVP_sha256(), NULL) != 1)
		abort();
	c->md = m;
}

void sha256_update(struct sha256_ctx *c, const void *data, size_t len)
{
	if (len && EVP_DigestUpdate(c->md, data, len) != 1)
		abort();
}

void sha256_final(struct sha256_ctx *c, struct sha256 *out)
{
	unsigned int n = 0;
	if (EVP_DigestFinal_ex(c->md, out->b, &n) != 1 || n != SHA256_RAWSZ)
		abort();
	EVP_MD_CTX_free(c->md);
	c->md = NULL;
}

void sha256_hash(struct sha256 *out, const void *data, size_t len)
{
	struct sha256_ctx c;
	sha256_init(&c);
	sha256_update(&c, data, len);
	sha256_final(&c, out);
}

int sha256_eq(const struct sha256 *a, const struct sha256 *b)
{
	return memcmp(a->b, b->b, SHA256_RAWSZ) == 0;
}

char *sha256_to_hex(const struct sha256 *s, char *out)
{
	hex_encode(out, s->b, SHA256_RAWSZ);
	return out;
}

int sha256_from_hex(struct sha256 *s, const char *hex, size_t len)
{
	if (len != SHA256_HEXSZ || hex_decode(s->b, hex, SHA256_RAWSZ) < 0)
		return CAIRN_EFORMAT;
	return 0;
}

uint64_t xxh64_sum(const void *data, size_t len)
{
	return XXH3_64bits(data, len);
}
