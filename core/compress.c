#include "core/compress.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_c_literalCompressionMode */
#include <zstd.h>

struct zctx {
	int level;
	ZSTD_CCtx *c;
	ZSTD_CCtx *cp; /* for the planes of byte-grouped words */
	ZSTD_CCtx *ct[ZTEXT_EFFORTS]; /* for text at level 3, by effort */
	ZSTD_CCtx *cd; /* deltas against a base (prefix) */
	ZSTD_DCtx *d;
	struct strbuf tmp;
};

struct zctx *zctx_new(int level)
{
	struct zctx *z = xcalloc(1, sizeof(*z));
	z->level = level;
	strbuf_init(&z->tmp, 0);
	return z;
}

void zctx_free(struct zctx *z)
{
	if (!z)
		return;
	ZSTD_freeCCtx(z->c);
	ZSTD_freeCCtx(z->cp);
	ZSTD_freeCCtx(z->ct[ZTEXT_FAST]);
	ZSTD_freeCCtx(z->ct[ZTEXT_STRONG]);
	ZSTD_freeCCtx(z->cd);
	ZSTD_freeDCtx(z->d);
	strbuf_release(&z->tmp);
	free(z);
}

/*
 * Byte grouping moves byte k of every w-byte word into plane k. The SSE2
 * paths (every x86-64 has SSE2) split 16-bit lanes into their low and high
 * bytes with a mask, a shift and a saturating pack: 32 bytes a step for
 * w=2, 64 for w=4 (the split applied twice). Ungrouping interleaves the
 * planes back with unpack. The scalar loops finish the tail and serve
 * other machines; the planar layout is the same either way.
 */
#ifdef __SSE2__
#include <emmintrin.h>

static size_t group2_sse2(uint8_t *lo, uint8_t *hi, const uint8_t *src, size_t words)
{
	const __m128i m = _mm_set1_epi16(0xff);
	size_t i;
	for (i = 0; i + 16 <= words; i += 16) {
		__m128i a = _mm_loadu_si128((const __m128i *)(src + 2 * i));
		__m128i b = _mm_loadu_si128((const __m128i *)(src + 2 * i + 16));
		_mm_storeu_si128((__m128i *)(lo + i),
				 _mm_packus_epi16(_mm_and_si128(a, m), _mm_and_si128(b, m)));
		_mm_storeu_si128((__m128i *)(hi + i),
				 _mm_packus_epi16(_mm_srli_epi16(a, 8), _mm_srli_epi16(b, 8)));
	}
	return i;
}

static size_t group4_sse2(uint8_t *p[4], const uint8_t *src, size_t words)
{
	const __m128i m = _mm_set1_epi16(0xff);
	size_t i;
	for (i = 0; i + 16 <= words; i += 16) {
		const __m128i *s = (const __m128i *)(src + 4 * i);
		__m128i a = _mm_loadu_si128(s), b = _mm_loadu_si128(s + 1);
		__m128i c = _mm_loadu_si128(s + 2), d = _mm_loadu_si128(s + 3);
		/* bytes 0,2 and bytes 1,3 of each word */
		__m128i e0 = _mm_packus_epi16(_mm_and_si128(a, m), _mm_and_si128(b, m));
		__m128i o0 = _mm_packus_epi16(_mm_srli_epi16(a, 8), _mm_srli_epi16(b, 8));
		__m128i e1 = _mm_packus_epi16(_mm_and_si128(c, m), _mm_and_si128(d, m));
		__m128i o1 = _mm_packus_epi16(_mm_srli_epi16(c, 8), _mm_srli_epi16(d, 8));
		_mm_storeu_si128((__m128i *)(p[0] + i),
				 _mm_packus_epi16(_mm_and_si128(e0, m), _mm_and_si128(e1, m)));
		_mm_storeu_si128((__m128i *)(p[2] + i),
				 _mm_packus_epi16(_mm_srli_epi16(e0, 8), _mm_srli_epi16(e1, 8)));
		_mm_storeu_si128((__m128i *)(p[1] + i),
				 _mm_packus_epi16(_mm_and_si128(o0, m), _mm_and_si128(o1, m)));
		_mm_storeu_si128((__m128i *)(p[3] + i),
				 _mm_packus_epi16(_mm_srli_epi16(o0, 8), _mm_srli_epi16(o1, 8)));
	}
	return i;
}

