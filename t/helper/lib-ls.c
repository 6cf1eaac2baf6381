/*
 * lib-ls: lists a directory of a version through the public library.
 *
 *   lib-ls REPO REV|- PATH
 *
 * prints "KIND MODE SIZE ID NAME" (ID "-" when there is none) for each
 * entry cairn_list() gives, or "error CODE: MESSAGE" and exits 1.
 */
#include "include/cairn.h"

#include <stdio.h>
#include <string.h>

static int show(const char *name, const struct cairn_entry *e, void *data)
{
	static const char *kinds[] = { "?", "file", "dir", "link" };
	(void)data;
	printf("%s %06o %llu %s %s\n", kinds[e->kind >= 1 && e->kind <= 3 ? e->kind : 0],
	       (unsigned)e->mode, (unsigned long long)e->size, *e->id ? e->id : "-", name);
	return 0;
}

int main(int argc, char **argv)
{
	cairn_repo *repo;
	int r;
	if (argc != 4) {
		fprintf(stderr, "usage: lib-ls REPO REV|- PATH\n");
		return 2;
	}
	r = cairn_repo_open(argv[1], &repo);
	if (!r) {
		r = cairn_list(repo, strcmp(argv[2], "-") ? argv[2] : NULL, argv[3], show, NULL);
		if (r)
			printf("error %d: %s\n", r, cairn_last_error());
		cairn_repo_close(repo);
	} else {
		printf("error %d: %s\n", r, cairn_last_error());
	}
	return r ? 1 : 0;
}
