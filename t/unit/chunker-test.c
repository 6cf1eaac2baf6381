/*
 * Unit tests for core/chunker.c: streaming gives the same cuts as one
 * scan, a per-byte reference implementation of the algorithm described in
 * core/chunker.h gives the same cuts, chunk sizes stay in bounds, edits
 * move only nearby cuts, and the parameter checks.
 */
#include "core/chunker.h"
#include "core/hash.h"
#include "core/util.h"
#include "t/unit/tap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* splitmix64: a fast deterministic PRNG. */
static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void fill_random(uint8_t *p, size_t len)
{
	size_t i;
	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t v = rnd();
		memcpy(p + i, &v, 8);
	}
	for (; i < len; i++)
		p[i] = (uint8_t)rnd();
}

struct cuts {
	uint64_t *at; /* end offsets of the chunks, increasing; the last is the file size */
	size_t n, alloc;
};

static void cuts_add(struct cuts *c, uint64_t at)
{
	ALLOC_GROW(c->at, c->n + 1, c->alloc);
	c->at[c->n++] = at;
}

static void cuts_release(struct cuts *c)
{
	free(c->at);
	c->at = NULL;
	c->n = c->alloc = 0;
}

static int cuts_eq(const struct cuts *a, const struct cuts *b)
{
	size_t i;
	if (a->n != b->n) {
		diag("%zu cuts vs %zu cuts", a->n, b->n);
		return 0;
	}
	for (i = 0; i < a->n; i++)
		if (a->at[i] != b->at[i]) {
			diag("cut %zu differs: %llu vs %llu", i, (unsigned long long)a->at[i],
			     (unsigned long long)b->at[i]);
			return 0;
		}
	return 1;
}

/*
 * Feed `len` bytes in pieces: piece() gives the next piece size (0 means
 * everything that is left). The end of the data is a cut, as a caller makes
 * it at the end of a file.
 */
static void chunk_pieces(struct chunker *ch, const uint8_t *data, size_t len,
			 size_t (*piece)(void), struct cuts *out)
{
	size_t pos = 0;
	uint64_t last = 0;

	while (pos < len) {
		size_t want = piece ? piece() : 0;
		size_t plen = !want || want > len - pos ? len - pos : want;
		size_t off = 0;
		while (off < plen) {
			size_t n = chunker_scan(ch, data + pos + off, plen - off);
			if (!n)
				break;
			if (n > plen - off) {
				diag("chunker_scan returned %zu for %zu bytes", n, plen - off);
				abort();
			}
			off += n;
			last = pos + off;
			cuts_add(out, last);
		}
		pos += plen;
	}
	if (len && last != len)
		cuts_add(out, len);
}

static void chunk_buf(uint32_t min, uint32_t avg, uint32_t max, const uint8_t *data,
		      size_t len, size_t (*piece)(void), struct cuts *out)
{
	struct chunker ch;
	chunker_init(&ch, min, avg, max);
	chunk_pieces(&ch, data, len, piece, out);
}

/*
 * The reference: the algorithm of core/chunker.h, one byte at a time, the
 * hash recomputed from the chunk start for every chunk.
 */
static void ref_chunk(uint32_t min, uint32_t avg, uint32_t max, const uint8_t *data,
		      size_t len, struct cuts *out)
{
	const uint64_t *gear = chunker_gear();
	int k = 0;
	uint64_t mask_hard, mask_easy;
	size_t start = 0;

	while ((1u << k) != avg)
		k++;
	mask_hard = ~0ULL << (64 - (k + 2)); /* top k+2 bits */
	mask_easy = ~0ULL << (64 - (k - 2)); /* top k-2 bits */
	while (start < len) {
		size_t left = len - start, size = 0, off;
		uint64_t h = 0;
		for (off = min; off < max && off < left; off++) {
			uint64_t mask = off < avg ? mask_hard : mask_easy;
			h = (h << 1) + gear[data[start + off]];
			if (!(h & mask)) {
				size = off + 1;
				break;
			}
		}
		if (!size)
			size = left < max ? left : max;
		start += size;
		cuts_add(out, start);
	}
}

static size_t piece_1(void) { return 1; }
static size_t piece_7(void) { return 7; }
static size_t piece_big(void) { return 1 + (size_t)(rnd() % (1u << 20)); }
static size_t piece_small(void) { return 1 + (size_t)(rnd() % 100); }
static size_t piece_mixed(void)
{
	switch (rnd() % 4) {
	case 0: return 1;
	case 1: return 1 + (size_t)(rnd() % 64);
	case 2: return 1 + (size_t)(rnd() % 70000);
	}
	return 1 + (size_t)(rnd() % (1u << 20));
}

