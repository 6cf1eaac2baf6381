/*
 * Unit tests for core/compress.c: every codec round trips, incompressible
 * data is stored raw, and zctx_decode refuses malformed or hostile input
 * without crashing or allocating what a frame claims.
 */
#include "core/compress.h"
#include "core/util.h"
#include "t/unit/tap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static uint64_t rng_state = 0x7a57d00dULL;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

enum { D_TEXT, D_TABLE, D_RANDOM, D_FP32, D_BF16, D_ZERO, D_KINDS };
static const char *const kind_name[D_KINDS] = { "compressible text", "numeric table", "random",
						 "fp32-like", "bf16-like", "zeros" };

static void make_data(uint8_t *p, size_t len, int kind)
{
	static const char *const words[] = { "tensor ", "weight ", "layer.", "bias ", "0.125 ",
					     "attention ", "\n", "mlp." };
	size_t i = 0;
	switch (kind) {
	case D_TEXT:
		while (i < len) {
			const char *w = words[rnd() % 8];
			size_t n = strlen(w);
			if (n > len - i)
				n = len - i;
			memcpy(p + i, w, n);
			i += n;
		}
		break;
	case D_TABLE:
		/* CSV rows like the benchmark's events: a counter, a time,
		 * random numbers and hex, a few categories */
		while (i < len) {
			static uint64_t row = 10000000;
			char line[160];
			uint64_t r = rnd(), id = row++;
			int n = snprintf(line, sizeof(line),
					 "%llu,2024-01-01T00:%02u:%02u.%03uZ,%u,%012llx,%s,%.5f,%.4f\n",
					 (unsigned long long)id, (unsigned)(id / 6000 % 60),
					 (unsigned)(id / 100 % 60), (unsigned)(r % 1000),
					 (unsigned)(r >> 40 & 0x3ffff),
					 (unsigned long long)(rnd() & 0xffffffffffffULL),
					 words[r >> 20 & 7], (double)(r >> 24 & 0xfffff) / 1e4,
					 (double)(r >> 10 & 0x3ff) / 1024.0);
			if ((size_t)n > len - i)
				n = (int)(len - i);
			memcpy(p + i, line, (size_t)n);
			i += (size_t)n;
		}
		break;
	case D_RANDOM:
		for (i = 0; i < len; i++)
			p[i] = (uint8_t)rnd();
		break;
	case D_FP32:
		/* small normally-distributed-ish weights: random mantissas, few exponents */
		for (i = 0; i + 4 <= len; i += 4) {
			float f = (float)(((double)(rnd() % 2000001) - 1000000.0) / 1e7);
			memcpy(p + i, &f, 4);
		}
		for (; i < len; i++)
			p[i] = (uint8_t)rnd();
		break;
	case D_BF16:
		for (i = 0; i + 2 <= len; i += 2) {
			float f = (float)(((double)(rnd() % 2000001) - 1000000.0) / 1e7);
			uint32_t u;
			memcpy(&u, &f, 4);
			p[i] = (uint8_t)(u >> 16);
			p[i + 1] = (uint8_t)(u >> 24);
		}
		for (; i < len; i++)
			p[i] = (uint8_t)rnd();
		break;
	default:
		memset(p, 0, len);
	}
}

