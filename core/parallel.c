#include "core/parallel.h"

#include <pthread.h>
#include <stdlib.h>

struct par_state {
	pthread_mutex_t lock;
	size_t next, n;
	int failed;
	struct strbuf errmsg;
	struct odb *odb;
	par_fn fn;
	void *data;
};

struct par_arg {
	struct par_state *s;
	struct par_thread pt;
};

static void *worker(void *arg)
{
	struct par_arg *a = arg;
	struct par_state *s = a->s;
	struct strbuf err = STRBUF_INIT;
	for (;;) {
		size_t i;
		int r;
		pthread_mutex_lock(&s->lock);
		if (s->failed || s->next >= s->n) {
			pthread_mutex_unlock(&s->lock);
			break;
		}
		i = s->next++;
		pthread_mutex_unlock(&s->lock);
		r = s->fn(i, &a->pt, s->data, &err);
		if (r) {
			pthread_mutex_lock(&s->lock);
			if (!s->failed) {
				s->failed = r;
				strbuf_addstr(&s->errmsg, err.buf);
			}
			pthread_mutex_unlock(&s->lock);
			break;
		}
	}
	strbuf_release(&err);
	return NULL;
}

int par_for(int threads, size_t n, struct odb *odb, par_fn fn, void *data, struct strbuf *err)
{
	struct par_state s;
	struct par_arg *args;
	pthread_t *tids;
	int i, started = 0, r;

	if (threads < 1)
		threads = 1;
	if ((size_t)threads > n)
		threads = n ? (int)n : 1;
	pthread_mutex_init(&s.lock, NULL);
	s.next = 0;
	s.n = n;
	s.failed = 0;
	strbuf_init(&s.errmsg, 0);
	s.odb = odb;
	s.fn = fn;
	s.data = data;
	args = xcalloc((size_t)threads, sizeof(*args));
	tids = xcalloc((size_t)threads, sizeof(*tids));
	for (i = 0; i < threads; i++) {
		args[i].s = &s;
		args[i].pt.no = i;
		strbuf_init(&args[i].pt.buf, 0);
		if (odb)
			odb_thread_init(&args[i].pt.odb, odb);
	}
	if (threads == 1) {
		worker(&args[0]);
	} else {
		for (i = 0; i < threads; i++) {
			if (pthread_create(&tids[i], NULL, worker, &args[i]))
				break;
			started++;
		}
		if (!started)
			worker(&args[0]);
		for (i = 0; i < started; i++)
			pthread_join(tids[i], NULL);
	}
	for (i = 0; i < threads; i++) {
		if (odb)
			odb_thread_release(&args[i].pt.odb);
		strbuf_release(&args[i].pt.buf);
	}
	r = s.failed;
	if (r)
		cerr(err, r, "%s", s.errmsg.buf);
	strbuf_release(&s.errmsg);
	pthread_mutex_destroy(&s.lock);
	free(args);
	free(tids);
	return r;
}