static size_t ungroup2_sse2(uint8_t *dst, const uint8_t *lo, const uint8_t *hi, size_t words)
{
	size_t i;
	for (i = 0; i + 16 <= words; i += 16) {
		__m128i l = _mm_loadu_si128((const __m128i *)(lo + i));
		__m128i h = _mm_loadu_si128((const __m128i *)(hi + i));
		_mm_storeu_si128((__m128i *)(dst + 2 * i), _mm_unpacklo_epi8(l, h));
		_mm_storeu_si128((__m128i *)(dst + 2 * i + 16), _mm_unpackhi_epi8(l, h));
	}
	return i;
}

static size_t ungroup4_sse2(uint8_t *dst, const uint8_t *p[4], size_t words)
{
	size_t i;
	for (i = 0; i + 16 <= words; i += 16) {
		__m128i p0 = _mm_loadu_si128((const __m128i *)(p[0] + i));
		__m128i p1 = _mm_loadu_si128((const __m128i *)(p[1] + i));
		__m128i p2 = _mm_loadu_si128((const __m128i *)(p[2] + i));
		__m128i p3 = _mm_loadu_si128((const __m128i *)(p[3] + i));
		__m128i a = _mm_unpacklo_epi8(p0, p1), b = _mm_unpackhi_epi8(p0, p1);
		__m128i c = _mm_unpacklo_epi8(p2, p3), d = _mm_unpackhi_epi8(p2, p3);
		__m128i *o = (__m128i *)(dst + 4 * i);
		_mm_storeu_si128(o, _mm_unpacklo_epi16(a, c));
		_mm_storeu_si128(o + 1, _mm_unpackhi_epi16(a, c));
		_mm_storeu_si128(o + 2, _mm_unpacklo_epi16(b, d));
		_mm_storeu_si128(o + 3, _mm_unpackhi_epi16(b, d));
	}
	return i;
}
#endif

void bytegroup(uint8_t *dst, const uint8_t *src, size_t len, int w)
{
	size_t words = len / (size_t)w, i = 0;
	int b;
#ifdef __SSE2__
	if (w == 2) {
		i = group2_sse2(dst, dst + words, src, words);
	} else if (w == 4) {
		uint8_t *p[4] = { dst, dst + words, dst + 2 * words, dst + 3 * words };
		i = group4_sse2(p, src, words);
	}
#endif
	for (b = 0; b < w; b++) {
		uint8_t *d = dst + (size_t)b * words;
		const uint8_t *s = src + b;
		size_t j;
		for (j = i; j < words; j++)
			d[j] = s[j * (size_t)w];
	}
	memcpy(dst + words * (size_t)w, src + words * (size_t)w, len - words * (size_t)w);
}

void byteungroup(uint8_t *dst, const uint8_t *src, size_t len, int w)
{
	size_t words = len / (size_t)w, i = 0;
	int b;
#ifdef __SSE2__
	if (w == 2) {
		i = ungroup2_sse2(dst, src, src + words, words);
	} else if (w == 4) {
		const uint8_t *p[4] = { src, src + words, src + 2 * words, src + 3 * words };
		i = ungroup4_sse2(dst, p, words);
	}
#endif
	for (b = 0; b < w; b++) {
		const uint8_t *s = src + (size_t)b * words;
		uint8_t *d = dst + b;
		size_t j;
		for (j = i; j < words; j++)
			d[j * (size_t)w] = s[j];
	}
	memcpy(dst + words * (size_t)w, src + words * (size_t)w, len - words * (size_t)w);
}

/*
 * Compress into out at z->level, or with one of the text settings (see
 * text_effort()); returns compressed size or 0 if it failed.
 */
static size_t zcompress(struct zctx *z, const void *src, size_t len, int effort,
			struct strbuf *out)
{
	size_t bound = ZSTD_compressBound(len), n;
	ZSTD_CCtx **c = effort < 0 ? &z->c : &z->ct[effort];
	if (!*c) {
		*c = ZSTD_createCCtx();
		if (!*c)
			return 0;
		ZSTD_CCtx_setParameter(*c, ZSTD_c_compressionLevel, z->level);
		ZSTD_CCtx_setParameter(*c, ZSTD_c_checksumFlag, 0);
		ZSTD_CCtx_setParameter(*c, ZSTD_c_contentSizeFlag, 1);
		/* the level's window and table sizes, another match finder */
		if (effort == ZTEXT_FAST) {
			ZSTD_CCtx_setParameter(*c, ZSTD_c_strategy, ZSTD_fast);
			ZSTD_CCtx_setParameter(*c, ZSTD_c_minMatch, 6);
		} else if (effort == ZTEXT_STRONG) {
			ZSTD_CCtx_setParameter(*c, ZSTD_c_strategy, ZSTD_lazy2);
			ZSTD_CCtx_setParameter(*c, ZSTD_c_searchLog, 2);
			ZSTD_CCtx_setParameter(*c, ZSTD_c_minMatch, 6);
		}
	}
	strbuf_reset(out);
	strbuf_grow(out, bound);
	n = ZSTD_compress2(*c, out->buf, bound, src, len);
	if (ZSTD_isError(n))
		return 0;
	strbuf_setlen(out, n);
	return n;
}

