#include "core/object.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char manifest_magic[4] = { 'C', 'M', 'F', '1' };
static const char tree_magic[4] = { 'C', 'T', 'R', '1' };

void manifest_init(struct manifest *m)
{
	memset(m, 0, sizeof(*m));
}

void manifest_release(struct manifest *m)
{
	free(m->chunks);
	manifest_init(m);
}

void manifest_add(struct manifest *m, const struct oid *id, uint32_t len)
{
	ALLOC_GROW(m->chunks, m->n + 1, m->alloc);
	m->chunks[m->n].id = *id;
	m->chunks[m->n].len = len;
	m->n++;
}

void manifest_encode(const struct manifest *m, struct strbuf *out)
{
	uint8_t sum[8];
	size_t i;
	strbuf_reset(out);
	strbuf_add(out, manifest_magic, 4);
	strbuf_add_varint(out, m->size);
	strbuf_add(out, m->sha.b, SHA256_RAWSZ);
	strbuf_add_varint(out, m->n);
	for (i = 0; i < m->n; i++) {
		strbuf_add(out, m->chunks[i].id.b, OID_RAWSZ);
		strbuf_add_varint(out, m->chunks[i].len);
	}
	put_le64(sum, xxh64_sum(out->buf, out->len));
	strbuf_add(out, sum, 8);
}

int manifest_decode(struct manifest *m, const void *data, size_t len, struct strbuf *err)
{
	const uint8_t *p = data, *end;
	uint64_t n, v, total = 0, i;
	size_t u;

	manifest_init(m);
	if (len < 4 + 1 + SHA256_RAWSZ + 1 + 8 || memcmp(p, manifest_magic, 4))
		return cerr(err, CAIRN_EFORMAT, "malformed manifest");
	if (xxh64_sum(p, len - 8) != get_le64(p + len - 8))
		return cerr(err, CAIRN_ECORRUPT, "manifest fails its checksum");
	end = p + len - 8;
	p += 4;
	if (!(u = get_varint(p, (size_t)(end - p), &m->size)))
		goto bad;
	p += u;
	if ((size_t)(end - p) < SHA256_RAWSZ)
		goto bad;
	memcpy(m->sha.b, p, SHA256_RAWSZ);
	p += SHA256_RAWSZ;
	if (!(u = get_varint(p, (size_t)(end - p), &n)))
		goto bad;
	p += u;
	if (n > (uint64_t)(end - p) / (OID_RAWSZ + 1))
		goto bad;
	m->chunks = xcalloc(n ? n : 1, sizeof(*m->chunks));
	m->alloc = n;
	for (i = 0; i < n; i++) {
		if ((size_t)(end - p) < OID_RAWSZ + 1)
			goto bad;
		memcpy(m->chunks[i].id.b, p, OID_RAWSZ);
		p += OID_RAWSZ;
		if (!(u = get_varint(p, (size_t)(end - p), &v)) || !v || v > (64u << 20))
			goto bad;
		p += u;
		m->chunks[i].len = (uint32_t)v;
		total += v;
	}
	m->n = n;
	if (p != end || total != m->size)
		goto bad;
	return 0;
bad:
	manifest_release(m);
	return cerr(err, CAIRN_EFORMAT, "malformed manifest");
}

void tree_init(struct tree *t)
{
	memset(t, 0, sizeof(*t));
}

void tree_release(struct tree *t)
{
	size_t i;
	for (i = 0; i < t->n; i++)
		free(t->e[i].name);
	free(t->e);
	tree_init(t);
}

struct tree_entry *tree_add(struct tree *t, const char *name, uint32_t mode)
{
	struct tree_entry *e;
	ALLOC_GROW(t->e, t->n + 1, t->alloc);
	e = &t->e[t->n++];
	memset(e, 0, sizeof(*e));
	e->name = xstrdup(name);
	e->mode = mode;
	return e;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct tree_entry *x = a, *y = b;
	return strcmp(x->name, y->name);
}

void tree_sort(struct tree *t)
{
	sort_array(t->e, t->n, sizeof(*t->e), entry_cmp);
}