static void test_round_trips(struct zctx *z)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 63, 64, 65, 127, 1000, 4099, 65536, 100003,
					(1u << 20) + 3 };
	static const int bgs[] = { 0, 2, 4 };
	struct strbuf stored = STRBUF_INIT, back = STRBUF_INIT;
	size_t si, bi;
	int kind;
	int seen_codec[CODEC_MAX + 1] = { 0 };

	for (kind = 0; kind < D_KINDS; kind++) {
		for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
			size_t len = sizes[si];
			uint8_t *data = xmalloc(len ? len : 1);
			make_data(data, len, kind);
			for (bi = 0; bi < 3; bi++) {
				int codec = -1, r, good;
				zctx_encode(z, data, len, bgs[bi], (unsigned)(si * 131), &codec, &stored);
				good = codec >= CODEC_RAW && codec <= CODEC_MAX;
				if (good)
					seen_codec[codec]++;
				if (codec == CODEC_RAW)
					good = good && stored.len == len && !memcmp(stored.buf, data, len);
				else
					good = good && stored.len < len;
				/* a forced width is the only grouping tried; with 0 the
				 * probe may pick either; plain zstd is always a fallback */
				if (codec == CODEC_ZSTD_BG2)
					good = good && (bgs[bi] == 2 || bgs[bi] == 0);
				if (codec == CODEC_ZSTD_BG4)
					good = good && (bgs[bi] == 4 || bgs[bi] == 0);
				strbuf_addstr(&back, "junk to be replaced");
				r = zctx_decode(z, codec, stored.buf, stored.len, len, &back);
				good = good && r == 0 && back.len == len && !memcmp(back.buf, data, len) &&
				       back.buf[len] == '\0';
				ok(good, "%s, %zu bytes, try_bg %d: codec %d, %zu stored, round trip",
				   kind_name[kind], len, bgs[bi], codec, stored.len);
			}
			free(data);
		}
	}
	ok(seen_codec[CODEC_RAW] && seen_codec[CODEC_ZSTD] && seen_codec[CODEC_ZSTD_BG2] &&
	   seen_codec[CODEC_ZSTD_BG4], "every codec was used (%d raw, %d zstd, %d bg2, %d bg4)",
	   seen_codec[0], seen_codec[1], seen_codec[2], seen_codec[3]);

	/* choices that must be made */
	{
		size_t len = 200000;
		uint8_t *data = xmalloc(len);
		int codec;
		make_data(data, len, D_RANDOM);
		zctx_encode(z, data, len, 0, 0, &codec, &stored);
		ok(codec == CODEC_RAW && stored.len == len, "random data is stored raw");
		zctx_encode(z, data, len, 4, 0, &codec, &stored);
		ok(codec == CODEC_RAW, "random data with try_bg 4 is stored raw");
		zctx_encode(z, data, len, 2, 0, &codec, &stored);
		ok(codec == CODEC_RAW, "random data with try_bg 2 is stored raw");
		/* compresses by ~1.5%: under the 3% bar, so raw */
		memset(data, 0, len / 64);
		zctx_encode(z, data, len, 0, 0, &codec, &stored);
		ok(codec == CODEC_RAW, "data that compresses by under 3%% is stored raw");
		make_data(data, len, D_TEXT);
		zctx_encode(z, data, len, 0, 0, &codec, &stored);
		ok(codec == CODEC_ZSTD && stored.len < len / 3, "text compresses with zstd (%zu)",
		   stored.len);
		make_data(data, len, D_FP32);
		zctx_encode(z, data, len, 4, 0, &codec, &stored);
		ok(codec == CODEC_ZSTD_BG4, "fp32-like data with try_bg 4 is byte-grouped (%zu)",
		   stored.len);
		{
			size_t bg4 = stored.len;
			zctx_encode(z, data, len, -1, 0, &codec, &stored);
			ok(codec == CODEC_RAW || stored.len > bg4,
			   "byte grouping helps fp32-like data (%zu < %zu)", bg4, stored.len);
			zctx_encode(z, data, len, 0, 0, &codec, &stored);
			ok(codec == CODEC_ZSTD_BG4 && stored.len == bg4,
			   "the probe picks 4-byte planes for fp32-like data by itself (codec %d)", codec);
		}
		make_data(data, len, D_BF16);
		zctx_encode(z, data, len, 2, 0, &codec, &stored);
		ok(codec == CODEC_ZSTD_BG2, "bf16-like data with try_bg 2 is byte-grouped");
		/* chunk sizes of every alignment: float data is never mistaken for random */
		{
			static const size_t lens[] = { 4096, 16384, 65536, 65537, 99999, 100000,
						       131072, 131074, 196608, 199999, 200000 };
			size_t li;
			for (li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
				int c4, c2;
				make_data(data, lens[li], D_FP32);
				zctx_encode(z, data, lens[li], 4, 0, &c4, &stored);
				make_data(data, lens[li], D_BF16);
				zctx_encode(z, data, lens[li], 2, 0, &c2, &stored);
				ok(c4 == CODEC_ZSTD_BG4 && c2 == CODEC_ZSTD_BG2,
				   "%zu bytes of fp32-like / bf16-like data are byte-grouped (codecs %d, %d)",
				   lens[li], c4, c2);
			}
		}
		/* under 64 bytes: never compressed */
		memset(data, 'x', 63);
		zctx_encode(z, data, 63, 0, 0, &codec, &stored);
		ok(codec == CODEC_RAW && stored.len == 63, "63 bytes are stored raw");
		zctx_encode(z, data, 64, 0, 0, &codec, &stored);
		ok(codec == CODEC_ZSTD, "64 equal bytes compress");
		free(data);
	}
	strbuf_release(&stored);
	strbuf_release(&back);
}