struct params {
	uint32_t min, avg, max;
};

static const struct params param_sets[] = {
	{ CHUNK_MIN_DEFAULT, CHUNK_AVG_DEFAULT, CHUNK_MAX_DEFAULT },
	{ 64, 256, 1024 },
	{ 64, 256, 257 },
	{ 255, 256, 300 },
	{ 1000, 4096, 65536 },
	{ 2048, 8192, 16384 },
	{ 64, 1u << 16, 1u << 17 },
	{ 4096, 1u << 20, 4u << 20 },
};

static void test_streaming(void)
{
	size_t len = 6u << 20, i;
	uint8_t *buf = xmalloc(len);
	struct {
		const char *name;
		size_t (*fn)(void);
	} pieces[] = {
		{ "1 byte", piece_1 },
		{ "7 bytes", piece_7 },
		{ "random up to 1 MiB", piece_big },
		{ "random up to 100 bytes", piece_small },
		{ "mixed sizes", piece_mixed },
	};

	rng_state = 0x5eed0001;
	fill_random(buf, len);
	for (i = 0; i < sizeof(param_sets) / sizeof(param_sets[0]); i++) {
		const struct params *p = &param_sets[i];
		struct cuts whole = { 0 };
		size_t j, plen = p->avg >= (1u << 20) ? len : (p->avg >= 4096 ? 3u << 20 : 512u << 10);
		chunk_buf(p->min, p->avg, p->max, buf, plen, NULL, &whole);
		ok(whole.n > 1, "%u/%u/%u: %zu chunks in %zu bytes", p->min, p->avg, p->max,
		   whole.n, plen);
		for (j = 0; j < sizeof(pieces) / sizeof(pieces[0]); j++) {
			struct cuts part = { 0 };
			chunk_buf(p->min, p->avg, p->max, buf, plen, pieces[j].fn, &part);
			ok(cuts_eq(&whole, &part), "%u/%u/%u: pieces of %s give the same cuts",
			   p->min, p->avg, p->max, pieces[j].name);
			cuts_release(&part);
		}
		cuts_release(&whole);
	}

	/* chunker_reset forgets a partial chunk: the next file starts afresh */
	{
		struct chunker ch;
		struct cuts fresh = { 0 }, reused = { 0 };
		chunker_init(&ch, 64, 1u << 16, 1u << 17);
		ok(chunker_scan(&ch, buf + 7, 1000) == 0 && ch.pos == 1000,
		   "a partial chunk of 1000 bytes");
		chunker_reset(&ch);
		chunk_pieces(&ch, buf + 1000, 1u << 20, piece_mixed, &reused);
		chunk_buf(64, 1u << 16, 1u << 17, buf + 1000, 1u << 20, NULL, &fresh);
		ok(cuts_eq(&fresh, &reused), "chunker_reset: same cuts as a new chunker");
		cuts_release(&fresh);
		cuts_release(&reused);
	}
	/* an empty buffer is no cut and changes nothing */
	{
		struct chunker ch;
		struct cuts a = { 0 }, b = { 0 };
		size_t pos = 0, empty_cut = 0;
		chunker_init(&ch, 64, 256, 1024);
		while (pos < 5000) {
			size_t want = 37 < 5000 - pos ? 37 : 5000 - pos, n;
			if (chunker_scan(&ch, buf + pos, 0))
				empty_cut++;
			n = chunker_scan(&ch, buf + pos, want);
			pos += n ? n : want;
			if (n)
				cuts_add(&a, pos);
		}
		if (!a.n || a.at[a.n - 1] != 5000)
			cuts_add(&a, 5000);
		chunk_buf(64, 256, 1024, buf, 5000, NULL, &b);
		ok(!empty_cut, "an empty buffer is never a cut");
		ok(cuts_eq(&a, &b), "empty buffers between pieces change nothing");
		cuts_release(&a);
		cuts_release(&b);
	}
	free(buf);
}