void tree_encode(const struct tree *t, struct strbuf *out, struct oid *id, struct sha256 *sha)
{
	size_t i;
	strbuf_reset(out);
	strbuf_add(out, tree_magic, 4);
	strbuf_add_varint(out, t->n);
	for (i = 0; i < t->n; i++) {
		const struct tree_entry *e = &t->e[i];
		size_t nl = strlen(e->name);
		strbuf_add_varint(out, e->mode);
		strbuf_add_varint(out, e->size);
		strbuf_add_varint(out, e->files);
		strbuf_add(out, e->id.b, OID_RAWSZ);
		strbuf_add(out, e->sha.b, SHA256_RAWSZ);
		strbuf_add_varint(out, nl);
		strbuf_add(out, e->name, nl);
	}
	if (id)
		oid_hash(id, out->buf, out->len);
	if (sha)
		sha256_hash(sha, out->buf, out->len);
}

void tree_totals(const struct tree *t, uint64_t *size, uint64_t *files)
{
	size_t i;
	*size = *files = 0;
	for (i = 0; i < t->n; i++) {
		*size += t->e[i].size;
		*files += t->e[i].mode == MODE_DIR ? t->e[i].files : 1;
	}
}

/* Ignorable code points that HFS+ and others drop when comparing names. */
static size_t ignorable_len(const unsigned char *p, size_t len)
{
	/* U+200B..U+200F, U+202A..U+202E, U+206A..U+206F, U+FEFF */
	if (len >= 3 && p[0] == 0xe2 && p[1] == 0x80 &&
	    ((p[2] >= 0x8b && p[2] <= 0x8f) || (p[2] >= 0xaa && p[2] <= 0xae)))
		return 3;
	if (len >= 3 && p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0xaa && p[2] <= 0xaf)
		return 3;
	if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		return 3;
	return 0;
}

/* Is name, ignoring case, ignorable code points and trailing dots/spaces, `word`? */
static int is_hidden_as(const char *name, size_t len, const char *word)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t i = 0, w = 0, wl = strlen(word), k;
	while (i < len) {
		if ((k = ignorable_len(p + i, len - i))) {
			i += k;
			continue;
		}
		if (w < wl) {
			unsigned char c = p[i];
			if (c >= 'A' && c <= 'Z')
				c = (unsigned char)(c - 'A' + 'a');
			if (c != (unsigned char)word[w])
				return 0;
			w++;
			i++;
			continue;
		}
		if (p[i] == '.' || p[i] == ' ') {
			i++;
			continue;
		}
		return 0;
	}
	return w == wl;
}

int entry_name_ok(const char *name, size_t len)
{
	size_t i;
	if (!len || len > 255)
		return 0;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return 0;
	for (i = 0; i < len; i++)
		if (name[i] == '/' || name[i] == '\\' || name[i] == '\0')
			return 0;
	if (is_hidden_as(name, len, ".git") || is_hidden_as(name, len, "git~1") ||
	    is_hidden_as(name, len, ".cairn"))
		return 0;
	/* a drive letter: "C:" */
	if (len == 2 && name[1] == ':')
		return 0;
	return 1;
}

/* A name as a case-insensitive file system may see it: ASCII lower case, no ignorables. */
static char *fold_name(const char *name)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t len = strlen(name), i = 0, o = 0, k;
	char *out = xmalloc(len + 1);
	while (i < len) {
		if ((k = ignorable_len(p + i, len - i))) {
			i += k;
			continue;
		}
		out[o++] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] - 'A' + 'a' : p[i]);
		i++;
	}
	out[o] = '\0';
	return out;
}

struct folded {
	char *name;
	const struct tree_entry *e;
};

static int folded_cmp(const void *a, const void *b)
{
	return strcmp(((const struct folded *)a)->name, ((const struct folded *)b)->name);
}

