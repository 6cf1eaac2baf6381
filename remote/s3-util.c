/*
 * SigV4 encoding, XML and AWS INI files for the S3 backend (remote/s3.h).
 */
#include "remote/s3.h"
#include "remote/remote.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

void s3_uri_encode(struct strbuf *out, const char *s, size_t n, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (unreserved(c) || (keep_slash && c == '/')) {
			strbuf_addch(out, c);
		} else {
			strbuf_addch(out, '%');
			strbuf_addch(out, hex[c >> 4]);
			strbuf_addch(out, hex[c & 15]);
		}
	}
}

struct qpair {
	char *name, *value; /* encoded */
};

static int qpair_cmp(const void *a, const void *b)
{
	const struct qpair *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->value, y->value);
}

void s3_query(struct strbuf *out, const char *const *v)
{
	struct qpair *p;
	size_t n = 0, i;
	while (v[2 * n])
		n++;
	p = xcalloc(n + 1, sizeof(*p));
	for (i = 0; i < n; i++) {
		struct strbuf sb = STRBUF_INIT;
		const char *val = v[2 * i + 1] ? v[2 * i + 1] : "";
		s3_uri_encode(&sb, v[2 * i], strlen(v[2 * i]), 0);
		p[i].name = strbuf_detach(&sb, NULL);
		s3_uri_encode(&sb, val, strlen(val), 0);
		p[i].value = strbuf_detach(&sb, NULL);
	}
	sort_array(p, n, sizeof(*p), qpair_cmp);
	for (i = 0; i < n; i++) {
		if (i)
			strbuf_addch(out, '&');
		strbuf_addf(out, "%s=%s", p[i].name, p[i].value);
		free(p[i].name);
		free(p[i].value);
	}
	free(p);
}

static void xml_decode(struct strbuf *out, const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		const char *semi;
		if (s[i] != '&' || !(semi = memchr(s + i, ';', n - i)) || semi - (s + i) > 10) {
			strbuf_addch(out, s[i++]);
			continue;
		}
		{
			size_t l = (size_t)(semi - (s + i)) + 1;
			const char *e = s + i;
			if (l == 5 && !memcmp(e, "&amp;", 5))
				strbuf_addch(out, '&');
			else if (l == 4 && !memcmp(e, "&lt;", 4))
				strbuf_addch(out, '<');
			else if (l == 4 && !memcmp(e, "&gt;", 4))
				strbuf_addch(out, '>');
			else if (l == 6 && !memcmp(e, "&quot;", 6))
				strbuf_addch(out, '"');
			else if (l == 6 && !memcmp(e, "&apos;", 6))
				strbuf_addch(out, '\'');
			else if (l > 3 && e[1] == '#') {
				/* numeric: only ASCII matters in keys cairn writes */
				unsigned long c = e[2] == 'x' ? strtoul(e + 3, NULL, 16) : strtoul(e + 2, NULL, 10);
				strbuf_addch(out, c < 128 ? (int)c : '?');
			} else
				strbuf_add(out, e, l);
			i += l;
		}
	}
}

int s3_xml_next_raw(const char *xml, size_t n, size_t *pos, const char *tag,
		    const char **inner, size_t *inner_len)
{
	size_t tl = strlen(tag), i = *pos;
	while (i + tl + 2 <= n) {
		const char *lt = memchr(xml + i, '<', n - i);
		const char *gt, *end;
		size_t j;
		if (!lt)
			return 0;
		j = (size_t)(lt - xml);
		if (j + 1 + tl >= n)
			return 0;
		if (memcmp(lt + 1, tag, tl) || (lt[1 + tl] != '>' && lt[1 + tl] != ' ' && lt[1 + tl] != '/')) {
			i = j + 1;
			continue;
		}
		gt = memchr(lt, '>', n - j);
		if (!gt)
			return 0;
		if (gt[-1] == '/') { /* <Tag/>: empty */
			*inner = gt + 1;
			*inner_len = 0;
			*pos = (size_t)(gt + 1 - xml);
			return 1;
		}
		/* the closing tag; S3's elements of interest do not nest in themselves */
		for (end = gt + 1; end + tl + 3 <= xml + n; end++) {
			end = memchr(end, '<', (size_t)(xml + n - end));
			if (!end)
				return 0;
			if (end + tl + 3 <= xml + n && end[1] == '/' && !memcmp(end + 2, tag, tl) &&
			    end[2 + tl] == '>') {
				*inner = gt + 1;
				*inner_len = (size_t)(end - (gt + 1));
				*pos = (size_t)(end + tl + 3 - xml);
				return 1;
			}
		}
		return 0;
	}
	return 0;
}

