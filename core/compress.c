#include "core/compress.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>

struct zctx {
	int level;
	ZSTD_CCtx *c;
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
	ZSTD_freeDCtx(z->d);
	strbuf_release(&z->tmp);
	free(z);
}

void bytegroup(uint8_t *dst, const uint8_t *src, size_t len, int w)
{
	size_t words = len / (size_t)w, i;
	int b;
	for (b = 0; b < w; b++) {
		uint8_t *d = dst + (size_t)b * words;
		const uint8_t *s = src + b;
		for (i = 0; i < words; i++)
			d[i] = s[i * (size_t)w];
	}
	memcpy(dst + words * (size_t)w, src + words * (size_t)w, len - words * (size_t)w);
}

void byteungroup(uint8_t *dst, const uint8_t *src, size_t len, int w)
{
	size_t words = len / (size_t)w, i;
	int b;
	for (b = 0; b < w; b++) {
		const uint8_t *s = src + (size_t)b * words;
		uint8_t *d = dst + b;
		for (i = 0; i < words; i++)
			d[i * (size_t)w] = s[i];
	}
	memcpy(dst + words * (size_t)w, src + words * (size_t)w, len - words * (size_t)w);
}

/* Compress into out; returns compressed size or 0 if it failed. */
static size_t zcompress(struct zctx *z, const void *src, size_t len, struct strbuf *out)
{
	size_t bound = ZSTD_compressBound(len), n;
	if (!z->c) {
		z->c = ZSTD_createCCtx();
		if (!z->c)
			return 0;
		ZSTD_CCtx_setParameter(z->c, ZSTD_c_compressionLevel, z->level);
		ZSTD_CCtx_setParameter(z->c, ZSTD_c_checksumFlag, 0);
		ZSTD_CCtx_setParameter(z->c, ZSTD_c_contentSizeFlag, 1);
	}
	strbuf_reset(out);
	strbuf_grow(out, bound);
	n = ZSTD_compress2(z->c, out->buf, bound, src, len);
	if (ZSTD_isError(n))
		return 0;
	strbuf_setlen(out, n);
	return n;
}

/*
 * Cheap incompressibility probe: the order-0 entropy of up to 4096 bytes
 * sampled across the data. Random-looking data (JPEG payloads, encrypted or
 * already compressed files) comes out near 8 bits per byte and is stored
 * raw without running zstd at all. Data whose bytes look random but repeat
 * at a distance would be missed; chunk-level dedup still catches repeats
 * longer than a chunk.
 */
static int looks_incompressible(const uint8_t *p, size_t len)
{
	uint32_t hist[256] = { 0 };
	size_t n = 0, i, b, gap;
	double h = 0;
	if (len < 4096)
		return 0;
	/* 16 runs of 256 contiguous bytes: a strided sample would see only
	 * one byte of each word in word-structured data (bf16 tensors) */
	gap = (len - 256) / 15;
	for (b = 0; b < 16; b++)
		for (i = 0; i < 256; i++, n++)
			hist[p[b * gap + i]]++;
	for (i = 0; i < 256; i++) {
		if (hist[i]) {
			double q = (double)hist[i] / (double)n;
			h -= q * __builtin_log2(q);
		}
	}
	/* a uniform sample of 4096 bytes measures ~7.95 bits */
	return h > 7.8;
}

/* Worth storing compressed: saves at least ~3%. */
static int pays(size_t stored, size_t raw)
{
	return stored && stored < raw - raw / 32;
}

void zctx_encode(struct zctx *z, const void *data, size_t len, int try_bg,
		 int *codec, struct strbuf *out)
{
	size_t n = 0;
	if (len >= 64 && !looks_incompressible(data, len)) {
		if (try_bg == 2 || try_bg == 4) {
			strbuf_reset(&z->tmp);
			strbuf_grow(&z->tmp, len);
			bytegroup((uint8_t *)z->tmp.buf, data, len, try_bg);
			n = zcompress(z, z->tmp.buf, len, out);
			if (pays(n, len)) {
				*codec = try_bg == 2 ? CODEC_ZSTD_BG2 : CODEC_ZSTD_BG4;
				return;
			}
		} else {
			n = zcompress(z, data, len, out);
			if (pays(n, len)) {
				*codec = CODEC_ZSTD;
				return;
			}
		}
	}
	*codec = CODEC_RAW;
	strbuf_reset(out);
	strbuf_add(out, data, len);
}

int zctx_decode(struct zctx *z, int codec, const void *stored, size_t stored_len,
		size_t raw_len, struct strbuf *out)
{
	struct strbuf *dst;
	unsigned long long fsize;
	size_t n;
	int w = 0;

	strbuf_reset(out);
	if (codec == CODEC_RAW) {
		if (stored_len != raw_len)
			return CAIRN_ECORRUPT;
		strbuf_add(out, stored, stored_len);
		return 0;
	}
	if (codec == CODEC_ZSTD_BG2)
		w = 2;
	else if (codec == CODEC_ZSTD_BG4)
		w = 4;
	else if (codec != CODEC_ZSTD)
		return CAIRN_ECORRUPT;
	fsize = ZSTD_getFrameContentSize(stored, stored_len);
	if (fsize == ZSTD_CONTENTSIZE_ERROR || fsize == ZSTD_CONTENTSIZE_UNKNOWN ||
	    fsize != raw_len)
		return CAIRN_ECORRUPT;
	if (ZSTD_findFrameCompressedSize(stored, stored_len) != stored_len)
		return CAIRN_ECORRUPT;
	if (!z->d) {
		z->d = ZSTD_createDCtx();
		if (!z->d)
			return CAIRN_ENOMEM;
		/* 2^27: well above any chunk, far below anything harmful */
		ZSTD_DCtx_setParameter(z->d, ZSTD_d_windowLogMax, 27);
	}
	dst = w ? &z->tmp : out;
	strbuf_reset(dst);
	strbuf_grow(dst, raw_len);
	n = ZSTD_decompressDCtx(z->d, dst->buf, raw_len ? raw_len : 1, stored, stored_len);
	if (ZSTD_isError(n) || n != raw_len) {
		ZSTD_DCtx_reset(z->d, ZSTD_reset_session_only);
		return CAIRN_ECORRUPT;
	}
	strbuf_setlen(dst, n);
	if (w) {
		strbuf_grow(out, raw_len);
		byteungroup((uint8_t *)out->buf, (const uint8_t *)z->tmp.buf, raw_len, w);
		strbuf_setlen(out, raw_len);
	}
	return 0;
}
