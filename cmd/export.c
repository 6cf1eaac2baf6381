/*
 * cairn export: write a stored version of a tracked path as a
 * reproducible archive.
 */
#include "cmd/builtin.h"
#include "cmd/common.h"
#include "core/archive.h"
#include "core/ext.h"
#include "core/checkout.h"

#include <errno.h>
#include <locale.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The result of an export, in one place (for the output and the audit trail). */
struct export_done {
	const char *path;    /* repo-relative tracked path */
	const char *rev;     /* --rev, or NULL for the work tree's pointer */
	const char *out;     /* the file written, "-" for stdout */
	struct pointer ptr;  /* the version exported */
	struct export_result res;
};

static void report(const struct export_done *d, int quiet)
{
	struct strbuf sz = STRBUF_INIT;
	FILE *f = strcmp(d->out, "-") ? stdout : stderr;
	char h[OID_HEXSZ + 1];
	/* the version that left, and its bytes (counted as sent) */
	oid_to_hex(&d->ptr.id, h);
	audit_path(d->path, h, h);
	audit_bytes(0, d->res.bytes, 0);
	if (quiet)
		return;
	strbuf_add_human_size(&sz, d->res.bytes);
	fprintf(f, "exported %s%s%s to %s: %llu files, %s\n", d->path, d->rev ? " at " : "",
		d->rev ? d->rev : "", strcmp(d->out, "-") ? d->out : "standard output",
		(unsigned long long)d->res.files, sz.buf);
	strbuf_release(&sz);
}

int cmd_export(int argc, const char **argv, struct repo *r)
{
	struct strbuf err = STRBUF_INIT, data = STRBUF_INIT, ptrp = STRBUF_INIT, commit = STRBUF_INIT;
	struct export_opts o;
	struct export_done d;
	struct git_batch *gb = NULL;
	const char *out = NULL, *fmt = NULL, *arg = NULL, *name;
	char *tmp = NULL, *end;
	int i, quiet = 0, ret = 0, fd = -1;

	memset(&o, 0, sizeof(o));
	memset(&d, 0, sizeof(d));
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
		} else if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && i + 1 < argc) {
			out = argv[++i];
		} else if (!strcmp(a, "--rev") && i + 1 < argc) {
			d.rev = argv[++i];
		} else if (!strcmp(a, "--format") && i + 1 < argc) {
			fmt = argv[++i];
		} else if (!strcmp(a, "--mtime") && i + 1 < argc) {
			errno = 0;
			o.mtime = strtoll(argv[++i], &end, 10);
			if (errno || !*argv[i] || *end || o.mtime < 0)
				return usage_error("export", "--mtime needs seconds since 1970, not '%s'",
						   argv[i]);
		} else if (a[0] == '-' && a[1]) {
			return usage_error("export", "unknown option '%s'", a);
		} else if (arg) {
			return usage_error("export", "export one path at a time");
		} else {
			arg = a;
		}
	}
	if (!arg)
		return usage_error("export", "give the tracked path to export");
	if (!out)
		return usage_error("export", "give the archive to write with -o FILE (- for standard output)");
	if (fmt) {
		o.format = archive_format_by_name(fmt);
		if (!o.format)
			return usage_error("export", "unknown format '%s' (tar, tar.gz, tar.bz2, tar.xz, tar.zst, zip)",
					   fmt);
	} else if (!strcmp(out, "-")) {
		o.format = EXPORT_TAR;
	} else {
		o.format = archive_format_by_suffix(out);
		if (!o.format)
			return usage_error("export", "cannot tell the format from '%s': name it .tar, .tar.gz, .tar.bz2, .tar.xz, .tar.zst or .zip, or use --format",
					   out);
	}
	if (resolve_tracked(r, arg, &data, &ptrp, &err)) {
		ret = error("%s", err.buf);
		goto out;
	}
	d.path = data.buf;
	d.out = out;
	if (d.rev) {
		if (git_resolve_commit(r->top, d.rev, &commit, &err) || git_batch_open(&gb, r->top, &err) ||
		    ptr_read_at(gb, commit.buf, ptrp.buf, &d.ptr, &err)) {
			ret = error("%s", err.buf);
			goto out;
		}
	} else {
		char *pabs = repo_abspath(r, ptrp.buf);
		ret = ptr_read(&d.ptr, pabs, &err);
		free(pabs);
		if (ret) {
			ret = error("%s", err.buf);
			goto out;
		}
	}
	if (repo_open_store(r, 0, &err)) {
		ret = error("%s", err.buf);
		goto out;
	}
	{
		struct odb_thread t;
		odb_thread_init(&t, r->odb);
		ret = ptr_check_tree(&t, &d.ptr, data.buf, &err);
		odb_thread_release(&t);
		if (ret) {
			ret = error("%s", err.buf);
			goto out;
		}
	}
	if (!strcmp(out, "-")) {
		fflush(stdout);
		fd = 1;
	} else {
		/* beside the archive, renamed over it only when it is complete */
		const char *slash = strrchr(out, '/');
		struct tempfile tf = TEMPFILE_INIT;
		char *prefix = xstrfmt("%.*s%s.cairn-tmp-%ld-export-", slash ? (int)(slash - out) : 0,
				       out, slash ? "/" : "", (long)getpid());
		int made = tempfile_create(&tf, prefix, 0666, &err);
		free(prefix);
		if (made) {
			ret = error("cannot create '%s': %s", out, err.buf);
			goto out;
		}
		tmp = tf.path; /* ours to remove from here on */
		fd = tf.fd;
	}
	name = strrchr(data.buf, '/');
	name = name ? name + 1 : data.buf;
	o.progress = progress_start("Exporting", d.ptr.files, d.ptr.size, !quiet && progress_default());
	ret = ext_archive_export(r, &d.ptr, name, fd, &o, &d.res, &err);
	progress_stop(o.progress);
	if (ret) {
		ret = error("%s", err.buf);
		goto out;
	}
	if (tmp) {
		if (fsync(fd) < 0 || close(fd) < 0) {
			fd = -1;
			ret = error("cannot write '%s': %s", out, strerror(errno));
			goto out;
		}
		fd = -1;
		if (rename(tmp, out) < 0) {
			ret = error("cannot rename '%s' to '%s': %s", tmp, out, strerror(errno));
			goto out;
		}
		free(tmp);
		tmp = NULL;
	}
	report(&d, quiet);
out:
	if (tmp) {
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		free(tmp);
	}
	git_batch_close(gb);
	strbuf_release(&err);
	strbuf_release(&data);
	strbuf_release(&ptrp);
	strbuf_release(&commit);
	return ret;
}
