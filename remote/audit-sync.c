/*
 * Audit chains on a remote: immutable segments under audit/, one per
 * push of a clone's new entries.
 */
#include "remote/audit-sync.h"
#include "core/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define AUDIT_RDIR "audit"

struct segment {
	char clone[AUDIT_CLONE_HEXSZ + 1];
	uint64_t first, last, size; /* size as listed; UINT64_MAX: not known */
	char *name;
	int refused; /* fetch: this segment, or one before it in its chain, was refused */
};

struct seglist {
	struct segment *v;
	size_t n, alloc;
};

/* "CLONE-FIRST-LAST.log", seqs as 12 decimal digits; 0 if not that. */
static int parse_name(const char *name, struct segment *s)
{
	size_t i;
	const char *p = name;
	if (strlen(name) != AUDIT_CLONE_HEXSZ + 1 + 12 + 1 + 12 + 4 ||
	    strcmp(name + strlen(name) - 4, ".log"))
		return 0;
	for (i = 0; i < AUDIT_CLONE_HEXSZ; i++)
		if (!strchr("0123456789abcdef", p[i]))
			return 0;
	memcpy(s->clone, p, AUDIT_CLONE_HEXSZ);
	s->clone[AUDIT_CLONE_HEXSZ] = '\0';
	p += AUDIT_CLONE_HEXSZ;
	if (*p++ != '-')
		return 0;
	s->first = s->last = 0;
	for (i = 0; i < 12; i++, p++) {
		if (*p < '0' || *p > '9')
			return 0;
		s->first = s->first * 10 + (uint64_t)(*p - '0');
	}
	if (*p++ != '-')
		return 0;
	for (i = 0; i < 12; i++, p++) {
		if (*p < '0' || *p > '9')
			return 0;
		s->last = s->last * 10 + (uint64_t)(*p - '0');
	}
	return s->first >= 1 && s->last >= s->first;
}

static int list_cb(const char *name, uint64_t size, void *data)
{
	struct seglist *l = data;
	struct segment s;
	if (!parse_name(name, &s))
		return 0; /* not ours: ignored, as in packs/ */
	s.size = size;
	s.refused = 0;
	s.name = xstrfmt(AUDIT_RDIR "/%s", name);
	ALLOC_GROW(l->v, l->n + 1, l->alloc);
	l->v[l->n++] = s;
	return 0;
}

static int cmp_seg(const void *a, const void *b)
{
	const struct segment *x = a, *y = b;
	int c = strcmp(x->clone, y->clone);
	if (!c)
		c = x->first < y->first ? -1 : x->first > y->first;
	if (!c)
		c = x->last < y->last ? -1 : x->last > y->last;
	return c;
}

static int list_segments(struct remote *rem, struct seglist *l, struct strbuf *err)
{
	int ret;
	memset(l, 0, sizeof(*l));
	ret = rem->ops->list(rem, AUDIT_RDIR, list_cb, l, err);
	if (ret == CAIRN_ENOTFOUND)
		ret = 0;
	sort_array(l->v, l->n, sizeof(*l->v), cmp_seg);
	return ret;
}

static void seglist_release(struct seglist *l)
{
	size_t i;
	for (i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
}

/* Where line i of log starts; log->n: its end. */
static size_t line_start(const struct audit_log *log, size_t i)
{
	return i < log->n ? (size_t)(log->lines[i].p - log->buf.buf) : log->buf.len;
}

int audit_sync_push(struct repo *r, struct remote *rem, uint64_t *sent, struct strbuf *err)
{
	char clone[AUDIT_CLONE_HEXSZ + 1], *dir = NULL, *tmp = NULL, *name = NULL;
	struct audit_log log;
	struct seglist l;
	uint64_t have = 0;
	size_t i, first, last;
	int ret, fd = -1;

	*sent = 0;
	memset(&l, 0, sizeof(l));
	memset(&log, 0, sizeof(log));
	strbuf_init(&log.buf, 0);
	ret = audit_clone_id(r->cairn_dir, clone, err);
	if (!ret)
		ret = audit_dir(r->cairn_dir, &dir, err);
	if (!ret)
		ret = audit_log_read(dir, clone, &log, err);
	if (!ret && log.n)
		ret = list_segments(rem, &l, err);
	if (ret || !log.n)
		goto out;
	for (i = 0; i < l.n; i++)
		if (!strcmp(l.v[i].clone, clone) && l.v[i].last > have)
			have = l.v[i].last;
	if (have > log.n) {
		ret = cerr(err, CAIRN_ECONFLICT,
			   "the remote holds entries up to %" PRIu64 " of this clone's audit chain %s, which ends at %zu here",
			   have, clone, log.n);
		goto out;
	}
	if (have == log.n)
		goto out;
	{
		struct tempfile tf = TEMPFILE_INIT;
		char *prefix = xstrfmt("%s/.tmp-push-%ld-", dir, (long)getpid());
		ret = tempfile_create(&tf, prefix, 0600, err);
		free(prefix);
		if (ret)
			goto out;
		tmp = tf.path; /* ours to remove from here on */
		fd = tf.fd;
	}
	ret = rem->ops->prepare(rem, AUDIT_RDIR, err);
	/* the entries after `have`, whole lines as they are in the log, in
	 * segments of at most AUDIT_SEGMENT_MAX bytes */
	for (first = (size_t)have; !ret && first < log.n; first = last) {
		size_t off = line_start(&log, first), end;
		/* as many whole lines as fit, and at least one */
		for (last = first + 1; last < log.n && line_start(&log, last + 1) - off <= AUDIT_SEGMENT_MAX;)
			last++;
		end = line_start(&log, last);
		if (end - off > AUDIT_SEGMENT_MAX) {
			ret = cerr(err, CAIRN_EFORMAT,
				   "audit chain %s: entry %zu is longer than a segment may be (64 MiB)",
				   clone, first + 1);
			break;
		}
		/* the temp file again, from empty (write sends from offset 0) */
		if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0 ||
		    write_all(fd, log.buf.buf + off, end - off) < 0) {
			ret = cerr_errno(err, "cannot write '%s'", tmp);
			break;
		}
		free(name);
		name = xstrfmt(AUDIT_RDIR "/%s-%012zu-%012zu.log", clone, first + 1, last);
		ret = rem->ops->write(rem, name, fd, end - off, err);
		if (ret == CAIRN_EEXIST)
			ret = 0; /* a push of the same entries at the same time */
		if (!ret)
			*sent += last - first;
	}
out:
	if (fd >= 0)
		close(fd);
	if (tmp)
		unlink(tmp);
	free(tmp);
	free(name);
	free(dir);
	audit_log_release(&log);
	seglist_release(&l);
	return ret;
}

