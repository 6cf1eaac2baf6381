/*
 * Unit tests for core/odb.c: a batch fed from two threads seals several
 * packs and counts duplicates; everything reads back; damage on disk is
 * reported (CAIRN_ECORRUPT, CAIRN_ENOTFOUND) without hiding the rest; an
 * aborted batch leaves nothing behind; a read-only store reads; and the
 * LMDB map grows when it is full.
 */
#include "core/compress.h"
#include "core/object.h"
#include "core/odb.h"
#include "core/util.h"
#include "t/unit/tap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/cairn-odb-test-XXXXXX";

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t rng_state = 0x0d8b5eedULL;

static uint64_t rnd(void)
{
	rng_state += 0x9e3779b97f4a7c15ULL;
	return mix(rng_state);
}

/*
 * An item is (seed, len): its bytes are a function of both, so they can be
 * made again to check what the store gives back. The seed picks the kind:
 * random bytes, compressible text, or float-like words.
 */
struct item {
	uint64_t seed;
	uint32_t len;
	int dup_of;     /* index of the item it copies, or -1 */
	struct oid id;
};

static void gen(uint64_t seed, size_t len, uint8_t *out)
{
	uint64_t s = seed;
	size_t i;
	switch (seed % 3) {
	case 0:
		for (i = 0; i + 8 <= len; i += 8) {
			uint64_t v = mix(s++);
			memcpy(out + i, &v, 8);
		}
		for (; i < len; i++)
			out[i] = (uint8_t)mix(s++);
		break;
	case 1:
		for (i = 0; i < len; i++)
			out[i] = (uint8_t)("abcdefgh \n"[(mix(s + i / 16) >> (i % 16)) % 10]);
		break;
	default:
		for (i = 0; i < len; i++)
			out[i] = (i % 4 == 3) ? 0x3c : (i % 4 == 2) ? (uint8_t)(0x80 | (mix(s + i) & 7))
								    : (uint8_t)mix(s + i);
		break;
	}
}

static int try_bg_of(uint64_t seed)
{
	return seed % 3 == 2 ? 4 : 0;
}

#define NITEMS 2000
#define MAXLEN 300000

static struct item items[NITEMS];
static size_t nunique;
static uint64_t unique_bytes;

static void make_items(void)
{
	size_t i;
	for (i = 0; i < NITEMS; i++) {
		struct item *it = &items[i];
		it->dup_of = -1;
		if (i >= 20 && rnd() % 10 == 0) {
			size_t j = (size_t)(rnd() % i);
			while (items[j].dup_of >= 0)
				j = (size_t)items[j].dup_of;
			it->seed = items[j].seed;
			it->len = items[j].len;
			it->dup_of = (int)j;
			continue;
		}
		it->seed = rnd();
		if (i == 0)
			it->len = 1;
		else if (i == 1)
			it->len = MAXLEN;
		else if (rnd() % 50 == 0)
			it->len = 1 + (uint32_t)(rnd() % MAXLEN);
		else {
			/* log-uniform: mostly small, some large */
			uint32_t bits = (uint32_t)(rnd() % 19);
			it->len = 1 + (uint32_t)(rnd() % (1u << bits));
			if (it->len > MAXLEN)
				it->len = MAXLEN;
		}
	}
	/*
	 * ids, and the unique count: short items can have the same bytes by
	 * chance, so uniqueness is by id
	 */
	{
		uint8_t *buf = xmalloc(MAXLEN);
		struct oidset seen;
		oidset_init(&seen);
		for (i = 0; i < NITEMS; i++) {
			if (items[i].dup_of >= 0)
				items[i].id = items[items[i].dup_of].id;
			else {
				gen(items[i].seed, items[i].len, buf);
				oid_hash(&items[i].id, buf, items[i].len);
			}
			if (oidset_insert(&seen, &items[i].id, OBJ_CHUNK)) {
				items[i].dup_of = -1;
				nunique++;
				unique_bytes += items[i].len;
			} else if (items[i].dup_of < 0) {
				size_t j = 0;
				while (!oid_eq(&items[j].id, &items[i].id))
					j++;
				items[i].dup_of = (int)j;
			}
		}
		oidset_release(&seen);
		free(buf);
	}
}

struct worker {
	struct odb_batch *b;
	struct odb *odb;
	int k, nthreads;
	size_t first, count;  /* items [first, first+count) with index % nthreads == k */
	const struct item *list;
	int type;
	uint64_t news;
	int err;
	struct strbuf msg;
};