/*
 * Text at level 3: a share of it, chosen by `pick`, gets the strong
 * setting, numeric text otherwise the fast one; nothing else changes.
 */
static void test_text_choice(struct zctx *z)
{
	size_t len = 200000;
	uint8_t *data = xmalloc(len);
	struct strbuf weak = STRBUF_INIT, strong = STRBUF_INIT, back = STRBUF_INIT;
	unsigned pick, n_strong = 0, n_fast = 0, n_level = 0, ws = 0, wf = 0;
	int kind, cw, cs, good;

	make_data(data, len, D_TEXT);
	for (pick = 0; pick < 256; pick++) {
		int e = zctx_text_effort(3, data, len, pick);
		n_strong += e == ZTEXT_STRONG;
		n_level += e == -1;
		if (e == -1)
			wf = pick;
		else
			ws = pick;
	}
	ok(n_strong > 0 && n_strong < 256 && n_strong + n_level == 256,
	   "text: %u of 256 picks get the strong setting, the rest level 3", n_strong);
	ok(zctx_text_effort(9, data, len, ws) == -1, "text at level 9 keeps level 9");
	ok(zctx_text_effort(3, data, 4095, ws) == -1, "text too short to probe keeps level 3");

	make_data(data, len, D_TABLE);
	n_strong = 0;
	for (pick = 0; pick < 256; pick++) {
		int e = zctx_text_effort(3, data, len, pick);
		n_strong += e == ZTEXT_STRONG;
		n_fast += e == ZTEXT_FAST;
	}
	ok(n_strong > 0 && n_strong + n_fast == 256,
	   "numeric table: %u picks strong, %u fast, none level 3", n_strong, n_fast);
	zctx_encode(z, data, len, 0, wf, &cw, &weak);
	zctx_encode(z, data, len, 0, ws, &cs, &strong);
	good = cw == CODEC_ZSTD && cs == CODEC_ZSTD && strong.len < weak.len - weak.len / 50;
	good = good && !zctx_decode(z, cs, strong.buf, strong.len, len, &back) &&
	       back.len == len && !memcmp(back.buf, data, len);
	good = good && !zctx_decode(z, cw, weak.buf, weak.len, len, &back) && back.len == len &&
	       !memcmp(back.buf, data, len);
	ok(good, "numeric table: strong %zu bytes, fast %zu, both round trip", strong.len,
	   weak.len);

	/* random, float and zero data: no pick makes a difference */
	for (kind = D_RANDOM; kind < D_KINDS; kind++) {
		make_data(data, len, kind);
		good = 1;
		for (pick = 0; pick < 256; pick += 51)
			good = good && zctx_text_effort(3, data, len, pick) == -1;
		zctx_encode(z, data, len, 0, ws, &cs, &strong);
		zctx_encode(z, data, len, 0, wf, &cw, &weak);
		good = good && cs == cw && strong.len == weak.len &&
		       !memcmp(strong.buf, weak.buf, weak.len);
		ok(good, "%s: not text, the same bytes for every pick (codec %d)", kind_name[kind],
		   cs);
	}
	free(data);
	strbuf_release(&weak);
	strbuf_release(&strong);
	strbuf_release(&back);
}

