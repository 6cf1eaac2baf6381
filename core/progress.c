#include "core/progress.h"
#include "core/util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct progress {
	char *title;
	uint64_t items, bytes, total_items, total_bytes;
	int64_t start;
	int stop;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

int progress_default(void)
{
	return isatty(2);
}

static void render(struct progress *p, int final)
{
	struct strbuf sb = STRBUF_INIT;
	uint64_t items = __atomic_load_n(&p->items, __ATOMIC_RELAXED);
	uint64_t bytes = __atomic_load_n(&p->bytes, __ATOMIC_RELAXED);
	uint64_t ti = __atomic_load_n(&p->total_items, __ATOMIC_RELAXED);
	uint64_t tb = __atomic_load_n(&p->total_bytes, __ATOMIC_RELAXED);
	double secs = (double)(mono_ns() - p->start) / 1e9;

	strbuf_addf(&sb, "\r%s: ", p->title);
	if (ti)
		strbuf_addf(&sb, "%llu/%llu items, ", (unsigned long long)items, (unsigned long long)ti);
	else
		strbuf_addf(&sb, "%llu items, ", (unsigned long long)items);
	strbuf_add_human_size(&sb, bytes);
	if (tb) {
		strbuf_addstr(&sb, " / ");
		strbuf_add_human_size(&sb, tb);
	}
	if (secs > 0.05) {
		double rate = (double)bytes / secs;
		strbuf_addstr(&sb, ", ");
		strbuf_add_human_size(&sb, (uint64_t)rate);
		strbuf_addstr(&sb, "/s");
		if (!final && tb > bytes && rate > 1) {
			double eta = (double)(tb - bytes) / rate;
			strbuf_addf(&sb, ", ETA %d:%02d", (int)eta / 60, (int)eta % 60);
		}
	}
	if (final)
		strbuf_addf(&sb, ", %.1fs, done.\n", secs);
	else
		strbuf_addstr(&sb, "\033[K");
	(void)!write(2, sb.buf, sb.len);
	strbuf_release(&sb);
}

static void *ticker(void *arg)
{
	struct progress *p = arg;
	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&p->cond, &p->lock, &ts);
		if (!p->stop)
			render(p, 0);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct progress *progress_start(const char *title, uint64_t total_items, uint64_t total_bytes,
				int enabled)
{
	struct progress *p;
	if (!enabled)
		return NULL;
	p = xcalloc(1, sizeof(*p));
	p->title = xstrdup(title);
	p->total_items = total_items;
	p->total_bytes = total_bytes;
	p->start = mono_ns();
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	if (pthread_create(&p->thread, NULL, ticker, p)) {
		free(p->title);
		free(p);
		return NULL;
	}
	return p;
}

void progress_add(struct progress *p, uint64_t items, uint64_t bytes)
{
	if (!p)
		return;
	__atomic_add_fetch(&p->items, items, __ATOMIC_RELAXED);
	__atomic_add_fetch(&p->bytes, bytes, __ATOMIC_RELAXED);
}

void progress_set_totals(struct progress *p, uint64_t total_items, uint64_t total_bytes)
{
	if (!p)
		return;
	__atomic_store_n(&p->total_items, total_items, __ATOMIC_RELAXED);
	__atomic_store_n(&p->total_bytes, total_bytes, __ATOMIC_RELAXED);
}

void progress_stop(struct progress *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	render(p, 1);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p->title);
	free(p);
}