static void *put_worker(void *arg)
{
	struct worker *w = arg;
	struct odb_thread t;
	uint8_t *buf = xmalloc(MAXLEN);
	size_t i;

	odb_thread_init(&t, w->odb);
	for (i = w->first + (size_t)w->k; i < w->first + w->count; i += (size_t)w->nthreads) {
		const struct item *it = &w->list[i];
		int was_new = -1, r;
		gen(it->seed, it->len, buf);
		r = odb_put(w->b, &t, w->type, &it->id, buf, it->len, try_bg_of(it->seed), &was_new,
			    &w->msg);
		if (r) {
			if (!w->err)
				w->err = r;
			break;
		}
		if (was_new == 1)
			w->news++;
		else if (was_new != 0)
			w->err = CAIRN_EINVAL;
	}
	odb_thread_release(&t);
	free(buf);
	return NULL;
}

/* Puts list[first..first+count) from nthreads threads; returns the number stored new. */
static int put_all(struct odb *odb, struct odb_batch *b, const struct item *list, size_t first,
		   size_t count, int nthreads, uint64_t *news)
{
	struct worker w[4];
	pthread_t th[4];
	int k, r = 0;

	*news = 0;
	for (k = 0; k < nthreads; k++) {
		memset(&w[k], 0, sizeof(w[k]));
		w[k].b = b;
		w[k].odb = odb;
		w[k].k = k;
		w[k].nthreads = nthreads;
		w[k].first = first;
		w[k].count = count;
		w[k].list = list;
		w[k].type = OBJ_CHUNK;
		strbuf_init(&w[k].msg, 0);
		if (pthread_create(&th[k], NULL, put_worker, &w[k])) {
			printf("Bail out! pthread_create failed\n");
			exit(1);
		}
	}
	for (k = 0; k < nthreads; k++) {
		pthread_join(th[k], NULL);
		*news += w[k].news;
		if (w[k].err) {
			diag("thread %d: %s (%d)", k, w[k].msg.buf, w[k].err);
			if (!r)
				r = w[k].err;
		}
		strbuf_release(&w[k].msg);
	}
	return r;
}

static int count_dir(const char *dir, const char *suffix, uint64_t *bytes)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;
	if (bytes)
		*bytes = 0;
	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (suffix && !ends_with(de->d_name, suffix))
			continue;
		n++;
		if (bytes) {
			struct stat st;
			char *p = xstrfmt("%s/%s", dir, de->d_name);
			if (!stat(p, &st))
				*bytes += (uint64_t)st.st_size;
			free(p);
		}
	}
	closedir(d);
	return n;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* Expected outcome of reading an item after damage. */
enum { WANT_OK, WANT_CORRUPT, WANT_NOTFOUND };

static int check_reads(struct odb *odb, const int *want, const char *what)
{
	struct odb_thread t;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	uint8_t *buf = xmalloc(MAXLEN);
	size_t i, bad = 0, n = 0;

	odb_thread_init(&t, odb);
	for (i = 0; i < NITEMS; i++) {
		int r, w = want ? want[i] : WANT_OK;
		if (items[i].dup_of >= 0)
			continue;
		n++;
		strbuf_reset(&err);
		r = odb_read(&t, &items[i].id, OBJ_CHUNK, &out, &err);
		if (w == WANT_OK) {
			gen(items[i].seed, items[i].len, buf);
			if (r || out.len != items[i].len || memcmp(out.buf, buf, items[i].len)) {
				if (bad < 5)
					diag("%s: item %zu: %d %s", what, i, r, err.buf);
				bad++;
			}
		} else if (r != (w == WANT_CORRUPT ? CAIRN_ECORRUPT : CAIRN_ENOTFOUND) || !err.len) {
			if (bad < 5)
				diag("%s: item %zu: want %s, got %d %s", what, i,
				     w == WANT_CORRUPT ? "ECORRUPT" : "ENOTFOUND", r, err.buf);
			bad++;
		}
	}
	odb_thread_release(&t);
	strbuf_release(&out);
	strbuf_release(&err);
	free(buf);
	ok(!bad, "%s: %zu objects read as expected", what, n);
	return !bad;
}

static struct obj_loc loc_of(struct odb *odb, const struct oid *id, int type)
{
	struct odb_thread t;
	struct strbuf err = STRBUF_INIT;
	struct obj_loc loc;
	memset(&loc, 0, sizeof(loc));
	odb_thread_init(&t, odb);
	if (odb_lookup(&t, id, type, &loc, &err))
		loc.pack_no = UINT32_MAX;
	odb_thread_release(&t);
	strbuf_release(&err);
	return loc;
}

