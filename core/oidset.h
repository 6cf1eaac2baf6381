#ifndef CAIRN_OIDSET_H
#define CAIRN_OIDSET_H
/*
 * A set of (oid, type) pairs: open addressing, linear probing. Not
 * thread-safe; callers lock.
 */
#include "core/hash.h"

struct oidset_slot {
	struct oid id;
	uint8_t type; /* 0 = empty */
};

struct oidset {
	struct oidset_slot *slots;
	size_t cap, n;
};

void oidset_init(struct oidset *s);
void oidset_release(struct oidset *s);
/* 1 if inserted, 0 if it was present. */
int oidset_insert(struct oidset *s, const struct oid *id, int type);
int oidset_contains(const struct oidset *s, const struct oid *id, int type);

#endif