static void test_reference(void)
{
	size_t i, r;
	for (i = 0; i < sizeof(param_sets) / sizeof(param_sets[0]); i++) {
		const struct params *p = &param_sets[i];
		for (r = 0; r < 3; r++) {
			struct cuts got = { 0 }, want = { 0 };
			size_t len;
			uint8_t *buf;
			rng_state = 0xc0ffee00 + i * 16 + r;
			len = (size_t)p->max * 8 + (size_t)(rnd() % ((size_t)p->max * 8));
			if (len > (8u << 20))
				len = (8u << 20) + (size_t)(rnd() % 4096);
			buf = xmalloc(len);
			if (r == 2) {
				/* low entropy: runs of a few byte values */
				size_t j = 0;
				while (j < len) {
					size_t run = 1 + (size_t)(rnd() % 5000);
					uint8_t b = (uint8_t)(rnd() % 4);
					if (run > len - j)
						run = len - j;
					memset(buf + j, b, run);
					j += run;
				}
			} else {
				fill_random(buf, len);
			}
			chunk_buf(p->min, p->avg, p->max, buf, len, NULL, &got);
			ref_chunk(p->min, p->avg, p->max, buf, len, &want);
			ok(cuts_eq(&want, &got), "%u/%u/%u, %s data of %zu bytes: %zu cuts as the reference",
			   p->min, p->avg, p->max, r == 2 ? "low-entropy" : "random", len, got.n);
			cuts_release(&got);
			cuts_release(&want);
			free(buf);
		}
	}
}

static int sizes_in_bounds(const struct cuts *c, uint32_t min, uint32_t max, size_t *bad)
{
	size_t i;
	uint64_t prev = 0;
	for (i = 0; i < c->n; i++) {
		uint64_t sz = c->at[i] - prev;
		prev = c->at[i];
		if (sz > max || sz == 0 || (i + 1 < c->n && sz < min)) {
			*bad = i;
			return 0;
		}
	}
	return 1;
}

/* Sorted chunk ids of `data` cut at `c`. */
static struct oid *chunk_ids(const uint8_t *data, const struct cuts *c)
{
	struct oid *ids = xcalloc(c->n ? c->n : 1, sizeof(*ids));
	uint64_t prev = 0;
	size_t i;
	for (i = 0; i < c->n; i++) {
		oid_hash(&ids[i], data + prev, (size_t)(c->at[i] - prev));
		prev = c->at[i];
	}
	qsort(ids, c->n, sizeof(*ids), (int (*)(const void *, const void *))oid_cmp);
	return ids;
}

/* Percentage of the chunks of `a` that are among the chunks of `b`. */
static double shared_pct(const struct oid *a, size_t na, const struct oid *b, size_t nb)
{
	size_t i, found = 0;
	for (i = 0; i < na; i++)
		if (bsearch(&a[i], b, nb, sizeof(*b), (int (*)(const void *, const void *))oid_cmp))
			found++;
	return na ? 100.0 * (double)found / (double)na : 0;
}

