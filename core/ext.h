#ifndef CAIRN_EXT_H
#define CAIRN_EXT_H
/*
 * The parts of cairn that need libcurl, libssh2 or libarchive (the S3 and
 * SSH backends, archive import and export) are built into cairn-ext.so,
 * which the cairn program loads with dlopen() the first time one of them
 * is needed. Those libraries and the forty-odd they pull in cost about
 * 7.5 ms of dynamic linking at every start, more than a third of what a
 * `cairn status` on a small tree takes; git keeps libcurl out of its main
 * program (git-remote-http) for the same reason.
 *
 * cairn-ext.so is looked for beside the running program, then in
 * CAIRN_EXT_DIR (where `make install` puts it). It must come from the same
 * build: both carry CAIRN_ABI, a checksum of the headers and the build
 * flags, and a plugin with another one is refused.
 *
 * Programs linked with those objects themselves (the unit tests) never
 * load it: the weak references below are then set, and used directly.
 */
#include "core/util.h"

/*
 * The address of `name` in cairn-ext.so, loading it on first use; NULL
 * with a message (naming `what`, e.g. "ssh remotes") when it cannot be
 * loaded or lacks the symbol. Thread-safe.
 */
void *ext_sym(const char *name, const char *what, struct strbuf *err);

/* archive_import() and archive_export() (core/archive.h), through it */
struct repo;
struct pointer;
struct import_opts;
struct import_result;
struct export_opts;
struct export_result;
int ext_archive_import(struct repo *r, const char *archive, const char *rel,
		       const struct import_opts *opts, struct import_result *res, struct strbuf *err);
int ext_archive_export(struct repo *r, const struct pointer *p, const char *name, int fd,
		       const struct export_opts *opts, struct export_result *res,
		       struct strbuf *err);

#endif
