#ifndef CAIRN_PACK_FDS_H
#define CAIRN_PACK_FDS_H
/*
 * A bounded cache of open pack files, shared by the threads of one store.
 *
 * Reading an object needs its pack open; opening a pack for every read is
 * slow, and keeping every pack open runs a store of more packs than
 * `ulimit -n` out of file descriptors. The cache keeps at most `cap` packs
 * open (a quarter of the soft RLIMIT_NOFILE, between 8 and 256) and closes
 * the least recently used one that no thread is reading to make room.
 *
 * A descriptor is pinned while a thread reads through it: pack_fds_pin()
 * or pack_fds_add() pin, pack_fds_unpin() releases. A pinned descriptor is
 * never closed under its reader (its number could otherwise be reused by
 * another open and the read would see another file's bytes); when every
 * open one is pinned, the cache grows past `cap` rather than wait.
 */
#include <pthread.h>
#include <stdint.h>
#include <stddef.h>

struct pack_fd_slot {
	uint32_t no;    /* pack number */
	int fd;
	uint32_t refs;  /* readers using fd now */
	int doomed;     /* close at the last unpin (the pack was removed) */
	uint64_t used;  /* tick of the last pin, for LRU */
};

struct pack_fds {
	pthread_mutex_t lock;
	struct pack_fd_slot *v;
	size_t n, alloc;
	size_t cap;     /* open descriptors kept when unpinned */
	uint64_t tick;
};

/* cap 0: derived from RLIMIT_NOFILE */
void pack_fds_init(struct pack_fds *c, size_t cap);
void pack_fds_release(struct pack_fds *c);

/* The cached fd of pack `no`, pinned; -1 (nothing pinned) when not open. */
int pack_fds_pin(struct pack_fds *c, uint32_t no);
/*
 * Caches `fd`, just opened for pack `no`, and returns it pinned; when
 * another thread cached the pack meanwhile, closes `fd` and returns that
 * one pinned. Closes least recently used unpinned packs beyond the cap.
 */
int pack_fds_add(struct pack_fds *c, uint32_t no, int fd);
void pack_fds_unpin(struct pack_fds *c, uint32_t no, int fd);
/* Pack `no` was removed: its fd is closed now, or at its last unpin. */
void pack_fds_drop(struct pack_fds *c, uint32_t no);
/* Closes every unpinned fd (after EMFILE); returns how many. */
size_t pack_fds_shed(struct pack_fds *c);
/* How many fds the cache holds open now (tests). */
size_t pack_fds_open(struct pack_fds *c);

#endif