static char *pack_path(struct odb *odb, uint32_t no)
{
	struct odb_thread t;
	struct strbuf err = STRBUF_INIT;
	char hex[OID_HEXSZ + 1];
	char *p = NULL;
	odb_thread_init(&t, odb);
	if (!odb_pack_name(&t, no, hex, &err))
		p = xstrfmt("%s/packs/%s.pack", odb->dir, hex);
	odb_thread_release(&t);
	strbuf_release(&err);
	return p;
}

static int flip_byte(const char *path, uint64_t off)
{
	int fd = open(path, O_RDWR);
	uint8_t b;
	int good;
	if (fd < 0)
		return -1;
	good = pread(fd, &b, 1, (off_t)off) == 1;
	b ^= 0x20;
	good = good && pwrite(fd, &b, 1, (off_t)off) == 1;
	close(fd);
	return good ? 0 : -1;
}

static struct odb *open_store(const char *dir, uint64_t pack_size, int readonly)
{
	struct odb_opts opts = { ODB_ZLEVEL_DEFAULT, pack_size, NULL };
	struct strbuf err = STRBUF_INIT;
	struct odb *odb = NULL;
	if (odb_open(&odb, dir, &opts, readonly, &err)) {
		diag("odb_open '%s': %s", dir, err.buf);
		odb = NULL;
	}
	strbuf_release(&err);
	return odb;
}

