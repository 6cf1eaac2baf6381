#include "core/ext.h"
#include "core/archive.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef CAIRN_ABI
#error "CAIRN_ABI must be defined (the Makefile does)"
#endif
#ifndef CAIRN_EXT_DIR
#define CAIRN_EXT_DIR "/usr/local/lib/cairn"
#endif
#define EXT_NAME "cairn-ext.so"

static pthread_mutex_t ext_lock = PTHREAD_MUTEX_INITIALIZER;
static void *handle;
static char *loaded_from;
static struct strbuf why = STRBUF_INIT; /* the first failure, kept */

/* dlopen() of path; 0, or -1 with the reason appended to why */
static int try_load(const char *path)
{
	const char *abi;
	void *h;
	if (access(path, F_OK) < 0) {
		strbuf_addf(&why, "%s%s: %s", why.len ? "; " : "", path, strerror(errno));
		return -1;
	}
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		strbuf_addf(&why, "%s%s", why.len ? "; " : "", dlerror());
		return -1;
	}
	abi = dlsym(h, "cairn_ext_abi");
	if (!abi || strcmp(abi, CAIRN_ABI)) {
		strbuf_addf(&why, "%s%s: built for another cairn (%s, this one is %s)",
			    why.len ? "; " : "", path, abi ? abi : "no version", CAIRN_ABI);
		dlclose(h);
		return -1;
	}
	handle = h;
	loaded_from = xstrdup(path);
	return 0;
}

static void load(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		char *slash, *p;
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			p = xstrfmt("%s/" EXT_NAME, self);
			if (!try_load(p)) {
				free(p);
				return;
			}
			free(p);
		}
	}
	try_load(CAIRN_EXT_DIR "/" EXT_NAME);
}

void *ext_sym(const char *name, const char *what, struct strbuf *err)
{
	static int tried;
	void *sym = NULL;
	pthread_mutex_lock(&ext_lock);
	if (!tried) {
		tried = 1;
		load();
	}
	if (!handle) {
		cerr(err, CAIRN_EINVAL, "%s need %s, which cannot be loaded (%s); reinstall cairn",
		     what, EXT_NAME, why.buf);
	} else if (!(sym = dlsym(handle, name))) {
		cerr(err, CAIRN_EINVAL, "%s need '%s' from %s, which lacks it; reinstall cairn", what,
		     name, loaded_from);
	}
	pthread_mutex_unlock(&ext_lock);
	return sym;
}

/* set only in a program linked with core/archive.o itself */
#pragma weak archive_import
#pragma weak archive_export

int ext_archive_import(struct repo *r, const char *archive, const char *rel,
		       const struct import_opts *opts, struct import_result *res, struct strbuf *err)
{
	__typeof__(archive_import) *fn = archive_import;
	if (!fn && !(fn = ext_sym("archive_import", "archives", err)))
		return CAIRN_EINVAL;
	return fn(r, archive, rel, opts, res, err);
}

int ext_archive_export(struct repo *r, const struct pointer *p, const char *name, int fd,
		       const struct export_opts *opts, struct export_result *res,
		       struct strbuf *err)
{
	__typeof__(archive_export) *fn = archive_export;
	if (!fn && !(fn = ext_sym("archive_export", "archives", err)))
		return CAIRN_EINVAL;
	return fn(r, p, name, fd, opts, res, err);
}
