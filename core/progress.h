#ifndef CAIRN_PROGRESS_H
#define CAIRN_PROGRESS_H
/*
 * One updating line on stderr for long commands: items, bytes, rate, ETA.
 * Shown only when enabled (stderr is a terminal and not --quiet); counters
 * may be bumped from any thread. A NULL progress is valid and does nothing.
 */
#include <stdint.h>

struct progress;

/* Returns NULL when !enabled. Totals of 0 mean unknown. */
struct progress *progress_start(const char *title, uint64_t total_items, uint64_t total_bytes,
				int enabled);
void progress_add(struct progress *p, uint64_t items, uint64_t bytes);
void progress_set_totals(struct progress *p, uint64_t total_items, uint64_t total_bytes);
/* Prints the final line (with a newline) and frees. */
void progress_stop(struct progress *p);
/* Whether progress should show by default: stderr is a terminal. */
int progress_default(void);

#endif
