/*
 * stale-reader INDEXDIR: opens the LMDB environment INDEXDIR directly
 * (not through cairn, which clears stale reader slots when it opens it),
 * begins a read transaction, and kills itself with SIGKILL while holding
 * it: its reader slot stays taken by a dead process, as after a kill -9
 * during any read. Exits 3 when LMDB has no free slot left.
 * stale-reader INDEXDIR hold: opens the environment and sleeps until
 * killed. LMDB resets its reader table when the first process opens the
 * environment, so stale slots pile up only while some process holds it.
 */
#include <lmdb.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	MDB_env *env;
	MDB_txn *txn;
	int rc;
	if (argc != 2 && !(argc == 3 && !strcmp(argv[2], "hold"))) {
		fprintf(stderr, "usage: stale-reader INDEXDIR [hold]\n");
		return 2;
	}
	if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 16) ||
	    mdb_env_open(env, argv[1], MDB_RDONLY, 0666)) {
		fprintf(stderr, "stale-reader: cannot open %s\n", argv[1]);
		mdb_env_close(env);
		return 1;
	}
	if (argc == 3)
		for (;;)
			pause();
	rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
	if (rc) {
		if (rc == MDB_READERS_FULL)
			printf("full\n");
		else
			fprintf(stderr, "stale-reader: %s\n", mdb_strerror(rc));
		mdb_env_close(env);
		return rc == MDB_READERS_FULL ? 3 : 1;
	}
	raise(SIGKILL);
	return 1;
}
