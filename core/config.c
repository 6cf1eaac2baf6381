#include "core/config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/*
 * How it works: one parser, parse_config(), turns a file into an array of
 * lines, each with its byte offsets (start, first non-blank byte, trailing
 * comment, end of content, start of the next line) and, for section headers
 * and variables, what they mean. Loading keeps only the meaning; editing
 * (config_set and the section functions) decides per line whether to keep,
 * drop or replace it, or to add lines after it, and then copies every other
 * line byte for byte, so comments, blank lines, spacing and line ends
 * survive.
 */

struct config_entry {
	char *key;         /* canonical: section and name lowercased */
	size_t key_len;
	char *value;
	const char *file;  /* one of config->files */
};

struct config {
	struct config_entry *entries; /* in the order read */
	size_t nr, alloc;
	char **files;
	size_t nfiles;
};

enum line_kind {
	LINE_OTHER,   /* blank or comment */
	LINE_SECTION, /* [section "sub"] */
	LINE_ENTRY,   /* name = value */
};

struct cfg_line {
	enum line_kind kind;
	size_t start;   /* first byte of the line */
	size_t body;    /* first non-blank byte (== eol for a blank line) */
	size_t comment; /* start of a trailing comment, == eol if none */
	size_t eol;     /* end of the content, before "\n" or "\r\n" */
	size_t next;    /* start of the next line */
	size_t sec;     /* LINE_SECTION, LINE_ENTRY: index into cfg_file.secs */
	char *name;     /* LINE_ENTRY: the variable name, lowercased */
	char *value;    /* LINE_ENTRY: the value, unquoted */
};

struct cfg_file {
	struct cfg_line *lines;
	size_t nr, alloc;
	char **secs; /* canonical name of each section header, in file order */
	size_t nsecs, secs_alloc;
};

/* A key or a section name split into its parts; pointers into the input. */
struct key_parts {
	const char *sec;
	size_t sec_len;
	const char *sub;
	size_t sub_len;
	int has_sub;
	const char *name; /* NULL for a section name */
	size_t name_len;
};

static int is_blank(int c)
{
	return c == ' ' || c == '\t';
}

static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_name_char(int c)
{
	return is_alpha(c) || is_digit(c) || c == '-';
}

static int to_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static void add_lower(struct strbuf *sb, const char *s, size_t len)
{
	size_t i;
	for (i = 0; i < len; i++)
		strbuf_addch(sb, to_lower((unsigned char)s[i]));
}

static void cfg_file_release(struct cfg_file *pf)
{
	size_t i;
	for (i = 0; i < pf->nr; i++) {
		free(pf->lines[i].name);
		free(pf->lines[i].value);
	}
	free(pf->lines);
	for (i = 0; i < pf->nsecs; i++)
		free(pf->secs[i]);
	free(pf->secs);
	memset(pf, 0, sizeof(*pf));
}

/*
 * Parse the value that starts at buf[p], git's way: blanks outside quotes
 * become one space each, except at the start and the end; an unquoted '#'
 * or ';' starts a comment (its offset goes to *comment).
 */
static int parse_value(const char *buf, size_t p, size_t eol, struct strbuf *out,
		       size_t *comment)
{
	int quote = 0;
	size_t spaces = 0;

	while (p < eol) {
		char c = buf[p++];
		if (!quote && is_blank(c)) {
			if (out->len)
				spaces++;
			continue;
		}
		if (!quote && (c == '#' || c == ';')) {
			*comment = p - 1;
			break;
		}
		for (; spaces; spaces--)
			strbuf_addch(out, ' ');
		if (c == '"') {
			quote = !quote;
			continue;
		}
		if (c == '\\') {
			if (p >= eol)
				return -1; /* no continuation lines */
			c = buf[p++];
			switch (c) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'b': c = '\b'; break;
			case '"': break;
			case '\\': break;
			default: return -1;
			}
		}
		strbuf_addch(out, c);
	}
	return quote ? -1 : 0;
}

/* [section] or [section "sub"], with an optional trailing comment. */
static int parse_header(struct cfg_file *pf, const char *buf, struct cfg_line *l,
			struct strbuf *tmp)
{
	size_t p = l->body + 1, eol = l->eol, name;

