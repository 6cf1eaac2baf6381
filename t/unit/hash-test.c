/*
 * Unit tests for core/hash.c: XXH3-128 object ids and SHA-256 digests
 * against known answers, streaming against one-shot, and the strict hex
 * parsers.
 */
#include "core/hash.h"
#include "core/util.h"
#include "t/unit/tap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0x4a5b6c7d8e9f0011ULL;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

#define PATTERN_LEN ((size_t)1 << 20)

/* The 1 MiB pattern of the known-answer test: byte i is (i*7 + (i>>8)) & 0xff. */
static uint8_t *make_pattern(void)
{
	uint8_t *p = xmalloc(PATTERN_LEN);
	size_t i;
	for (i = 0; i < PATTERN_LEN; i++)
		p[i] = (uint8_t)((i * 7 + (i >> 8)) & 0xff);
	return p;
}

static void test_oid_vectors(const uint8_t *pattern)
{
	/*
	 * Produced with xxhsum 0.8.1 (Debian package xxhash), which prints the
	 * canonical big-endian form, as struct oid holds it:
	 *   printf ''    | xxhsum -H2
	 *   printf 'a'   | xxhsum -H2
	 *   printf 'abc' | xxhsum -H2
	 *   python3 -c 'import sys; sys.stdout.buffer.write(bytes((i*7 + (i>>8)) & 0xff
	 *       for i in range(1<<20)))' | xxhsum -H2
	 */
	static const struct {
		const char *in;
		const char *hex;
	} v[] = {
		{ "", "99aa06d3014798d86001c324468d497f" },
		{ "a", "a96faf705af16834e6c632b61e964e1f" },
		{ "abc", "06b05ab6733a618578af5f94892f3950" },
		{ NULL, "8791ce561b8e4239a7f4639f0ccbfda9" }, /* the 1 MiB pattern */
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct oid o, want;
		char hex[OID_HEXSZ + 1];
		const void *data = v[i].in ? (const void *)v[i].in : pattern;
		size_t len = v[i].in ? strlen(v[i].in) : PATTERN_LEN;
		oid_hash(&o, data, len);
		oid_to_hex(&o, hex);
		ok(!strcmp(hex, v[i].hex), "XXH3-128 of %s%s%s is %s (got %s)",
		   v[i].in ? "'" : "", v[i].in ? v[i].in : "the 1 MiB pattern", v[i].in ? "'" : "",
		   v[i].hex, hex);
		ok(oid_from_hex(&want, v[i].hex, OID_HEXSZ) == 0 && oid_eq(&o, &want),
		   "known id parses and equals the raw bytes");
	}

	/*
	 * xxh64_sum is XXH3-64; values from xxhsum 0.8.1:
	 *   printf '' | xxhsum -H3      printf 'abc' | xxhsum -H3
	 */
	ok(xxh64_sum("", 0) == 0x2d06800538d394c2ULL, "XXH3-64 of ''");
	ok(xxh64_sum("abc", 3) == 0x78af5f94892f3950ULL, "XXH3-64 of 'abc'");
}

static void test_sha_vectors(void)
{
	/* FIPS 180-2 / the usual test vectors */
	static const struct {
		const char *in;
		const char *hex;
	} v[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	};
	size_t i;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct sha256 s, want;
		char hex[SHA256_HEXSZ + 1];
		sha256_hash(&s, v[i].in, strlen(v[i].in));
		sha256_to_hex(&s, hex);
		ok(!strcmp(hex, v[i].hex), "SHA-256 of '%.10s%s' (got %s)", v[i].in,
		   strlen(v[i].in) > 10 ? "..." : "", hex);
		ok(sha256_from_hex(&want, v[i].hex, SHA256_HEXSZ) == 0 && sha256_eq(&s, &want),
		   "known digest parses and equals the raw bytes");
	}
}

