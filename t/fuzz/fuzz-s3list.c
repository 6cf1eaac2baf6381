/* libFuzzer target: a page of an S3 listing (ListObjectsV2, from a server). */
#include "remote/s3.h"

#include <string.h>

static int count(const char *name, uint64_t size, int64_t mtime, void *data)
{
	size_t *n = data;
	/* a file directly under the prefix: a name, no '/' in it */
	if (!*name || strchr(name, '/'))
		__builtin_trap();
	(*n)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct s3_page pg;
	size_t n = 0;
	int r;
	s3_page_init(&pg);
	r = s3_list_page((const char *)data, size, "p/packs/", count, &n, &pg);
	if (r == 0 && (n > pg.keys || (pg.truncated && !pg.token.len) ||
		       pg.token.len > S3_TOKEN_MAX))
		__builtin_trap();
	if (r && r != CAIRN_EFORMAT)
		__builtin_trap();
	if (r == CAIRN_EFORMAT && !pg.why.len)
		__builtin_trap();
	s3_page_release(&pg);
	return 0;
}
