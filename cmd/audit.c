/*
 * cairn audit: list, show and verify the audit trail of every clone
 * whose chain this repository holds (core/audit.h).
 */
#include "cmd/builtin.h"
#include "core/audit.h"
#include "core/pointer.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * An entry as listed: found and sorted by its time without parsing it,
 * parsed only when it is about to be shown (or filtered), so that
 * `cairn audit -n 10` over a long trail parses about ten entries.
 */
struct row {
	struct audit_entry e;  /* valid while parsed */
	int parsed;
	char id[AUDIT_ID_HEXSZ + 1];
	const char *line;      /* "ID JSON" in its log's buffer */
	size_t len;
	const char *time;      /* the "time" value inside line */
	size_t tlen;
	const char *clone;     /* the chain, for messages and order */
	size_t idx;            /* 1-based line in its log */
};

struct filter {
	const char *path, *since, *until, *user, *op;
	struct strbuf needle; /* `"path":"P` as it appears in an entry's JSON */
};

static int date_ok(const char *s)
{
	size_t i, n = strlen(s);
	static const char pat[] = "dddd-dd-dd";
	if (n < 10)
		return 0;
	for (i = 0; i < 10; i++)
		if (pat[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != pat[i])
			return 0;
	for (; i < n; i++)
		if (!strchr("0123456789T:.Z", s[i]))
			return 0;
	return 1;
}

static int path_matches(const struct audit_entry *e, const char *p)
{
	size_t i, n = strlen(p);
	for (i = 0; i < e->npaths; i++) {
		const char *q = e->paths[i].path;
		if (!strncmp(q, p, n) && (!q[n] || q[n] == '/' || (n && p[n - 1] == '/')))
			return 1;
	}
	return 0;
}

static int keep(const struct filter *f, const struct audit_entry *e)
{
	if (f->path && !path_matches(e, f->path))
		return 0;
	/* dates compare as text over the length given: --until 2026-01-31
	 * keeps the whole of that day */
	if (f->since && strncmp(e->time, f->since, strlen(f->since)) < 0)
		return 0;
	if (f->until && strncmp(e->time, f->until, strlen(f->until)) > 0)
		return 0;
	if (f->user && !strstr(e->user, f->user) && !strstr(e->email, f->user))
		return 0;
	if (f->op && strcmp(e->op, f->op))
		return 0;
	return 1;
}

static int cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	size_t n = x->tlen < y->tlen ? x->tlen : y->tlen;
	int c = memcmp(y->time, x->time, n); /* newest first */
	if (!c)
		c = y->tlen < x->tlen ? -1 : y->tlen > x->tlen;
	if (!c)
		c = strcmp(y->clone, x->clone);
	if (!c)
		c = y->idx < x->idx ? -1 : y->idx > x->idx;
	return c;
}

/* Parses a row's entry (once); 0, or -1 after a warning. */
static int row_parse(struct row *row)
{
	struct strbuf msg = STRBUF_INIT;
	char id[AUDIT_ID_HEXSZ + 1];
	int ret = 0;
	if (row->parsed)
		return 0;
	/* listing reads; `verify` is what checks */
	if (audit_entry_read(&row->e, id, row->line, row->len, &msg)) {
		warning("audit chain %s: entry %zu: %s (see 'cairn audit verify')", row->clone,
			row->idx, msg.buf);
		ret = -1;
	} else {
		row->parsed = 1;
	}
	strbuf_release(&msg);
	return ret;
}

static void row_unparse(struct row *row)
{
	if (row->parsed)
		audit_entry_release(&row->e);
	row->parsed = 0;
}

struct trail {
	char *dir;
	char **chains;
	size_t nchains;
	struct audit_log *logs;
	struct row *rows;
	size_t n, alloc;
};

static void trail_release(struct trail *t)
{
	size_t i;
	for (i = 0; i < t->n; i++)
		row_unparse(&t->rows[i]);
	free(t->rows);
	for (i = 0; i < t->nchains; i++)
		audit_log_release(&t->logs[i]);
	free(t->logs);
	free_list(t->chains, t->nchains);
	free(t->dir);
}

