#ifndef CAIRN_CHUNKER_H
#define CAIRN_CHUNKER_H
/*
 * Content-defined chunking, FastCDC style.
 *
 * How it works: a gear hash rolls over the bytes of the current chunk,
 * h = (h << 1) + gear[byte]. Bit i of h depends only on the last i+1 bytes,
 * so the cut test looks at the TOP bits of h, which depend on the last 64
 * bytes: a cut after a byte depends only on the 64 bytes before it (and on
 * the distance from the chunk start). An insertion or deletion therefore
 * moves only the cut points near the edit; later cut points line up again.
 *
 * Normalized chunking: no cut before `min` bytes (those bytes are not even
 * hashed); between `min` and `avg` the test needs k+2 zero bits (harder),
 * after `avg` only k-2 (easier), where avg = 2^k; at `max` the chunk is cut
 * regardless. This narrows the size distribution around `avg`.
 *
 * The gear table and the masks are part of the repository format: changing
 * them changes every chunk id (though never a file or tree id).
 *
 * The chunker is a plain struct that scans a buffer and reports a cut point,
 * so it works on streams: feed it consecutive buffers of one file.
 */
#include <stddef.h>
#include <stdint.h>

struct chunker {
	uint32_t min, avg, max;
	uint64_t mask_s, mask_l; /* top-bit masks before / after avg */
	uint64_t hash;
	uint64_t pos;            /* bytes of the current chunk seen so far */
};

#define CHUNK_MIN_DEFAULT (16u << 10)
#define CHUNK_AVG_DEFAULT (64u << 10)
#define CHUNK_MAX_DEFAULT (256u << 10)
/* Limits: avg a power of two from 256 to 16 MiB, 64 <= min < avg < max <= 64 MiB. */
#define CHUNK_MAX_LIMIT (64u << 20)

/* 0, or CAIRN_EINVAL if the sizes break the rules above. */
int chunker_check_params(uint32_t min, uint32_t avg, uint32_t max);
/* Sets up `c`; the params must pass chunker_check_params(). */
void chunker_init(struct chunker *c, uint32_t min, uint32_t avg, uint32_t max);
/* Forget the current chunk (start of a new file). */
void chunker_reset(struct chunker *c);
/*
 * Scan `len` bytes that follow what was fed before. Returns n in 1..len if
 * the current chunk ends after data[n-1] (the state is then reset for the
 * next chunk, which starts at data[n]); returns 0 if there is no cut in
 * data (all of it belongs to the current chunk). The end of a file is always
 * a cut, which the caller makes.
 */
size_t chunker_scan(struct chunker *c, const uint8_t *data, size_t len);
/* The gear table (exposed for tests). */
const uint64_t *chunker_gear(void);

#endif
