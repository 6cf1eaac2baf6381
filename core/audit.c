/*
 * The audit trail: entries, their canonical encoding, and the
 * append-only hash-chained logs (Documentation/technical/audit-format.md).
 */
#include "core/audit.h"
#include "core/git.h"
#include "core/hash.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char zero_id[AUDIT_ID_HEXSZ + 1] =
	"0000000000000000000000000000000000000000000000000000000000000000";

/* An entry line is at most this long; a bigger one is not ours. */
#define AUDIT_MAX_LINE ((size_t)16 << 20)

/* --- secrets --- */

void audit_redact_urls(struct strbuf *s)
{
	size_t pos = 0;
	char *p;
	while (pos < s->len && (p = strstr(s->buf + pos, "://"))) {
		size_t start = (size_t)(p - s->buf) + 3, end = start, at = 0, colon = 0;
		/* the authority runs to the first '/', blank or quote */
		while (end < s->len && !strchr("/ \t\n'\"", s->buf[end]))
			end++;
		for (at = end; at > start; at--)
			if (s->buf[at - 1] == '@')
				break;
		if (at > start) {
			for (colon = start; colon < at - 1 && s->buf[colon] != ':'; colon++)
				;
			if (colon < at - 1) {
				struct strbuf n = STRBUF_INIT;
				strbuf_add(&n, s->buf, colon + 1);
				strbuf_addstr(&n, "***");
				strbuf_add(&n, s->buf + at - 1, s->len - (at - 1));
				end = colon + 1 + 3 + (end - (at - 1));
				strbuf_release(s);
				*s = n;
			}
		}
		pos = end;
	}
}

/* Whether a config key or option name looks like it holds a secret. */
static int secret_name(const char *s)
{
	static const char *const words[] = { "secret", "password", "passwd", "token",
					     "key_id", "key-id", "keyid", "access-key",
					     "access_key", "accesskey", "credential", "private" };
	struct strbuf low = STRBUF_INIT;
	size_t i;
	int hit = 0;
	for (i = 0; s[i] && s[i] != '='; i++)
		strbuf_addch(&low, tolower((unsigned char)s[i]));
	for (i = 0; i < sizeof(words) / sizeof(words[0]) && !hit; i++)
		hit = strstr(low.buf, words[i]) != NULL;
	strbuf_release(&low);
	return hit;
}

/* --- building an entry --- */

static char *git_value(const char *top, const char *const *argv)
{
	struct strbuf out = STRBUF_INIT;
	if (run_capture(argv, top, 1 << 16, &out, NULL))
		strbuf_reset(&out);
	strbuf_rtrim(&out);
	return strbuf_detach(&out, NULL);
}

/*
 * Who git would name as the author: GIT_AUTHOR_NAME/EMAIL when set,
 * else user.name and user.email (one quiet `git config` for both). A key
 * set in several files (~/.gitconfig and .git/config) is listed once per
 * file, in the order git reads them: the last one wins, as in git.
 */
static void set_user(struct audit_entry *e, const char *top)
{
	static const char *const argv[] = { "git", "config", "--get-regexp",
					    "^user\\.(name|email)$", NULL };
	const char *name = getenv("GIT_AUTHOR_NAME"), *email = getenv("GIT_AUTHOR_EMAIL");
	char *cfg = NULL, *line;
	if (!name || !email)
		cfg = git_value(top, argv);
	for (line = cfg; line && *line;) {
		size_t n = strcspn(line, "\n");
		if (!name && !strncmp(line, "user.name ", 10)) {
			free(e->user);
			e->user = xstrndup(line + 10, n - 10);
		} else if (!email && !strncmp(line, "user.email ", 11)) {
			free(e->email);
			e->email = xstrndup(line + 11, n - 11);
		}
		line += n;
		if (*line)
			line++;
	}
	if (!e->user)
		e->user = xstrdup(name ? name : "");
	if (!e->email)
		e->email = xstrdup(email ? email : "");
	free(cfg);
}

static void set_time(struct audit_entry *e)
{
	struct timespec ts;
	struct tm tm;
	char buf[64];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	e->time = xstrfmt("%s.%06ldZ", buf, ts.tv_nsec / 1000);
}

static void add_secret(struct audit_entry *e, const char *v)
{
	e->secrets = xrealloc(e->secrets, (e->nsecrets + 1) * sizeof(*e->secrets));
	e->secrets[e->nsecrets++] = xstrdup(v);
}

