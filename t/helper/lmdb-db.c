/*
 * lmdb-db ENVDIR DB dump: prints each entry of the named database DB of
 * the LMDB environment ENVDIR as "KEYHEX VALUEHEX", one a line, in key
 * order.
 * lmdb-db ENVDIR DB put KEYHEX VALUEHEX: stores (or replaces) one entry,
 * the way a damaged or planted cache would hold it.
 * Exits 1 on any LMDB error, 2 on bad usage.
 */
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_hex(const MDB_val *v)
{
	size_t i;
	for (i = 0; i < v->mv_size; i++)
		printf("%02x", ((const unsigned char *)v->mv_data)[i]);
}

static int from_hex(MDB_val *v, const char *s)
{
	size_t i, n = strlen(s);
	unsigned char *b;
	if (n % 2)
		return -1;
	b = malloc(n / 2 + 1);
	if (!b)
		return -1;
	for (i = 0; i < n / 2; i++) {
		unsigned x;
		if (sscanf(s + 2 * i, "%2x", &x) != 1) {
			free(b);
			return -1;
		}
		b[i] = (unsigned char)x;
	}
	v->mv_data = b;
	v->mv_size = n / 2;
	return 0;
}

int main(int argc, char **argv)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *cur;
	MDB_val k, v;
	int put = argc == 6 && !strcmp(argv[3], "put");
	int rc;

	if (!put && !(argc == 4 && !strcmp(argv[3], "dump"))) {
		fprintf(stderr, "usage: lmdb-db ENVDIR DB (dump | put KEYHEX VALUEHEX)\n");
		return 2;
	}
	if (put && (from_hex(&k, argv[4]) || from_hex(&v, argv[5]))) {
		fprintf(stderr, "lmdb-db: bad hex\n");
		return 2;
	}
	rc = mdb_env_create(&env);
	if (!rc)
		rc = mdb_env_set_maxdbs(env, 16);
	if (!rc)
		rc = mdb_env_open(env, argv[1], put ? 0 : MDB_RDONLY, 0666);
	if (!rc)
		rc = mdb_txn_begin(env, NULL, put ? 0 : MDB_RDONLY, &txn);
	if (!rc)
		rc = mdb_dbi_open(txn, argv[2], 0, &dbi);
	if (!rc && put) {
		rc = mdb_put(txn, dbi, &k, &v, 0);
		if (!rc)
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
		free(k.mv_data);
		free(v.mv_data);
	} else if (!rc) {
		rc = mdb_cursor_open(txn, dbi, &cur);
		if (rc)
			cur = NULL;
		while (!rc && !(rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))) {
			print_hex(&k);
			printf(" ");
			print_hex(&v);
			printf("\n");
		}
		if (rc == MDB_NOTFOUND)
			rc = 0;
		if (cur)
			mdb_cursor_close(cur); /* a read-only txn does not close it */
		mdb_txn_abort(txn);
	}
	if (rc)
		fprintf(stderr, "lmdb-db: %s: %s\n", argv[1], mdb_strerror(rc));
	mdb_env_close(env);
	return rc ? 1 : 0;
}