static void test_store(void)
{
	char *dir = xstrfmt("%s/store", tmpdir);
	char *packdir = xstrfmt("%s/packs", dir), *tdir = xstrfmt("%s/tmp", dir);
	struct strbuf err = STRBUF_INIT;
	struct odb *odb;
	struct odb_batch *b = NULL;
	struct odb_stats st;
	struct oid tree_id, man_id;
	struct strbuf tree_enc = STRBUF_INIT, man_enc = STRBUF_INIT;
	uint64_t news = 0, bytes, npacks;
	int r, *want;
	size_t i;

	ok(odb_create(dir, &err) == 0, "odb_create (%s)", err.buf);
	ok(count_dir(packdir, NULL, NULL) == 0 && count_dir(tdir, NULL, NULL) == 0,
	   "packs/ and tmp/ exist and are empty");
	odb = open_store(dir, 1u << 20, 0);
	if (!ok(odb != NULL, "odb_open"))
		exit(1);

	r = odb_batch_begin(odb, &b, &err);
	ok(r == 0, "odb_batch_begin");
	r = put_all(odb, b, items, 0, NITEMS, 2, &news);
	ok(r == 0, "2 threads put %d chunks (%zu unique, %llu bytes)", NITEMS, nunique,
	   (unsigned long long)unique_bytes);
	ok(news == nunique, "was_new set for exactly the unique chunks (%llu)",
	   (unsigned long long)news);
	/* a manifest and a tree go to their own pack */
	{
		struct odb_thread t;
		struct manifest m;
		struct tree tr;
		struct tree_entry *e;
		int was_new = 0;
		odb_thread_init(&t, odb);
		manifest_init(&m);
		manifest_add(&m, &items[2].id, items[2].len);
		manifest_add(&m, &items[3].id, items[3].len);
		m.size = (uint64_t)items[2].len + items[3].len;
		manifest_encode(&m, &man_enc);
		oid_hash(&man_id, "the whole file", 14);
		r = odb_put(b, &t, OBJ_MANIFEST, &man_id, man_enc.buf, man_enc.len, 0, &was_new, &err);
		ok(r == 0 && was_new, "put a manifest");
		tree_init(&tr);
		e = tree_add(&tr, "a", MODE_FILE);
		e->id = items[2].id;
		e->size = items[2].len;
		tree_encode(&tr, &tree_enc, &tree_id, NULL);
		r = odb_put(b, &t, OBJ_TREE, &tree_id, tree_enc.buf, tree_enc.len, 0, &was_new, &err);
		ok(r == 0 && was_new, "put a tree");
		r = odb_put(b, &t, OBJ_TREE, &tree_id, tree_enc.buf, tree_enc.len, 0, &was_new, &err);
		ok(r == 0 && !was_new, "the same tree again is a duplicate");
		tree_release(&tr);
		manifest_release(&m);
		odb_thread_release(&t);
	}
	memset(&st, 0xff, sizeof(st));
	r = odb_batch_commit(b, &st, &err);
	ok(r == 0, "odb_batch_commit (%s)", err.buf);
	ok(st.objects_new == nunique + 2, "stats: objects_new %llu == unique %zu + 2",
	   (unsigned long long)st.objects_new, nunique);
	ok(st.objects_dup == NITEMS - nunique + 1, "stats: objects_dup %llu == %zu",
	   (unsigned long long)st.objects_dup, NITEMS - nunique + 1);
	ok(st.raw_new == unique_bytes + man_enc.len + tree_enc.len, "stats: raw_new");
	ok(st.stored_new > 0 && st.stored_new < st.raw_new, "stats: stored_new %llu < raw_new %llu",
	   (unsigned long long)st.stored_new, (unsigned long long)st.raw_new);
	diag("%llu packs sealed", (unsigned long long)st.packs_new);
	ok(st.packs_new >= 4, "stats: several packs sealed (%llu)", (unsigned long long)st.packs_new);
	ok(count_dir(packdir, ".pack", &bytes) == (int)st.packs_new &&
	   count_dir(packdir, ".idx", NULL) == (int)st.packs_new &&
	   count_dir(packdir, NULL, NULL) == 2 * (int)st.packs_new,
	   "a .pack and a .idx per sealed pack, nothing else");
	ok(count_dir(tdir, NULL, NULL) == 0, "no temp files after commit");
	npacks = st.packs_new;

	check_reads(odb, NULL, "after commit");
	{
		struct odb_thread t;
		struct strbuf out = STRBUF_INIT;
		struct odb_totals tot;
		struct obj_loc loc;
		char hex[OID_HEXSZ + 1];
		uint64_t pack_bytes;
		odb_thread_init(&t, odb);
		r = odb_read(&t, &tree_id, OBJ_TREE, &out, &err);
		ok(r == 0 && out.len == tree_enc.len && !memcmp(out.buf, tree_enc.buf, out.len),
		   "the tree reads back");
		r = odb_read(&t, &man_id, OBJ_MANIFEST, &out, &err);
		ok(r == 0 && out.len == man_enc.len && !memcmp(out.buf, man_enc.buf, out.len),
		   "the manifest reads back");
		strbuf_reset(&err);
		r = odb_read(&t, &items[0].id, OBJ_TREE, &out, &err);
		ok(r == CAIRN_ENOTFOUND && strstr(err.buf, "tree"), "a chunk id as a tree: not found (%s)",
		   err.buf);
		r = odb_read(&t, &man_id, OBJ_CHUNK, &out, &err);
		ok(r == CAIRN_ENOTFOUND, "a manifest id as a chunk: not found");
		r = odb_lookup(&t, &items[5].id, OBJ_CHUNK, &loc, &err);
		ok(r == 0 && loc.pack_no >= 1 && loc.pack_no <= st.packs_new &&
		   loc.raw_len == items[5].len, "odb_lookup");
		ok(odb_pack_name(&t, 1, hex, &err) == 0 && strlen(hex) == OID_HEXSZ, "pack 1 has a name");
		ok(odb_pack_name(&t, 100000, hex, &err) == CAIRN_ENOTFOUND, "pack 100000 does not");

		r = odb_totals(&t, &tot, &err);
		count_dir(packdir, ".pack", &pack_bytes);
		ok(r == 0 && tot.packs == st.packs_new, "totals: packs");
		ok(tot.pack_bytes == pack_bytes, "totals: pack bytes %llu == on disk %llu",
		   (unsigned long long)tot.pack_bytes, (unsigned long long)pack_bytes);
		ok(tot.objects[OBJ_CHUNK] == nunique && tot.objects[OBJ_TREE] == 1 &&
		   tot.objects[OBJ_MANIFEST] == 1 && tot.objects[0] == 0, "totals: objects by type");
		ok(tot.raw_bytes[OBJ_CHUNK] == unique_bytes &&
		   tot.raw_bytes[OBJ_TREE] == tree_enc.len && tot.raw_bytes[OBJ_MANIFEST] == man_enc.len,
		   "totals: raw bytes by type");
		ok(tot.stored_bytes[OBJ_CHUNK] + tot.stored_bytes[OBJ_TREE] +
		   tot.stored_bytes[OBJ_MANIFEST] == st.stored_new, "totals: stored bytes");
		odb_thread_release(&t);
		strbuf_release(&out);
	}

	/* everything again: all duplicates, nothing written */
	r = odb_batch_begin(odb, &b, &err);
	if (!r)
		r = put_all(odb, b, items, 0, NITEMS, 2, &news);
	ok(r == 0 && news == 0, "second batch: nothing new");
	memset(&st, 0xff, sizeof(st));
	r = odb_batch_commit(b, &st, &err);
	ok(r == 0 && st.objects_new == 0 && st.objects_dup == NITEMS && st.packs_new == 0 &&
	   st.raw_new == 0, "second batch: %d duplicates, no pack", NITEMS);

	/* an aborted batch leaves nothing */
	{
		static struct item extra[60];
		uint8_t *buf = xmalloc(10000);
		struct odb_thread t;
		int found = 0;
		for (i = 0; i < 60; i++) {
			extra[i].seed = 0xabcdef00 + i;
			extra[i].len = 100 + (uint32_t)(i * 97);
			extra[i].dup_of = -1;
			gen(extra[i].seed, extra[i].len, buf);
			oid_hash(&extra[i].id, buf, extra[i].len);
		}
		r = odb_batch_begin(odb, &b, &err);
		if (!r)
			r = put_all(odb, b, extra, 0, 60, 2, &news);
		odb_thread_init(&t, odb);
		if (!r)
			r = odb_put(b, &t, OBJ_TREE, &extra[0].id, "CTR1\0", 5, 0, NULL, &err);
		ok(r == 0 && news == 60, "a batch of 60 new chunks and a tree");
		ok(count_dir(tdir, NULL, NULL) == 2, "two temp packs while it is open");
		odb_batch_abort(b);
		ok(count_dir(tdir, NULL, NULL) == 0, "odb_batch_abort leaves no temp files");
		for (i = 0; i < 60; i++) {
			struct strbuf out = STRBUF_INIT;
			if (odb_read(&t, &extra[i].id, OBJ_CHUNK, &out, &err) != CAIRN_ENOTFOUND)
				found++;
			strbuf_release(&out);
		}
		ok(!found, "nothing of the aborted batch is in the store");
		ok(count_dir(packdir, ".pack", NULL) == (int)npacks, "no pack from the aborted batch");
		odb_thread_release(&t);
		free(buf);
	}
	/* an empty batch */
	r = odb_batch_begin(odb, &b, &err);
	if (!r)
		r = odb_batch_commit(b, &st, &err);
	ok(r == 0 && st.packs_new == 0 && st.objects_new == 0, "an empty batch commits nothing");
	r = odb_batch_begin(odb, &b, &err);
	if (!r)
		odb_batch_abort(b);
	ok(r == 0 && count_dir(tdir, NULL, NULL) == 0, "an empty batch aborts");

	/*
	 * Damage: a flipped byte in the data of a raw chunk and of a compressed
	 * chunk, and in the entry header of a third; a truncated pack; then a
	 * deleted pack.
	 */
	want = xcalloc(NITEMS, sizeof(*want));
	{
		int raw_i = -1, z_i = -1, hdr_i = -1;
		struct obj_loc lr, lz, lh;
		uint32_t damaged[3], trunc_no = 0, del_no = 0;
		char *path;
		for (i = 2; i < NITEMS; i++) {
			struct obj_loc l;
			if (items[i].dup_of >= 0 || items[i].len < 1000)
				continue;
			l = loc_of(odb, &items[i].id, OBJ_CHUNK);
			if (raw_i < 0 && l.codec == CODEC_RAW)
				raw_i = (int)i;
			else if (z_i < 0 && l.codec != CODEC_RAW)
				z_i = (int)i;
			else if (hdr_i < 0 && raw_i >= 0 && z_i >= 0)
				hdr_i = (int)i;
		}
		if (!ok(raw_i >= 0 && z_i >= 0 && hdr_i >= 0, "found a raw, a compressed and a third chunk"))
			exit(1);
		lr = loc_of(odb, &items[raw_i].id, OBJ_CHUNK);
		lz = loc_of(odb, &items[z_i].id, OBJ_CHUNK);
		lh = loc_of(odb, &items[hdr_i].id, OBJ_CHUNK);
		path = pack_path(odb, lr.pack_no);
		r = flip_byte(path, lr.offset + PACK_ENTRY_HDR_SZ + lr.stored_len / 2);
		free(path);
		path = pack_path(odb, lz.pack_no);
		r |= flip_byte(path, lz.offset + PACK_ENTRY_HDR_SZ + lz.stored_len / 2);
		free(path);
		path = pack_path(odb, lh.pack_no);
		r |= flip_byte(path, lh.offset + 5); /* raw_len */
		free(path);
		ok(r == 0, "flipped bytes in packs %u, %u and %u", lr.pack_no, lz.pack_no, lh.pack_no);
		want[raw_i] = want[z_i] = want[hdr_i] = WANT_CORRUPT;
		check_reads(odb, want, "flipped bytes (the fd of each pack already open)");
		{
			struct odb_thread t;
			struct strbuf out = STRBUF_INIT;
			char hex[OID_HEXSZ + 1];
			odb_thread_init(&t, odb);
			strbuf_reset(&err);
			r = odb_read(&t, &items[raw_i].id, OBJ_CHUNK, &out, &err);
			ok(r == CAIRN_ECORRUPT && strstr(err.buf, oid_to_hex(&items[raw_i].id, hex)),
			   "the message names the object: %s", err.buf);
			odb_thread_release(&t);
			strbuf_release(&out);
		}

		/* truncate one pack and delete another, neither with the flips */
		damaged[0] = lr.pack_no;
		damaged[1] = lz.pack_no;
		damaged[2] = lh.pack_no;
		for (i = 1; i <= npacks && (!trunc_no || !del_no); i++) {
			uint32_t no = (uint32_t)i;
			char *p;
			if (no == damaged[0] || no == damaged[1] || no == damaged[2])
				continue;
			p = pack_path(odb, no);
			if (!p)
				continue;
			if (!trunc_no)
				trunc_no = no;
			else
				del_no = no;
			free(p);
		}
		if (!ok(trunc_no && del_no, "packs %u and %u to truncate and delete", trunc_no, del_no))
			exit(1);
		{
			uint64_t half;
			struct stat sst;
			path = pack_path(odb, trunc_no);
			r = stat(path, &sst);
			half = (uint64_t)sst.st_size / 2;
			r = r || truncate(path, (off_t)half);
			ok(r == 0, "truncated pack %u to %llu bytes", trunc_no, (unsigned long long)half);
			free(path);
			for (i = 0; i < NITEMS; i++) {
				struct obj_loc l;
				if (items[i].dup_of >= 0)
					continue;
				l = loc_of(odb, &items[i].id, OBJ_CHUNK);
				if (l.pack_no == trunc_no &&
				    l.offset + PACK_ENTRY_HDR_SZ + l.stored_len > half)
					want[i] = WANT_CORRUPT;
			}
		}
		path = pack_path(odb, del_no);
		ok(unlink(path) == 0, "deleted pack %u", del_no);
		free(path);
		for (i = 0; i < NITEMS; i++)
			if (items[i].dup_of < 0 && loc_of(odb, &items[i].id, OBJ_CHUNK).pack_no == del_no)
				want[i] = WANT_NOTFOUND;
		/* a fresh odb: no pack fd cached */
		odb_close(odb);
		odb = open_store(dir, 1u << 20, 0);
		if (!odb)
			exit(1);
		check_reads(odb, want, "truncated and deleted packs");
	}

	/* read-only */
	odb_close(odb);
	odb = open_store(dir, 0, 1);
	ok(odb != NULL, "odb_open read-only");
	if (odb) {
		struct odb_thread t;
		struct odb_totals tot;
		r = odb_batch_begin(odb, &b, &err);
		ok(r == CAIRN_EINVAL, "no batch on a read-only store (%s)", err.buf);
		check_reads(odb, want, "read-only store");
		odb_thread_init(&t, odb);
		ok(odb_totals(&t, &tot, &err) == 0 && tot.objects[OBJ_CHUNK] == nunique,
		   "totals on a read-only store");
		odb_thread_release(&t);
		odb_close(odb);
	}
	{
		struct odb *none = NULL;
		char *missing = xstrfmt("%s/nothing", tmpdir);
		struct odb_opts opts = { 3, 0, NULL };
		r = odb_open(&none, missing, &opts, 1, &err);
		ok(r == CAIRN_ENOTFOUND && none == NULL, "odb_open of a missing store (%s)", err.buf);
		free(missing);
	}
	free(want);
	free(dir);
	free(packdir);
	free(tdir);
	strbuf_release(&err);
	strbuf_release(&tree_enc);
	strbuf_release(&man_enc);
}

