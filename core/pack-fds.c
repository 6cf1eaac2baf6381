/*
 * The bounded cache of open pack files (core/pack-fds.h). A store has a
 * few hundred packs open at most, so a linear search over the open ones
 * is cheaper than any map: `cap` compares of a u32, under one mutex.
 */
#include <sys/resource.h>
#include <string.h>
#include <unistd.h>

#include "core/pack-fds.h"
#include "core/util.h"

#define PACK_FDS_MIN 8
#define PACK_FDS_MAX 256

void pack_fds_init(struct pack_fds *c, size_t cap)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	if (!cap) {
		struct rlimit rl;
		cap = PACK_FDS_MAX;
		if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY &&
		    rl.rlim_cur / 4 < cap)
			cap = rl.rlim_cur / 4;
		if (cap < PACK_FDS_MIN)
			cap = PACK_FDS_MIN;
	}
	c->cap = cap;
}

void pack_fds_release(struct pack_fds *c)
{
	size_t i;
	for (i = 0; i < c->n; i++)
		close(c->v[i].fd);
	free(c->v);
	pthread_mutex_destroy(&c->lock);
	memset(c, 0, sizeof(*c));
}

/* index of the live (not doomed) slot of pack `no`, or -1; under the lock */
static long find(struct pack_fds *c, uint32_t no)
{
	size_t i;
	for (i = 0; i < c->n; i++)
		if (c->v[i].no == no && !c->v[i].doomed)
			return (long)i;
	return -1;
}

static void remove_at(struct pack_fds *c, size_t i)
{
	close(c->v[i].fd);
	c->v[i] = c->v[--c->n];
}

/* closes LRU unpinned slots until at most `keep` are open; under the lock */
static size_t evict(struct pack_fds *c, size_t keep)
{
	size_t closed = 0;
	while (c->n > keep) {
		size_t i, best = c->n;
		for (i = 0; i < c->n; i++)
			if (!c->v[i].refs && (best == c->n || c->v[i].used < c->v[best].used))
				best = i;
		if (best == c->n)
			break; /* all pinned: grow past the cap */
		remove_at(c, best);
		closed++;
	}
	return closed;
}

int pack_fds_pin(struct pack_fds *c, uint32_t no)
{
	int fd = -1;
	long i;
	pthread_mutex_lock(&c->lock);
	i = find(c, no);
	if (i >= 0) {
		c->v[i].refs++;
		c->v[i].used = ++c->tick;
		fd = c->v[i].fd;
	}
	pthread_mutex_unlock(&c->lock);
	return fd;
}

int pack_fds_add(struct pack_fds *c, uint32_t no, int fd)
{
	struct pack_fd_slot *s;
	long i;
	pthread_mutex_lock(&c->lock);
	i = find(c, no);
	if (i >= 0) {
		close(fd);
		c->v[i].refs++;
		c->v[i].used = ++c->tick;
		fd = c->v[i].fd;
		pthread_mutex_unlock(&c->lock);
		return fd;
	}
	evict(c, c->cap ? c->cap - 1 : 0);
	ALLOC_GROW(c->v, c->n + 1, c->alloc);
	s = &c->v[c->n++];
	s->no = no;
	s->fd = fd;
	s->refs = 1;
	s->doomed = 0;
	s->used = ++c->tick;
	pthread_mutex_unlock(&c->lock);
	return fd;
}

void pack_fds_unpin(struct pack_fds *c, uint32_t no, int fd)
{
	size_t i;
	pthread_mutex_lock(&c->lock);
	for (i = 0; i < c->n; i++) {
		if (c->v[i].no != no || c->v[i].fd != fd)
			continue;
		if (c->v[i].refs)
			c->v[i].refs--;
		if (!c->v[i].refs && (c->v[i].doomed || c->n > c->cap))
			remove_at(c, i);
		break;
	}
	pthread_mutex_unlock(&c->lock);
}

void pack_fds_drop(struct pack_fds *c, uint32_t no)
{
	size_t i = 0;
	pthread_mutex_lock(&c->lock);
	while (i < c->n) {
		if (c->v[i].no == no && !c->v[i].refs) {
			remove_at(c, i);
			continue;
		}
		if (c->v[i].no == no)
			c->v[i].doomed = 1;
		i++;
	}
	pthread_mutex_unlock(&c->lock);
}

size_t pack_fds_shed(struct pack_fds *c)
{
	size_t closed;
	pthread_mutex_lock(&c->lock);
	closed = evict(c, 0);
	pthread_mutex_unlock(&c->lock);
	return closed;
}

size_t pack_fds_open(struct pack_fds *c)
{
	size_t n;
	pthread_mutex_lock(&c->lock);
	n = c->n;
	pthread_mutex_unlock(&c->lock);
	return n;
}