	strbuf_reset(tmp);
	while (p < eol && is_blank(buf[p]))
		p++;
	name = p;
	while (p < eol && is_name_char(buf[p]))
		strbuf_addch(tmp, to_lower((unsigned char)buf[p++]));
	if (p == name)
		return -1;
	if (p < eol && is_blank(buf[p])) {
		while (p < eol && is_blank(buf[p]))
			p++;
		if (p < eol && buf[p] == '"') {
			p++;
			strbuf_addch(tmp, '.');
			for (;;) {
				char c;
				if (p >= eol)
					return -1; /* unterminated subsection */
				c = buf[p++];
				if (c == '"')
					break;
				if (c == '\\') {
					if (p >= eol || (buf[p] != '"' && buf[p] != '\\'))
						return -1;
					c = buf[p++];
				}
				strbuf_addch(tmp, c);
			}
			while (p < eol && is_blank(buf[p]))
				p++;
		}
	}
	if (p >= eol || buf[p] != ']')
		return -1;
	p++;
	while (p < eol && is_blank(buf[p]))
		p++;
	if (p < eol) {
		if (buf[p] != '#' && buf[p] != ';')
			return -1;
		l->comment = p;
	}
	l->kind = LINE_SECTION;
	ALLOC_GROW(pf->secs, pf->nsecs + 1, pf->secs_alloc);
	pf->secs[pf->nsecs] = xstrndup(tmp->buf, tmp->len);
	l->sec = pf->nsecs++;
	return 0;
}

/* name, name = value; each with an optional trailing comment. */
static int parse_entry(struct cfg_file *pf, const char *buf, struct cfg_line *l,
		       struct strbuf *tmp)
{
	size_t p = l->body, eol = l->eol, name = p, name_end;
	struct strbuf lower = STRBUF_INIT;

	if (!is_alpha(buf[p]))
		return -1;
	while (p < eol && is_name_char(buf[p]))
		p++;
	name_end = p;
	while (p < eol && is_blank(buf[p]))
		p++;
	strbuf_reset(tmp);
	if (p == eol || buf[p] == '#' || buf[p] == ';') {
		if (p < eol)
			l->comment = p;
		strbuf_addstr(tmp, "true");
	} else if (buf[p] == '=') {
		if (parse_value(buf, p + 1, eol, tmp, &l->comment) < 0)
			return -1;
	} else {
		return -1;
	}
	if (!pf->nsecs)
		return -1; /* a variable before any section */
	l->kind = LINE_ENTRY;
	l->sec = pf->nsecs - 1;
	add_lower(&lower, buf + name, name_end - name);
	l->name = strbuf_detach(&lower, NULL);
	l->value = xstrndup(tmp->buf, tmp->len);
	return 0;
}

static int parse_line(struct cfg_file *pf, const char *buf, struct cfg_line *l,
		      struct strbuf *tmp)
{
	size_t p = l->start;

	while (p < l->eol && is_blank(buf[p]))
		p++;
	l->body = p;
	l->comment = l->eol;
	if (memchr(buf + l->start, '\0', l->eol - l->start))
		return -1;
	if (p == l->eol || buf[p] == '#' || buf[p] == ';') {
		l->kind = LINE_OTHER;
		return 0;
	}
	if (buf[p] == '[')
		return parse_header(pf, buf, l, tmp);
	return parse_entry(pf, buf, l, tmp);
}

/* Parse buf[0..len) read from `path` into *pf: 0 or CAIRN_EFORMAT. */
static int parse_config(struct cfg_file *pf, const char *buf, size_t len, const char *path,
			struct strbuf *err)
{
	struct strbuf tmp = STRBUF_INIT;
	size_t pos = 0;
	int lineno = 0, r = 0;

	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		struct cfg_line *l;

		lineno++;
		ALLOC_GROW(pf->lines, pf->nr + 1, pf->alloc);
		l = &pf->lines[pf->nr];
		memset(l, 0, sizeof(*l));
		l->start = pos;
		l->eol = nl ? (size_t)(nl - buf) : len;
		l->next = nl ? l->eol + 1 : len;
		if (l->eol > l->start && buf[l->eol - 1] == '\r')
			l->eol--;
		pos = l->next;
		if (parse_line(pf, buf, l, &tmp) < 0) {
			r = cerr(err, CAIRN_EFORMAT, "bad config line %d in '%s'", lineno, path);
			break;
		}
		pf->nr++;
	}
	strbuf_release(&tmp);
	return r;
}

/*
 * Read `path` (at most CONFIG_MAX_FILE_SIZE bytes) into `out`. A missing
 * file reads as empty and sets *missing; `err` is then left alone.
 */