/*
 * The probe: order-0 entropies (bits per byte) of 16 runs of 256
 * contiguous bytes spread over the data, overall and by position modulo 4.
 * Runs start at multiples of 4, so word-structured data (float tensors)
 * shows its planes: in bf16 the high byte of each word (sign, exponent)
 * has far lower entropy than the low byte (mantissa). Runs, not a stride:
 * a stride would see only one byte of each word.
 */
struct probe {
	double all, pos[4];
	uint32_t hist[4][256]; /* counts by position modulo 4 */
};

/* c * log2(c) for the counts a probe can produce: no log2() per bin */
static float clogc[4097];
static pthread_once_t clogc_once = PTHREAD_ONCE_INIT;

static void clogc_init(void)
{
	int c;
	for (c = 1; c <= 4096; c++)
		clogc[c] = (float)((double)c * __builtin_log2((double)c));
}

/* Entropy in bits per byte of a histogram of n (<= 4096) samples. */
static double entropy(const uint32_t *hist, uint32_t n)
{
	double sum = 0;
	int i;
	pthread_once(&clogc_once, clogc_init);
	for (i = 0; i < 256; i++)
		sum += clogc[hist[i]];
	return __builtin_log2((double)n) - sum / (double)n;
}

static int run_probe(const uint8_t *p, size_t len, struct probe *pr)
{
	uint32_t all[256];
	size_t i, b, gap;
	int k;
	if (len < 4096)
		return 0;
	memset(pr->hist, 0, sizeof(pr->hist));
	gap = ((len - 256) / 15) & ~(size_t)3;
	/* a word at a time, each byte position to its own table: no i & 3,
	 * and four independent increments in flight */
	for (b = 0; b < 16; b++) {
		const uint8_t *q = p + b * gap;
		for (i = 0; i < 256; i += 4) {
			pr->hist[0][q[i]]++;
			pr->hist[1][q[i + 1]]++;
			pr->hist[2][q[i + 2]]++;
			pr->hist[3][q[i + 3]]++;
		}
	}
	for (i = 0; i < 256; i++)
		all[i] = pr->hist[0][i] + pr->hist[1][i] + pr->hist[2][i] + pr->hist[3][i];
	pr->all = entropy(all, 4096);
	for (k = 0; k < 4; k++)
		pr->pos[k] = entropy(pr->hist[k], 1024);
	return 1;
}

/*
 * Random-looking bytes (JPEG payloads, mantissa planes) are stored raw.
 * Plane k of w-byte words is judged from the probe's own samples (positions
 * k and k+2 for w=2, k for w=4), so grouping costs no second pass. An
 * estimate from n samples of 256 bins reads about 255 / (2 n ln 2) bits
 * low, so the 7.8-bit line set for 4,096 samples moves down by the
 * difference for the smaller plane samples.
 */
#define RANDOM_BITS 7.8

static double bias(double n)
{
	return 255.0 / (2.0 * n * 0.6931471805599453);
}

static int plane_looks_random(const struct probe *pr, int w, int k)
{
	uint32_t h[256];
	int i;
	if (!pr)
		return 0;
	if (w == 4)
		return entropy(pr->hist[k], 1024) > RANDOM_BITS + bias(4096) - bias(1024);
	for (i = 0; i < 256; i++)
		h[i] = pr->hist[k][i] + pr->hist[k + 2][i];
	return entropy(h, 2048) > RANDOM_BITS + bias(4096) - bias(2048);
}

/* Worth storing compressed: saves at least ~3%. */
static int pays(size_t stored, size_t raw)
{
	return stored && stored < raw - raw / 32;
}

