/*
 * cairn init: set up .cairn/ in the current git work tree.
 */
#include "cmd/builtin.h"
#include "core/chunker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int parse_size(const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (end == s)
		return -1;
	if (*end == 'k' || *end == 'K') {
		v <<= 10;
		end++;
	} else if (*end == 'm' || *end == 'M') {
		v <<= 20;
		end++;
	}
	if (*end || !v || v > CHUNK_MAX_LIMIT)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int cmd_init(int argc, const char **argv, struct repo *r)
{
	struct strbuf err = STRBUF_INIT;
	uint32_t min = 0, avg = 0, max = 0;
	int zlevel = 0, i, existed;
	struct stat st;
	char *cfg;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--chunk-size") && i + 1 < argc) {
			char *s = xstrdup(argv[++i]), *c1 = strchr(s, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
			int bad = !c1 || !c2;
			if (!bad) {
				*c1 = *c2 = '\0';
				bad = parse_size(s, &min) || parse_size(c1 + 1, &avg) || parse_size(c2 + 1, &max);
			}
			free(s);
			if (bad)
				return usage_error("init", "--chunk-size wants MIN:AVG:MAX, e.g. 16K:64K:256K");
		} else if (!strcmp(a, "--compress-level") && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);
			if (*end || v < 1 || v > 19)
				return usage_error("init", "--compress-level wants a number from 1 to 19");
			zlevel = (int)v;
		} else {
			return usage_error("init", "unknown argument '%s'", a);
		}
	}
	if ((min || avg || max) && chunker_check_params(min, avg, max))
		return error("bad chunk sizes %u:%u:%u (need 64 <= min < avg < max <= 64M, avg a power of two)",
			     min, avg, max);
	cfg = repo_config_path(r, "repo");
	existed = stat(cfg, &st) == 0;
	free(cfg);
	if (existed && (min || zlevel)) {
		return error("cairn is already set up in '%s'; chunking and compression are fixed at init",
			     r->top);
	}
	if (repo_init(r, min, avg, max, zlevel, &err)) {
		error("%s", err.buf);
		strbuf_release(&err);
		return 1;
	}
	if (existed)
		printf("Reinitialized existing cairn repository in %s/.cairn\n", r->top);
	else
		printf("Initialized cairn in %s/.cairn (chunk sizes %u/%u/%u bytes, zstd level %d)\n"
		       "Commit its settings with: git add .cairn/config .cairn/.gitignore\n",
		       r->top, r->chunk_min, r->chunk_avg, r->chunk_max, r->zlevel);
	strbuf_release(&err);
	return 0;
}