static int read_config(const char *path, struct strbuf *out, int *missing, struct strbuf *err)
{
	struct strbuf e = STRBUF_INIT;
	int r = read_file(path, CONFIG_MAX_FILE_SIZE, out, &e);

	*missing = 0;
	if (r == CAIRN_ENOTFOUND) {
		*missing = 1;
		strbuf_reset(out);
		r = 0;
	} else if (r < 0) {
		cerr(err, r, "%s", e.buf);
	}
	strbuf_release(&e);
	return r;
}

static int load_one(struct config *cfg, size_t idx, struct strbuf *err)
{
	struct strbuf buf = STRBUF_INIT;
	struct cfg_file pf = { 0 };
	const char *path = cfg->files[idx];
	int missing, r;
	size_t i;

	r = read_config(path, &buf, &missing, err);
	if (!r)
		r = parse_config(&pf, buf.buf, buf.len, path, err);
	for (i = 0; !r && i < pf.nr; i++) {
		struct cfg_line *l = &pf.lines[i];
		struct config_entry *e;
		if (l->kind != LINE_ENTRY)
			continue;
		ALLOC_GROW(cfg->entries, cfg->nr + 1, cfg->alloc);
		e = &cfg->entries[cfg->nr++];
		e->key = xstrfmt("%s.%s", pf.secs[l->sec], l->name);
		e->key_len = strlen(e->key);
		e->value = l->value;
		l->value = NULL;
		e->file = path;
	}
	cfg_file_release(&pf);
	strbuf_release(&buf);
	return r;
}

int config_load(struct config **out, const char *const *files, size_t nfiles,
		struct strbuf *err)
{
	struct config *cfg = xcalloc(1, sizeof(*cfg));
	size_t i;

	cfg->files = xcalloc(nfiles, sizeof(*cfg->files));
	cfg->nfiles = nfiles;
	for (i = 0; i < nfiles; i++)
		cfg->files[i] = xstrdup(files[i]);
	for (i = 0; i < nfiles; i++) {
		int r = load_one(cfg, i, err);
		if (r < 0) {
			config_free(cfg);
			return r;
		}
	}
	*out = cfg;
	return 0;
}

void config_free(struct config *cfg)
{
	size_t i;

	if (!cfg)
		return;
	for (i = 0; i < cfg->nr; i++) {
		free(cfg->entries[i].key);
		free(cfg->entries[i].value);
	}
	free(cfg->entries);
	for (i = 0; i < cfg->nfiles; i++)
		free(cfg->files[i]);
	free(cfg->files);
	free(cfg);
}

const char *config_get(const struct config *cfg, const char *key)
{
	const char *first = strchr(key, '.'), *last = strrchr(key, '.');
	size_t len = strlen(key), f, l, i;

	if (!first)
		return NULL;
	f = (size_t)(first - key);
	l = (size_t)(last - key);
	for (i = cfg->nr; i-- > 0;) {
		const struct config_entry *e = &cfg->entries[i];
		size_t j;
		if (e->key_len != len)
			continue;
		/* Section and name fold case; the subsection does not. */
		for (j = 0; j < len; j++) {
			int c = (unsigned char)key[j];
			if (j < f || j > l)
				c = to_lower(c);
			if ((unsigned char)e->key[j] != c)
				break;
		}
		if (j == len)
			return e->value;
	}
	return NULL;
}

/* 0, -1 for junk, -2 for out of range. */
static int parse_int(const char *v, int64_t *out)
{
	const char *p = v;
	uint64_t mag = 0, limit = INT64_MAX, factor = 1;
	int neg = 0, overflow = 0;

	if (*p == '+' || *p == '-') {
		neg = *p == '-';
		p++;
	}
	if (neg)
		limit = (uint64_t)INT64_MAX + 1;
	if (!is_digit(*p))
		return -1;
	for (; is_digit(*p); p++) {
		uint64_t d = (uint64_t)(*p - '0');
		if (mag > (limit - d) / 10)
			overflow = 1;
		else
			mag = mag * 10 + d;
	}
	switch (*p) {
	case 'k': case 'K': factor = (uint64_t)1 << 10; p++; break;
	case 'm': case 'M': factor = (uint64_t)1 << 20; p++; break;
	case 'g': case 'G': factor = (uint64_t)1 << 30; p++; break;
	}
	if (*p)
		return -1;
	if (overflow || mag > limit / factor)
		return -2;
	mag *= factor;
	if (!neg)
		*out = (int64_t)mag;
	else if (mag == (uint64_t)INT64_MAX + 1)
		*out = INT64_MIN;
	else
		*out = -(int64_t)mag;
	return 0;
}