static void test_sizes_and_stability(void)
{
	const uint32_t min = CHUNK_MIN_DEFAULT, avg = CHUNK_AVG_DEFAULT, max = CHUNK_MAX_DEFAULT;
	size_t len = 64u << 20, bad = 0;
	uint8_t *buf = xmalloc(len + 100), *mod = xmalloc(len + 100);
	struct cuts orig = { 0 }, ins = { 0 }, del = { 0 };
	struct oid *ids_orig, *ids_ins, *ids_del;
	double mean, pct;

	rng_state = 0x64d1b5eedULL;
	fill_random(buf, len);
	chunk_buf(min, avg, max, buf, len, NULL, &orig);
	if (!ok(sizes_in_bounds(&orig, min, max, &bad), "64 MiB: every chunk in [min, max] but the last"))
		diag("chunk %zu is out of bounds", bad);
	mean = (double)len / (double)orig.n;
	diag("64 MiB of random data: %zu chunks, mean %.0f bytes (avg %u)", orig.n, mean, avg);
	ok(mean >= avg * 0.5 && mean <= avg * 2.0, "mean chunk size %.0f within 0.5x..2x of %u",
	   mean, avg);
	{
		size_t i, forced = 0;
		uint64_t prev = 0;
		for (i = 0; i < orig.n; i++) {
			if (orig.at[i] - prev == max)
				forced++;
			prev = orig.at[i];
		}
		diag("%zu chunks cut at max", forced);
		ok(forced < orig.n / 10, "few chunks reach max on random data (%zu)", forced);
	}

	/* 100 bytes inserted at the start */
	rng_state = 0x1234;
	fill_random(mod, 100);
	memcpy(mod + 100, buf, len);
	chunk_buf(min, avg, max, mod, len + 100, NULL, &ins);
	ok(sizes_in_bounds(&ins, min, max, &bad), "insertion: chunks in bounds");
	ids_orig = chunk_ids(buf, &orig);
	ids_ins = chunk_ids(mod, &ins);
	pct = shared_pct(ids_orig, orig.n, ids_ins, ins.n);
	diag("100 bytes inserted at the start: %.2f%% of the original chunks kept", pct);
	ok(pct >= 90.0, "insertion at the start keeps >= 90%% of the chunks (%.2f%%)", pct);
	{
		/* only the first cut(s) may move: the later cuts are shifted by 100 */
		size_t i = 0, j = 0, same = 0;
		while (i < orig.n && j < ins.n) {
			if (orig.at[i] + 100 == ins.at[j]) {
				same++;
				i++;
				j++;
			} else if (orig.at[i] + 100 < ins.at[j]) {
				i++;
			} else {
				j++;
			}
		}
		ok(same + 2 >= orig.n, "insertion: all but the first cuts line up (%zu of %zu)", same,
		   orig.n);
	}

	/* 1000 bytes deleted in the middle */
	{
		size_t at = len / 2 + 12345;
		memcpy(mod, buf, at);
		memcpy(mod + at, buf + at + 1000, len - at - 1000);
		chunk_buf(min, avg, max, mod, len - 1000, NULL, &del);
		ok(sizes_in_bounds(&del, min, max, &bad), "deletion: chunks in bounds");
		ids_del = chunk_ids(mod, &del);
		pct = shared_pct(ids_orig, orig.n, ids_del, del.n);
		diag("1000 bytes deleted in the middle: %.2f%% of the original chunks kept", pct);
		ok(pct >= 90.0, "deletion in the middle keeps >= 90%% of the chunks (%.2f%%)", pct);
		ok(orig.n - (size_t)(pct / 100.0 * (double)orig.n + 0.5) <= 3,
		   "deletion: at most 3 original chunks lost");
		free(ids_del);
	}

	free(ids_orig);
	free(ids_ins);
	cuts_release(&orig);
	cuts_release(&ins);
	cuts_release(&del);
	free(buf);
	free(mod);
}

static void test_params(void)
{
	static const struct {
		uint32_t min, avg, max;
		int good;
		const char *what;
	} cases[] = {
		{ CHUNK_MIN_DEFAULT, CHUNK_AVG_DEFAULT, CHUNK_MAX_DEFAULT, 1, "defaults" },
		{ 64, 256, 257, 1, "smallest min, tight max" },
		{ 1u << 20, 4u << 20, CHUNK_MAX_LIMIT, 1, "max at the limit" },
		{ 1u << 16, 1u << 20, 1u << 22, 1, "1 MiB average" },
		{ 16384, 65535, 262144, 0, "avg not a power of 2" },
		{ 16384, 65537, 262144, 0, "avg not a power of 2 (above)" },
		{ 16384, 0, 262144, 0, "avg zero" },
		{ 16384, 98304, 262144, 0, "avg 3 * 2^15" },
		{ 65536, 65536, 262144, 0, "min == avg" },
		{ 70000, 65536, 262144, 0, "min > avg" },
		{ 16384, 65536, 65536, 0, "avg == max" },
		{ 16384, 65536, 60000, 0, "avg > max" },
		{ 1u << 20, 4u << 20, CHUNK_MAX_LIMIT + 1, 0, "max over the limit" },
		{ 1u << 20, 4u << 20, UINT32_MAX, 0, "max UINT32_MAX" },
		{ 63, 256, 1024, 0, "min 63" },
		{ 0, 256, 1024, 0, "min 0" },
		{ 0, 0, 0, 0, "all zero" },
	};
	size_t i;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = chunker_check_params(cases[i].min, cases[i].avg, cases[i].max);
		if (cases[i].good)
			ok(r == 0, "check_params accepts %s", cases[i].what);
		else
			ok(r == CAIRN_EINVAL, "check_params rejects %s (%d)", cases[i].what, r);
	}
}

/* A byte value whose constant runs never satisfy the cut test before max. */
static int find_flat_byte(uint32_t min, uint32_t avg, uint32_t max, uint8_t *scratch)
{
	int b;
	for (b = 0; b < 256; b++) {
		struct cuts c = { 0 };
		int flat;
		memset(scratch, b, (size_t)max * 2);
		ref_chunk(min, avg, max, scratch, (size_t)max * 2, &c);
		flat = c.n == 2 && c.at[0] == max;
		cuts_release(&c);
		if (flat)
			return b;
	}
	return -1;
}

