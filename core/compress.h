#ifndef CAIRN_COMPRESS_H
#define CAIRN_COMPRESS_H
/*
 * Chunk codecs. A stored chunk records its codec in its pack entry:
 *
 *   CODEC_RAW       the bytes as they are
 *   CODEC_ZSTD      one zstd frame
 *   CODEC_ZSTD_BG2  planes of 2-byte words (bf16/fp16), each zstd or raw
 *   CODEC_ZSTD_BG4  planes of 4-byte words (fp32), each zstd or raw
 *   CODEC_DELTA     one zstd frame made with another object's bytes (its
 *                   base) as a prefix; the odb frames it (odb.c) and
 *                   writes it only for trees, never sends it to a remote
 *
 * Byte grouping splits the words into planes: byte 0 of every word, then
 * byte 1 of every word, and so on. The planar format is, for each plane,
 * u8 mode (0 raw, 1 one zstd frame), u32 LE length, the bytes; then the
 * tail shorter than a word, as is. The exponent plane of a float tensor
 * compresses well on its own, its mantissa planes are near random and are
 * kept raw; plain zstd on interleaved words gets far less. The encoder
 * picks the word width from a cheap entropy probe per chunk. A chunk is
 * stored raw when compression saves less than about 3%, and random-looking
 * chunks are not even tried. At level 3, text is compressed with zstd
 * settings of its own (compress.c, text_effort). The numbers are part of
 * the pack format and never change.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/util.h"

enum {
	CODEC_RAW = 0,
	CODEC_ZSTD = 1,
	CODEC_ZSTD_BG2 = 2,
	CODEC_ZSTD_BG4 = 3,
	CODEC_DELTA = 4,
	CODEC_MAX = 4,
};

/* A delta's base and its result together: within a 2^26 window, which
 * any decoder takes */
#define DELTA_MAX_SPAN ((size_t)1 << 26)

/* Per-thread compression state: not shared between threads. */
struct zctx;
struct zctx *zctx_new(int level);
void zctx_free(struct zctx *z);

/*
 * Encode `len` bytes. On return *codec is set and `out` holds the stored
 * bytes (which for CODEC_RAW are a copy of the input). `try_bg`: 0 lets
 * the probe choose; 2 or 4 forces that word width (tests); -1 never
 * groups. `pick`: bits fixed for the object (the odb passes the first
 * byte of its id), which choose the zstd setting for some text, so that
 * an object is always encoded the same way.
 */
void zctx_encode(struct zctx *z, const void *data, size_t len, int try_bg, unsigned pick,
		 int *codec, struct strbuf *out);
/*
 * Decode stored bytes into `out` (replacing its contents), which must come
 * to exactly `raw_len` bytes. CAIRN_ECORRUPT on any malformed frame, wrong
 * length or unknown codec; never allocates more than raw_len + slack, so a
 * hostile frame claiming a huge size cannot exhaust memory.
 */
int zctx_decode(struct zctx *z, int codec, const void *stored, size_t stored_len,
		size_t raw_len, struct strbuf *out);

/*
 * A delta: `data` as one zstd frame, appended to `out`, that decodes only
 * with `base` as its prefix; -1 when base and data together exceed
 * DELTA_MAX_SPAN or zstd fails. zctx_delta_decode() replaces `out` with
 * the raw_len bytes; CAIRN_ECORRUPT as zctx_decode().
 */
int zctx_delta_encode(struct zctx *z, const void *base, size_t blen, const void *data,
		      size_t len, struct strbuf *out);
int zctx_delta_decode(struct zctx *z, const void *base, size_t blen, const void *frame,
		      size_t n, size_t raw_len, struct strbuf *out);

/*
 * The zstd setting zctx_encode() gives data that it compresses as plain
 * zstd (exposed for tests): ZTEXT_FAST or ZTEXT_STRONG for text at level
 * 3, else -1 (the level as set).
 */
enum { ZTEXT_FAST, ZTEXT_STRONG, ZTEXT_EFFORTS };
int zctx_text_effort(int level, const void *data, size_t len, unsigned pick);

/* Byte grouping and its inverse (exposed for tests). */
void bytegroup(uint8_t *dst, const uint8_t *src, size_t len, int w);
void byteungroup(uint8_t *dst, const uint8_t *src, size_t len, int w);

#endif