static void test_map_growth(void)
{
	char *dir = xstrfmt("%s/small", tmpdir);
	struct strbuf err = STRBUF_INIT;
	struct odb *odb;
	struct odb_batch *b;
	struct odb_stats st;
	size_t n = 12000, i;
	struct item *tiny = xcalloc(n, sizeof(*tiny));
	uint64_t news = 0;
	uint8_t buf[64];
	int r, bad = 0;

	for (i = 0; i < n; i++) {
		tiny[i].seed = 0x7100000000ULL + i * 3; /* random bytes: seed % 3 == 0 */
		tiny[i].len = 8 + (uint32_t)(i % 57);
		tiny[i].dup_of = -1;
		gen(tiny[i].seed, tiny[i].len, buf);
		oid_hash(&tiny[i].id, buf, tiny[i].len);
	}
	setenv("CAIRN_TEST_LMDB_MAPSIZE", "131072", 1);
	r = odb_create(dir, &err);
	odb = r ? NULL : open_store(dir, 64u << 10, 0);
	if (!ok(odb != NULL && odb->idx->mapsize == 131072, "a store with a 128 KiB LMDB map (%s)",
		err.buf))
		exit(1);
	r = odb_batch_begin(odb, &b, &err);
	if (!r)
		r = put_all(odb, b, tiny, 0, n, 2, &news);
	if (!r)
		r = odb_batch_commit(b, &st, &err);
	else
		odb_batch_abort(b);
	ok(r == 0 && news == n && st.objects_new == n, "%zu tiny chunks stored in %llu packs (%s)", n,
	   (unsigned long long)st.packs_new, err.buf);
	diag("LMDB map grew to %zu bytes", odb->idx->mapsize);
	ok(odb->idx->mapsize > 131072, "the map grew (%zu)", odb->idx->mapsize);
	{
		struct odb_thread t;
		struct strbuf out = STRBUF_INIT;
		odb_thread_init(&t, odb);
		for (i = 0; i < n; i++) {
			gen(tiny[i].seed, tiny[i].len, buf);
			if (odb_read(&t, &tiny[i].id, OBJ_CHUNK, &out, &err) || out.len != tiny[i].len ||
			    memcmp(out.buf, buf, tiny[i].len))
				bad++;
		}
		odb_thread_release(&t);
		strbuf_release(&out);
	}
	ok(!bad, "all %zu read back after the map grew", n);
	odb_close(odb);
	/* reopened with the small setting, it adopts the grown map */
	odb = open_store(dir, 0, 1);
	ok(odb && odb->idx->mapsize > 131072, "reopened: the map is the grown size");
	if (odb) {
		struct odb_thread t;
		struct strbuf out = STRBUF_INIT;
		odb_thread_init(&t, odb);
		for (i = 0, bad = 0; i < n; i += 7)
			if (odb_read(&t, &tiny[i].id, OBJ_CHUNK, &out, &err))
				bad++;
		ok(!bad, "reads after reopening");
		odb_thread_release(&t);
		strbuf_release(&out);
		odb_close(odb);
	}
	unsetenv("CAIRN_TEST_LMDB_MAPSIZE");
	free(tiny);
	free(dir);
	strbuf_release(&err);
}