int s3_xml_next(const char *xml, size_t n, size_t *pos, const char *tag, struct strbuf *out)
{
	const char *in;
	size_t il;
	if (!s3_xml_next_raw(xml, n, pos, tag, &in, &il))
		return 0;
	strbuf_reset(out);
	xml_decode(out, in, il);
	return 1;
}

void s3_page_init(struct s3_page *pg)
{
	memset(pg, 0, sizeof(*pg));
	strbuf_init(&pg->token, 0);
	strbuf_init(&pg->why, 0);
}

void s3_page_release(struct s3_page *pg)
{
	strbuf_release(&pg->token);
	strbuf_release(&pg->why);
}

static int page_bad(struct s3_page *pg, const char *why)
{
	strbuf_reset(&pg->why);
	strbuf_addstr(&pg->why, why);
	return CAIRN_EFORMAT;
}

/* A Size: 1 to 20 decimal digits that fit in a uint64_t. */
static int parse_size(const struct strbuf *s, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;
	if (!s->len || s->len > 20)
		return -1;
	for (i = 0; i < s->len; i++) {
		unsigned d = (unsigned)(s->buf[i] - '0');
		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int s3_list_page(const char *xml, size_t n, const char *prefix,
		 int (*cb)(const char *name, uint64_t size, int64_t mtime, void *data), void *data,
		 struct s3_page *pg)
{
	struct strbuf k = STRBUF_INIT, sz = STRBUF_INIT, trunc = STRBUF_INIT, lm = STRBUF_INIT;
	size_t pl = strlen(prefix), pos = 0, il;
	const char *in;
	int ret = 0;

	pg->truncated = pg->seen = 0;
	pg->keys = 0;
	strbuf_reset(&pg->token);
	strbuf_reset(&pg->why);
	while (!ret && s3_xml_next_raw(xml, n, &pos, "Contents", &in, &il)) {
		size_t p2 = 0, p3 = 0, p4 = 0;
		uint64_t size;
		int64_t mtime = REMOTE_MTIME_UNKNOWN;
		pg->keys++;
		if (!s3_xml_next(in, il, &p2, "Key", &k) || !s3_xml_next(in, il, &p3, "Size", &sz)) {
			ret = page_bad(pg, "an entry without a Key or a Size");
			break;
		}
		if (k.len < pl || strncmp(k.buf, prefix, pl) || strlen(k.buf) != k.len) {
			ret = page_bad(pg, "a key outside the prefix");
			break;
		}
		if (parse_size(&sz, &size)) {
			ret = page_bad(pg, "a Size that is not a number");
			break;
		}
		pg->seen = 1;
		if (k.len == pl || strchr(k.buf + pl, '/'))
			continue; /* the directory's own key */
		/* when it was stored: the time of the upload (none if unreadable) */
		if (s3_xml_next(in, il, &p4, "LastModified", &lm) && s3_parse_time(lm.buf, &mtime))
			mtime = REMOTE_MTIME_UNKNOWN;
		ret = cb(k.buf + pl, size, mtime, data);
	}
	pos = 0;
	while (!ret && s3_xml_next_raw(xml, n, &pos, "CommonPrefixes", &in, &il)) {
		pg->seen = 1;
		pg->keys++;
	}
	pos = 0;
	if (!ret && s3_xml_next(xml, n, &pos, "IsTruncated", &trunc) && !strcmp(trunc.buf, "true")) {
		pg->truncated = 1;
		pos = 0;
		if (!s3_xml_next(xml, n, &pos, "NextContinuationToken", &pg->token) || !pg->token.len)
			ret = page_bad(pg, "a truncated page without a continuation token");
		else if (pg->token.len > S3_TOKEN_MAX)
			ret = page_bad(pg, "a continuation token longer than 8 KiB");
		else if (strlen(pg->token.buf) != pg->token.len)
			ret = page_bad(pg, "a continuation token holding a NUL byte");
	}
	strbuf_release(&k);
	strbuf_release(&sz);
	strbuf_release(&trunc);
	strbuf_release(&lm);
	return ret;
}

void s3_xml_escape(struct strbuf *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': strbuf_addstr(out, "&amp;"); break;
		case '<': strbuf_addstr(out, "&lt;"); break;
		case '>': strbuf_addstr(out, "&gt;"); break;
		case '"': strbuf_addstr(out, "&quot;"); break;
		case '\'': strbuf_addstr(out, "&apos;"); break;
		default: strbuf_addch(out, *s);
		}
	}
}

