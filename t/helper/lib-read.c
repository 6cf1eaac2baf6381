/*
 * lib-read: reads a file of a version through the public library
 * (include/cairn.h) as a program would, and compares it with a copy.
 *
 *   lib-read REPO REV|- PATH COPY THREADS
 *
 * Opens REPO once; each of THREADS threads opens its own cairn_file and
 * makes 300 preads at seeded random offsets and sizes, then one thread
 * reads the file whole in order with cairn_file_read. Every byte must
 * equal COPY's. Prints "ok N reads" or the first difference or error.
 * THREADS 0: one read of 1000 bytes from the middle, nothing else (how
 * much does a lazy read fetch?).
 */
#include "include/cairn.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cairn_repo *repo;
static const char *rev, *path;
static unsigned char *want;
static size_t want_len;
static int failed;

static void *reader(void *arg)
{
	unsigned seed = (unsigned)(size_t)arg * 7919u + 1;
	cairn_file *f;
	unsigned char *buf = malloc(1 << 20);
	int i;
	if (cairn_file_open(repo, rev, path, &f)) {
		fprintf(stderr, "open: %s\n", cairn_last_error());
		failed = 1;
		free(buf);
		return NULL;
	}
	if (cairn_file_size(f) != want_len) {
		fprintf(stderr, "size %llu, want %zu\n", (unsigned long long)cairn_file_size(f),
			want_len);
		failed = 1;
	}
	for (i = 0; i < 300 && !failed; i++) {
		uint64_t off = want_len ? rand_r(&seed) % (want_len + 10) : 0;
		size_t n = (size_t)(rand_r(&seed) % (1 << 20));
		size_t exp = off >= want_len ? 0 : want_len - off < n ? want_len - off : n;
		int64_t got = cairn_file_pread(f, buf, n, off);
		if (got < 0 || (size_t)got != exp || memcmp(buf, want + off, exp)) {
			fprintf(stderr, "pread(%zu at %llu): %lld bytes, want %zu: %s\n", n,
				(unsigned long long)off, (long long)got, exp,
				got < 0 ? cairn_last_error() : "wrong bytes");
			failed = 1;
		}
	}
	cairn_file_close(f);
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[64];
	cairn_file *f;
	FILE *fp;
	size_t pos = 0;
	long n, i;
	int64_t got;
	unsigned char *buf;

	if (argc != 6 || (n = atol(argv[5])) < 0 || n > 64) {
		fprintf(stderr, "usage: lib-read REPO REV|- PATH COPY THREADS\n");
		return 2;
	}
	rev = strcmp(argv[2], "-") ? argv[2] : NULL;
	path = argv[3];
	fp = fopen(argv[4], "rb");
	if (!fp)
		return 2;
	want = malloc(256u << 20);
	want_len = fread(want, 1, 256u << 20, fp);
	fclose(fp);
	if (cairn_repo_open(argv[1], &repo)) {
		printf("error %d: %s\n", cairn_repo_open(argv[1], &repo), cairn_last_error());
		return 1;
	}
	if (!n) {
		unsigned char mid[1000];
		size_t at = want_len / 2, exp = want_len - at < 1000 ? want_len - at : 1000;
		if (cairn_file_open(repo, rev, path, &f) ||
		    (got = cairn_file_pread(f, mid, sizeof(mid), at)) < 0) {
			printf("error: %s\n", cairn_last_error());
			return 1;
		}
		if ((size_t)got != exp || memcmp(mid, want + at, exp))
			return 1;
		cairn_file_close(f);
		cairn_repo_close(repo);
		free(want);
		printf("ok 1 reads\n");
		return 0;
	}
	for (i = 0; i < n; i++)
		pthread_create(&th[i], NULL, reader, (void *)(size_t)i);
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	if (cairn_file_open(repo, rev, path, &f)) {
		printf("error: %s\n", cairn_last_error());
		return 1;
	}
	buf = malloc(65536 + 7);
	while ((got = cairn_file_read(f, buf, 65536 + 7)) > 0) {
		if (pos + (size_t)got > want_len || memcmp(buf, want + pos, (size_t)got))
			failed = 1;
		pos += (size_t)got;
	}
	if (got < 0 || pos != want_len) {
		fprintf(stderr, "read: %s\n", got < 0 ? cairn_last_error() : "short");
		failed = 1;
	}
	cairn_file_close(f);
	cairn_repo_close(repo);
	free(buf);
	free(want);
	if (failed)
		return 1;
	printf("ok %ld reads\n", n * 300 + 1);
	return 0;
}