void audit_entry_start(struct audit_entry *e, const char *top, const char *version,
		       const char *op, int argc, const char **argv)
{
	static const char *const head_argv[] = { "git", "rev-parse", "--verify", "-q", "HEAD", NULL };
	char host[256];
	int i;

	memset(e, 0, sizeof(*e));
	e->v = AUDIT_FORMAT;
	memcpy(e->prev, zero_id, sizeof(e->prev));
	set_time(e);
	set_user(e, top);
	if (gethostname(host, sizeof(host)) < 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	e->host = xstrdup(host);
	e->version = xstrdup(version);
	e->op = xstrdup(op);
	e->args = xcalloc((size_t)argc + 1, sizeof(*e->args));
	for (i = 0; i < argc; i++) {
		struct strbuf a = STRBUF_INIT;
		const char *eq = strchr(argv[i], '=');
		/* the value after a secret-looking option, or config key: not
		 * after any word (`cairn add tokens data` keeps "data") */
		if (i > 0 && secret_name(argv[i - 1]) && !(argv[i][0] == '-' && argv[i][1]) &&
		    ((argv[i - 1][0] == '-' && !strchr(argv[i - 1], '=')) || !strcmp(op, "config"))) {
			strbuf_addstr(&a, "***"); /* the value after a secret key */
			add_secret(e, argv[i]);
		} else if (eq && secret_name(argv[i])) {
			strbuf_add(&a, argv[i], (size_t)(eq - argv[i]) + 1);
			strbuf_addstr(&a, "***");
			add_secret(e, eq + 1);
		} else {
			strbuf_addstr(&a, argv[i]);
			audit_redact_urls(&a);
		}
		e->args[e->nargs++] = strbuf_detach(&a, NULL);
	}
	e->repo = xstrdup(top);
	e->head = git_value(top, head_argv);
	e->remote = xstrdup("");
	e->url = xstrdup("");
	e->outcome = xstrdup("ok");
	e->error = xstrdup("");
}

void audit_entry_release(struct audit_entry *e)
{
	size_t i;
	free(e->time);
	free(e->user);
	free(e->email);
	free(e->host);
	free(e->version);
	free(e->op);
	for (i = 0; i < e->nargs; i++)
		free(e->args[i]);
	free(e->args);
	free(e->repo);
	free(e->head);
	for (i = 0; i < e->npaths; i++) {
		free(e->paths[i].path);
		free(e->paths[i].old_id);
		free(e->paths[i].new_id);
	}
	free(e->paths);
	for (i = 0; i < e->nsecrets; i++)
		free(e->secrets[i]);
	free(e->secrets);
	free(e->remote);
	free(e->url);
	free(e->outcome);
	free(e->error);
	memset(e, 0, sizeof(*e));
}

void audit_entry_add_path(struct audit_entry *e, const char *path, const char *old_id,
			  const char *new_id)
{
	struct audit_path *p;
	ALLOC_GROW(e->paths, e->npaths + 1, e->apaths);
	p = &e->paths[e->npaths++];
	p->path = xstrdup(path);
	p->old_id = xstrdup(old_id ? old_id : "");
	p->new_id = xstrdup(new_id ? new_id : "");
}

void audit_entry_add_bytes(struct audit_entry *e, uint64_t stored, uint64_t sent,
			   uint64_t received)
{
	e->stored += stored;
	e->sent += sent;
	e->received += received;
}

void audit_entry_add_deleted(struct audit_entry *e, uint64_t deleted)
{
	e->deleted += deleted;
}

void audit_entry_set_remote(struct audit_entry *e, const char *name, const char *url)
{
	struct strbuf u = STRBUF_INIT;
	strbuf_addstr(&u, url ? url : "");
	audit_redact_urls(&u);
	free(e->remote);
	free(e->url);
	e->remote = xstrdup(name ? name : "");
	e->url = strbuf_detach(&u, NULL);
}

void audit_entry_set_outcome(struct audit_entry *e, int ok, const char *msg)
{
	if (ok || !strcmp(e->outcome, "error"))
		return; /* the first error is the one that matters */
	free(e->outcome);
	free(e->error);
	e->outcome = xstrdup("error");
	{
		struct strbuf m = STRBUF_INIT;
		size_t i;
		strbuf_addstr(&m, msg ? msg : "");
		audit_redact_urls(&m);
		/* a value we redacted must not come back through a message */
		for (i = 0; i < e->nsecrets; i++) {
			char *hit;
			while (*e->secrets[i] && (hit = strstr(m.buf, e->secrets[i]))) {
				struct strbuf n = STRBUF_INIT;
				strbuf_add(&n, m.buf, (size_t)(hit - m.buf));
				strbuf_addstr(&n, "***");
				strbuf_addstr(&n, hit + strlen(e->secrets[i]));
				strbuf_release(&m);
				m = n;
			}
		}
		e->error = strbuf_detach(&m, NULL);
	}
}

/* --- canonical JSON --- */

static void add_key(struct strbuf *out, const char *key, int first)
{
	if (!first)
		strbuf_addch(out, ',');
	strbuf_addf(out, "\"%s\":", key);
}

static void add_str(struct strbuf *out, const char *key, const char *v)
{
	add_key(out, key, 0);
	strbuf_add_json_str(out, v, strlen(v));
}

static void add_u64(struct strbuf *out, const char *key, uint64_t v)
{
	add_key(out, key, 0);
	strbuf_addf(out, "%llu", (unsigned long long)v);
}

void audit_entry_encode(const struct audit_entry *e, struct strbuf *out)
{
	size_t i;
	strbuf_addch(out, '{');
	add_key(out, "v", 1);
	strbuf_addf(out, "%d", e->v);
	add_str(out, "clone", e->clone);
	add_u64(out, "seq", e->seq);
	add_str(out, "prev", e->prev);
	add_str(out, "time", e->time);
	add_str(out, "user", e->user);
	add_str(out, "email", e->email);
	add_str(out, "host", e->host);
	add_str(out, "version", e->version);
	add_str(out, "op", e->op);
	add_key(out, "args", 0);
	strbuf_addch(out, '[');
	for (i = 0; i < e->nargs; i++) {
		if (i)
			strbuf_addch(out, ',');
		strbuf_add_json_str(out, e->args[i], strlen(e->args[i]));
	}
	strbuf_addch(out, ']');
	add_str(out, "repo", e->repo);
	add_str(out, "head", e->head);
	add_key(out, "paths", 0);
	strbuf_addch(out, '[');
	for (i = 0; i < e->npaths; i++) {
		if (i)
			strbuf_addch(out, ',');
		strbuf_addch(out, '{');
		add_key(out, "path", 1);
		strbuf_add_json_str(out, e->paths[i].path, strlen(e->paths[i].path));
		add_str(out, "old", e->paths[i].old_id);
		add_str(out, "new", e->paths[i].new_id);
		strbuf_addch(out, '}');
	}
	strbuf_addch(out, ']');
	add_u64(out, "stored", e->stored);
	add_u64(out, "sent", e->sent);
	add_u64(out, "received", e->received);
	if (e->deleted)
		add_u64(out, "deleted", e->deleted);
	add_str(out, "remote", e->remote);
	add_str(out, "url", e->url);
	add_str(out, "outcome", e->outcome);
	add_str(out, "error", e->error);
	strbuf_addch(out, '}');
}

/*
 * A strict reader of the canonical form: keys in the fixed order, no
 * blanks, strings escaped exactly as strbuf_add_json_str() does. The
 * caller re-encodes and compares too, so anything accepted is canonical.
 */
struct rd {
	const char *p, *end;
	int bad;
};

static void expect(struct rd *r, const char *lit)
{
	size_t n = strlen(lit);
	if (r->bad || (size_t)(r->end - r->p) < n || memcmp(r->p, lit, n))
		r->bad = 1;
	else
		r->p += n;
}

static int peek(struct rd *r, char c)
{
	return !r->bad && r->p < r->end && *r->p == c;
}

static char *read_str(struct rd *r)
{
	struct strbuf s = STRBUF_INIT;
	expect(r, "\"");
	while (!r->bad) {
		unsigned char c;
		const char *q = r->p;
		/* plain runs in one go: listing 100,000 entries parses them all */
		while (q < r->end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20)
			q++;
		strbuf_add(&s, r->p, (size_t)(q - r->p));
		r->p = q;
		if (r->p >= r->end) {
			r->bad = 1;
			break;
		}
		c = (unsigned char)*r->p++;
		if (c == '"')
			break;
		if (c < 0x20) {
			r->bad = 1;
		} else if (c != '\\') {
			strbuf_addch(&s, c);
		} else if (r->p >= r->end) {
			r->bad = 1;
		} else {
			char x = *r->p++;
			if (x == '"' || x == '\\') {
				strbuf_addch(&s, x);
			} else if (x == 'n') {
				strbuf_addch(&s, '\n');
			} else if (x == 't') {
				strbuf_addch(&s, '\t');
			} else if (x == 'u' && r->end - r->p >= 4 && !strncmp(r->p, "00", 2) &&
				   isxdigit((unsigned char)r->p[2]) && isxdigit((unsigned char)r->p[3])) {
				uint8_t b;
				if (hex_decode(&b, r->p + 2, 1))
					r->bad = 1;
				strbuf_addch(&s, b);
				r->p += 4;
			} else {
				r->bad = 1;
			}
		}
	}
	return strbuf_detach(&s, NULL);
}

static uint64_t read_u64(struct rd *r)
{
	uint64_t v = 0;
	int digits = 0;
	while (!r->bad && r->p < r->end && *r->p >= '0' && *r->p <= '9') {
		uint64_t d = (uint64_t)(*r->p++ - '0');
		if (v > (UINT64_MAX - d) / 10) {
			r->bad = 1;
			break;
		}
		v = v * 10 + d;
		digits++;
	}
	if (!digits)
		r->bad = 1;
	return v;
}

static int is_hex_n(const char *s, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* Exactly n lowercase hex digits. */
static int is_hex(const char *s, size_t n)
{
	return strlen(s) == n && is_hex_n(s, n);
}

static void read_fixed(struct rd *r, char *out, size_t n)
{
	char *s = read_str(r);
	if (!is_hex(s, n))
		r->bad = 1;
	else
		memcpy(out, s, n + 1);
	free(s);
}

static int parse_json(struct audit_entry *e, const char *json, size_t len)
{
	struct rd r = { json, json + len, 0 };
	memset(e, 0, sizeof(*e));
	expect(&r, "{\"v\":");
	e->v = (int)read_u64(&r);
	if (e->v != AUDIT_FORMAT)
		r.bad = 1;
	expect(&r, ",\"clone\":");
	read_fixed(&r, e->clone, AUDIT_CLONE_HEXSZ);
	expect(&r, ",\"seq\":");
	e->seq = read_u64(&r);
	expect(&r, ",\"prev\":");
	read_fixed(&r, e->prev, AUDIT_ID_HEXSZ);
#define STR(key, field) do { expect(&r, ",\"" key "\":"); if (!r.bad) e->field = read_str(&r); } while (0)
	STR("time", time);
	STR("user", user);
	STR("email", email);
	STR("host", host);
	STR("version", version);
	STR("op", op);
	expect(&r, ",\"args\":[");
	while (!r.bad && !peek(&r, ']')) {
		if (e->nargs)
			expect(&r, ",");
		if (r.bad)
			break;
		e->args = xrealloc(e->args, (e->nargs + 1) * sizeof(*e->args));
		e->args[e->nargs++] = read_str(&r);
	}
	expect(&r, "]");
	STR("repo", repo);
	STR("head", head);
	expect(&r, ",\"paths\":[");
	while (!r.bad && !peek(&r, ']')) {
		struct audit_path *p;
		if (e->npaths)
			expect(&r, ",");
		expect(&r, "{\"path\":");
		if (r.bad)
			break;
		ALLOC_GROW(e->paths, e->npaths + 1, e->apaths);
		p = &e->paths[e->npaths++];
		p->path = read_str(&r);
		expect(&r, ",\"old\":");
		p->old_id = r.bad ? xstrdup("") : read_str(&r);
		expect(&r, ",\"new\":");
		p->new_id = r.bad ? xstrdup("") : read_str(&r);
		expect(&r, "}");
	}
	expect(&r, "]");
	expect(&r, ",\"stored\":");
	e->stored = read_u64(&r);
	expect(&r, ",\"sent\":");
	e->sent = read_u64(&r);
	expect(&r, ",\"received\":");
	e->received = read_u64(&r);
	/* optional: only gc -r entries that removed packs have it */
	if ((size_t)(r.end - r.p) > 11 && !memcmp(r.p, ",\"deleted\":", 11)) {
		expect(&r, ",\"deleted\":");
		e->deleted = read_u64(&r);
		if (!e->deleted)
			r.bad = 1;
	}
	STR("remote", remote);
	STR("url", url);
	STR("outcome", outcome);
	STR("error", error);
#undef STR
	expect(&r, "}");
	if (!r.bad && r.p != r.end)
		r.bad = 1;
	if (!r.bad && strcmp(e->outcome, "ok") && strcmp(e->outcome, "error"))
		r.bad = 1;
	return r.bad ? -1 : 0;
}

int audit_entry_read(struct audit_entry *e, char id[AUDIT_ID_HEXSZ + 1], const char *line,
		     size_t len, struct strbuf *err)
{
	if (len < AUDIT_ID_HEXSZ + 3 || line[AUDIT_ID_HEXSZ] != ' ' ||
	    !is_hex_n(line, AUDIT_ID_HEXSZ))
		return cerr(err, CAIRN_EFORMAT, "not an audit entry (no id)");
	if (parse_json(e, line + AUDIT_ID_HEXSZ + 1, len - AUDIT_ID_HEXSZ - 1)) {
		audit_entry_release(e);
		return cerr(err, CAIRN_EFORMAT, "not an audit entry (malformed or unknown fields)");
	}
	memcpy(id, line, AUDIT_ID_HEXSZ);
	id[AUDIT_ID_HEXSZ] = '\0';
	return 0;
}

int audit_entry_parse(struct audit_entry *e, char id[AUDIT_ID_HEXSZ + 1], const char *line,
		      size_t len, struct strbuf *err)
{
	struct sha256 h;
	char hex[SHA256_HEXSZ + 1];
	const char *json = line + AUDIT_ID_HEXSZ + 1;
	size_t jlen;
	struct strbuf again = STRBUF_INIT;
	int ret = 0;

	memset(e, 0, sizeof(*e));
	if (len < AUDIT_ID_HEXSZ + 3 || line[AUDIT_ID_HEXSZ] != ' ' ||
	    hex_decode(h.b, line, SHA256_RAWSZ))
		return cerr(err, CAIRN_EFORMAT, "not an audit entry (no id)");
	jlen = len - AUDIT_ID_HEXSZ - 1;
	if (parse_json(e, json, jlen)) {
		audit_entry_release(e);
		return cerr(err, CAIRN_EFORMAT, "not an audit entry (malformed or unknown fields)");
	}
	audit_entry_encode(e, &again);
	if (again.len != jlen || memcmp(again.buf, json, jlen)) {
		ret = cerr(err, CAIRN_EFORMAT, "not an audit entry (not in canonical form)");
		goto out;
	}
	sha256_hash(&h, json, jlen);
	sha256_to_hex(&h, hex);
	if (memcmp(hex, line, AUDIT_ID_HEXSZ)) {
		ret = cerr(err, CAIRN_ECORRUPT, "its content does not hash to its id %.12s (changed)",
			   line);
		goto out;
	}
	memcpy(id, hex, AUDIT_ID_HEXSZ + 1);
out:
	strbuf_release(&again);
	if (ret)
		audit_entry_release(e);
	return ret;
}

/* --- files --- */

int audit_dir(const char *cairn_dir, char **out, struct strbuf *err)
{
	char *dir = xstrfmt("%s/audit", cairn_dir), *gi;
	struct stat st;
	int ret = 0;
	if (mkdir(dir, 0777) < 0 && errno != EEXIST) {
		ret = cerr_errno(err, "cannot create '%s'", dir);
		free(dir);
		return ret;
	}
	/* never through a symlink (repo_discover refuses one as well) */
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		ret = cerr(err, CAIRN_EUNSAFE, "'%s' is not a directory (a symlink?)", dir);
		free(dir);
		return ret;
	}
	/* local state, never committed: repositories made before the audit
	 * trail have no line for it in .cairn/.gitignore */
	gi = xstrfmt("%s/.gitignore", dir);
	if (stat(gi, &st) < 0)
		ret = write_file_atomic(gi, "*\n", 2, 0, err);
	free(gi);
	if (ret) {
		free(dir);
		return ret;
	}
	*out = dir;
	return 0;
}

int audit_clone_id(const char *cairn_dir, char out[AUDIT_CLONE_HEXSZ + 1], struct strbuf *err)
{
	char *dir, *path, *tmp;
	struct strbuf cur = STRBUF_INIT;
	struct tempfile tf = TEMPFILE_INIT;
	int ret = audit_dir(cairn_dir, &dir, err), tries;
	if (ret)
		return ret;
	path = xstrfmt("%s/clone-id", dir);
	tmp = xstrfmt("%s/.clone-id-%ld-", dir, (long)getpid());
	for (tries = 0; tries < 2 && !ret; tries++) {
		uint8_t rnd[AUDIT_CLONE_HEXSZ / 2];
		char hex[AUDIT_CLONE_HEXSZ + 2];
		strbuf_reset(&cur);
		ret = read_file(path, 4096, &cur, err);
		if (!ret) {
			strbuf_rtrim(&cur);
			if (!is_hex(cur.buf, AUDIT_CLONE_HEXSZ))
				ret = cerr(err, CAIRN_EFORMAT, "'%s' does not hold a clone id", path);
			else
				memcpy(out, cur.buf, AUDIT_CLONE_HEXSZ + 1);
			break;
		}
		if (ret != CAIRN_ENOTFOUND)
			break;
		ret = 0;
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
			ret = cerr_errno(err, "cannot make a clone id");
			break;
		}
		hex_encode(hex, rnd, sizeof(rnd));
		hex[AUDIT_CLONE_HEXSZ] = '\n';
		/* link(2) never replaces: two first commands agree on one id */
		ret = tempfile_create(&tf, tmp, 0644, err);
		if (ret)
			break;
		if (write_all(tf.fd, hex, AUDIT_CLONE_HEXSZ + 1) < 0 || fsync(tf.fd) < 0)
			ret = cerr_errno(err, "cannot write '%s'", tf.path);
		else if (link(tf.path, path) < 0 && errno != EEXIST)
			ret = cerr_errno(err, "cannot create '%s'", path);
		tempfile_remove(&tf);
	}
	free(tmp);
	free(path);
	free(dir);
	strbuf_release(&cur);
	return ret;
}

