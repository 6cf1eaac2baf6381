#include "core/oidset.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

void oidset_init(struct oidset *s)
{
	s->slots = NULL;
	s->cap = s->n = 0;
}

void oidset_release(struct oidset *s)
{
	free(s->slots);
	oidset_init(s);
}

static size_t slot_of(const struct oid *id, int type, size_t cap)
{
	uint64_t h = get_le64(id->b) ^ (uint64_t)type * 0x9e3779b97f4a7c15ULL;
	return (size_t)(h & (cap - 1));
}

static void grow(struct oidset *s)
{
	size_t ncap = s->cap ? s->cap * 2 : 1024, i;
	struct oidset_slot *ns = xcalloc(ncap, sizeof(*ns));
	for (i = 0; i < s->cap; i++) {
		struct oidset_slot *o = &s->slots[i];
		size_t j;
		if (!o->type)
			continue;
		j = slot_of(&o->id, o->type, ncap);
		while (ns[j].type)
			j = (j + 1) & (ncap - 1);
		ns[j] = *o;
	}
	free(s->slots);
	s->slots = ns;
	s->cap = ncap;
}

int oidset_contains(const struct oidset *s, const struct oid *id, int type)
{
	size_t j;
	if (!s->cap)
		return 0;
	j = slot_of(id, type, s->cap);
	while (s->slots[j].type) {
		if (s->slots[j].type == type && oid_eq(&s->slots[j].id, id))
			return 1;
		j = (j + 1) & (s->cap - 1);
	}
	return 0;
}

int oidset_insert(struct oidset *s, const struct oid *id, int type)
{
	size_t j;
	if ((s->n + 1) * 4 > s->cap * 3)
		grow(s);
	j = slot_of(id, type, s->cap);
	while (s->slots[j].type) {
		if (s->slots[j].type == type && oid_eq(&s->slots[j].id, id))
			return 0;
		j = (j + 1) & (s->cap - 1);
	}
	s->slots[j].id = *id;
	s->slots[j].type = (uint8_t)type;
	s->n++;
	return 1;
}