/* version v of a directory listing: 200 lines, line k changed in version k */
static void tree_version(struct strbuf *sb, int v)
{
	int k;
	strbuf_reset(sb);
	for (k = 0; k < 200; k++)
		strbuf_addf(sb, "%06d file_%04d.png %08x%08x%08x%08x\n", k, k,
			    (unsigned)(k * 2654435761u), (unsigned)(k * 40503u + 7),
			    (unsigned)((k <= v ? v : 0) * 69069u + (unsigned)k),
			    (unsigned)(k * 1103515245u));
}

/*
 * Trees stored as deltas of their earlier version: each of 20 versions
 * (in a batch of its own, as successive adds) against the one before;
 * the chain stops at DELTA_MAX_DEPTH and starts again; every version
 * reads back; a portable read gives the object encoded on its own.
 */
static void test_tree_deltas(void)
{
	char *dir = xstrfmt("%s/deltas", tmpdir);
	struct strbuf err = STRBUF_INIT, raw = STRBUF_INIT, out = STRBUF_INIT;
	struct oid ids[20];
	struct obj_loc loc[20];
	struct odb *odb;
	struct odb_thread t;
	int v, r = 0, bad = 0, deltas = 0, small = 0;

	if (!ok(!odb_create(dir, &err) && (odb = open_store(dir, 0, 0)), "a store for deltas (%s)",
		err.buf))
		return;
	odb_thread_init(&t, odb);
	for (v = 0; v < 20 && !r; v++) {
		struct odb_batch *b;
		struct odb_stats st;
		tree_version(&raw, v);
		oid_hash(&ids[v], raw.buf, raw.len);
		r = odb_batch_begin(odb, &b, &err);
		if (!r)
			r = odb_put_tree(b, &t, &ids[v], raw.buf, raw.len, v ? &ids[v - 1] : NULL, &err);
		if (!r)
			r = odb_batch_commit(b, &st, &err);
		if (!r)
			r = odb_lookup(&t, &ids[v], OBJ_TREE, &loc[v], &err);
	}
	ok(!r, "20 versions stored (%s)", err.buf);
	for (v = 0; v < 20 && !r; v++) {
		int want = v % (DELTA_MAX_DEPTH + 1) != 0;
		deltas += loc[v].codec == CODEC_DELTA;
		if ((loc[v].codec == CODEC_DELTA) != want)
			bad++;
		if (want && loc[v].stored_len * 10 < loc[0].stored_len)
			small++;
	}
	ok(!r && !bad && deltas == 18, "versions 1-16 and 18-19 are deltas, 0 and 17 whole (%d)",
	   deltas);
	ok(small == 18, "each delta under a tenth of the whole tree (%u vs %u)",
	   (unsigned)loc[1].stored_len, (unsigned)loc[0].stored_len);
	for (v = 0, bad = 0; v < 20 && !r; v++) {
		tree_version(&raw, v);
		if (odb_read(&t, &ids[v], OBJ_TREE, &out, &err) || out.len != raw.len ||
		    memcmp(out.buf, raw.buf, raw.len))
			bad++;
	}
	ok(!r && !bad, "every version reads back (%s)", err.buf);
	{
		struct oid base;
		int got = !odb_read(&t, &ids[5], OBJ_TREE, &out, &err) &&
			  odb_last_delta_base(&t, &base) && oid_eq(&base, &ids[4]);
		ok(got, "version 5 names version 4 as its base");
		got = !odb_read(&t, &ids[0], OBJ_TREE, &out, &err) && !odb_last_delta_base(&t, &base);
		ok(got, "version 0 has no base");
	}
	{
		const void *stored;
		size_t slen;
		int codec = -1;
		struct zctx *z = zctx_new(3);
		tree_version(&raw, 9);
		r = odb_read_stored(&t, &ids[9], OBJ_TREE, 1, &out, &codec, &stored, &slen, &err);
		ok(!r && codec != CODEC_DELTA &&
		   !zctx_decode(z, codec, stored, slen, raw.len, &out) && out.len == raw.len &&
		   !memcmp(out.buf, raw.buf, raw.len), "a portable read of a delta stands alone");
		r = odb_read_stored(&t, &ids[9], OBJ_TREE, 0, &out, &codec, &stored, &slen, &err);
		ok(!r && codec == CODEC_DELTA && slen == loc[9].stored_len &&
		   ((const uint8_t *)stored)[0] == 9, "a local read keeps it, depth 9 recorded");
		zctx_free(z);
	}
	odb_thread_release(&t);
	odb_close(odb);
	strbuf_release(&err);
	strbuf_release(&raw);
	strbuf_release(&out);
	free(dir);
}

