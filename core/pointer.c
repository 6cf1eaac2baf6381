#include "core/pointer.h"
#include "core/object.h"
#include "core/git.h"

#include <stdlib.h>
#include <string.h>

void ptr_format(const struct pointer *p, struct strbuf *out)
{
	char hex[SHA256_HEXSZ + 1];
	strbuf_reset(out);
	strbuf_addstr(out, "# cairn pointer: the data beside this file is versioned by cairn\n");
	strbuf_addf(out, "version: %d\n", POINTER_VERSION);
	strbuf_addf(out, "type: %s\n", p->is_dir ? "dir" : "file");
	strbuf_addstr(out, "hash: xxh3-128\n");
	strbuf_addf(out, "id: %s\n", oid_to_hex(&p->id, hex));
	strbuf_addf(out, "sha256: %s\n", sha256_to_hex(&p->sha, hex));
	strbuf_addf(out, "size: %llu\n", (unsigned long long)p->size);
	if (p->is_dir)
		strbuf_addf(out, "files: %llu\n", (unsigned long long)p->files);
	else
		strbuf_addf(out, "mode: %s\n", p->mode == MODE_EXEC ? "755" : "644");
}

static int parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;
	if (!len || len > 20 || (len > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

enum { K_VERSION, K_TYPE, K_HASH, K_ID, K_SHA, K_SIZE, K_FILES, K_MODE, K_N };
static const char *const keys[K_N] = { "version", "type", "hash", "id", "sha256", "size",
				       "files", "mode" };

int ptr_parse(struct pointer *p, const char *data, size_t len, const char *what,
	      struct strbuf *err)
{
	int seen[K_N] = { 0 };
	size_t pos = 0, lineno = 0;
	uint64_t version = 0;

	memset(p, 0, sizeof(*p));
	if (len > POINTER_MAX_SIZE)
		return cerr(err, CAIRN_EFORMAT, "pointer file '%s' is too large", what);
	if (memchr(data, '\0', len))
		return cerr(err, CAIRN_EFORMAT, "pointer file '%s' contains a NUL byte", what);
	/* a newer format may have keys we do not know: judge the version first */
	{
		const char *v = len >= 8 && !memcmp(data, "version:", 8) ? data : NULL;
		if (!v) {
			const char *q = data;
			while ((q = memchr(q, '\n', len - (size_t)(q - data)))) {
				q++;
				if ((size_t)(data + len - q) >= 8 && !memcmp(q, "version:", 8)) {
					v = q;
					break;
				}
			}
		}
		if (v) {
			const char *e = v + 8;
			uint64_t ver = 0;
			size_t vl;
			while (e < data + len && (*e == ' ' || *e == '\t'))
				e++;
			vl = 0; /* the data need not end with a NUL: stay within len */
			while (e + vl < data + len && e[vl] != '\r' && e[vl] != '\n' && e[vl] != ' ' &&
			       e[vl] != '\t')
				vl++;
			if (!parse_u64(e, vl, &ver) && ver > POINTER_VERSION)
				return cerr(err, CAIRN_EVERSION,
					    "pointer file '%s' has version %llu; this cairn reads version %d (upgrade cairn)",
					    what, (unsigned long long)ver, POINTER_VERSION);
		}
	}
	while (pos < len) {
		const char *line = data + pos, *nl = memchr(line, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - line) : len - pos, kl, vl;
		const char *colon, *val;
		int k;

		pos += ll + (nl ? 1 : 0);
		lineno++;
		if (ll && line[ll - 1] == '\r')
			ll--;
		if (!ll || line[0] == '#')
			continue;
		colon = memchr(line, ':', ll);
		if (!colon || colon == line)
			return cerr(err, CAIRN_EFORMAT, "pointer file '%s': line %zu is not 'key: value'",
				    what, lineno);
		kl = (size_t)(colon - line);
		val = colon + 1;
		vl = ll - kl - 1;
		while (vl && (*val == ' ' || *val == '\t')) {
			val++;
			vl--;
		}
		while (vl && (val[vl - 1] == ' ' || val[vl - 1] == '\t'))
			vl--;
		for (k = 0; k < K_N; k++)
			if (strlen(keys[k]) == kl && !memcmp(keys[k], line, kl))
				break;
		if (k == K_N)
			return cerr(err, CAIRN_EFORMAT, "pointer file '%s': unknown key '%.*s' on line %zu",
				    what, (int)(kl > 40 ? 40 : kl), line, lineno);
		if (seen[k]++)
			return cerr(err, CAIRN_EFORMAT, "pointer file '%s': key '%s' appears twice",
				    what, keys[k]);
		switch (k) {
		case K_VERSION:
			if (parse_u64(val, vl, &version) || !version)
				goto badval;
			if (version > POINTER_VERSION)
				return cerr(err, CAIRN_EVERSION,
					    "pointer file '%s' has version %llu; this cairn reads version %d (upgrade cairn)",
					    what, (unsigned long long)version, POINTER_VERSION);
			break;
		case K_TYPE:
			if (vl == 3 && !memcmp(val, "dir", 3))
				p->is_dir = 1;
			else if (vl == 4 && !memcmp(val, "file", 4))
				p->is_dir = 0;
			else
				goto badval;
			break;
		case K_HASH:
			if (vl != 8 || memcmp(val, "xxh3-128", 8))
				return cerr(err, CAIRN_EVERSION, "pointer file '%s': unknown hash '%.*s'",
					    what, (int)(vl > 40 ? 40 : vl), val);
			break;
		case K_ID:
			if (oid_from_hex(&p->id, val, vl))
				return cerr(err, CAIRN_EFORMAT,
					    "pointer file '%s': id must be %d lowercase hex digits",
					    what, OID_HEXSZ);
			break;
		case K_SHA:
			if (sha256_from_hex(&p->sha, val, vl))
				return cerr(err, CAIRN_EFORMAT,
					    "pointer file '%s': sha256 must be %d lowercase hex digits",
					    what, SHA256_HEXSZ);
			break;
		case K_SIZE:
			if (parse_u64(val, vl, &p->size))
				goto badval;
			break;
		case K_FILES:
			if (parse_u64(val, vl, &p->files))
				goto badval;
			break;
		case K_MODE:
			if (vl == 3 && !memcmp(val, "644", 3))
				p->mode = MODE_FILE;
			else if (vl == 3 && !memcmp(val, "755", 3))
				p->mode = MODE_EXEC;
			else
				goto badval;
			break;
		}
		continue;
badval:
		return cerr(err, CAIRN_EFORMAT, "pointer file '%s': bad value for '%s' on line %zu",
			    what, keys[k], lineno);
	}
	if (!seen[K_VERSION])
		return cerr(err, CAIRN_EFORMAT, "pointer file '%s' has no version (not a cairn pointer?)",
			    what);
	{
		static const int need[] = { K_TYPE, K_HASH, K_ID, K_SHA, K_SIZE };
		size_t i;
		for (i = 0; i < sizeof(need) / sizeof(need[0]); i++)
			if (!seen[need[i]])
				return cerr(err, CAIRN_EFORMAT, "pointer file '%s' lacks '%s'", what,
					    keys[need[i]]);
	}
	if (p->is_dir) {
		if (seen[K_MODE] || !seen[K_FILES])
			return cerr(err, CAIRN_EFORMAT,
				    "pointer file '%s': a dir pointer has 'files' and no 'mode'", what);
		p->mode = MODE_DIR;
	} else {
		if (seen[K_FILES])
			return cerr(err, CAIRN_EFORMAT, "pointer file '%s': a file pointer has no 'files'",
				    what);
		if (!seen[K_MODE])
			p->mode = MODE_FILE;
		p->files = 1;
	}
	return 0;
}

int ptr_read(struct pointer *p, const char *path, struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	int r = read_file(path, POINTER_MAX_SIZE, &sb, err);
	if (r == CAIRN_EFORMAT)
		r = cerr(err, CAIRN_EFORMAT, "pointer file '%s' is too large", path);
	else if (r == CAIRN_ENOTFOUND)
		r = cerr(err, r, "pointer file '%s' does not exist", path);
	if (!r)
		r = ptr_parse(p, sb.buf, sb.len, path, err);
	strbuf_release(&sb);
	return r;
}

int ptr_write_via(const struct pointer *p, const char *path, const char *tmp_prefix,
		  struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	int r;
	ptr_format(p, &sb);
	r = write_file_atomic_via(path, tmp_prefix, sb.buf, sb.len, 1, err);
	strbuf_release(&sb);
	return r;
}

int ptr_write(const struct pointer *p, const char *path, struct strbuf *err)
{
	return ptr_write_via(p, path, NULL, err);
}

int ptr_read_at(struct git_batch *b, const char *commit, const char *ptrpath,
		    struct pointer *p, struct strbuf *err)
{
	struct strbuf name = STRBUF_INIT, blob = STRBUF_INIT, what = STRBUF_INIT;
	int ret;
	strbuf_addf(&name, "%s:%s", commit, ptrpath);
	ret = git_batch_read(b, name.buf, NULL, &blob, err);
	if (ret == CAIRN_ENOTFOUND)
		ret = cerr(err, CAIRN_ENOTFOUND, "'%s' does not exist at %.12s", ptrpath, commit);
	if (!ret) {
		strbuf_addf(&what, "%.12s:%s", commit, ptrpath);
		ret = ptr_parse(p, blob.buf, blob.len, what.buf, err);
	}
	strbuf_release(&name);
	strbuf_release(&blob);
	strbuf_release(&what);
	return ret;
}
