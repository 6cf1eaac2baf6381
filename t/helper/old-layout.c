/*
 * old-layout CAIRNDIR: turns a repository's .cairn (CAIRNDIR) back into
 * the layout of cairn before the work-tree state had its own LMDB
 * environment: the stat cache, the remote cache and the remote cache's
 * version go back into the store's index (store/index), every obj entry
 * is written again in the fixed 24-byte layout of that time, and
 * CAIRNDIR/state is left empty for the caller to remove. The tests use
 * it to check that a newer cairn moves the caches over and reads the old
 * entries.
 *
 * old-layout --count CAIRNDIR: prints "ENV DB ENTRIES" for each database
 * of both environments (a database that is not there is not printed).
 */
#include "core/index.h"

#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>

static MDB_env *open_env(const char *dir)
{
	MDB_env *env;
	int rc = mdb_env_create(&env);
	if (rc) {
		fprintf(stderr, "old-layout: %s: %s\n", dir, mdb_strerror(rc));
		return NULL;
	}
	if ((rc = mdb_env_set_maxdbs(env, 16)) || (rc = mdb_env_set_mapsize(env, (size_t)1 << 30)) ||
	    (rc = mdb_env_open(env, dir, 0, 0666))) {
		fprintf(stderr, "old-layout: cannot open %s: %s\n", dir, mdb_strerror(rc));
		mdb_env_close(env);
		return NULL;
	}
	return env;
}

static int fail(const char *what, int rc)
{
	fprintf(stderr, "old-layout: %s: %s\n", what, mdb_strerror(rc));
	return 1;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
	int i;
	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* obj values: varints (core/index.c) -> the fixed 24 bytes of older stores */
struct row {
	uint8_t key[17], val[24];
};

static int fixed_obj(MDB_txn *txn, MDB_dbi dbi)
{
	MDB_cursor *c;
	MDB_val k, v;
	struct row *rows = NULL;
	size_t n = 0, alloc = 0, i;
	int rc = mdb_cursor_open(txn, dbi, &c), op = MDB_FIRST;
	if (rc)
		return rc;
	/* collected first: no puts under a cursor walking the same pages */
	while (!(rc = mdb_cursor_get(c, &k, &v, op))) {
		struct obj_loc l;
		uint8_t *out;
		op = MDB_NEXT;
		if (v.mv_size == OBJ_LOC_SZ || k.mv_size != 17)
			continue;
		if (obj_loc_decode(v.mv_data, v.mv_size, &l)) {
			rc = MDB_CORRUPTED;
			break;
		}
		if (n == alloc) {
			alloc = alloc ? 2 * alloc : 256;
			rows = realloc(rows, alloc * sizeof(*rows));
			if (!rows)
				return ENOMEM;
		}
		memcpy(rows[n].key, k.mv_data, 17);
		out = rows[n++].val;
		put_le(out, l.pack_no, 4);
		put_le(out + 4, l.raw_len, 4);
		put_le(out + 8, l.stored_len, 4);
		out[12] = l.codec;
		out[13] = out[14] = out[15] = 0;
		put_le(out + 16, l.offset, 8);
	}
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	for (i = 0; i < n && !rc; i++) {
		k.mv_data = rows[i].key;
		k.mv_size = 17;
		v.mv_data = rows[i].val;
		v.mv_size = 24;
		rc = mdb_put(txn, dbi, &k, &v, 0);
	}
	free(rows);
	return rc;
}

static int copy(MDB_txn *from, MDB_txn *to, const char *name, const char *only)
{
	MDB_dbi a, b;
	MDB_cursor *c;
	MDB_val k, v;
	int rc = mdb_dbi_open(from, name, 0, &a), op = MDB_FIRST;
	if (rc)
		return rc;
	rc = mdb_dbi_open(to, name, MDB_CREATE, &b);
	if (rc)
		return rc;
	rc = mdb_cursor_open(from, a, &c);
	if (rc)
		return rc;
	while (!(rc = mdb_cursor_get(c, &k, &v, op))) {
		op = MDB_NEXT;
		if (only && (k.mv_size != strlen(only) || memcmp(k.mv_data, only, k.mv_size)))
			continue;
		rc = mdb_put(to, b, &k, &v, 0);
		if (rc)
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static void count(MDB_env *env, const char *label)
{
	static const char *names[] = { "obj", "pack", "meta", "stat", "rpack", "robj" };
	MDB_txn *txn;
	size_t i;
	if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn))
		return;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		MDB_dbi d;
		MDB_stat st;
		if (!mdb_dbi_open(txn, names[i], 0, &d) && !mdb_stat(txn, d, &st))
			printf("%s %s %zu\n", label, names[i], st.ms_entries);
	}
	mdb_txn_abort(txn);
}

int main(int argc, char **argv)
{
	char sdir[4096], idir[4096];
	MDB_env *store, *state;
	MDB_txn *from, *to;
	MDB_dbi obj;
	int rc, counting = argc == 3 && !strcmp(argv[1], "--count");
	const char *dir = counting ? argv[2] : argv[1];

	if (argc != 2 && !counting) {
		fprintf(stderr, "usage: old-layout [--count] CAIRNDIR\n");
		return 2;
	}
	snprintf(sdir, sizeof(sdir), "%s/state", dir);
	snprintf(idir, sizeof(idir), "%s/store/index", dir);
	store = open_env(idir);
	if (!store)
		return 1;
	if (counting) {
		count(store, "store");
		state = open_env(sdir);
		if (state) {
			count(state, "state");
			mdb_env_close(state);
		}
		mdb_env_close(store);
		return 0;
	}
	state = open_env(sdir);
	if (!state) {
		mdb_env_close(store);
		return 1;
	}
	if ((rc = mdb_txn_begin(state, NULL, MDB_RDONLY, &from)))
		return fail("read the state", rc);
	if ((rc = mdb_txn_begin(store, NULL, 0, &to)))
		return fail("write the store index", rc);
	if ((rc = copy(from, to, "stat", NULL)) || (rc = copy(from, to, "rpack", NULL)) ||
	    (rc = copy(from, to, "robj", NULL)) ||
	    (rc = copy(from, to, "meta", "remote-cache-version")))
		return fail("copy", rc);
	if ((rc = mdb_dbi_open(to, "obj", 0, &obj)) || (rc = fixed_obj(to, obj)))
		return fail("obj entries", rc);
	if ((rc = mdb_txn_commit(to)))
		return fail("commit", rc);
	mdb_txn_abort(from);
	mdb_env_close(state);
	mdb_env_close(store);
	return 0;
}