static int lock_fd(int fd, int how, const char *path, struct strbuf *err)
{
	while (flock(fd, how) < 0) {
		if (errno != EINTR)
			return cerr_errno(err, "cannot lock '%s'", path);
	}
	return 0;
}

/* Splits buf into lines; a tail without '\n' makes log->torn. */
static void split_lines(struct audit_log *log)
{
	size_t pos = 0, alloc = 0;
	while (pos < log->buf.len) {
		const char *nl = memchr(log->buf.buf + pos, '\n', log->buf.len - pos);
		if (!nl) {
			log->torn = 1;
			break;
		}
		ALLOC_GROW(log->lines, log->n + 1, alloc);
		log->lines[log->n].p = log->buf.buf + pos;
		log->lines[log->n].len = (size_t)(nl - (log->buf.buf + pos));
		log->n++;
		pos = (size_t)(nl - log->buf.buf) + 1;
	}
}

static int read_fd_all(int fd, const char *path, struct strbuf *out, struct strbuf *err)
{
	struct stat st;
	ssize_t got;
	if (fstat(fd, &st) < 0)
		return cerr_errno(err, "cannot stat '%s'", path);
	strbuf_grow(out, (size_t)st.st_size);
	got = pread_full(fd, out->buf, (size_t)st.st_size, 0);
	if (got < 0)
		return cerr_errno(err, "cannot read '%s'", path);
	strbuf_setlen(out, (size_t)got);
	return 0;
}