/*
 * Text at the default level. Level 3's double-fast match finder suits text
 * poorly: a lazy one that takes no match under 6 bytes stores chunks of
 * text 5-6% smaller (a CSV table, JSON lines, C and Python source), but
 * at 2.3x the CPU. So only a share of the text chunks, picked by their id
 * (the same chunk is always stored the same way), get it (ZTEXT_STRONG:
 * lazy2, searchLog 2, minMatch 6). The others keep level 3, or, in
 * numeric text (a quarter or more of the bytes digits: tables, logs), get
 * the fast match finder with minMatch 6 (ZTEXT_FAST): there short matches
 * inside random digits cost more than the literals they replace, and it
 * stores as small as level 3 for 2/3 of the CPU, which pays for part of
 * the strong share. One core, 16 MB of the benchmark's events.csv in its
 * 64 KiB chunks:
 *
 *                          ratio   MB/s
 *     level 3              3.216   195
 *     ZTEXT_FAST           3.218   285
 *     ZTEXT_STRONG         3.427    86
 *     lazy, searchLog 1    3.354   100   (less gain for the CPU)
 *     btopt, searchLog 2   3.531    14
 *
 * `cairn add` of all 502 MB on two cores: level 3 stores 158.0 MB in
 * 2.0 s; this, 153.7 MB in 2.6 s (CPU +29%); ZTEXT_STRONG for every text
 * chunk, 148.3 MB in 3.9 s. TEXT_STRONG_SHARE is that trade-off.
 *
 * Text: at most 1/256 of the probe's bytes are control bytes other than
 * tab, LF and CR (UTF-8 is text). Other levels are taken as they are set.
 */
#define TEXT_LEVEL 3		/* ODB_ZLEVEL_DEFAULT */
#define TEXT_STRONG_SHARE 112	/* of every 256 text chunks */

static int text_effort(const struct probe *pr, int level, unsigned pick)
{
	uint32_t ctl = 0, digits = 0;
	int k, c;
	if (level != TEXT_LEVEL)
		return -1;
	for (k = 0; k < 4; k++) {
		for (c = 0; c < 0x20; c++)
			if (c != '\t' && c != '\n' && c != '\r')
				ctl += pr->hist[k][c];
		ctl += pr->hist[k][0x7f];
		for (c = '0'; c <= '9'; c++)
			digits += pr->hist[k][c];
	}
	if (ctl > 4096 / 256)
		return -1;
	if ((pick & 0xff) < TEXT_STRONG_SHARE)
		return ZTEXT_STRONG;
	return digits >= 4096 / 4 ? ZTEXT_FAST : -1;
}

int zctx_text_effort(int level, const void *data, size_t len, unsigned pick)
{
	struct probe pr;
	if (len < 64 || !run_probe(data, len, &pr) || pr.all > RANDOM_BITS)
		return -1;
	return text_effort(&pr, level, pick);
}

/*
 * Planar encoding of w-byte words (CODEC_ZSTD_BG2/BG4): for each plane
 * (byte k of every word), u8 mode (0 raw, 1 zstd), u32 length, the bytes;
 * then the tail (len % w bytes) as is. Each plane is compressed on its
 * own: the low-entropy exponent plane shrinks, the mantissa planes, near
 * random, are stored raw without zstd ever looking at them.
 */
static size_t encode_planar(struct zctx *z, const uint8_t *data, size_t len, int w,
			    const struct probe *pr, struct strbuf *out)
{
	size_t words = len / (size_t)w, k;
	uint8_t *g;
	strbuf_reset(&z->tmp);
	strbuf_grow(&z->tmp, len);
	g = (uint8_t *)z->tmp.buf;
	bytegroup(g, data, len, w);
	strbuf_reset(out);
	if (!z->cp) {
		z->cp = ZSTD_createCCtx();
		if (!z->cp)
			return 0;
		/* the planes are nearly all literals, which Huffman coding
		 * takes close to their entropy: a long minimum match and a tiny
		 * match table (64 slots) make zstd little more than that, twice
		 * as fast as level 1 and slightly smaller (1.49x vs 1.48x on bf16) */
		ZSTD_CCtx_setParameter(z->cp, ZSTD_c_compressionLevel, 1);
		ZSTD_CCtx_setParameter(z->cp, ZSTD_c_minMatch, 7);
		ZSTD_CCtx_setParameter(z->cp, ZSTD_c_hashLog, 6);
		ZSTD_CCtx_setParameter(z->cp, ZSTD_c_contentSizeFlag, 1);
		/* and a match finder that skips ahead fast (targetLength is the
		 * acceleration of the fast strategy): about 1.2x faster on bf16
		 * exponent planes, same size. That setting turns Huffman coding
		 * of literals off unless it is forced on, so only with it. */
		if (!ZSTD_isError(ZSTD_CCtx_setParameter(z->cp, ZSTD_c_literalCompressionMode,
							 ZSTD_ps_enable)))
			ZSTD_CCtx_setParameter(z->cp, ZSTD_c_targetLength, 1 << 16);
	}
	for (k = 0; k < (size_t)w; k++) {
		const uint8_t *plane = g + k * words;
		uint8_t hdr[5];
		size_t at = out->len, n = 0, bound = ZSTD_compressBound(words);
		int mode = 0;
		strbuf_add(out, hdr, sizeof(hdr));
		if (words >= 64 && !plane_looks_random(pr, w, (int)k)) {
			strbuf_grow(out, bound);
			n = ZSTD_compress2(z->cp, out->buf + out->len, bound, plane, words);
			if (!ZSTD_isError(n) && n < words)
				mode = 1;
		}
		if (mode)
			strbuf_setlen(out, out->len + n);
		else
			strbuf_add(out, plane, words);
		out->buf[at] = (char)mode;
		put_le32((uint8_t *)out->buf + at + 1, (uint32_t)(out->len - at - 5));
	}
	strbuf_add(out, data + words * (size_t)w, len - words * (size_t)w);
	return out->len;
}