static void test_streaming(const uint8_t *pattern)
{
	struct oid one, st;
	struct sha256 sone, sst;
	int round, good_oid = 1, good_sha = 1;

	oid_hash(&one, pattern, PATTERN_LEN);
	sha256_hash(&sone, pattern, PATTERN_LEN);
	for (round = 0; round < 20; round++) {
		struct oid_ctx c;
		struct sha256_ctx s;
		size_t pos = 0;
		oid_ctx_init(&c);
		sha256_init(&s);
		while (pos < PATTERN_LEN) {
			size_t n;
			switch (round % 4) {
			case 0: n = 1 + (size_t)(rnd() % 7); break;
			case 1: n = (size_t)(rnd() % 300); break; /* includes empty updates */
			case 2: n = 1 + (size_t)(rnd() % 70000); break;
			default: n = (size_t)(rnd() % 4) ? (size_t)(rnd() % 256) : PATTERN_LEN; break;
			}
			if (n > PATTERN_LEN - pos)
				n = PATTERN_LEN - pos;
			oid_ctx_update(&c, pattern + pos, n);
			sha256_update(&s, pattern + pos, n);
			pos += n;
		}
		oid_ctx_final(&c, &st);
		sha256_final(&s, &sst);
		if (!oid_eq(&one, &st))
			good_oid = 0;
		if (!sha256_eq(&sone, &sst))
			good_sha = 0;
		ok(c.st == NULL && s.md == NULL, "final frees the contexts (round %d)", round);
	}
	ok(good_oid, "streaming XXH3-128 equals one-shot over 20 random splits");
	ok(good_sha, "streaming SHA-256 equals one-shot over 20 random splits");

	/* every prefix length of a short input, split everywhere */
	{
		size_t len, cut;
		int good = 1;
		for (len = 0; len <= 300 && good; len++) {
			oid_hash(&one, pattern, len);
			sha256_hash(&sone, pattern, len);
			for (cut = 0; cut <= len; cut += 1 + len / 17) {
				struct oid_ctx c;
				struct sha256_ctx s;
				oid_ctx_init(&c);
				sha256_init(&s);
				oid_ctx_update(&c, pattern, cut);
				oid_ctx_update(&c, pattern + cut, len - cut);
				sha256_update(&s, pattern, cut);
				sha256_update(&s, pattern + cut, len - cut);
				oid_ctx_final(&c, &st);
				sha256_final(&s, &sst);
				if (!oid_eq(&one, &st) || !sha256_eq(&sone, &sst))
					good = 0;
			}
		}
		ok(good, "two-piece streaming equals one-shot for lengths 0..300");
	}
	/* nothing fed at all */
	{
		struct oid_ctx c;
		struct sha256_ctx s;
		char hex[SHA256_HEXSZ + 1];
		oid_ctx_init(&c);
		oid_ctx_final(&c, &st);
		ok(!strcmp(oid_to_hex(&st, hex), "99aa06d3014798d86001c324468d497f"),
		   "streaming XXH3-128 of nothing");
		sha256_init(&s);
		sha256_final(&s, &sst);
		ok(!strcmp(sha256_to_hex(&sst, hex),
			   "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
		   "streaming SHA-256 of nothing");
	}
}

static void test_hex(void)
{
	int round, good_oid = 1, good_sha = 1, good_raw = 1;
	char hex[SHA256_HEXSZ + 1], bad[SHA256_HEXSZ + 2];
	struct oid o, o2;
	struct sha256 s, s2;
	size_t i;

	for (round = 0; round < 1000; round++) {
		uint8_t raw[40], back[40];
		size_t n = (size_t)(rnd() % 41);
		char h[81];
		for (i = 0; i < OID_RAWSZ; i++)
			o.b[i] = (uint8_t)rnd();
		for (i = 0; i < SHA256_RAWSZ; i++)
			s.b[i] = (uint8_t)rnd();
		oid_to_hex(&o, hex);
		if (strlen(hex) != OID_HEXSZ || oid_from_hex(&o2, hex, OID_HEXSZ) || !oid_eq(&o, &o2))
			good_oid = 0;
		sha256_to_hex(&s, hex);
		if (strlen(hex) != SHA256_HEXSZ || sha256_from_hex(&s2, hex, SHA256_HEXSZ) ||
		    !sha256_eq(&s, &s2))
			good_sha = 0;
		for (i = 0; i < n; i++)
			raw[i] = (uint8_t)rnd();
		hex_encode(h, raw, n);
		if (strlen(h) != 2 * n || hex_decode(back, h, n) || memcmp(raw, back, n))
			good_raw = 0;
		for (i = 0; i < 2 * n; i++)
			if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
				good_raw = 0;
	}
	ok(good_oid, "oid hex round trips (1000 random ids)");
	ok(good_sha, "sha256 hex round trips (1000 random digests)");
	ok(good_raw, "hex_encode/hex_decode round trip, lowercase (lengths 0..40)");

	/* all 256 byte values */
	{
		uint8_t all[256], back[256];
		char h[513];
		for (i = 0; i < 256; i++)
			all[i] = (uint8_t)i;
		hex_encode(h, all, 256);
		ok(!strncmp(h, "000102", 6) && !strcmp(h + 500, "fafbfcfdfeff") &&
		   hex_decode(back, h, 256) == 0 && !memcmp(all, back, 256),
		   "hex of every byte value");
	}

	/* known id for the rejects below */
	oid_from_hex(&o, "0123456789abcdef0123456789abcdef", OID_HEXSZ);
	ok(o.b[0] == 0x01 && o.b[7] == 0xef && o.b[15] == 0xef, "hex digits map to bytes in order");

	{
		static const char *const good32 = "0123456789abcdef0123456789abcdef";
		static const char *const good64 =
			"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
		static const struct {
			const char *what;
			size_t pos; /* position to replace, or (size_t)-1 for none */
			char c;
			int dlen; /* length change */
		} cases[] = {
			{ "one digit short", (size_t)-1, 0, -1 },
			{ "one digit long", (size_t)-1, 0, 1 },
			{ "empty", (size_t)-1, 0, -1000 },
			{ "uppercase A first", 0, 'A', 0 },
			{ "uppercase F last", (size_t)-2, 'F', 0 },
			{ "'g'", 5, 'g', 0 },
			{ "space", 3, ' ', 0 },
			{ "NUL inside", 7, '\0', 0 },
			{ "'x' in 0x", 1, 'x', 0 },
			{ "'-'", 10, '-', 0 },
			{ "byte 0xff", 12, (char)0xff, 0 },
			{ "':' (after '9')", 9, ':', 0 },
			{ "'`' (before 'a')", 9, '`', 0 },
			{ "'/' (before '0')", 9, '/', 0 },
		};
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			int w;
			for (w = 0; w < 2; w++) {
				const char *base = w ? good64 : good32;
				size_t blen = w ? SHA256_HEXSZ : OID_HEXSZ, len = blen;
				int r;
				memset(bad, 'a', sizeof(bad));
				memcpy(bad, base, blen);
				bad[blen] = '0'; /* a valid digit after: length must be checked */
				if (cases[i].dlen == -1000)
					len = 0;
				else
					len = (size_t)((int)blen + cases[i].dlen);
				if (cases[i].pos == (size_t)-2)
					bad[blen - 1] = cases[i].c;
				else if (cases[i].pos != (size_t)-1)
					bad[cases[i].pos] = cases[i].c;
				r = w ? sha256_from_hex(&s, bad, len) : oid_from_hex(&o, bad, len);
				ok(r == CAIRN_EFORMAT, "%s rejects %s", w ? "sha256_from_hex" : "oid_from_hex",
				   cases[i].what);
			}
		}
	}
	/* a sha256 is not an oid and vice versa */
	sha256_to_hex(&s, hex);
	ok(oid_from_hex(&o, hex, SHA256_HEXSZ) == CAIRN_EFORMAT, "oid_from_hex rejects 64 digits");
	ok(sha256_from_hex(&s, hex, OID_HEXSZ) == CAIRN_EFORMAT, "sha256_from_hex rejects 32 digits");
	ok(hex_decode(o.b, "0G", 1) == -1 && hex_decode(o.b, "aB", 1) == -1 &&
	   hex_decode(o.b, "", 0) == 0, "hex_decode: bad digits, empty input");
}

static void test_compare(void)
{
	struct oid a, b, z;
	memset(&z, 0, sizeof(z));
	oid_hash(&a, "a", 1);
	b = a;
	ok(oid_eq(&a, &b) && !oid_cmp(&a, &b), "oid_eq / oid_cmp on equal ids");
	b.b[15] ^= 1;
	ok(!oid_eq(&a, &b) && oid_cmp(&a, &b) != 0, "last byte differs: not equal");
	a.b[0] = 0x10;
	b.b[0] = 0x20;
	ok(oid_cmp(&a, &b) < 0 && oid_cmp(&b, &a) > 0, "oid_cmp orders bytewise from the first");
	ok(oid_is_zero(&z) && !oid_is_zero(&a), "oid_is_zero");
	z.b[15] = 1;
	ok(!oid_is_zero(&z), "oid_is_zero: one bit set in the last byte");
}

int main(void)
{
	uint8_t *pattern = make_pattern();
	test_oid_vectors(pattern);
	test_sha_vectors();
	test_streaming(pattern);
	test_hex();
	test_compare();
	free(pattern);
	return tap_done();
}
