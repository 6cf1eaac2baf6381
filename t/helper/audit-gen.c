/*
 * audit-gen CAIRN_DIR N: appends N synthetic entries to this clone's
 * audit chain (continuing it), for measuring how `cairn audit` scales.
 * Entries rotate over ten operations, three users and 1,000 paths under
 * data/setK/; one in a hundred names a path under data/train/.
 */
#include "core/audit.h"
#include "core/hash.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static const char *ops[] = { "add", "checkout", "push", "pull", "fetch",
				     "gc", "config", "remote", "install", "add" };
	static const char *users[] = { "alice", "bob", "carol" };
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	char prev[AUDIT_ID_HEXSZ + 1], clone[AUDIT_CLONE_HEXSZ + 1];
	struct audit_log log;
	char *dir, *path;
	uint64_t seq = 0, n, i;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: audit-gen CAIRN_DIR N\n");
		return 129;
	}
	n = strtoull(argv[2], NULL, 10);
	if (audit_clone_id(argv[1], clone, &err) || audit_dir(argv[1], &dir, &err) ||
	    audit_log_read(dir, clone, &log, &err)) {
		fprintf(stderr, "audit-gen: %s\n", err.buf);
		return 1;
	}
	memset(prev, '0', AUDIT_ID_HEXSZ);
	prev[AUDIT_ID_HEXSZ] = '\0';
	if (log.n) {
		struct audit_entry last;
		if (audit_entry_parse(&last, prev, log.lines[log.n - 1].p, log.lines[log.n - 1].len,
				      &err)) {
			fprintf(stderr, "audit-gen: %s\n", err.buf);
			return 1;
		}
		seq = last.seq;
		audit_entry_release(&last);
	}
	audit_log_release(&log);
	{
		/* one real entry (git asked once) as the template of all */
		struct audit_entry e;
		const char *args[1] = { "-q" };
		char id[40];
		memset(id, 'a', 32);
		id[32] = '\0';
		audit_entry_start(&e, ".", "0.1.0", "add", 1, args);
		memcpy(e.clone, clone, sizeof(clone));
		audit_entry_add_path(&e, "x", id, id);
		for (i = 0; i < n; i++) {
			struct sha256 h;
			char p[64];
			size_t start;
			if (i % 100 == 7)
				snprintf(p, sizeof(p), "data/train/part%llu", (unsigned long long)(i % 13));
			else
				snprintf(p, sizeof(p), "data/set%llu/part%llu",
					 (unsigned long long)(i % 1000), (unsigned long long)(i % 7));
			free(e.paths[0].path);
			e.paths[0].path = xstrdup(p);
			free(e.op);
			e.op = xstrdup(ops[i % 10]);
			free(e.user);
			e.user = xstrdup(users[i % 3]);
			free(e.time);
			/* a minute apart, from 2025-01-01 */
			e.time = xstrfmt("2025-%02llu-%02lluT%02llu:%02llu:00.000000Z",
					 (unsigned long long)(1 + i / 44640 % 12),
					 (unsigned long long)(1 + i / 1440 % 31),
					 (unsigned long long)(i / 60 % 24), (unsigned long long)(i % 60));
			e.stored = i * 10;
			e.seq = seq + i + 1;
			memcpy(e.prev, prev, sizeof(prev));
			start = out.len;
			strbuf_addf(&out, "%64s ", "");
			audit_entry_encode(&e, &out);
			sha256_hash(&h, out.buf + start + AUDIT_ID_HEXSZ + 1,
				    out.len - start - AUDIT_ID_HEXSZ - 1);
			sha256_to_hex(&h, prev);
			memcpy(out.buf + start, prev, AUDIT_ID_HEXSZ);
			strbuf_addch(&out, '\n');
		}
		audit_entry_release(&e);
	}
	path = xstrfmt("%s/%s.log", dir, clone);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (fd < 0 || write_all(fd, out.buf, out.len) < 0 || close(fd) < 0) {
		perror(path);
		return 1;
	}
	free(path);
	free(dir);
	strbuf_release(&out);
	return 0;
}