/* A zstd frame header: magic, descriptor, then the fields it announces. */
static void frame_header(struct strbuf *sb, int fcs_code, int single, uint64_t fcs, int wdesc)
{
	static const uint8_t magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };
	uint8_t fhd = (uint8_t)(fcs_code << 6 | (single ? 0x20 : 0));
	int n = fcs_code == 0 ? (single ? 1 : 0) : fcs_code == 1 ? 2 : fcs_code == 2 ? 4 : 8, i;
	strbuf_add(sb, magic, 4);
	strbuf_addch(sb, fhd);
	if (!single)
		strbuf_addch(sb, wdesc);
	if (fcs_code == 1)
		fcs -= 256;
	for (i = 0; i < n; i++)
		strbuf_addch(sb, (int)((fcs >> (8 * i)) & 0xff));
}

/* A last raw block of `n` bytes. */
static void raw_block(struct strbuf *sb, const uint8_t *data, size_t n, int last)
{
	uint32_t h = (uint32_t)(n << 3) | (last ? 1u : 0u); /* type 0 = raw */
	strbuf_addch(sb, (int)(h & 0xff));
	strbuf_addch(sb, (int)((h >> 8) & 0xff));
	strbuf_addch(sb, (int)((h >> 16) & 0xff));
	strbuf_add(sb, data, n);
}

/* An RLE block: one byte repeated n times. */
static void rle_block(struct strbuf *sb, uint8_t byte, size_t n, int last)
{
	uint32_t h = (uint32_t)(n << 3) | 2u | (last ? 1u : 0u); /* type 1 = RLE */
	strbuf_addch(sb, (int)(h & 0xff));
	strbuf_addch(sb, (int)((h >> 8) & 0xff));
	strbuf_addch(sb, (int)((h >> 16) & 0xff));
	strbuf_addch(sb, byte);
}

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/*
 * Limit the data segment to 1 GiB, so that decoding a frame that claims
 * 10 GiB would fail loudly (xmalloc aborts) if it believed the claim. Not
 * under ASan, whose shadow memory counts against the limit.
 */
static int limit_memory(struct rlimit *saved)
{
#ifdef UNDER_ASAN
	(void)saved;
	return 0;
#else
	struct rlimit rl;
	if (getrlimit(RLIMIT_DATA, saved) < 0)
		return 0;
	rl = *saved;
	rl.rlim_cur = (rlim_t)1 << 30;
	if (saved->rlim_max != RLIM_INFINITY && saved->rlim_max < rl.rlim_cur)
		return 0;
	if (saved->rlim_cur != RLIM_INFINITY && saved->rlim_cur < rl.rlim_cur)
		return 0;
	return setrlimit(RLIMIT_DATA, &rl) == 0;
#endif
}