/* Side files and conflict records, as warnings (audit) or errors (verify). */
static int report_side_files(const char *dir, int as_error)
{
	DIR *dh = opendir(dir);
	struct dirent *de;
	int bad = 0;
	char *cdir = xstrfmt("%s/conflicts", dir);
	if (dh) {
		while ((de = readdir(dh))) {
			if (!ends_with(de->d_name, ".torn") || de->d_name[0] == '.')
				continue;
			warning("audit chain %.*s: an incomplete entry (a killed append) was set aside in '%s/%s'",
				(int)(strlen(de->d_name) - 5), de->d_name, dir, de->d_name);
		}
		closedir(dh);
	}
	dh = opendir(cdir);
	if (dh) {
		while ((de = readdir(dh))) {
			struct strbuf msg = STRBUF_INIT, path = STRBUF_INIT;
			if (de->d_name[0] == '.')
				continue;
			strbuf_addf(&path, "%s/%s", cdir, de->d_name);
			if (read_file(path.buf, 1 << 16, &msg, NULL))
				strbuf_addstr(&msg, "(unreadable)");
			strbuf_rtrim(&msg);
			if (as_error)
				error("%s (recorded in '%s')", msg.buf, path.buf);
			else
				warning("%s (recorded in '%s')", msg.buf, path.buf);
			bad = 1;
			strbuf_release(&msg);
			strbuf_release(&path);
		}
		closedir(dh);
	}
	free(cdir);
	return bad;
}

/*
 * Reads every chain and sorts its entries by time, unparsed; with f, an
 * entry whose text cannot name a path under f->path is left out.
 */
static int trail_load(struct trail *t, struct repo *r, const struct filter *f)
{
	struct strbuf err = STRBUF_INIT, msg = STRBUF_INIT;
	size_t c, i;
	int ret = 0;
	memset(t, 0, sizeof(*t));
	t->dir = xstrfmt("%s/audit", r->cairn_dir);
	if (audit_list_chains(t->dir, &t->chains, &t->nchains, &err)) {
		ret = error("%s", err.buf);
		goto out;
	}
	t->logs = xcalloc(t->nchains + 1, sizeof(*t->logs));
	for (c = 0; c < t->nchains && !ret; c++) {
		struct audit_log *log = &t->logs[c];
		if (audit_log_read(t->dir, t->chains[c], log, &err)) {
			ret = error("%s", err.buf);
			break;
		}
		for (i = 0; i < log->n; i++) {
			static const char tkey[] = ",\"time\":\"";
			struct row *row;
			const struct audit_line *l = &log->lines[i];
			const char *tp, *te;
			/* most entries name no path under P: skip them unparsed */
			if (f && f->path && !memmem(l->p, l->len, f->needle.buf, f->needle.len))
				continue;
			tp = memmem(l->p, l->len, tkey, sizeof(tkey) - 1);
			te = tp ? memchr(tp + sizeof(tkey) - 1, '"',
					 l->len - (size_t)(tp + sizeof(tkey) - 1 - l->p))
				: NULL;
			if (l->len <= AUDIT_ID_HEXSZ || !te) {
				warning("audit chain %s: entry %zu: not an audit entry (see 'cairn audit verify')",
					t->chains[c], i + 1);
				continue;
			}
			ALLOC_GROW(t->rows, t->n + 1, t->alloc);
			row = &t->rows[t->n++];
			memset(row, 0, sizeof(*row));
			memcpy(row->id, l->p, AUDIT_ID_HEXSZ);
			row->line = l->p;
			row->len = l->len;
			row->time = tp + sizeof(tkey) - 1;
			row->tlen = (size_t)(te - row->time);
			row->clone = t->chains[c];
			row->idx = i + 1;
		}
		if (log->torn)
			warning("audit chain %s: the log ends inside an entry (see 'cairn audit verify')",
				t->chains[c]);
	}
	sort_array(t->rows, t->n, sizeof(*t->rows), cmp_row);
out:
	strbuf_release(&err);
	strbuf_release(&msg);
	return ret;
}

static void add_entry_json(struct strbuf *out, const struct row *row)
{
	const char *json = row->line + AUDIT_ID_HEXSZ + 1;
	size_t jlen = row->len - AUDIT_ID_HEXSZ - 1;
	strbuf_addf(out, "{\"id\":\"%s\",", row->id);
	strbuf_add_json_utf8(out, json + 1, jlen - 1);
}

static void print_row(const struct row *row)
{
	const struct audit_entry *e = &row->e;
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	/* seconds are enough in a list; show gives the whole time */
	strbuf_addf(&sb, "%.19sZ %.12s %s", e->time, row->id, *e->user ? e->user : "?");
	if (*e->email)
		strbuf_addf(&sb, " <%s>", e->email);
	strbuf_addf(&sb, " %s %s", e->op, e->outcome);
	for (i = 0; i < e->npaths && i < 3; i++)
		strbuf_addf(&sb, " %s", e->paths[i].path);
	if (e->npaths > 3)
		strbuf_addf(&sb, " (+%zu more)", e->npaths - 3);
	if (*e->remote)
		strbuf_addf(&sb, " remote %s", e->remote);
	if (e->stored) {
		strbuf_addstr(&sb, " stored ");
		strbuf_add_human_size(&sb, e->stored);
	}
	if (e->sent) {
		strbuf_addstr(&sb, " sent ");
		strbuf_add_human_size(&sb, e->sent);
	}
	if (e->received) {
		strbuf_addstr(&sb, " received ");
		strbuf_add_human_size(&sb, e->received);
	}
	printf("%s\n", sb.buf);
	strbuf_release(&sb);
}