int config_get_int(const struct config *cfg, const char *key, int64_t def, int64_t *out,
		   struct strbuf *err)
{
	const char *v = config_get(cfg, key);
	int64_t n;
	int r;

	if (!v) {
		*out = def;
		return 0;
	}
	r = parse_int(v, &n);
	if (r == -1)
		return cerr(err, CAIRN_EFORMAT, "bad integer value '%s' for config '%s'", v, key);
	if (r == -2)
		return cerr(err, CAIRN_EFORMAT, "integer value '%s' for config '%s' is out of range",
			    v, key);
	*out = n;
	return 0;
}

int config_get_bool(const struct config *cfg, const char *key, int def, int *out,
		    struct strbuf *err)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	const char *v = config_get(cfg, key);
	size_t i;

	if (!v) {
		*out = def;
		return 0;
	}
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(v, yes[i])) {
			*out = 1;
			return 0;
		}
		if (!strcasecmp(v, no[i])) {
			*out = 0;
			return 0;
		}
	}
	return cerr(err, CAIRN_EFORMAT, "bad boolean value '%s' for config '%s'", v, key);
}

int config_foreach(const struct config *cfg,
		   int (*fn)(const char *key, const char *value, const char *file, void *data),
		   void *data)
{
	size_t i;

	for (i = 0; i < cfg->nr; i++) {
		const struct config_entry *e = &cfg->entries[i];
		int r = fn(e->key, e->value, e->file, data);
		if (r)
			return r;
	}
	return 0;
}

