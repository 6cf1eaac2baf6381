/*
 * cairn import: store the contents of an archive as a tracked directory,
 * in one pass over the archive, and write its pointer file.
 */
#include "cmd/builtin.h"
#include "core/archive.h"
#include "core/ext.h"

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* "123", "64k", "10G", "2t": bytes; -1 if malformed. */
static int64_t parse_size(const char *s)
{
	char *end;
	unsigned long long v;
	int shift = 0;
	if (!*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	}
	if (*end || v > (unsigned long long)INT64_MAX >> shift)
		return -1;
	return (int64_t)(v << shift);
}

static void warn_skip(const char *msg, void *data)
{
	(void)data;
	warning("%s", msg);
}

/* The result of an import, in one place (for the output and the audit trail). */
struct import_done {
	const char *archive;
	const char *path;      /* repo-relative tracked path */
	const char *ptr;       /* its pointer file */
	int had_old;
	struct pointer old;    /* the pointer it replaced, when had_old */
	struct import_result res;
};

static void report(const struct import_done *d, int quiet)
{
	struct strbuf sz = STRBUF_INIT, a = STRBUF_INIT, s = STRBUF_INIT;
	char oh[OID_HEXSZ + 1], nh[OID_HEXSZ + 1];
	audit_path(d->path, d->had_old ? oid_to_hex(&d->old.id, oh) : "",
		   oid_to_hex(&d->res.ptr.id, nh));
	audit_bytes(d->res.odb.stored_new, 0, 0);
	if (quiet)
		return;
	strbuf_add_human_size(&sz, d->res.ptr.size);
	strbuf_add_human_size(&a, d->res.odb.raw_new);
	strbuf_add_human_size(&s, d->res.odb.stored_new);
	printf("imported %s into %s: %llu files, %s", d->archive, d->path,
	       (unsigned long long)d->res.ptr.files, sz.buf);
	if (d->res.skipped)
		printf(" (%llu entries skipped)", (unsigned long long)d->res.skipped);
	printf("\n%llu new objects, %s new data stored as %s\n",
	       (unsigned long long)d->res.odb.objects_new, a.buf, s.buf);
	strbuf_release(&sz);
	strbuf_release(&a);
	strbuf_release(&s);
}