static int audit_list(int argc, const char **argv, struct repo *r)
{
	struct filter f;
	struct trail t;
	int json = 0, i, ret;
	long max = -1;
	size_t k;

	memset(&f, 0, sizeof(f));
	strbuf_init(&f.needle, 0);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		int more = i + 1 < argc;
		if (!strcmp(a, "--json")) {
			json = 1;
		} else if ((!strcmp(a, "-n") || !strcmp(a, "--max-count")) && more) {
			char *end;
			max = strtol(argv[++i], &end, 10);
			if (*end || max < 0 || !*argv[i])
				return usage_error("audit", "-n wants a number (0 or more)");
		} else if (!strncmp(a, "-n", 2) && a[2]) {
			char *end;
			max = strtol(a + 2, &end, 10);
			if (*end || max < 0)
				return usage_error("audit", "-n wants a number (0 or more)");
		} else if (!strcmp(a, "--path") && more) {
			f.path = argv[++i];
		} else if (!strcmp(a, "--since") && more) {
			f.since = argv[++i];
		} else if (!strcmp(a, "--until") && more) {
			f.until = argv[++i];
		} else if (!strcmp(a, "--user") && more) {
			f.user = argv[++i];
		} else if (!strcmp(a, "--op") && more) {
			f.op = argv[++i];
		} else if (a[0] == '-') {
			return usage_error("audit", "unknown option '%s'", a);
		} else {
			return usage_error("audit", "unknown subcommand '%s'", a);
		}
	}
	if ((f.since && !date_ok(f.since)) || (f.until && !date_ok(f.until)))
		return usage_error("audit", "dates are YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS (UTC)");
	if (f.path) {
		struct strbuf rel = STRBUF_INIT, err = STRBUF_INIT;
		/* a path as the user gives it: from the cwd, with or without .cairn */
		if (repo_relpath(r, f.path, &rel, &err)) {
			strbuf_release(&rel);
			ret = error("%s", err.buf);
			strbuf_release(&err);
			return ret;
		}
		strbuf_release(&err);
		if (ends_with(rel.buf, POINTER_SUFFIX))
			strbuf_setlen(&rel, rel.len - strlen(POINTER_SUFFIX));
		f.path = strbuf_detach(&rel, NULL);
		strbuf_addstr(&f.needle, "\"path\":");
		strbuf_add_json_str(&f.needle, f.path, strlen(f.path));
		strbuf_setlen(&f.needle, f.needle.len - 1); /* a prefix: no closing quote */
	}
	ret = trail_load(&t, r, &f);
	if (!ret) {
		size_t n = max >= 0 ? (size_t)max : SIZE_MAX;
		report_side_files(t.dir, 0);
		struct strbuf out = STRBUF_INIT;
		size_t shown = 0;
		if (json)
			strbuf_addch(&out, '[');
		for (k = 0; k < t.n && shown < n; k++) {
			struct row *row = &t.rows[k];
			if (row_parse(row))
				continue;
			if (keep(&f, &row->e)) {
				if (json) {
					strbuf_addstr(&out, shown ? ",\n" : "\n");
					add_entry_json(&out, row);
					if (out.len > (1 << 20)) {
						fwrite(out.buf, 1, out.len, stdout);
						strbuf_reset(&out);
					}
				} else {
					print_row(row);
				}
				shown++;
			}
			row_unparse(row);
		}
		if (json) {
			strbuf_addstr(&out, "\n]\n");
			fwrite(out.buf, 1, out.len, stdout);
		}
		strbuf_release(&out);
	}
	trail_release(&t);
	if (f.path)
		free((char *)f.path);
	strbuf_release(&f.needle);
	return ret;
}