static double absd(double x)
{
	return x < 0 ? -x : x;
}

void zctx_encode(struct zctx *z, const void *data, size_t len, int try_bg, unsigned pick,
		 int *codec, struct strbuf *out)
{
	struct probe pr;
	int have = len >= 64 && run_probe(data, len, &pr), w = 0;
	size_t n;

	if (len < 64)
		goto raw;
	if (have && try_bg == 0) {
		/* two-periodic: bf16/fp16 words; four-periodic: fp32 words */
		double d4 = absd(pr.pos[0] - pr.pos[2]) + absd(pr.pos[1] - pr.pos[3]);
		double s2 = absd(pr.pos[0] + pr.pos[2] - pr.pos[1] - pr.pos[3]) / 2;
		if (d4 > 1.0)
			w = 4;
		else if (s2 > 1.0)
			w = 2;
	} else if (try_bg == 2 || try_bg == 4) {
		w = try_bg;
	}
	if (w) {
		n = encode_planar(z, data, len, w, have ? &pr : NULL, out);
		if (pays(n, len)) {
			*codec = w == 2 ? CODEC_ZSTD_BG2 : CODEC_ZSTD_BG4;
			return;
		}
	}
	/* random-looking data: no codec does better than raw */
	if (have && pr.all > RANDOM_BITS)
		goto raw;
	n = zcompress(z, data, len, have ? text_effort(&pr, z->level, pick) : -1, out);
	if (pays(n, len)) {
		*codec = CODEC_ZSTD;
		return;
	}
raw:
	*codec = CODEC_RAW;
	strbuf_reset(out);
	strbuf_add(out, data, len);
}

static int make_dctx(struct zctx *z)
{
	if (!z->d) {
		z->d = ZSTD_createDCtx();
		if (!z->d)
			return CAIRN_ENOMEM;
		/* 2^27: well above any chunk or delta span, far below anything harmful */
		ZSTD_DCtx_setParameter(z->d, ZSTD_d_windowLogMax, 27);
	}
	return 0;
}

/* One zstd frame into dst, which must come to exactly want bytes. */
static int unzstd(struct zctx *z, const void *src, size_t n, uint8_t *dst, size_t want)
{
	unsigned long long fsize = ZSTD_getFrameContentSize(src, n);
	size_t got;
	if (fsize == ZSTD_CONTENTSIZE_ERROR || fsize == ZSTD_CONTENTSIZE_UNKNOWN || fsize != want)
		return CAIRN_ECORRUPT;
	if (ZSTD_findFrameCompressedSize(src, n) != n)
		return CAIRN_ECORRUPT;
	if (make_dctx(z))
		return CAIRN_ENOMEM;
	got = ZSTD_decompressDCtx(z->d, dst, want ? want : 1, src, n);
	if (ZSTD_isError(got) || got != want) {
		ZSTD_DCtx_reset(z->d, ZSTD_reset_session_only);
		return CAIRN_ECORRUPT;
	}
	return 0;
}

static unsigned window_for(size_t n)
{
	unsigned w = 10;
	while (w < 30 && ((size_t)1 << w) < n)
		w++;
	return w;
}