static int loc_same(const struct obj_loc *a, const struct obj_loc *b)
{
	return a->pack_no == b->pack_no && a->codec == b->codec && a->raw_len == b->raw_len &&
	       a->stored_len == b->stored_len && a->offset == b->offset;
}

/* index entries: varints, the old fixed layout, and values that are neither */
static void test_loc_encoding(void)
{
	static const struct obj_loc cases[] = {
		{ 1, 1, 65536, 20000, 16 },
		{ 0, 0, 0, 0, 0 },
		{ UINT32_MAX, 255, UINT32_MAX, UINT32_MAX, UINT64_MAX },
		/* varints of 5 + 10 + 5 + 1 + 3 = 24 bytes: written fixed */
		{ 1u << 30, 3, 1u << 15, 1u << 30, 1ull << 63 },
	};
	uint8_t buf[OBJ_LOC_MAX], fixed[OBJ_LOC_SZ] = { 7, 0, 0, 0, 0, 0, 1, 0, 9, 0, 0, 0, 1 };
	struct obj_loc l;
	size_t i, n;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = obj_loc_encode(buf, &cases[i]);
		ok(n >= 5 && n <= OBJ_LOC_MAX && !obj_loc_decode(buf, n, &l) && loc_same(&l, &cases[i]),
		   "index entry %zu: %zu bytes, decodes to what was encoded", i, n);
	}
	n = obj_loc_encode(buf, &cases[0]);
	ok(n < 16, "a chunk's entry is short (%zu bytes)", n);
	n = obj_loc_encode(buf, &cases[3]);
	ok(n == OBJ_LOC_SZ, "varints of 24 bytes are written in the fixed layout");
	fixed[16] = 0x10;
	ok(!obj_loc_decode(fixed, sizeof(fixed), &l) && l.pack_no == 7 && l.raw_len == 65536 &&
	   l.stored_len == 9 && l.codec == 1 && l.offset == 16, "the fixed layout of older stores reads");
	n = obj_loc_encode(buf, &cases[0]);
	ok(obj_loc_decode(buf, n - 1, &l) == CAIRN_ECORRUPT, "a truncated entry is refused");
	buf[n] = 0;
	ok(obj_loc_decode(buf, n + 1, &l) == CAIRN_ECORRUPT, "a trailing byte is refused");
	memset(buf, 0x80, sizeof(buf));
	ok(obj_loc_decode(buf, 12, &l) == CAIRN_ECORRUPT, "an endless varint is refused");
	ok(obj_loc_decode(buf, 0, &l) == CAIRN_ECORRUPT, "an empty entry is refused");
}

int main(void)
{
	test_loc_encoding();
	if (!mkdtemp(tmpdir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	make_items();
	test_store();
	test_map_growth();
	test_tree_deltas();
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