static void test_edge_sizes(void)
{
	static const struct params ps[] = {
		{ CHUNK_MIN_DEFAULT, CHUNK_AVG_DEFAULT, CHUNK_MAX_DEFAULT },
		{ 64, 256, 1024 },
		{ 4096, 8192, 8193 },
	};
	size_t pi;

	for (pi = 0; pi < sizeof(ps) / sizeof(ps[0]); pi++) {
		const struct params *p = &ps[pi];
		size_t sizes[6] = { 0, 1, p->min, p->avg, p->max, (size_t)p->max + 1 };
		uint8_t *buf = xmalloc((size_t)p->max * 2);
		int flat = find_flat_byte(p->min, p->avg, p->max, buf);
		size_t si;

		ok(flat >= 0, "%u/%u/%u: a byte value with no content cut (%d)", p->min, p->avg,
		   p->max, flat);
		for (si = 0; si < 6; si++) {
			size_t len = sizes[si], bad = 0;
			struct cuts got = { 0 }, want = { 0 };
			int good;

			/* constant bytes: only min/max rules and the end of the file cut */
			if (flat >= 0) {
				memset(buf, flat, len);
				chunk_buf(p->min, p->avg, p->max, buf, len, piece_mixed, &got);
				if (len == 0)
					good = got.n == 0;
				else if (len <= p->max)
					good = got.n == 1 && got.at[0] == len;
				else
					good = got.n == 2 && got.at[0] == p->max && got.at[1] == len;
				ok(good, "%u/%u/%u: flat file of %zu bytes gives %s", p->min, p->avg,
				   p->max, len, len == 0 ? "no chunk" : len <= p->max ? "one chunk" :
				   "a max chunk and a 1-byte chunk");
				cuts_release(&got);
			}

			/* random bytes: as the reference, in bounds */
			rng_state = 0xed9e0000 + pi * 8 + si;
			fill_random(buf, len);
			chunk_buf(p->min, p->avg, p->max, buf, len, NULL, &got);
			ref_chunk(p->min, p->avg, p->max, buf, len, &want);
			good = cuts_eq(&want, &got) && sizes_in_bounds(&got, p->min, p->max, &bad) &&
			       (len ? got.n >= 1 && got.at[got.n - 1] == len : got.n == 0);
			if (len <= p->min)
				good = good && got.n == (len ? 1u : 0u);
			if (len > p->max)
				good = good && got.n >= 2;
			ok(good, "%u/%u/%u: random file of %zu bytes: %zu chunks, in bounds", p->min,
			   p->avg, p->max, len, got.n);
			cuts_release(&got);
			cuts_release(&want);
		}
		free(buf);
	}
}

/*
 * Inputs made to cut exactly at the rule boundaries: at min+3 (the third
 * hashed byte), at avg+1 (the first byte tested with the easier mask, which
 * passes it while the harder one would not) and at avg (the last byte
 * tested with the harder mask). Checked against the reference, whole and
 * byte by byte. (The forced cut at max is in test_edge_sizes.)
 */