int zctx_delta_encode(struct zctx *z, const void *base, size_t blen, const void *data,
		      size_t len, struct strbuf *out)
{
	size_t bound = ZSTD_compressBound(len), n, at = out->len;
	if (blen + len > DELTA_MAX_SPAN)
		return -1;
	if (!z->cd) {
		z->cd = ZSTD_createCCtx();
		if (!z->cd)
			return -1;
	}
	ZSTD_CCtx_reset(z->cd, ZSTD_reset_session_and_parameters);
	ZSTD_CCtx_setParameter(z->cd, ZSTD_c_compressionLevel, z->level);
	ZSTD_CCtx_setParameter(z->cd, ZSTD_c_checksumFlag, 0);
	ZSTD_CCtx_setParameter(z->cd, ZSTD_c_contentSizeFlag, 1);
	/* the whole base in reach: every match into it counts */
	ZSTD_CCtx_setParameter(z->cd, ZSTD_c_windowLog, (int)window_for(blen + len));
	if (ZSTD_isError(ZSTD_CCtx_refPrefix(z->cd, base, blen)))
		return -1;
	strbuf_grow(out, bound);
	n = ZSTD_compress2(z->cd, out->buf + at, bound, data, len);
	if (ZSTD_isError(n))
		return -1;
	strbuf_setlen(out, at + n);
	return 0;
}

int zctx_delta_decode(struct zctx *z, const void *base, size_t blen, const void *frame,
		      size_t n, size_t raw_len, struct strbuf *out)
{
	int r;
	if (blen + raw_len > DELTA_MAX_SPAN)
		return CAIRN_ECORRUPT;
	if (make_dctx(z))
		return CAIRN_ENOMEM;
	if (ZSTD_isError(ZSTD_DCtx_refPrefix(z->d, base, blen)))
		return CAIRN_ECORRUPT;
	strbuf_reset(out);
	strbuf_grow(out, raw_len);
	r = unzstd(z, frame, n, (uint8_t *)out->buf, raw_len);
	/* a prefix the frame did not use (a bad header) must not outlive it */
	ZSTD_DCtx_refPrefix(z->d, NULL, 0);
	if (!r)
		strbuf_setlen(out, raw_len);
	return r;
}

int zctx_decode(struct zctx *z, int codec, const void *stored, size_t stored_len,
		size_t raw_len, struct strbuf *out)
{
	const uint8_t *p = stored, *end = p + stored_len;
	size_t words, k;
	int w, r;

	strbuf_reset(out);
	if (codec == CODEC_RAW) {
		if (stored_len != raw_len)
			return CAIRN_ECORRUPT;
		strbuf_add(out, stored, stored_len);
		return 0;
	}
	if (codec == CODEC_ZSTD) {
		strbuf_grow(out, raw_len);
		r = unzstd(z, stored, stored_len, (uint8_t *)out->buf, raw_len);
		if (!r)
			strbuf_setlen(out, raw_len);
		return r;
	}
	if (codec == CODEC_ZSTD_BG2)
		w = 2;
	else if (codec == CODEC_ZSTD_BG4)
		w = 4;
	else
		return CAIRN_ECORRUPT;
	words = raw_len / (size_t)w;
	strbuf_reset(&z->tmp);
	strbuf_grow(&z->tmp, raw_len);
	for (k = 0; k < (size_t)w; k++) {
		uint8_t *dst = (uint8_t *)z->tmp.buf + k * words;
		uint32_t n;
		int mode;
		if (end - p < 5)
			return CAIRN_ECORRUPT;
		mode = p[0];
		n = get_le32(p + 1);
		p += 5;
		if ((size_t)(end - p) < n)
			return CAIRN_ECORRUPT;
		if (mode == 0) {
			if (n != words)
				return CAIRN_ECORRUPT;
			memcpy(dst, p, n);
		} else if (mode == 1) {
			r = unzstd(z, p, n, dst, words);
			if (r)
				return r;
		} else {
			return CAIRN_ECORRUPT;
		}
		p += n;
	}
	if ((size_t)(end - p) != raw_len - words * (size_t)w)
		return CAIRN_ECORRUPT;
	memcpy(z->tmp.buf + words * (size_t)w, p, (size_t)(end - p));
	strbuf_grow(out, raw_len);
	byteungroup((uint8_t *)out->buf, (const uint8_t *)z->tmp.buf, raw_len, w);
	strbuf_setlen(out, raw_len);
	return 0;
}