static void test_rejects(struct zctx *z)
{
	struct strbuf stored = STRBUF_INIT, out = STRBUF_INIT, f = STRBUF_INIT;
	size_t len = 100000, i;
	uint8_t *data = xmalloc(len);
	struct rlimit saved;
	int codec, r, limited;

	limited = limit_memory(&saved);
	diag("data segment limited to 1 GiB for the hostile frames: %s",
	     limited ? "yes" : "no (sanitizer build or hard limit)");

	make_data(data, len, D_TEXT);
	zctx_encode(z, data, len, 0, 0, &codec, &stored);
	ok(codec == CODEC_ZSTD, "a zstd frame to break");

	/* truncated: every length short of the whole, sampled */
	{
		int all = 1;
		for (i = 0; i < stored.len; i += (i < 64 ? 1 : 97)) {
			r = zctx_decode(z, CODEC_ZSTD, stored.buf, i, len, &out);
			if (r != CAIRN_ECORRUPT) {
				diag("truncated to %zu bytes: %d", i, r);
				all = 0;
			}
		}
		r = zctx_decode(z, CODEC_ZSTD, stored.buf, stored.len - 1, len, &out);
		ok(all && r == CAIRN_ECORRUPT, "truncated frames are corrupt");
	}
	/* content size other than raw_len */
	ok(zctx_decode(z, CODEC_ZSTD, stored.buf, stored.len, len - 1, &out) == CAIRN_ECORRUPT,
	   "raw_len one less than the frame's content size");
	ok(zctx_decode(z, CODEC_ZSTD, stored.buf, stored.len, len + 1, &out) == CAIRN_ECORRUPT,
	   "raw_len one more than the frame's content size");
	ok(zctx_decode(z, CODEC_ZSTD, stored.buf, stored.len, 0, &out) == CAIRN_ECORRUPT,
	   "raw_len 0 for a non-empty frame");
	/* the right frame under a byte-grouped codec decodes but differs: not our job,
	 * but the wrong raw_len under bg must still fail */
	ok(zctx_decode(z, CODEC_ZSTD_BG4, stored.buf, stored.len, len + 4, &out) == CAIRN_ECORRUPT,
	   "bg4: content size mismatch");
	/* trailing bytes and a second frame */
	strbuf_reset(&f);
	strbuf_add(&f, stored.buf, stored.len);
	strbuf_addch(&f, 0);
	ok(zctx_decode(z, CODEC_ZSTD, f.buf, f.len, len, &out) == CAIRN_ECORRUPT,
	   "a frame with a trailing byte");
	strbuf_add(&f, stored.buf, stored.len);
	ok(zctx_decode(z, CODEC_ZSTD, f.buf + 0, stored.len * 2 + 1, len, &out) == CAIRN_ECORRUPT,
	   "two frames");

	/* raw chunks */
	ok(zctx_decode(z, CODEC_RAW, data, 99, 100, &out) == CAIRN_ECORRUPT,
	   "raw chunk with stored_len < raw_len");
	ok(zctx_decode(z, CODEC_RAW, data, 100, 99, &out) == CAIRN_ECORRUPT,
	   "raw chunk with stored_len > raw_len");
	ok(zctx_decode(z, CODEC_RAW, data, 100, 100, &out) == 0 && out.len == 100 &&
	   !memcmp(out.buf, data, 100), "raw chunk with equal lengths decodes");
	ok(zctx_decode(z, CODEC_RAW, data, 0, 0, &out) == 0 && out.len == 0, "empty raw chunk");

	/* unknown codecs */
	ok(zctx_decode(z, 9, stored.buf, stored.len, len, &out) == CAIRN_ECORRUPT, "codec 9");
	ok(zctx_decode(z, CODEC_MAX + 1, stored.buf, stored.len, len, &out) == CAIRN_ECORRUPT,
	   "codec CODEC_MAX + 1");
	ok(zctx_decode(z, -1, stored.buf, stored.len, len, &out) == CAIRN_ECORRUPT, "codec -1");
	ok(zctx_decode(z, 255, data, 10, 10, &out) == CAIRN_ECORRUPT, "codec 255");

	/* garbage */
	{
		int all = 1, c;
		uint8_t junk[4096];
		for (i = 0; i < 200; i++) {
			size_t n = (size_t)(rnd() % sizeof(junk)), j;
			for (j = 0; j < n; j++)
				junk[j] = (uint8_t)rnd();
			if (i % 2 && n >= 4) {
				/* a real magic number in front */
				junk[0] = 0x28; junk[1] = 0xb5; junk[2] = 0x2f; junk[3] = 0xfd;
			}
			for (c = CODEC_ZSTD; c <= CODEC_ZSTD_BG4; c++) {
				r = zctx_decode(z, c, junk, n, n, &out);
				if (r != CAIRN_ECORRUPT)
					all = 0;
			}
		}
		ok(all, "200 garbage inputs are corrupt under every zstd codec");
	}
	/* a frame with a flipped byte somewhere: corrupt or (rarely) the same data, never a crash */
	{
		int bad = 0;
		for (i = 0; i < stored.len; i += 7) {
			strbuf_reset(&f);
			strbuf_add(&f, stored.buf, stored.len);
			f.buf[i] ^= 0x5a;
			r = zctx_decode(z, CODEC_ZSTD, f.buf, f.len, len, &out);
			if (r != CAIRN_ECORRUPT && !(r == 0 && out.len == len))
				bad++;
		}
		ok(!bad, "frames with one byte flipped: corrupt or of the right length");
	}

	/* hand-made frames: first one that is valid, to show the builder works */
	strbuf_reset(&f);
	frame_header(&f, 0, 1, 5, 0);
	raw_block(&f, (const uint8_t *)"hello", 5, 1);
	r = zctx_decode(z, CODEC_ZSTD, f.buf, f.len, 5, &out);
	ok(r == 0 && out.len == 5 && !memcmp(out.buf, "hello", 5), "a hand-made frame decodes");
	strbuf_reset(&f);
	frame_header(&f, 2, 1, 100000, 0);
	rle_block(&f, 'q', 100000, 1);
	r = zctx_decode(z, CODEC_ZSTD, f.buf, f.len, 100000, &out);
	ok(r == 0 && out.len == 100000 && out.buf[99999] == 'q', "a hand-made RLE frame decodes");

	/* claims 10 GiB: with an 8-byte content size, single segment */
	strbuf_reset(&f);
	frame_header(&f, 3, 1, (uint64_t)10 << 30, 0);
	raw_block(&f, (const uint8_t *)"hello", 5, 1);
	ok(zctx_decode(z, CODEC_ZSTD, f.buf, f.len, 5, &out) == CAIRN_ECORRUPT,
	   "frame claiming 10 GiB (single segment), raw_len 5");
	ok(zctx_decode(z, CODEC_ZSTD, f.buf, f.len, 1u << 20, &out) == CAIRN_ECORRUPT,
	   "frame claiming 10 GiB, raw_len 1 MiB");
	ok(zctx_decode(z, CODEC_ZSTD_BG2, f.buf, f.len, 6, &out) == CAIRN_ECORRUPT,
	   "frame claiming 10 GiB under bg2");
	/* with a window descriptor asking for a 2 GiB window (exponent 21 + 10 = 31) */
	strbuf_reset(&f);
	frame_header(&f, 3, 0, (uint64_t)10 << 30, 21 << 3);
	rle_block(&f, 0, 100000, 1);
	ok(zctx_decode(z, CODEC_ZSTD, f.buf, f.len, 100000, &out) == CAIRN_ECORRUPT,
	   "frame claiming 10 GiB with a 2 GiB window");
	/* right content size, but a window over the limit */
	strbuf_reset(&f);
	frame_header(&f, 2, 0, 100000, 21 << 3);
	rle_block(&f, 0, 100000, 1);
	r = zctx_decode(z, CODEC_ZSTD, f.buf, f.len, 100000, &out);
	ok(r == CAIRN_ECORRUPT || (r == 0 && out.len == 100000),
	   "frame asking for a 2 GiB window: refused or decoded in bounds (%d)", r);
	/* an RLE block that expands beyond the declared content size */
	strbuf_reset(&f);
	frame_header(&f, 2, 1, 1000, 0);
	rle_block(&f, 'z', 100000, 1);
	ok(zctx_decode(z, CODEC_ZSTD, f.buf, f.len, 1000, &out) == CAIRN_ECORRUPT,
	   "blocks larger than the declared content size");
	/* blocks smaller than the declared content size */
	strbuf_reset(&f);
	frame_header(&f, 2, 1, 100000, 0);
	rle_block(&f, 'z', 1000, 1);
	ok(zctx_decode(z, CODEC_ZSTD, f.buf, f.len, 100000, &out) == CAIRN_ECORRUPT,
	   "blocks smaller than the declared content size");
	/* no content size at all */
	strbuf_reset(&f);
	frame_header(&f, 0, 0, 0, 10 << 3);
	raw_block(&f, (const uint8_t *)"hello", 5, 1);
	ok(zctx_decode(z, CODEC_ZSTD, f.buf, f.len, 5, &out) == CAIRN_ECORRUPT,
	   "frame without a content size");
	/* a real frame with its header patched to claim 10 GiB */
	{
		struct strbuf p = STRBUF_INIT;
		size_t hdr;
		/* compressed frames from zctx_encode are single-segment with a content size
		 * field; rebuild the header with an 8-byte field of 10 GiB */
		uint8_t fhd = (uint8_t)stored.buf[4];
		int fcs_code = fhd >> 6, single = !!(fhd & 0x20), dict = fhd & 3;
		int fcs_n = fcs_code == 0 ? (single ? 1 : 0) : 1 << fcs_code;
		hdr = 5 + (single ? 0 : 1) + (dict ? (1 << (dict - 1)) : 0) + (size_t)fcs_n;
		frame_header(&p, 3, single, (uint64_t)10 << 30, single ? 0 : (uint8_t)stored.buf[5]);
		strbuf_add(&p, stored.buf + hdr, stored.len - hdr);
		ok(dict == 0 && zctx_decode(z, CODEC_ZSTD, p.buf, p.len, len, &out) == CAIRN_ECORRUPT,
		   "a real frame patched to claim 10 GiB");
		/* the same patch with the true size decodes: the patching is right */
		strbuf_reset(&p);
		frame_header(&p, 3, single, len, single ? 0 : (uint8_t)stored.buf[5]);
		strbuf_add(&p, stored.buf + hdr, stored.len - hdr);
		r = zctx_decode(z, CODEC_ZSTD, p.buf, p.len, len, &out);
		ok(r == 0 && out.len == len && !memcmp(out.buf, data, len),
		   "the same frame patched with its true size decodes");
		strbuf_release(&p);
	}
	/* a skippable frame is not a chunk */
	{
		static const uint8_t skip[12] = { 0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4 };
		r = zctx_decode(z, CODEC_ZSTD, skip, sizeof(skip), 4, &out);
		ok(r == CAIRN_ECORRUPT, "a skippable frame with raw_len 4");
	}
	/* the context still works after all that */
	r = zctx_decode(z, CODEC_ZSTD, stored.buf, stored.len, len, &out);
	ok(r == 0 && out.len == len && !memcmp(out.buf, data, len),
	   "the context decodes a good frame after the failures");

	if (limited)
		setrlimit(RLIMIT_DATA, &saved);
	strbuf_release(&stored);
	strbuf_release(&out);
	strbuf_release(&f);
	free(data);
}