static void trim(const char **s, size_t *n)
{
	while (*n && isspace((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && isspace((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

int s3_ini_get(const char *path, const char *section, const char *key, struct strbuf *out,
	       struct strbuf *err)
{
	struct strbuf file = STRBUF_INIT;
	const char *p, *end;
	int in = 0, found = 0, r = read_file(path, 1 << 20, &file, err);
	if (r == CAIRN_ENOTFOUND || (r && errno == ENOENT)) {
		strbuf_release(&file);
		return 0;
	}
	if (r) {
		strbuf_release(&file);
		return r;
	}
	p = file.buf;
	end = file.buf + file.len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line = p, *eq;
		size_t n = (size_t)((nl ? nl : end) - p);
		p = nl ? nl + 1 : end;
		trim(&line, &n);
		if (!n || line[0] == '#' || line[0] == ';')
			continue;
		if (line[0] == '[') {
			const char *s = line + 1;
			size_t sl = n - 1;
			if (sl && s[sl - 1] == ']')
				sl--;
			trim(&s, &sl);
			in = sl == strlen(section) && !memcmp(s, section, sl);
			continue;
		}
		eq = memchr(line, '=', n);
		if (!in || !eq)
			continue;
		{
			const char *k = line, *v = eq + 1;
			size_t kl = (size_t)(eq - line), vl = n - kl - 1;
			trim(&k, &kl);
			trim(&v, &vl);
			if (kl == strlen(key) && !strncasecmp(k, key, kl)) {
				strbuf_reset(out);
				strbuf_add(out, v, vl);
				found = 1; /* the last one wins, as in botocore */
			}
		}
	}
	strbuf_release(&file);
	return found;
}

static int resolve_host_ok(const char *s, size_t n)
{
	size_t i;
	if (!n || n > 253 || s[0] == '-' || s[0] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '.')
			return 0;
	return 1;
}

static int resolve_addr_ok(const char *s, size_t n)
{
	unsigned char buf[16];
	char tmp[64];
	int af = AF_INET;
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
		af = AF_INET6;
	}
	if (!n || n >= sizeof(tmp))
		return 0;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return inet_pton(af, tmp, buf) == 1;
}

/* one entry e[0..n): HOST:PORT:ADDR[,ADDR]... */
static int resolve_entry_ok(const char *e, size_t n)
{
	const char *c1 = memchr(e, ':', n), *c2, *a, *end = e + n;
	unsigned long port = 0;
	const char *p;
	if (!c1 || !resolve_host_ok(e, (size_t)(c1 - e)))
		return 0;
	c2 = memchr(c1 + 1, ':', (size_t)(end - c1 - 1));
	if (!c2 || c2 == c1 + 1 || c2 - c1 > 6)
		return 0;
	for (p = c1 + 1; p < c2; p++) {
		if (!isdigit((unsigned char)*p))
			return 0;
		port = port * 10 + (unsigned long)(*p - '0');
	}
	if (port < 1 || port > 65535)
		return 0;
	for (a = c2 + 1;; ) {
		const char *comma = memchr(a, ',', (size_t)(end - a));
		const char *ae = comma ? comma : end;
		if (!resolve_addr_ok(a, (size_t)(ae - a)))
			return 0;
		if (!comma)
			return 1;
		a = comma + 1;
	}
}

int s3_resolve_parse(const char *value, char ***entries, size_t *n, size_t *alloc,
		     struct strbuf *err)
{
	const char *p = value;
	size_t first = *n;
	while (*p) {
		size_t len;
		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		for (len = 0; p[len] && !isspace((unsigned char)p[len]); len++)
			;
		if (!resolve_entry_ok(p, len)) {
			while (*n > first)
				free((*entries)[--*n]);
			return cerr(err, CAIRN_EINVAL, "'%.*s' is not HOST:PORT:ADDRESS", (int)len, p);
		}
		ALLOC_GROW(*entries, *n + 1, *alloc);
		(*entries)[(*n)++] = xstrndup(p, len);
		p += len;
	}
	return 0;
}

int s3_parse_time(const char *s, int64_t *out)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, n = 0;
	const char *p;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
	    n != 19)
		return -1;
	p = s + n;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (strcmp(p, "Z") || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 ||
	    mi < 0 || mi > 59 || sec < 0 || sec > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*out = (int64_t)timegm(&tm);
	return 0;
}