/* Keeps the reason a chain was refused, for `cairn audit verify`. */
static void record_conflict(const char *dir, const char *clone, uint64_t seq, const char *remote,
			    const char *msg)
{
	char *cdir = xstrfmt("%s/conflicts", dir);
	char *path = xstrfmt("%s/%s-%012" PRIu64 "-%s", cdir, clone, seq, remote);
	struct strbuf text = STRBUF_INIT;
	mkdir(cdir, 0777);
	strbuf_addf(&text, "remote '%s': %s\n", remote, msg);
	write_file_atomic(path, text.buf, text.len, 1, NULL);
	strbuf_release(&text);
	free(path);
	free(cdir);
}

int audit_sync_fetch(struct repo *r, struct remote *rem, uint64_t *added, struct strbuf *err)
{
	struct seglist l;
	struct strbuf seg = STRBUF_INIT, e1 = STRBUF_INIT;
	char *dir = NULL;
	size_t i;
	int ret, first_bad = 0;

	*added = 0;
	ret = audit_dir(r->cairn_dir, &dir, err);
	if (!ret)
		ret = list_segments(rem, &l, err);
	else
		memset(&l, 0, sizeof(l));
	for (i = 0; i < l.n && !ret; i++) {
		struct segment *s = &l.v[i];
		uint64_t n = 0, bad = 0;
		int r2;
		/* a later segment of a chain already refused would not fit */
		if (i && !strcmp(l.v[i - 1].clone, s->clone) && l.v[i - 1].refused) {
			s->refused = 1;
			continue;
		}
		strbuf_reset(&seg);
		/* never more than a segment may hold, whatever the listing says */
		if (s->size == UINT64_MAX || s->size <= AUDIT_SEGMENT_MAX) {
			ret = rem->ops->read(rem, s->name, 0, (uint64_t)AUDIT_SEGMENT_MAX + 1, &seg, err);
			if (ret)
				break;
		}
		if ((s->size != UINT64_MAX && s->size > AUDIT_SEGMENT_MAX) || seg.len > AUDIT_SEGMENT_MAX) {
			r2 = cerr(&e1, CAIRN_ECORRUPT,
				  "audit chain %s: segment '%s' is larger than the 64 MiB a segment may hold; refused",
				  s->clone, s->name);
		} else {
			size_t lines = 0, k;
			for (k = 0; k < seg.len; k++)
				lines += seg.buf[k] == '\n';
			/* the name must tell the truth about what the segment holds */
			if (lines != s->last - s->first + 1)
				r2 = cerr(&e1, CAIRN_ECORRUPT,
					  "audit chain %s: segment '%s' holds %zu entries, its name says %" PRIu64,
					  s->clone, s->name, lines, s->last - s->first + 1);
			else
				r2 = audit_log_merge(dir, s->clone, seg.buf, seg.len, &n, &bad, &e1);
		}
		*added += n;
		if (r2) {
			record_conflict(dir, s->clone, bad ? bad : s->first, rem->name, e1.buf);
			if (!first_bad) {
				first_bad = r2;
				cerr(err, r2, "remote '%s': %s", rem->name, e1.buf);
			}
			s->refused = 1; /* skip the rest of this chain */
		}
	}
	if (!ret)
		ret = first_bad;
	free(dir);
	seglist_release(&l);
	strbuf_release(&seg);
	strbuf_release(&e1);
	return ret;
}
