#ifndef CAIRN_PARALLEL_H
#define CAIRN_PARALLEL_H
/*
 * par_for: run fn(i) for i in 0..n-1 on `threads` threads. Each thread gets
 * its own odb_thread (when odb is not NULL). Work is handed out in order,
 * one index at a time. The first error stops the handing out; its code is
 * returned and its message copied into err.
 */
#include <stddef.h>

#include "core/odb.h"
#include "core/util.h"

struct par_thread {
	int no;                /* 0..threads-1 */
	struct odb_thread odb; /* valid when the odb passed to par_for is set */
	struct strbuf buf;     /* scratch, per thread */
};

typedef int (*par_fn)(size_t i, struct par_thread *pt, void *data, struct strbuf *err);

int par_for(int threads, size_t n, struct odb *odb, par_fn fn, void *data, struct strbuf *err);

#endif
