/*
 * Remote URLs and the choice of backend.
 */
#include "remote/remote.h"
#include "core/ext.h"

#include <stdlib.h>
#include <string.h>

void remote_url_release(struct remote_url *u)
{
	free(u->scheme);
	free(u->user);
	free(u->host);
	free(u->path);
	memset(u, 0, sizeof(*u));
}

static int parse_port(const char *s, size_t n, int *port)
{
	long v = 0;
	size_t i;
	if (!n || n > 5)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

/* user@host[:port] in s[0..n) */
static int parse_authority(struct remote_url *u, const char *s, size_t n, int allow_port,
			   const char *whole, struct strbuf *err)
{
	const char *at = memchr(s, '@', n), *h = s, *colon;
	size_t hl = n;
	if (at) {
		if (memchr(s, ':', (size_t)(at - s)))
			return cerr(err, CAIRN_EINVAL,
				    "remote URL '%s' holds a password: use ssh keys or ssh-agent instead",
				    "(hidden)");
		if (at == s)
			return cerr(err, CAIRN_EINVAL, "remote URL '%s' has an empty user name", whole);
		u->user = xstrndup(s, (size_t)(at - s));
		h = at + 1;
		hl = n - (size_t)(h - s);
	}
	colon = allow_port ? memchr(h, ':', hl) : NULL;
	if (colon) {
		if (parse_port(colon + 1, hl - (size_t)(colon + 1 - h), &u->port))
			return cerr(err, CAIRN_EINVAL, "remote URL '%s' has a bad port", whole);
		hl = (size_t)(colon - h);
	}
	if (!hl)
		return cerr(err, CAIRN_EINVAL, "remote URL '%s' has no host", whole);
	u->host = xstrndup(h, hl);
	return 0;
}

/*
 * s3://bucket[/prefix]: bucket names are 3 to 63 of [a-z0-9.-] (what every
 * S3 server accepts); the prefix may be empty. Credentials never belong in
 * the URL, so '@' and ':' before the first '/' are refused unseen.
 */
static int parse_s3(struct remote_url *u, const char *s, struct strbuf *err)
{
	const char *b = s + 5, *slash = strchr(b, '/');
	size_t bl = slash ? (size_t)(slash - b) : strlen(b), i;
	const char *p;
	if (memchr(b, '@', bl) || memchr(b, ':', bl))
		return cerr(err, CAIRN_EINVAL,
			    "remote URL '%s' holds credentials or a port: give the bucket only, and "
			    "credentials in the environment, ~/.aws or .cairn/config.local",
			    "(hidden)");
	if (bl < 3 || bl > 63)
		return cerr(err, CAIRN_EINVAL, "s3 URL '%s': a bucket name has 3 to 63 characters", s);
	for (i = 0; i < bl; i++) {
		char c = b[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
			return cerr(err, CAIRN_EINVAL,
				    "s3 URL '%s': a bucket name holds only a-z, 0-9, '.' and '-'", s);
	}
	p = slash ? slash + 1 : "";
	if (*p == '/' || strstr(p, "//") || !strcmp(p, ".") || !strcmp(p, "..") || starts_with(p, "./") ||
	    starts_with(p, "../") || strstr(p, "/./") || strstr(p, "/../") || ends_with(p, "/.") ||
	    ends_with(p, "/..") || strchr(p, '?') || strchr(p, '#'))
		return cerr(err, CAIRN_EINVAL, "s3 URL '%s' has a bad prefix", s);
	u->scheme = xstrdup("s3");
	u->host = xstrndup(b, bl);
	u->path = xstrdup(p);
	return 0;
}

int remote_url_parse(struct remote_url *u, const char *s, const char *base, struct strbuf *err)
{
	int r = 0;
	memset(u, 0, sizeof(*u));
	if (!*s)
		return cerr(err, CAIRN_EINVAL, "empty remote URL");
	if (strchr(s, '\n') || strchr(s, '\r'))
		return cerr(err, CAIRN_EINVAL, "remote URL has a line break");
	if (starts_with(s, "file://")) {
		const char *p = s + 7;
		if (starts_with(p, "localhost/"))
			p += 9;
		if (*p != '/')
			return cerr(err, CAIRN_EINVAL, "file URL '%s' must name an absolute path (file:///path)", s);
		u->scheme = xstrdup("file");
		u->path = xstrdup(p);
	} else if (starts_with(s, "ssh://")) {
		const char *a = s + 6, *slash = strchr(a, '/');
		if (!slash || !slash[1])
			return cerr(err, CAIRN_EINVAL, "ssh URL '%s' has no path (ssh://host/path)", s);
		u->scheme = xstrdup("ssh");
		r = parse_authority(u, a, (size_t)(slash - a), 1, s, err);
		/* ssh://host/~/dir: relative to the login directory */
		if (!r)
			u->path = xstrdup(starts_with(slash, "/~/") ? slash + 3 : slash);
	} else if (starts_with(s, "s3://")) {
		r = parse_s3(u, s, err);
	} else if (strstr(s, "://")) {
		/* the scheme only: the rest may hold a password */
		return cerr(err, CAIRN_EINVAL,
			    "unsupported remote URL scheme '%.*s://' (use a path, file://, ssh://, host:path or s3://)",
			    (int)(strstr(s, "://") - s > 16 ? 16 : strstr(s, "://") - s), s);
	} else {
		const char *colon = strchr(s, ':'), *slash = strchr(s, '/');
		if (colon && (!slash || colon < slash) && colon != s) {
			/* scp style: [user@]host:path */
			const char *rest = colon + 1, *at = strchr(rest, '@');
			if (at && memchr(at, ':', strcspn(at, "/")))
				return cerr(err, CAIRN_EINVAL,
					    "remote '%s' looks like user:password@host:path; passwords are not supported (use ssh keys or ssh-agent)",
					    "(hidden)");
			u->scheme = xstrdup("ssh");
			r = parse_authority(u, s, (size_t)(colon - s), 0, s, err);
			if (!r) {
				if (!colon[1])
					r = cerr(err, CAIRN_EINVAL, "remote '%s' has no path after ':'", s);
				else
					u->path = xstrdup(colon + 1);
			}
		} else {
			u->scheme = xstrdup("file");
			if (s[0] == '/' || !base)
				u->path = xstrdup(s);
			else
				u->path = xstrfmt("%s/%s", base, s);
		}
	}
	if (!r && u->path) {
		/* trailing slashes carry no meaning */
		size_t n = strlen(u->path);
		while (n > 1 && u->path[n - 1] == '/')
			u->path[--n] = '\0';
	}
	if (r)
		remote_url_release(u);
	return r;
}

void remote_url_display(const struct remote_url *u, struct strbuf *out)
{
	if (!strcmp(u->scheme, "file")) {
		strbuf_addstr(out, u->path);
		return;
	}
	if (!strcmp(u->scheme, "s3")) {
		strbuf_addf(out, "s3://%s/%s", u->host, u->path);
		return;
	}
	strbuf_addf(out, "%s://", u->scheme);
	if (u->user)
		strbuf_addf(out, "%s@", u->user);
	strbuf_addstr(out, u->host ? u->host : "");
	if (u->port)
		strbuf_addf(out, ":%d", u->port);
	if (u->path[0] != '/')
		strbuf_addstr(out, "/~/");
	strbuf_addstr(out, u->path);
}

/* set only in a program linked with remote/ssh.o and remote/s3.o itself */
#pragma weak remote_ssh_ops
#pragma weak remote_s3_ops

const struct remote_ops *remote_ops_for(const struct remote_url *u, struct strbuf *err)
{
	if (!strcmp(u->scheme, "file"))
		return &remote_dir_ops;
	if (!strcmp(u->scheme, "ssh"))
		return &remote_ssh_ops ? &remote_ssh_ops
				       : ext_sym("remote_ssh_ops", "ssh remotes", err);
	if (!strcmp(u->scheme, "s3"))
		return &remote_s3_ops ? &remote_s3_ops : ext_sym("remote_s3_ops", "S3 remotes", err);
	if (err)
		cerr(err, CAIRN_EINVAL, "'%s' remotes are not supported yet", u->scheme);
	return NULL;
}

int remote_default_jobs(const char *url)
{
	struct remote_url u;
	const struct remote_ops *ops;
	int jobs = 4;
	if (remote_url_parse(&u, url, NULL, NULL))
		return jobs;
	ops = remote_ops_for(&u, NULL);
	if (ops && ops->default_jobs)
		jobs = ops->default_jobs;
	remote_url_release(&u);
	return jobs;
}

int remote_open_url(struct remote **out, const char *url, const char *base,
		    const struct config *cfg, const char *name, struct strbuf *err)
{
	struct remote_url u;
	const struct remote_ops *ops;
	int r;
	if (strlen(name) > REMOTE_NAME_MAX)
		return cerr(err, CAIRN_EINVAL, "remote name '%.32s...' is too long (%zu bytes, at most %d)",
			    name, strlen(name), REMOTE_NAME_MAX);
	r = remote_url_parse(&u, url, base, err);
	if (r)
		return r;
	ops = remote_ops_for(&u, err);
	if (!ops) {
		r = cerr_wrap(err, CAIRN_EINVAL, "remote '%s'", name);
		remote_url_release(&u);
		return r;
	}
	r = ops->open(out, &u, cfg, name, err);
	remote_url_release(&u);
	return r;
}

void remote_close(struct remote *r)
{
	if (r)
		r->ops->close(r);
}

struct list_plain {
	int (*cb)(const char *name, uint64_t size, void *data);
	void *data;
};

static int list_plain_cb(const char *name, uint64_t size, int64_t mtime, void *data)
{
	struct list_plain *lp = data;
	return lp->cb(name, size, lp->data);
}

int remote_list_plain(struct remote *r, const char *dir,
		      int (*cb)(const char *name, uint64_t size, void *data), void *data,
		      struct strbuf *err)
{
	struct list_plain lp = { cb, data };
	return r->ops->list_times(r, dir, list_plain_cb, &lp, err);
}

int remote_setting_int(const struct config *cfg, const char *name, const char *var, int64_t def,
		       int64_t min, int64_t max, int64_t *out, struct strbuf *err)
{
	char *key;
	int ret;
	if (!cfg) {
		*out = def;
		return 0;
	}
	key = xstrfmt("remote.%s.%s", name, var);
	ret = config_get_int(cfg, key, def, out, err);
	if (!ret && (*out < min || *out > max))
		ret = cerr(err, CAIRN_EINVAL, "config %s = %lld is out of range (%lld..%lld)", key,
			   (long long)*out, (long long)min, (long long)max);
	free(key);
	return ret;
}