static void test_bytegroup(void)
{
	/* past several 32- and 64-byte SIMD steps, with every tail */
	uint8_t src[300], grouped[300], back[300];
	size_t len, i;
	int w, good = 1, layout = 1;

	for (w = 2; w <= 4; w += 2) {
		for (len = 0; len <= 300; len++) {
			size_t words = len / (size_t)w;
			for (i = 0; i < len; i++)
				src[i] = (uint8_t)rnd();
			memset(grouped, 0xee, sizeof(grouped));
			memset(back, 0xdd, sizeof(back));
			bytegroup(grouped, src, len, w);
			byteungroup(back, grouped, len, w);
			if (memcmp(src, back, len))
				good = 0;
			/* layout: byte b of word i at b*words + i; the tail last, as is */
			for (i = 0; i < words * (size_t)w; i++)
				if (grouped[(i % (size_t)w) * words + i / (size_t)w] != src[i])
					layout = 0;
			for (i = words * (size_t)w; i < len; i++)
				if (grouped[i] != src[i])
					layout = 0;
			/* nothing written past len */
			for (i = len; i < 300; i++)
				if (grouped[i] != 0xee || back[i] != 0xdd)
					good = 0;
		}
		ok(good, "byteungroup(bytegroup(x)) == x for lengths 0..300, w=%d", w);
		ok(layout, "bytegroup layout for w=%d", w);
	}
	{
		static const uint8_t in[7] = { 'a', 'A', 'b', 'B', 'c', 'C', 't' };
		uint8_t o[7];
		bytegroup(o, in, 7, 2);
		ok(!memcmp(o, "abcABCt", 7), "bytegroup of a0 a1 b0 b1 c0 c1 t with w=2");
	}
}