int cmd_import(int argc, const char **argv, struct repo *r)
{
	struct strbuf err = STRBUF_INIT, data = STRBUF_INIT, ptr = STRBUF_INIT;
	struct import_opts o;
	struct import_done d;
	const char *args[2];
	int i, nargs = 0, quiet = 0, gitignore = 1, ret = 0;
	int64_t max_bytes = -1, max_ratio = -1, v;
	char *archive_abs = NULL, *pabs = NULL;
	struct stat st;

	memset(&o, 0, sizeof(o));
	memset(&d, 0, sizeof(d));
	o.checkout = 1;
	/*
	 * libarchive converts names between the archive's charset (UTF-8 in
	 * pax, zip and 7z) and the locale's: with a UTF-8 locale, names come
	 * and go as UTF-8 bytes, which is what cairn stores.
	 */
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		setlocale(LC_CTYPE, "");
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			quiet = 1;
		} else if (!strcmp(a, "-f") || !strcmp(a, "--force")) {
			o.force = 1;
		} else if (!strcmp(a, "--no-checkout")) {
			o.checkout = 0;
		} else if (!strcmp(a, "--no-gitignore")) {
			gitignore = 0;
		} else if (!strcmp(a, "--on-bad=fail")) {
			o.on_bad = ARCHIVE_ON_BAD_FAIL;
		} else if (!strcmp(a, "--on-bad=skip")) {
			o.on_bad = ARCHIVE_ON_BAD_SKIP;
		} else if (!strcmp(a, "--max-bytes") || !strcmp(a, "--max-ratio")) {
			if (i + 1 >= argc || (v = parse_size(argv[i + 1])) < 0)
				return usage_error("import", "%s needs a number", a);
			if (!strcmp(a, "--max-bytes"))
				max_bytes = v;
			else
				max_ratio = v;
			i++;
		} else if (!strcmp(a, "--")) {
			for (i++; i < argc; i++) {
				if (nargs == 2)
					return usage_error("import", "too many arguments");
				args[nargs++] = argv[i];
			}
		} else if (a[0] == '-' && a[1]) {
			return usage_error("import", "unknown option '%s'", a);
		} else {
			if (nargs == 2)
				return usage_error("import", "too many arguments");
			args[nargs++] = a;
		}
	}
	if (nargs != 2)
		return usage_error("import", "give an archive and the path to import it as");
	if (max_bytes < 0) {
		if (config_get_int(r->cfg, "import.maxBytes", (int64_t)IMPORT_MAX_BYTES_DEFAULT,
				   &max_bytes, &err) || max_bytes < 0) {
			ret = error("%s", err.len ? err.buf : "import.maxBytes must not be negative");
			goto out;
		}
	}
	if (max_ratio < 0) {
		if (config_get_int(r->cfg, "import.maxRatio", IMPORT_MAX_RATIO_DEFAULT, &max_ratio,
				   &err) || max_ratio < 0) {
			ret = error("%s", err.len ? err.buf : "import.maxRatio must not be negative");
			goto out;
		}
	}
	o.max_bytes = (uint64_t)max_bytes;
	o.max_ratio = (uint64_t)max_ratio;
	o.name = args[0];
	o.warn = warn_skip;

	if (resolve_tracked(r, args[1], &data, &ptr, &err) || check_not_nested(r, data.buf, &err) ||
	    repo_check_parents(r, data.buf, &err)) {
		ret = error("%s", err.buf);
		goto out;
	}
	if (strchr(data.buf, '\n')) {
		ret = error("cannot track '%s': a tracked path may not contain a newline", data.buf);
		goto out;
	}
	{
		const char *p1 = ptr.buf;
		ret = check_pointers_seen(r, &p1, 1);
		if (ret)
			goto out;
	}
	pabs = repo_abspath(r, ptr.buf);
	d.had_old = !ptr_read(&d.old, pabs, NULL);
	if (!o.force && !lstat(pabs, &st)) {
		ret = error("'%s' already exists (use -f to replace it)", ptr.buf);
		goto out;
	}
	/* the archive by absolute path: import works from the top (see below) */
	if (args[0][0] == '/') {
		archive_abs = xstrdup(args[0]);
	} else {
		char *cwd = getcwd(NULL, 0);
		if (!cwd) {
			ret = error("cannot get the current directory: %s", strerror(errno));
			goto out;
		}
		archive_abs = xstrfmt("%s/%s", cwd, args[0]);
		free(cwd);
	}
	/*
	 * libarchive's secure extraction refuses absolute paths and "..", so
	 * entries are written by paths relative to the top of the work tree.
	 */
	if (chdir(r->top) < 0) {
		ret = error("cannot change to '%s': %s", r->top, strerror(errno));
		goto out;
	}
	o.progress = progress_start("Importing", 0, 0, !quiet && progress_default());
	ret = ext_archive_import(r, archive_abs, data.buf, &o, &d.res, &err);
	progress_stop(o.progress);
	if (ret) {
		ret = error("%s", err.buf);
		goto out;
	}
	{
		/* with --no-checkout nothing made the parent directories yet */
		char *slash = strrchr(pabs, '/');
		*slash = '\0';
		if (mkdir_p(pabs, 0777) < 0) {
			ret = error("cannot create '%s': %s", pabs, strerror(errno));
			goto out;
		}
		*slash = '/';
	}
	{
		char *tp = repo_tmp_prefix(r);
		int wr = ptr_write_via(&d.res.ptr, pabs, tp, &err);
		free(tp);
		if (wr) {
			ret = error("%s", err.buf);
			goto out;
		}
	}
	if (gitignore && ensure_gitignored(r, data.buf, &err))
		warning("cannot update .gitignore for '%s': %s", data.buf, err.buf);
	d.archive = args[0];
	d.path = data.buf;
	d.ptr = ptr.buf;
	report(&d, quiet);
out:
	free(archive_abs);
	free(pabs);
	strbuf_release(&err);
	strbuf_release(&data);
	strbuf_release(&ptr);
	return ret;
}