int tree_check_links(const struct tree *t, const char *what, struct strbuf *err)
{
	struct folded *f;
	size_t i, links = 0;
	int ret = 0;

	for (i = 0; i < t->n; i++)
		if (t->e[i].mode == MODE_LINK)
			links++;
	if (!links || t->n < 2)
		return 0;
	f = xcalloc(t->n, sizeof(*f));
	for (i = 0; i < t->n; i++) {
		f[i].name = fold_name(t->e[i].name);
		f[i].e = &t->e[i];
	}
	sort_array(f, t->n, sizeof(*f), folded_cmp);
	for (i = 1; i < t->n && !ret; i++) {
		const struct tree_entry *a = f[i - 1].e, *b = f[i].e;
		struct strbuf sa = STRBUF_INIT, sb = STRBUF_INIT;
		if (strcmp(f[i - 1].name, f[i].name) || (a->mode != MODE_LINK && b->mode != MODE_LINK))
			continue;
		strbuf_add_json_str(&sa, a->name, strlen(a->name));
		strbuf_add_json_str(&sb, b->name, strlen(b->name));
		ret = cerr(err, CAIRN_EUNSAFE,
			   "%s%s%s and %s differ only in case, and one is a symlink (on a case-insensitive file system one would be written through the other)",
			   what ? what : "", what ? ": " : "", sa.buf, sb.buf);
		strbuf_release(&sa);
		strbuf_release(&sb);
	}
	for (i = 0; i < t->n; i++)
		free(f[i].name);
	free(f);
	return ret;
}

int tree_decode(struct tree *t, const void *data, size_t len, struct strbuf *err)
{
	const uint8_t *p = data, *end = p + len;
	uint64_t n, i, v;
	size_t u;

	tree_init(t);
	if (len < 5 || memcmp(p, tree_magic, 4))
		return cerr(err, CAIRN_EFORMAT, "malformed tree");
	p += 4;
	if (!(u = get_varint(p, (size_t)(end - p), &n)))
		return cerr(err, CAIRN_EFORMAT, "malformed tree");
	p += u;
	if (n > (uint64_t)(end - p) / (3 + OID_RAWSZ + SHA256_RAWSZ + 2))
		return cerr(err, CAIRN_EFORMAT, "malformed tree: too many entries");
	t->e = xcalloc(n ? n : 1, sizeof(*t->e));
	t->alloc = n;
	for (i = 0; i < n; i++) {
		struct tree_entry *e = &t->e[i];
		uint64_t mode;
		if (!(u = get_varint(p, (size_t)(end - p), &mode)))
			goto bad;
		p += u;
		if (mode != MODE_FILE && mode != MODE_EXEC && mode != MODE_LINK && mode != MODE_DIR)
			goto bad;
		e->mode = (uint32_t)mode;
		if (!(u = get_varint(p, (size_t)(end - p), &e->size)))
			goto bad;
		p += u;
		if (!(u = get_varint(p, (size_t)(end - p), &e->files)))
			goto bad;
		p += u;
		if (mode != MODE_DIR && e->files != 0)
			goto bad;
		if ((size_t)(end - p) < OID_RAWSZ + SHA256_RAWSZ)
			goto bad;
		memcpy(e->id.b, p, OID_RAWSZ);
		p += OID_RAWSZ;
		memcpy(e->sha.b, p, SHA256_RAWSZ);
		p += SHA256_RAWSZ;
		if (!(u = get_varint(p, (size_t)(end - p), &v)) || v > (uint64_t)(end - p - u))
			goto bad;
		p += u;
		if (!entry_name_ok((const char *)p, (size_t)v)) {
			struct strbuf shown = STRBUF_INIT;
			t->n = i;
			strbuf_add_json_str(&shown, (const char *)p, v > 300 ? 300 : (size_t)v);
			tree_release(t);
			cerr(err, CAIRN_EUNSAFE, "tree has a forbidden entry name %s", shown.buf);
			strbuf_release(&shown);
			return CAIRN_EUNSAFE;
		}
		e->name = xstrndup((const char *)p, (size_t)v);
		p += v;
		t->n = i + 1;
		if (i && strcmp(t->e[i - 1].name, e->name) >= 0)
			goto bad;
	}
	if (p != end)
		goto bad;
	if (tree_check_links(t, "tree", err)) {
		tree_release(t);
		return CAIRN_EUNSAFE;
	}
	return 0;
bad:
	tree_release(t);
	return cerr(err, CAIRN_EFORMAT, "malformed tree (entry %llu)", (unsigned long long)i);
}

const struct tree_entry *tree_find(const struct tree *t, const char *name)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(t->e[mid].name, name);
		if (!c)
			return &t->e[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