static void show_text(const struct row *row)
{
	const struct audit_entry *e = &row->e;
	size_t i;
	printf("id        %s\n", row->id);
	printf("chain     %s seq %llu\n", e->clone, (unsigned long long)e->seq);
	printf("prev      %s\n", e->prev);
	printf("time      %s\n", e->time);
	printf("user      %s <%s>\n", e->user, e->email);
	printf("host      %s\n", e->host);
	printf("version   %s\n", e->version);
	printf("command   cairn %s", e->op);
	for (i = 0; i < e->nargs; i++)
		printf(" %s", e->args[i]);
	printf("\n");
	printf("repo      %s\n", e->repo);
	printf("head      %s\n", *e->head ? e->head : "(none)");
	for (i = 0; i < e->npaths; i++)
		printf("path      %s %s -> %s\n", e->paths[i].path,
		       *e->paths[i].old_id ? e->paths[i].old_id : "(none)",
		       *e->paths[i].new_id ? e->paths[i].new_id : "(none)");
	printf("bytes     stored %llu, sent %llu, received %llu\n", (unsigned long long)e->stored,
	       (unsigned long long)e->sent, (unsigned long long)e->received);
	if (*e->remote || *e->url)
		printf("remote    %s %s\n", e->remote, e->url);
	if (!strcmp(e->outcome, "ok"))
		printf("outcome   ok\n");
	else
		printf("outcome   error: %s\n", e->error);
}

static int audit_show(int argc, const char **argv, struct repo *r)
{
	const char *want = NULL;
	struct trail t;
	size_t k, found = 0, hits = 0, n;
	int json = 0, i, ret;

	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (argv[i][0] == '-')
			return usage_error("audit", "unknown option '%s'", argv[i]);
		else if (!want)
			want = argv[i];
		else
			return usage_error("audit", "show takes one entry id");
	}
	if (!want)
		return usage_error("audit", "show wants an entry id (or a unique prefix of one)");
	n = strlen(want);
	if (n < 4 || n > AUDIT_ID_HEXSZ || strspn(want, "0123456789abcdef") != n)
		return error("'%s' is not an entry id (4 to 64 lowercase hex digits)", want);
	ret = trail_load(&t, r, NULL);
	for (k = 0; k < t.n && !ret; k++)
		if (!strncmp(t.rows[k].id, want, n)) {
			found = k;
			hits++;
		}
	if (!ret && !hits)
		ret = error("no audit entry '%s'", want);
	else if (!ret && hits > 1)
		ret = error("'%s' names %zu audit entries; give more digits", want, hits);
	else if (!ret && row_parse(&t.rows[found]))
		ret = error("audit entry '%s' cannot be read", want);
	else if (!ret && json) {
		struct strbuf out = STRBUF_INIT;
		add_entry_json(&out, &t.rows[found]);
		printf("%s\n", out.buf);
		strbuf_release(&out);
	} else if (!ret) {
		show_text(&t.rows[found]);
	}
	trail_release(&t);
	return ret;
}

static int audit_verify(int argc, const char **argv, struct repo *r)
{
	struct strbuf err = STRBUF_INIT, msg = STRBUF_INIT;
	char *dir = xstrfmt("%s/audit", r->cairn_dir), **chains = NULL;
	size_t nchains = 0, c;
	uint64_t total = 0;
	int ret = 0, bad = 0;

	if (argc > 2)
		return usage_error("audit", "verify takes no arguments");
	if (audit_list_chains(dir, &chains, &nchains, &err)) {
		ret = error("%s", err.buf);
		goto out;
	}
	for (c = 0; c < nchains; c++) {
		struct audit_log log;
		uint64_t at = 0;
		if (audit_log_read(dir, chains[c], &log, &err)) {
			error("%s", err.buf);
			bad = 1;
			continue;
		}
		if (audit_chain_check(&log, &at, &msg)) {
			const char *id = at <= log.n ? log.lines[at - 1].p : NULL;
			if (id && log.lines[at - 1].len >= 12)
				error("audit chain %s: entry %llu (%.12s): %s", chains[c],
				      (unsigned long long)at, id, msg.buf);
			else
				error("audit chain %s: entry %llu: %s", chains[c],
				      (unsigned long long)at, msg.buf);
			bad = 1;
		} else {
			printf("chain %s: %zu entries, ok\n", chains[c], log.n);
		}
		total += log.n;
		audit_log_release(&log);
	}
	if (report_side_files(dir, 1))
		bad = 1;
	if (bad)
		ret = 1;
	else
		printf("%zu chains, %llu entries: the audit trail verifies\n", nchains,
		       (unsigned long long)total);
out:
	free_list(chains, nchains);
	free(dir);
	strbuf_release(&err);
	strbuf_release(&msg);
	return ret;
}

int cmd_audit(int argc, const char **argv, struct repo *r)
{
	if (argc > 1 && !strcmp(argv[1], "verify"))
		return audit_verify(argc, argv, r);
	if (argc > 1 && !strcmp(argv[1], "show"))
		return audit_show(argc, argv, r);
	return audit_list(argc, argv, r);
}