static int valid_section_part(const char *s, size_t len)
{
	size_t i;

	if (!len)
		return 0;
	for (i = 0; i < len; i++)
		if (!is_name_char((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Split "section.name" / "section.sub.name"; NULL, or why it is malformed. */
static const char *split_key(const char *key, struct key_parts *k)
{
	const char *first = strchr(key, '.'), *last = strrchr(key, '.');

	memset(k, 0, sizeof(*k));
	if (!first)
		return "it needs a section, as in 'section.name'";
	k->sec = key;
	k->sec_len = (size_t)(first - key);
	if (!valid_section_part(k->sec, k->sec_len))
		return "the section must be letters, digits and '-'";
	if (first != last) {
		k->has_sub = 1;
		k->sub = first + 1;
		k->sub_len = (size_t)(last - first - 1);
		if (memchr(k->sub, '\n', k->sub_len))
			return "the subsection holds a newline";
	}
	k->name = last + 1;
	k->name_len = strlen(k->name);
	if (!k->name_len || !is_alpha((unsigned char)k->name[0]) ||
	    !valid_section_part(k->name, k->name_len))
		return "the name must be a letter, then letters, digits and '-'";
	return NULL;
}

/* Split "section" / "section.sub"; NULL, or why it is malformed. */
static const char *split_section(const char *name, struct key_parts *k)
{
	const char *dot = strchr(name, '.');

	memset(k, 0, sizeof(*k));
	k->sec = name;
	k->sec_len = dot ? (size_t)(dot - name) : strlen(name);
	if (!valid_section_part(k->sec, k->sec_len))
		return "the section must be letters, digits and '-'";
	if (dot) {
		k->has_sub = 1;
		k->sub = dot + 1;
		k->sub_len = strlen(k->sub);
		if (memchr(k->sub, '\n', k->sub_len))
			return "the subsection holds a newline";
	}
	return NULL;
}

int config_key_valid(const char *key)
{
	struct key_parts k;
	return !split_key(key, &k);
}

/* The section as parse_header() names it: "section" or "section.sub". */
static void canon_section(struct strbuf *sb, const struct key_parts *k)
{
	strbuf_reset(sb);
	add_lower(sb, k->sec, k->sec_len);
	if (k->has_sub) {
		strbuf_addch(sb, '.');
		strbuf_add(sb, k->sub, k->sub_len);
	}
}

/* "[section]" or "[section "sub"]", the names as the caller spelled them. */
static void add_header(struct strbuf *sb, const struct key_parts *k)
{
	size_t i;

	strbuf_addch(sb, '[');
	strbuf_add(sb, k->sec, k->sec_len);
	if (k->has_sub) {
		strbuf_addstr(sb, " \"");
		for (i = 0; i < k->sub_len; i++) {
			if (k->sub[i] == '"' || k->sub[i] == '\\')
				strbuf_addch(sb, '\\');
			strbuf_addch(sb, k->sub[i]);
		}
		strbuf_addch(sb, '"');
	}
	strbuf_addch(sb, ']');
}

static int value_needs_quotes(const char *v)
{
	size_t n = strlen(v), i;

	if (!n || is_blank(v[0]) || is_blank(v[n - 1]))
		return 1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c == '#' || c == ';' || c == '"' || c == '\\' || c < 0x20 || c == 0x7f)
			return 1;
	}
	return 0;
}

/* A value as parse_value() will read it back. */
static void add_value(struct strbuf *sb, const char *v)
{
	if (!value_needs_quotes(v)) {
		strbuf_addstr(sb, v);
		return;
	}
	strbuf_addch(sb, '"');
	for (; *v; v++) {
		switch (*v) {
		case '"': strbuf_addstr(sb, "\\\""); break;
		case '\\': strbuf_addstr(sb, "\\\\"); break;
		case '\n': strbuf_addstr(sb, "\\n"); break;
		case '\t': strbuf_addstr(sb, "\\t"); break;
		case '\b': strbuf_addstr(sb, "\\b"); break;
		default: strbuf_addch(sb, *v); break;
		}
	}
	strbuf_addch(sb, '"');
}

/* A file being edited, and what to do with each of its lines. */
struct line_edit {
	int drop;      /* leave the line out */
	char *replace; /* new content for [start, eol), or NULL */
	char *append;  /* whole lines to add after this one, or NULL */
};

struct cfg_edit {
	const char *path;
	struct lock_file lk;     /* PATH.lock, held from before the read to the rename */
	struct strbuf buf;
	struct cfg_file pf;
	struct line_edit *edits; /* one per line */
	char *tail;              /* whole lines to add at the end, or NULL */
};

static int edit_begin(struct cfg_edit *ed, const char *path, struct strbuf *err)
{
	int missing, r;

	memset(ed, 0, sizeof(*ed));
	strbuf_init(&ed->buf, 0);
	ed->lk.fd = -1;
	ed->path = path;
	r = lock_file_hold(&ed->lk, path, CONFIG_LOCK_WAIT_MS, err);
	if (!r)
		r = read_config(path, &ed->buf, &missing, err);
	if (!r)
		r = parse_config(&ed->pf, ed->buf.buf, ed->buf.len, path, err);
	ed->edits = xcalloc(ed->pf.nr + 1, sizeof(*ed->edits));
	return r;
}

static void edit_release(struct cfg_edit *ed)
{
	size_t i;

	for (i = 0; i < ed->pf.nr; i++) {
		free(ed->edits[i].replace);
		free(ed->edits[i].append);
	}
	free(ed->edits);
	free(ed->tail);
	cfg_file_release(&ed->pf);
	strbuf_release(&ed->buf);
	lock_file_release(&ed->lk); /* not committed: the file is left as it was */
}

/* Write the edited file in place of the old one. */
static int edit_commit(struct cfg_edit *ed, struct strbuf *err)
{
	struct strbuf out = STRBUF_INIT;
	const char *buf = ed->buf.buf;
	size_t i;
	int r;

	for (i = 0; i < ed->pf.nr; i++) {
		const struct cfg_line *l = &ed->pf.lines[i];
		const struct line_edit *e = &ed->edits[i];
		if (e->drop)
			continue;
		if (e->replace) {
			strbuf_addstr(&out, e->replace);
			strbuf_add(&out, buf + l->eol, l->next - l->eol);
		} else {
			strbuf_add(&out, buf + l->start, l->next - l->start);
		}
		if (e->append) {
			if (l->next == l->eol) /* the last line had no newline */
				strbuf_addch(&out, '\n');
			strbuf_addstr(&out, e->append);
		}
	}
	if (ed->tail) {
		if (out.len && out.buf[out.len - 1] != '\n')
			strbuf_addch(&out, '\n');
		strbuf_addstr(&out, ed->tail);
	}
	r = lock_file_commit(&ed->lk, out.buf, out.len,
			     /* credentials (.cairn/config.local): owner-only,
			      * as ~/.aws/credentials */
			     ends_with(ed->path, ".local") ? 0700 : 07777, err);
	strbuf_release(&out);
	return r;
}

static int line_is_empty(const struct cfg_line *l)
{
	return l->kind == LINE_OTHER && l->body == l->eol;
}

/* Append `indent` + "name = value" + the trailing comment of `old`, if any. */
static void add_entry(struct strbuf *sb, const struct cfg_edit *ed, const char *indent,
		      size_t indent_len, const struct key_parts *k, const char *value,
		      const struct cfg_line *old)
{
	strbuf_add(sb, indent, indent_len);
	strbuf_add(sb, k->name, k->name_len);
	strbuf_addstr(sb, " = ");
	add_value(sb, value);
	if (old && old->comment < old->eol) {
		strbuf_addch(sb, ' ');
		strbuf_add(sb, ed->buf.buf + old->comment, old->eol - old->comment);
	}
}

/*
 * Replace the last line setting the key (`last`), or add one after the last
 * variable of the last matching section, or append a new section.
 */
static void plan_set(struct cfg_edit *ed, const struct key_parts *k, const char *cs,
		     const char *value, size_t last)
{
	const struct cfg_file *pf = &ed->pf;
	const char *buf = ed->buf.buf;
	struct strbuf sb = STRBUF_INIT;
	size_t i, header = SIZE_MAX, at;

	if (last != SIZE_MAX) {
		const struct cfg_line *l = &pf->lines[last];
		add_entry(&sb, ed, buf + l->start, l->body - l->start, k, value, l);
		ed->edits[last].replace = strbuf_detach(&sb, NULL);
		return;
	}
	for (i = 0; i < pf->nr; i++)
		if (pf->lines[i].kind == LINE_SECTION && !strcmp(pf->secs[pf->lines[i].sec], cs))
			header = i;
	if (header == SIZE_MAX) {
		add_header(&sb, k);
		strbuf_addch(&sb, '\n');
		add_entry(&sb, ed, "\t", 1, k, value, NULL);
		strbuf_addch(&sb, '\n');
		ed->tail = strbuf_detach(&sb, NULL);
		return;
	}
	at = header;
	for (i = header + 1; i < pf->nr && pf->lines[i].kind != LINE_SECTION; i++)
		if (pf->lines[i].kind == LINE_ENTRY)
			at = i;
	if (at == header) {
		add_entry(&sb, ed, "\t", 1, k, value, NULL);
	} else {
		const struct cfg_line *l = &pf->lines[at];
		add_entry(&sb, ed, buf + l->start, l->body - l->start, k, value, NULL);
	}
	strbuf_addch(&sb, '\n');
	ed->edits[at].append = strbuf_detach(&sb, NULL);
}

/* Drop every line that sets the key; then headers left with nothing under them. */
static void plan_unset(struct cfg_edit *ed, const char *cs, const char *name)
{
	const struct cfg_file *pf = &ed->pf;
	size_t i, j;

	for (i = 0; i < pf->nr; i++) {
		const struct cfg_line *l = &pf->lines[i];
		if (l->kind == LINE_ENTRY && !strcmp(pf->secs[l->sec], cs) && !strcmp(l->name, name))
			ed->edits[i].drop = 1;
	}
	for (i = 0; i < pf->nr; i++) {
		const struct cfg_line *h = &pf->lines[i];
		int dropped = 0, empty = 1;
		if (h->kind != LINE_SECTION || strcmp(pf->secs[h->sec], cs) || h->comment < h->eol)
			continue;
		for (j = i + 1; j < pf->nr && pf->lines[j].kind != LINE_SECTION; j++) {
			if (ed->edits[j].drop)
				dropped = 1;
			else if (!line_is_empty(&pf->lines[j]))
				empty = 0;
		}
		if (dropped && empty)
			ed->edits[i].drop = 1;
	}
}

int config_set(const char *path, const char *key, const char *value, struct strbuf *err)
{
	struct strbuf cs = STRBUF_INIT, name = STRBUF_INIT;
	struct cfg_edit ed;
	struct key_parts k;
	const char *why = split_key(key, &k);
	size_t i, last = SIZE_MAX;
	int r;

	if (why)
		return cerr(err, CAIRN_EINVAL, "invalid config key '%s': %s", key, why);
	canon_section(&cs, &k);
	add_lower(&name, k.name, k.name_len);
	r = edit_begin(&ed, path, err);
	for (i = 0; !r && i < ed.pf.nr; i++) {
		const struct cfg_line *l = &ed.pf.lines[i];
		if (l->kind == LINE_ENTRY && !strcmp(ed.pf.secs[l->sec], cs.buf) &&
		    !strcmp(l->name, name.buf))
			last = i;
	}
	if (!r && value) {
		plan_set(&ed, &k, cs.buf, value, last);
		r = edit_commit(&ed, err);
	} else if (!r) {
		if (last == SIZE_MAX) {
			r = cerr(err, CAIRN_ENOTFOUND, "config key '%s' is not set in '%s'", key, path);
		} else {
			plan_unset(&ed, cs.buf, name.buf);
			r = edit_commit(&ed, err);
		}
	}
	edit_release(&ed);
	strbuf_release(&cs);
	strbuf_release(&name);
	return r;
}

int config_remove_section(const char *path, const char *section, struct strbuf *err)
{
	struct strbuf cs = STRBUF_INIT;
	struct cfg_edit ed;
	struct key_parts k;
	const char *why = split_section(section, &k);
	size_t i, j;
	int r, found = 0;

	if (why)
		return cerr(err, CAIRN_EINVAL, "invalid config section '%s': %s", section, why);
	canon_section(&cs, &k);
	r = edit_begin(&ed, path, err);
	for (i = 0; !r && i < ed.pf.nr; i++) {
		const struct cfg_line *h = &ed.pf.lines[i];
		size_t end = i + 1, last = i;
		if (h->kind != LINE_SECTION || strcmp(ed.pf.secs[h->sec], cs.buf))
			continue;
		found = 1;
		for (; end < ed.pf.nr && ed.pf.lines[end].kind != LINE_SECTION; end++)
			if (ed.pf.lines[end].kind == LINE_ENTRY)
				last = end;
		while (last + 1 < end && line_is_empty(&ed.pf.lines[last + 1]))
			last++;
		for (j = i; j <= last; j++)
			ed.edits[j].drop = 1;
	}
	if (!r && !found)
		r = cerr(err, CAIRN_ENOTFOUND, "no config section '%s' in '%s'", section, path);
	if (!r)
		r = edit_commit(&ed, err);
	edit_release(&ed);
	strbuf_release(&cs);
	return r;
}

int config_rename_section(const char *path, const char *old_name, const char *new_name,
			  struct strbuf *err)
{
	struct strbuf old_cs = STRBUF_INIT, new_cs = STRBUF_INIT;
	struct cfg_edit ed;
	struct key_parts ko, kn;
	const char *why;
	size_t i;
	int r, found = 0, exists = 0;

	why = split_section(old_name, &ko);
	if (why)
		return cerr(err, CAIRN_EINVAL, "invalid config section '%s': %s", old_name, why);
	why = split_section(new_name, &kn);
	if (why)
		return cerr(err, CAIRN_EINVAL, "invalid config section '%s': %s", new_name, why);
	canon_section(&old_cs, &ko);
	canon_section(&new_cs, &kn);
	r = edit_begin(&ed, path, err);
	for (i = 0; !r && i < ed.pf.nr; i++) {
		const struct cfg_line *h = &ed.pf.lines[i];
		struct strbuf sb = STRBUF_INIT;
		if (h->kind != LINE_SECTION)
			continue;
		if (!strcmp(ed.pf.secs[h->sec], new_cs.buf))
			exists = 1;
		if (strcmp(ed.pf.secs[h->sec], old_cs.buf))
			continue;
		found = 1;
		strbuf_add(&sb, ed.buf.buf + h->start, h->body - h->start);
		add_header(&sb, &kn);
		if (h->comment < h->eol) {
			strbuf_addch(&sb, ' ');
			strbuf_add(&sb, ed.buf.buf + h->comment, h->eol - h->comment);
		}
		ed.edits[i].replace = strbuf_detach(&sb, NULL);
	}
	if (!r && !found)
		r = cerr(err, CAIRN_ENOTFOUND, "no config section '%s' in '%s'", old_name, path);
	else if (!r && exists)
		r = cerr(err, CAIRN_EEXIST, "config section '%s' already exists in '%s'",
			 new_name, path);
	if (!r)
		r = edit_commit(&ed, err);
	edit_release(&ed);
	strbuf_release(&old_cs);
	strbuf_release(&new_cs);
	return r;
}