static void test_boundaries(void)
{
	static const struct params ps[] = {
		{ 64, 256, 1024 },
		{ 1000, 4096, 8192 },
		{ CHUNK_MIN_DEFAULT, CHUNK_AVG_DEFAULT, CHUNK_MAX_DEFAULT },
	};
	const uint64_t *gear = chunker_gear();
	size_t pi;

	for (pi = 0; pi < sizeof(ps) / sizeof(ps[0]); pi++) {
		const struct params *p = &ps[pi];
		size_t len = (size_t)p->max * 3, j;
		uint8_t *buf = xmalloc(len);
		uint64_t hard, easy, h;
		int k = 0, b0 = -1, b1 = -1, b2 = -1, b, tries;
		struct cuts want = { 0 }, got = { 0 }, bytes = { 0 };

		while ((1u << k) != p->avg)
			k++;
		hard = ~0ULL << (64 - (k + 2));
		easy = ~0ULL << (64 - (k - 2));

		/* a cut after the third hashed byte, none before it */
		for (b = 0; b < 256 * 256 && b0 < 0; b++) {
			uint64_t h1 = gear[b >> 8], h2 = (h1 << 1) + gear[b & 255];
			int c;
			if (!(h1 & hard) || !(h2 & hard))
				continue;
			for (c = 0; c < 256; c++)
				if (!(((h2 << 1) + gear[c]) & hard)) {
					b0 = b >> 8;
					b1 = b & 255;
					b2 = c;
					break;
				}
		}
		rng_state = 0xb0da0000 + pi;
		fill_random(buf, len);
		if (b0 >= 0) {
			buf[p->min] = (uint8_t)b0;
			buf[p->min + 1] = (uint8_t)b1;
			buf[p->min + 2] = (uint8_t)b2;
			ref_chunk(p->min, p->avg, p->max, buf, len, &want);
			chunk_buf(p->min, p->avg, p->max, buf, len, NULL, &got);
			chunk_buf(p->min, p->avg, p->max, buf, len, piece_1, &bytes);
			ok(want.n && want.at[0] == p->min + 3 && cuts_eq(&want, &got) &&
			   cuts_eq(&want, &bytes), "%u/%u/%u: a cut after the third hashed byte",
			   p->min, p->avg, p->max);
			cuts_release(&want);
			cuts_release(&got);
			cuts_release(&bytes);
		} else {
			ok(0, "%u/%u/%u: no bytes found that cut at min+3", p->min, p->avg, p->max);
		}

		/* a cut at avg+1: no cut before avg, the byte at avg passes only the easier mask */
		for (tries = 0; tries < 1000; tries++) {
			int found = -1;
			fill_random(buf, len);
			h = 0;
			for (j = p->min; j < p->avg; j++) {
				h = (h << 1) + gear[buf[j]];
				if (!(h & hard))
					break;
			}
			if (j < p->avg)
				continue; /* cut before avg: another try */
			for (b = 0; b < 256 && found < 0; b++) {
				uint64_t h2 = (h << 1) + gear[b];
				if (!(h2 & easy) && (h2 & hard))
					found = b;
			}
			if (found < 0)
				continue;
			buf[p->avg] = (uint8_t)found;
			break;
		}
		ref_chunk(p->min, p->avg, p->max, buf, len, &want);
		chunk_buf(p->min, p->avg, p->max, buf, len, NULL, &got);
		chunk_buf(p->min, p->avg, p->max, buf, len, piece_1, &bytes);
		ok(tries < 1000 && want.n && want.at[0] == p->avg + 1 && cuts_eq(&want, &got) &&
		   cuts_eq(&want, &bytes), "%u/%u/%u: the first byte past avg uses the easier mask",
		   p->min, p->avg, p->max);
		cuts_release(&want);
		cuts_release(&got);
		cuts_release(&bytes);

		/* the last byte before avg still uses the harder mask */
		for (tries = 0; tries < 1000; tries++) {
			int found = -1;
			fill_random(buf, len);
			h = 0;
			for (j = p->min; j < (size_t)p->avg - 1; j++) {
				h = (h << 1) + gear[buf[j]];
				if (!(h & hard))
					break;
			}
			if (j < (size_t)p->avg - 1)
				continue;
			for (b = 0; b < 256 && found < 0; b++) {
				uint64_t h2 = (h << 1) + gear[b];
				if (!(h2 & easy) && (h2 & hard))
					found = b;
			}
			if (found < 0)
				continue;
			buf[p->avg - 1] = (uint8_t)found;
			break;
		}
		ref_chunk(p->min, p->avg, p->max, buf, len, &want);
		chunk_buf(p->min, p->avg, p->max, buf, len, NULL, &got);
		ok(tries < 1000 && want.n && want.at[0] != p->avg && cuts_eq(&want, &got),
		   "%u/%u/%u: the last byte before avg uses the harder mask", p->min, p->avg, p->max);
		cuts_release(&want);
		cuts_release(&got);
		free(buf);
	}
}

static void test_gear(void)
{
	const uint64_t *g = chunker_gear();
	size_t i, j, dup = 0;
	for (i = 0; i < 256; i++)
		for (j = i + 1; j < 256; j++)
			if (g[i] == g[j])
				dup++;
	ok(g == chunker_gear() && dup == 0 && g[0] != 0, "gear table: 256 distinct values");
}

int main(void)
{
	test_gear();
	test_params();
	test_reference();
	test_streaming();
	test_edge_sizes();
	test_boundaries();
	test_sizes_and_stability();
	return tap_done();
}
