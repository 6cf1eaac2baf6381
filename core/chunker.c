#include "core/chunker.h"
#include "core/util.h"

#include <pthread.h>

static uint64_t gear[256];
static pthread_once_t gear_once = PTHREAD_ONCE_INIT;

/* splitmix64 from a fixed seed: a table that never changes. */
static void gear_init(void)
{
	uint64_t s = 0x6361697216e0f00dULL; /* "cair" + a constant */
	int i;
	for (i = 0; i < 256; i++) {
		uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		gear[i] = z ^ (z >> 31);
	}
}

const uint64_t *chunker_gear(void)
{
	pthread_once(&gear_once, gear_init);
	return gear;
}

static int log2_exact(uint32_t v)
{
	int k = 0;
	if (!v || (v & (v - 1)))
		return -1;
	while ((1u << k) != v)
		k++;
	return k;
}

int chunker_check_params(uint32_t min, uint32_t avg, uint32_t max)
{
	int k = log2_exact(avg);
	if (k < 8 || k > 24)
		return CAIRN_EINVAL;
	if (min < 64 || min >= avg || avg >= max || max > CHUNK_MAX_LIMIT)
		return CAIRN_EINVAL;
	return 0;
}

static uint64_t top_mask(int bits)
{
	return bits >= 64 ? ~0ULL : ~0ULL << (64 - bits);
}

void chunker_init(struct chunker *c, uint32_t min, uint32_t avg, uint32_t max)
{
	int k = log2_exact(avg);
	chunker_gear();
	c->min = min;
	c->avg = avg;
	c->max = max;
	c->mask_s = top_mask(k + 2);
	c->mask_l = top_mask(k - 2);
	chunker_reset(c);
}

void chunker_reset(struct chunker *c)
{
	c->hash = 0;
	c->pos = 0;
}

size_t chunker_scan(struct chunker *c, const uint8_t *data, size_t len)
{
	const uint64_t base = c->pos; /* offset of data[0] in the current chunk */
	uint64_t h = c->hash;
	size_t i = 0, lim;

	if (base < c->min) {
		uint64_t skip = c->min - base;
		if (skip >= len) {
			c->pos = base + len;
			return 0;
		}
		i = (size_t)skip;
	}
	/* chunk offsets up to avg: the harder mask */
	if (base + i < c->avg) {
		uint64_t n = c->avg - (base + i);
		lim = (uint64_t)(len - i) > n ? i + (size_t)n : len;
		for (; i < lim; i++) {
			h = (h << 1) + gear[data[i]];
			if (!(h & c->mask_s))
				goto cut;
		}
	}
	/* from avg to max: the easier mask, and a forced cut at max */
	{
		uint64_t n = c->max - (base + i);
		lim = (uint64_t)(len - i) >= n ? i + (size_t)n : len;
	}
	for (; i < lim; i++) {
		h = (h << 1) + gear[data[i]];
		if (!(h & c->mask_l))
			goto cut;
	}
	if (base + i == c->max) {
		chunker_reset(c);
		return i;
	}
	c->hash = h;
	c->pos = base + len;
	return 0;
cut:
	chunker_reset(c);
	return i + 1;
}