/* Deltas: a frame that needs its base; without it, or cut short, it fails. */
static void test_delta(struct zctx *z)
{
	struct strbuf base = STRBUF_INIT, data = STRBUF_INIT, d = STRBUF_INIT, out = STRBUF_INIT;
	int k;

	for (k = 0; k < 400; k++)
		strbuf_addf(&base, "entry %05d %08x%08x\n", k, (unsigned)(k * 2654435761u),
			    (unsigned)(k * 69069u));
	strbuf_add(&data, base.buf, base.len);
	memcpy(data.buf + 1000, "CHANGED", 7);
	strbuf_addstr(&d, "hdr"); /* appended after what is there */
	k = zctx_delta_encode(z, base.buf, base.len, data.buf, data.len, &d);
	ok(!k && d.len < 3 + 100 && !memcmp(d.buf, "hdr", 3),
	   "a delta of one change: %zu bytes for %zu", d.len - 3, data.len);
	ok(!zctx_delta_decode(z, base.buf, base.len, d.buf + 3, d.len - 3, data.len, &out) &&
	   out.len == data.len && !memcmp(out.buf, data.buf, data.len), "it decodes with its base");
	/* then a plain frame on the same context: no prefix left over */
	{
		int codec;
		struct strbuf st = STRBUF_INIT;
		zctx_encode(z, data.buf, data.len, -1, 0, &codec, &st);
		ok(!zctx_decode(z, codec, st.buf, st.len, data.len, &out) && out.len == data.len &&
		   !memcmp(out.buf, data.buf, data.len), "a plain frame after it");
		strbuf_release(&st);
	}
	ok(zctx_delta_decode(z, "x", 1, d.buf + 3, d.len - 3, data.len, &out) != 0 ||
	   memcmp(out.buf, data.buf, data.len), "with another base it fails or differs");
	ok(zctx_delta_decode(z, base.buf, base.len, d.buf + 3, d.len - 4, data.len, &out) ==
	   CAIRN_ECORRUPT, "cut short: corrupt");
	ok(zctx_delta_decode(z, base.buf, base.len, d.buf + 3, d.len - 3, data.len + 1, &out) ==
	   CAIRN_ECORRUPT, "a wrong length: corrupt");
	ok(zctx_delta_encode(z, base.buf, DELTA_MAX_SPAN, data.buf, 1, &d) == -1,
	   "base and data beyond the span: refused");
	ok(zctx_delta_decode(z, base.buf, DELTA_MAX_SPAN, d.buf + 3, 4, 1, &out) == CAIRN_ECORRUPT,
	   "and refused when decoding");
	strbuf_release(&base);
	strbuf_release(&data);
	strbuf_release(&d);
	strbuf_release(&out);
}

int main(void)
{
	struct zctx *z = zctx_new(3), *z2;
	test_round_trips(z);
	test_text_choice(z);
	test_rejects(z);
	test_bytegroup();
	test_delta(z);
	zctx_free(z);
	/* a context used only for decoding, and one never used */
	z2 = zctx_new(1);
	{
		struct strbuf out = STRBUF_INIT;
		ok(zctx_decode(z2, CODEC_ZSTD, "\x28\xb5\x2f\xfd", 4, 0, &out) == CAIRN_ECORRUPT,
		   "a lone magic number on a fresh context");
		strbuf_release(&out);
	}
	zctx_free(z2);
	zctx_free(zctx_new(3));
	zctx_free(NULL);
	return tap_done();
}