int audit_log_read(const char *dir, const char *clone, struct audit_log *log, struct strbuf *err)
{
	char *path = xstrfmt("%s/%s.log", dir, clone);
	int fd, ret = 0;
	memset(log, 0, sizeof(*log));
	strbuf_init(&log->buf, 0);
	snprintf(log->clone, sizeof(log->clone), "%s", clone);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			ret = cerr_errno(err, "cannot open '%s'", path);
		free(path);
		return ret;
	}
	ret = lock_fd(fd, LOCK_SH, path, err);
	if (!ret)
		ret = read_fd_all(fd, path, &log->buf, err);
	close(fd);
	free(path);
	if (!ret)
		split_lines(log);
	return ret;
}

void audit_log_release(struct audit_log *log)
{
	strbuf_release(&log->buf);
	free(log->lines);
	memset(log, 0, sizeof(*log));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int audit_list_chains(const char *dir, char ***out, size_t *n, struct strbuf *err)
{
	DIR *dh = opendir(dir);
	struct dirent *de;
	char **v = NULL;
	size_t nv = 0, alloc = 0;
	if (!dh) {
		*out = NULL;
		*n = 0;
		return errno == ENOENT ? 0 : cerr_errno(err, "cannot list '%s'", dir);
	}
	while ((de = readdir(dh))) {
		size_t len = strlen(de->d_name);
		if (len != AUDIT_CLONE_HEXSZ + 4 || strcmp(de->d_name + AUDIT_CLONE_HEXSZ, ".log"))
			continue;
		ALLOC_GROW(v, nv + 1, alloc);
		v[nv] = xstrndup(de->d_name, AUDIT_CLONE_HEXSZ);
		if (!is_hex(v[nv], AUDIT_CLONE_HEXSZ)) {
			free(v[nv]);
			continue;
		}
		nv++;
	}
	closedir(dh);
	sort_array(v, nv, sizeof(*v), cmp_str);
	*out = v;
	*n = nv;
	return 0;
}

/*
 * Checks line i (0-based) of a chain given the id of the line before
 * (zero_id for the first); fills id. 0 or a message in msg.
 */
static int check_line(const char *clone, const struct audit_line *l, uint64_t i,
		      const char *prev, char id[AUDIT_ID_HEXSZ + 1], struct strbuf *msg)
{
	struct audit_entry e;
	int ret = audit_entry_parse(&e, id, l->p, l->len, msg);
	if (ret)
		return ret;
	if (strcmp(e.clone, clone))
		ret = cerr(msg, CAIRN_ECORRUPT, "it belongs to chain %s", e.clone);
	else if (e.seq != i + 1)
		ret = cerr(msg, CAIRN_ECORRUPT,
			   e.seq > i + 1 ? "it says seq %llu: entries before it are missing"
				       : "it says seq %llu: entries are out of order",
			   (unsigned long long)e.seq);
	else if (strcmp(e.prev, prev))
		ret = cerr(msg, CAIRN_ECORRUPT,
			   "it names previous entry %.12s, but entry %llu is %.12s (entry %llu was changed, or entries removed)",
			   e.prev, (unsigned long long)i, prev, (unsigned long long)i);
	audit_entry_release(&e);
	return ret;
}

int audit_chain_check(const struct audit_log *log, uint64_t *bad, struct strbuf *msg)
{
	char prev[AUDIT_ID_HEXSZ + 1], id[AUDIT_ID_HEXSZ + 1];
	size_t i;
	memcpy(prev, zero_id, sizeof(prev));
	for (i = 0; i < log->n; i++) {
		int ret = check_line(log->clone, &log->lines[i], i, prev, id, msg);
		if (ret) {
			/* a changed entry whose id was recomputed shows up as a
			 * wrong prev in the next one: name the changed one */
			*bad = i + 1;
			if (starts_with(msg->buf, "it names previous entry") && i > 0) {
				struct audit_entry e;
				char nid[AUDIT_ID_HEXSZ + 1];
				if (!audit_entry_parse(&e, nid, log->lines[i].p, log->lines[i].len, NULL)) {
					*bad = i;
					cerr(msg, CAIRN_ECORRUPT,
					     "changed: entry %zu records its id as %.12s (or entries after it were removed)",
					     i + 1, e.prev);
					audit_entry_release(&e);
				}
			}
			return CAIRN_ECORRUPT;
		}
		memcpy(prev, id, sizeof(prev));
	}
	if (log->torn) {
		*bad = log->n + 1;
		return cerr(msg, CAIRN_ECORRUPT,
			    "incomplete: the log ends inside it (an append was killed, or the log was truncated)");
	}
	return 0;
}

/*
 * Opens dir/CLONE.log for appending under an exclusive lock; a torn tail
 * is moved to CLONE.torn and cut off. log gets the file's whole lines.
 */
static int open_locked(const char *dir, const char *clone, int *fdp, struct audit_log *log,
		       struct strbuf *err)
{
	char *path = xstrfmt("%s/%s.log", dir, clone);
	int fd, ret;
	memset(log, 0, sizeof(*log));
	strbuf_init(&log->buf, 0);
	snprintf(log->clone, sizeof(log->clone), "%s", clone);
	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = cerr_errno(err, "cannot open '%s'", path);
		free(path);
		return ret;
	}
	ret = lock_fd(fd, LOCK_EX, path, err);
	if (!ret)
		ret = read_fd_all(fd, path, &log->buf, err);
	if (!ret) {
		split_lines(log);
		if (log->torn) {
			/* never extended, never silently dropped: kept aside */
			size_t whole = log->n ? (size_t)(log->lines[log->n - 1].p +
							 log->lines[log->n - 1].len + 1 - log->buf.buf)
					      : 0;
			char *side = xstrfmt("%s/%s.torn", dir, clone);
			int sfd = open(side, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
			if (sfd < 0 || write_all(sfd, log->buf.buf + whole, log->buf.len - whole) < 0 ||
			    write_all(sfd, "\n", 1) < 0 || fdatasync(sfd) < 0)
				ret = cerr_errno(err, "cannot set aside the incomplete entry to '%s'", side);
			else if (ftruncate(fd, (off_t)whole) < 0)
				ret = cerr_errno(err, "cannot cut the incomplete entry off '%s'", path);
			if (sfd >= 0)
				close(sfd);
			free(side);
			strbuf_setlen(&log->buf, whole);
			log->torn = 0;
		}
	}
	free(path);
	if (ret) {
		close(fd);
		audit_log_release(log);
		return ret;
	}
	*fdp = fd;
	return 0;
}

/* The id and seq of the last line (zero_id, 0 for none); its parse is checked. */
static int last_of(const struct audit_log *log, char id[AUDIT_ID_HEXSZ + 1], uint64_t *seq,
		   struct strbuf *err)
{
	struct audit_entry e;
	if (!log->n) {
		memcpy(id, zero_id, AUDIT_ID_HEXSZ + 1);
		*seq = 0;
		return 0;
	}
	if (audit_entry_parse(&e, id, log->lines[log->n - 1].p, log->lines[log->n - 1].len, err))
		return cerr_wrap(err, CAIRN_ECORRUPT, "audit chain %s: last entry", log->clone);
	*seq = e.seq;
	audit_entry_release(&e);
	return 0;
}

int audit_append(const char *cairn_dir, struct audit_entry *e, char id[AUDIT_ID_HEXSZ + 1],
		 struct strbuf *err)
{
	char *dir = NULL, last[AUDIT_ID_HEXSZ + 1];
	struct audit_log log;
	struct strbuf line = STRBUF_INIT;
	struct sha256 h;
	uint64_t seq;
	int fd = -1, ret;

	ret = audit_clone_id(cairn_dir, e->clone, err);
	if (!ret)
		ret = audit_dir(cairn_dir, &dir, err);
	if (ret)
		goto out_nolog;
	ret = open_locked(dir, e->clone, &fd, &log, err);
	if (ret)
		goto out_nolog;
	if (last_of(&log, last, &seq, NULL)) {
		/*
		 * The last line is not a sound entry (someone edited it): do
		 * not stop everyone's work over it. Chain to the id it claims
		 * (or to a digest of its bytes), so `verify` still names it
		 * as the bad one and this entry fits after it.
		 */
		const struct audit_line *l = &log.lines[log.n - 1];
		struct sha256 lh;
		seq = log.n;
		if (l->len > AUDIT_ID_HEXSZ && is_hex_n(l->p, AUDIT_ID_HEXSZ)) {
			memcpy(last, l->p, AUDIT_ID_HEXSZ);
			last[AUDIT_ID_HEXSZ] = '\0';
		} else {
			sha256_hash(&lh, l->p, l->len);
			sha256_to_hex(&lh, last);
		}
	}
	e->seq = seq + 1;
	memcpy(e->prev, last, sizeof(e->prev));
	strbuf_grow(&line, 1024);
	strbuf_setlen(&line, AUDIT_ID_HEXSZ + 1);
	audit_entry_encode(e, &line);
	sha256_hash(&h, line.buf + AUDIT_ID_HEXSZ + 1, line.len - AUDIT_ID_HEXSZ - 1);
	sha256_to_hex(&h, last);
	memcpy(line.buf, last, AUDIT_ID_HEXSZ);
	line.buf[AUDIT_ID_HEXSZ] = ' ';
	strbuf_addch(&line, '\n');
	/* one write(2) with O_APPEND under the lock: never interleaved */
	if (write(fd, line.buf, line.len) != (ssize_t)line.len) {
		/* a short write (a full disk): take the partial line back */
		ret = cerr_errno(err, "cannot append to the audit log of chain %s", e->clone);
		/* if even that fails, the next append sets it aside */
		(void)!ftruncate(fd, (off_t)log.buf.len);
	} else if (fdatasync(fd) < 0) {
		ret = cerr_errno(err, "cannot sync the audit log of chain %s", e->clone);
	} else if (id) {
		memcpy(id, last, AUDIT_ID_HEXSZ + 1);
	}
	close(fd);
	audit_log_release(&log);
out_nolog:
	free(dir);
	strbuf_release(&line);
	return ret;
}

int audit_log_merge(const char *dir, const char *clone, const char *lines, size_t len,
		    uint64_t *added, uint64_t *bad, struct strbuf *err)
{
	struct audit_log log, in;
	char prev[AUDIT_ID_HEXSZ + 1], id[AUDIT_ID_HEXSZ + 1];
	struct strbuf msg = STRBUF_INIT, out = STRBUF_INIT;
	uint64_t have, last_in = 0;
	size_t i;
	int fd = -1, ret;

	*added = 0;
	*bad = 0;
	memset(&in, 0, sizeof(in));
	strbuf_init(&in.buf, len);
	strbuf_add(&in.buf, lines, len);
	snprintf(in.clone, sizeof(in.clone), "%s", clone);
	split_lines(&in);
	if (in.torn) {
		ret = cerr(err, CAIRN_EFORMAT, "audit chain %s: a segment ends inside an entry", clone);
		goto out_nolog;
	}
	ret = open_locked(dir, clone, &fd, &log, err);
	if (ret)
		goto out_nolog;
	ret = last_of(&log, prev, &have, err);
	/* entries held are compared by line number: the numbers must agree */
	if (!ret && have != log.n)
		ret = cerr(err, CAIRN_ECORRUPT,
			   "audit chain %s: the log here is damaged (%zu entries, the last numbered %llu); 'cairn audit verify' says where",
			   clone, log.n, (unsigned long long)have);
	for (i = 0; i < in.n && !ret; i++) {
		struct audit_entry e;
		if (audit_entry_parse(&e, id, in.lines[i].p, in.lines[i].len, &msg)) {
			ret = cerr(err, CAIRN_ECORRUPT, "audit chain %s: an entry received: %s", clone,
				   msg.buf);
			break;
		}
		if (strcmp(e.clone, clone)) {
			ret = cerr(err, CAIRN_ECORRUPT, "audit chain %s: received an entry of chain %s",
				   clone, e.clone);
		} else if (e.seq <= last_in) {
			/* a segment holds each entry once, in order */
			*bad = e.seq;
			ret = cerr(err, CAIRN_ECORRUPT,
				   "audit chain %s: entry %llu received after entry %llu: out of order",
				   clone, (unsigned long long)e.seq, (unsigned long long)last_in);
		} else if (e.seq <= log.n) {
			const struct audit_line *l = &log.lines[e.seq - 1];
			if (l->len != in.lines[i].len || memcmp(l->p, in.lines[i].p, l->len)) {
				*bad = e.seq;
				ret = cerr(err, CAIRN_ECONFLICT,
					   "audit chain %s: entry %llu received differs from the copy held here (%.12s here, %.12s received): the chain was rewritten",
					   clone, (unsigned long long)e.seq, l->p, id);
			}
		} else if (e.seq != have + 1 || strcmp(e.prev, prev)) {
			*bad = e.seq;
			ret = cerr(err, CAIRN_ECORRUPT,
				   "audit chain %s: entry %llu received does not continue the chain (held up to %llu)",
				   clone, (unsigned long long)e.seq, (unsigned long long)have);
		} else {
			strbuf_add(&out, in.lines[i].p, in.lines[i].len);
			strbuf_addch(&out, '\n');
			memcpy(prev, id, sizeof(prev));
			have++;
			(*added)++;
		}
		last_in = e.seq;
		audit_entry_release(&e);
	}
	if (!ret && out.len) {
		if (write(fd, out.buf, out.len) != (ssize_t)out.len)
			ret = cerr_errno(err, "cannot append to the audit log of chain %s", clone);
		else if (fdatasync(fd) < 0)
			ret = cerr_errno(err, "cannot sync the audit log of chain %s", clone);
	}
	if (ret)
		*added = 0;
	close(fd);
	audit_log_release(&log);
out_nolog:
	audit_log_release(&in);
	strbuf_release(&msg);
	strbuf_release(&out);
	return ret;
}
