/*
 * Unit tests for core/pack.c: a pack written with pack_writer_* reads back
 * through its index, its name is its hash, and the index and entry header
 * decoders refuse every kind of damage.
 */
#include "core/compress.h"
#include "core/pack.h"
#include "core/util.h"
#include "t/unit/tap.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/cairn-pack-test-XXXXXX";
static char *packtmp, *packdir;

static uint64_t rng_state = 0x9ac4f00dULL;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Number of entries in `dir` other than "." and "..". */
static int count_files(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;
	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!suffix || ends_with(de->d_name, suffix))
			n++;
	}
	closedir(d);
	return n;
}

static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		char *p;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		p = xstrfmt("%s/%s", dir, de->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(dir);
}

struct obj {
	int type;
	uint8_t *raw;
	size_t len;
	struct oid id;
	int codec;
	struct strbuf stored;
};

#define NOBJ 40

static struct obj objs[NOBJ];

static void make_objects(void)
{
	struct zctx *z = zctx_new(3);
	size_t i, j;
	for (i = 0; i < NOBJ; i++) {
		struct obj *o = &objs[i];
		o->type = OBJ_CHUNK + (int)(i % 3);
		switch (i % 5) {
		case 0: o->len = (size_t)(rnd() % 100); break;
		case 1: o->len = 1000 + (size_t)(rnd() % 100000); break;
		case 2: o->len = (size_t)(rnd() % 300000); break;
		case 3: o->len = 64; break;
		default: o->len = (size_t)(rnd() % 5000); break;
		}
		if (i == 7)
			o->len = (3u << 20) / 2; /* larger than the writer's buffer */
		if (i == 8)
			o->len = 0;
		o->raw = xmalloc(o->len ? o->len : 1);
		for (j = 0; j < o->len; j++)
			o->raw[j] = i % 2 ? (uint8_t)rnd() : (uint8_t)("cairn"[j % 5] + (j / 977) % 3);
		oid_hash(&o->id, o->raw, o->len);
		strbuf_init(&o->stored, 0);
		zctx_encode(z, o->raw, o->len, i % 4 == 2 ? 4 : 0, o->id.b[0], &o->codec, &o->stored);
	}
	/* the same id under two types is two entries */
	objs[NOBJ - 1].len = objs[0].len;
	free(objs[NOBJ - 1].raw);
	objs[NOBJ - 1].raw = xmalloc(objs[0].len ? objs[0].len : 1);
	memcpy(objs[NOBJ - 1].raw, objs[0].raw, objs[0].len);
	objs[NOBJ - 1].id = objs[0].id;
	objs[NOBJ - 1].type = objs[0].type == OBJ_TREE ? OBJ_CHUNK : objs[0].type + 1;
	zctx_encode(z, objs[NOBJ - 1].raw, objs[NOBJ - 1].len, 0, objs[NOBJ - 1].id.b[0],
		    &objs[NOBJ - 1].codec, &objs[NOBJ - 1].stored);
	zctx_free(z);
}

static void free_objects(void)
{
	size_t i;
	for (i = 0; i < NOBJ; i++) {
		free(objs[i].raw);
		strbuf_release(&objs[i].stored);
	}
}

static int read_whole(const char *path, struct strbuf *out)
{
	struct strbuf err = STRBUF_INIT;
	int r = read_file(path, (size_t)1 << 30, out, &err);
	if (r)
		diag("%s", err.buf);
	strbuf_release(&err);
	return r;
}

/* Recompute the trailer of an index after editing it. */
static void fix_trailer(struct strbuf *idx)
{
	struct oid sum;
	oid_hash(&sum, idx->buf, idx->len - PACK_IDX_TRAILER_SZ);
	memcpy(idx->buf + idx->len - PACK_IDX_TRAILER_SZ, sum.b, OID_RAWSZ);
}

static int decode(const struct strbuf *idx, struct strbuf *err)
{
	struct oid pid;
	uint64_t psize = 0;
	struct pack_entry *e = NULL;
	size_t n = 0;
	int r;
	strbuf_reset(err);
	r = pack_idx_decode(idx->buf, idx->len, "test.idx", &pid, &psize, &e, &n, err);
	free(e);
	return r;
}

static void test_write_read(struct strbuf *idx_out, uint64_t *pack_size_out)
{
	struct pack_writer w;
	struct strbuf err = STRBUF_INIT, pack = STRBUF_INIT, idx = STRBUF_INIT, back = STRBUF_INIT;
	struct oid pack_id, idx_pack_id, sum;
	char hex[OID_HEXSZ + 1];
	char *pack_path, *idx_path;
	struct pack_entry *e = NULL;
	uint64_t psize = 0;
	size_t n = 0, i;
	int r, good;
	struct zctx *z = zctx_new(3);

	r = pack_writer_open(&w, packtmp, &err);
	ok(r == 0 && w.fd >= 0 && w.tmp_path, "pack_writer_open");
	if (r) {
		diag("%s", err.buf);
		exit(1);
	}
	ok(count_files(packtmp, NULL) == 1, "a temp pack in the tmp dir");
	for (i = 0, r = 0; i < NOBJ && !r; i++) {
		struct pack_entry pe;
		memset(&pe, 0, sizeof(pe));
		pe.id = objs[i].id;
		pe.type = (uint8_t)objs[i].type;
		pe.codec = (uint8_t)objs[i].codec;
		pe.raw_len = (uint32_t)objs[i].len;
		pe.stored_len = (uint32_t)objs[i].stored.len;
		pe.offset = 12345; /* ignored: the writer sets it */
		r = pack_writer_append(&w, &pe, objs[i].stored.buf, &err);
	}
	ok(r == 0 && w.n == NOBJ, "appended %d objects", NOBJ);
	{
		uint64_t raw = 0;
		for (i = 0; i < NOBJ; i++)
			raw += objs[i].len;
		ok(w.raw_bytes == raw, "raw_bytes counts every raw byte");
	}
	r = pack_writer_finish(&w, packdir, &pack_id, &err);
	ok(r == 0, "pack_writer_finish (%s)", err.buf);
	ok(count_files(packtmp, NULL) == 0, "no temp files left");
	oid_to_hex(&pack_id, hex);
	pack_path = xstrfmt("%s/%s.pack", packdir, hex);
	idx_path = xstrfmt("%s/%s.idx", packdir, hex);
	ok(count_files(packdir, NULL) == 2 && access(pack_path, F_OK) == 0 &&
	   access(idx_path, F_OK) == 0, "packs/%s.pack and .idx exist", hex);
	pack_writer_release(&w);

	ok(read_whole(pack_path, &pack) == 0 && read_whole(idx_path, &idx) == 0,
	   "read the pack and its index");
	oid_hash(&sum, pack.buf, pack.len);
	ok(oid_eq(&sum, &pack_id), "the pack's name is the XXH3-128 of its bytes");
	ok(pack.len >= PACK_HDR_SZ && pack_header_check((const uint8_t *)pack.buf) == 0,
	   "pack header checks");
	ok(!memcmp(pack.buf, "CAIRNPK\0\1\0\0\0\0\0\0\0", 16), "pack header bytes");

	r = pack_idx_decode(idx.buf, idx.len, idx_path, &idx_pack_id, &psize, &e, &n, &err);
	ok(r == 0, "pack_idx_decode accepts the index (%s)", err.buf);
	ok(r == 0 && n == NOBJ && psize == pack.len && oid_eq(&idx_pack_id, &pack_id),
	   "index: %zu entries, pack size %llu, pack id", n, (unsigned long long)psize);
	ok(idx.len == PACK_IDX_HDR_SZ + NOBJ * PACK_IDX_ENTRY_SZ + PACK_IDX_TRAILER_SZ,
	   "index size is header + entries + trailer");
	if (r)
		n = 0;
	good = 1;
	for (i = 1; i < n; i++)
		if (pack_entry_cmp(&e[i - 1], &e[i]) >= 0)
			good = 0;
	ok(good, "index entries sorted by (id, type)");

	/* each object: found once in the index, its header and bytes in the pack */
	good = 1;
	for (i = 0; i < NOBJ; i++) {
		const struct obj *o = &objs[i];
		struct pack_entry key, *hit, ph;
		memset(&key, 0, sizeof(key));
		key.id = o->id;
		key.type = (uint8_t)o->type;
		hit = n ? bsearch(&key, e, n, sizeof(*e), pack_entry_cmp) : NULL;
		if (!hit || hit->codec != o->codec || hit->raw_len != o->len ||
		    hit->stored_len != o->stored.len) {
			diag("object %zu: index entry wrong", i);
			good = 0;
			continue;
		}
		if (hit->offset < PACK_HDR_SZ ||
		    hit->offset + PACK_ENTRY_HDR_SZ + hit->stored_len > pack.len) {
			diag("object %zu: offset %llu out of the pack", i,
			     (unsigned long long)hit->offset);
			good = 0;
			continue;
		}
		if (pack_entry_header_decode((const uint8_t *)pack.buf + hit->offset, &ph) ||
		    !oid_eq(&ph.id, &o->id) || ph.type != o->type || ph.codec != o->codec ||
		    ph.raw_len != o->len || ph.stored_len != o->stored.len) {
			diag("object %zu: entry header at %llu wrong", i,
			     (unsigned long long)hit->offset);
			good = 0;
			continue;
		}
		if (memcmp(pack.buf + hit->offset + PACK_ENTRY_HDR_SZ, o->stored.buf, o->stored.len) ||
		    zctx_decode(z, ph.codec, pack.buf + hit->offset + PACK_ENTRY_HDR_SZ,
				ph.stored_len, ph.raw_len, &back) ||
		    back.len != o->len || memcmp(back.buf, o->raw, o->len)) {
			diag("object %zu: data wrong", i);
			good = 0;
		}
	}
	ok(good, "every object: index entry, entry header and data match");

	/* entries tile the pack: in write order, each right after the previous */
	{
		struct pack_entry *byoff = xcalloc(n ? n : 1, sizeof(*byoff));
		uint64_t at = PACK_HDR_SZ;
		memcpy(byoff, e, n * sizeof(*e));
		good = 1;
		for (i = 0; i < NOBJ && i < n; i++) {
			size_t j;
			for (j = 0; j < n; j++)
				if (byoff[j].offset == at)
					break;
			if (j == n) {
				good = 0;
				break;
			}
			at += PACK_ENTRY_HDR_SZ + byoff[j].stored_len;
		}
		ok(good && at == pack.len, "entries tile the pack with no gaps");
		free(byoff);
	}
	ok(objs[7].stored.len > (1u << 20), "one object bigger than the write buffer (%zu)",
	   objs[7].stored.len);
	{
		struct stat st;
		ok(stat(idx_path, &st) == 0 && !(st.st_mode & 0222), "the index is read-only");
	}

	strbuf_reset(idx_out);
	strbuf_add(idx_out, idx.buf, idx.len);
	*pack_size_out = pack.len;

	free(e);
	free(pack_path);
	free(idx_path);
	zctx_free(z);
	strbuf_release(&err);
	strbuf_release(&pack);
	strbuf_release(&idx);
	strbuf_release(&back);
}

static void test_writer_abandoned(void)
{
	struct pack_writer w;
	struct strbuf err = STRBUF_INIT;
	struct pack_entry pe;
	int r;

	r = pack_writer_open(&w, packtmp, &err);
	memset(&pe, 0, sizeof(pe));
	pe.id = objs[1].id;
	pe.type = OBJ_CHUNK;
	pe.codec = (uint8_t)objs[1].codec;
	pe.raw_len = (uint32_t)objs[1].len;
	pe.stored_len = (uint32_t)objs[1].stored.len;
	if (!r)
		r = pack_writer_append(&w, &pe, objs[1].stored.buf, &err);
	ok(r == 0 && count_files(packtmp, NULL) == 1, "a pack being written");
	pack_writer_release(&w);
	ok(count_files(packtmp, NULL) == 0 && count_files(packdir, NULL) == 2,
	   "pack_writer_release removes the temp pack");

	/* a tmp dir that does not exist */
	{
		char *nodir = xstrfmt("%s/nonexistent", tmpdir);
		strbuf_reset(&err);
		r = pack_writer_open(&w, nodir, &err);
		ok(r == CAIRN_ENOTFOUND || r == CAIRN_EIO, "pack_writer_open in a missing dir (%s)",
		   err.buf);
		free(nodir);
	}
	strbuf_release(&err);
}

static void test_idx_rejects(const struct strbuf *good, uint64_t pack_size)
{
	struct strbuf idx = STRBUF_INIT, err = STRBUF_INIT;
	size_t i, n = (good->len - PACK_IDX_HDR_SZ - PACK_IDX_TRAILER_SZ) / PACK_IDX_ENTRY_SZ;
	int all, r;

	ok(decode(good, &err) == 0, "the good index decodes");

	/* one flipped byte anywhere */
	all = 1;
	for (i = 0; i < good->len; i++) {
		int bit;
		for (bit = 0; bit < 8; bit += 7) {
			strbuf_reset(&idx);
			strbuf_add(&idx, good->buf, good->len);
			idx.buf[i] ^= (char)(1 << bit);
			r = decode(&idx, &err);
			if (r >= 0 || (i >= 16 && r != CAIRN_ECORRUPT)) {
				diag("byte %zu bit %d flipped: %d", i, bit, r);
				all = 0;
			}
		}
	}
	ok(all, "every flipped bit is refused (checksum, past the header: ECORRUPT)");

	/* truncated */
	all = 1;
	for (i = 0; i < good->len; i++) {
		strbuf_reset(&idx);
		strbuf_add(&idx, good->buf, i);
		r = decode(&idx, &err);
		if (r >= 0)
			all = 0;
	}
	ok(all, "every truncation is refused");
	strbuf_reset(&idx);
	strbuf_add(&idx, good->buf, good->len);
	strbuf_addch(&idx, 0);
	ok(decode(&idx, &err) < 0, "a trailing byte is refused");
	/* a whole entry more, with a good checksum */
	strbuf_reset(&idx);
	strbuf_add(&idx, good->buf, good->len - PACK_IDX_TRAILER_SZ);
	strbuf_add(&idx, good->buf + PACK_IDX_HDR_SZ + (n - 1) * PACK_IDX_ENTRY_SZ,
		   PACK_IDX_ENTRY_SZ);
	strbuf_add(&idx, good->buf, PACK_IDX_TRAILER_SZ);
	fix_trailer(&idx);
	ok(decode(&idx, &err) == CAIRN_EFORMAT, "count does not match the length (%s)", err.buf);

	/* wrong magic, good checksum */
	strbuf_reset(&idx);
	strbuf_add(&idx, good->buf, good->len);
	idx.buf[6] = 'Y';
	fix_trailer(&idx);
	ok(decode(&idx, &err) == CAIRN_EFORMAT, "wrong magic (%s)", err.buf);
	strbuf_reset(&idx);
	strbuf_add(&idx, good->buf, good->len);
	memcpy(idx.buf, "CAIRNPK", 7);
	fix_trailer(&idx);
	ok(decode(&idx, &err) == CAIRN_EFORMAT, "a pack's magic is not an index's");

	/* wrong version, good checksum */
	strbuf_reset(&idx);
	strbuf_add(&idx, good->buf, good->len);
	put_le32((uint8_t *)idx.buf + 8, 2);
	fix_trailer(&idx);
	ok(decode(&idx, &err) == CAIRN_EVERSION, "version 2 (%s)", err.buf);
	put_le32((uint8_t *)idx.buf + 8, 0);
	fix_trailer(&idx);
	ok(decode(&idx, &err) == CAIRN_EVERSION, "version 0");

	/* reserved field, pack size too small */
	strbuf_reset(&idx);
	strbuf_add(&idx, good->buf, good->len);
	idx.buf[44] = 1;
	fix_trailer(&idx);
	ok(decode(&idx, &err) == CAIRN_EFORMAT, "reserved header field not zero");
	strbuf_reset(&idx);
	strbuf_add(&idx, good->buf, good->len);
	put_le64((uint8_t *)idx.buf + 32, 15);
	fix_trailer(&idx);
	ok(decode(&idx, &err) == CAIRN_EFORMAT, "pack size smaller than a pack header");

	/* unsorted: swap two entries */
	{
		uint8_t tmp[PACK_IDX_ENTRY_SZ];
		char *a, *b;
		strbuf_reset(&idx);
		strbuf_add(&idx, good->buf, good->len);
		a = idx.buf + PACK_IDX_HDR_SZ + 3 * PACK_IDX_ENTRY_SZ;
		b = idx.buf + PACK_IDX_HDR_SZ + 4 * PACK_IDX_ENTRY_SZ;
		memcpy(tmp, a, sizeof(tmp));
		memcpy(a, b, sizeof(tmp));
		memcpy(b, tmp, sizeof(tmp));
		fix_trailer(&idx);
		ok(decode(&idx, &err) == CAIRN_EFORMAT, "unsorted entries (%s)", err.buf);

		/* the first and last swapped */
		strbuf_reset(&idx);
		strbuf_add(&idx, good->buf, good->len);
		a = idx.buf + PACK_IDX_HDR_SZ;
		b = idx.buf + PACK_IDX_HDR_SZ + (n - 1) * PACK_IDX_ENTRY_SZ;
		memcpy(tmp, a, sizeof(tmp));
		memcpy(a, b, sizeof(tmp));
		memcpy(b, tmp, sizeof(tmp));
		fix_trailer(&idx);
		ok(decode(&idx, &err) == CAIRN_EFORMAT, "first and last entries swapped");

		/* a duplicate: entry 5 copied over entry 6 */
		strbuf_reset(&idx);
		strbuf_add(&idx, good->buf, good->len);
		memcpy(idx.buf + PACK_IDX_HDR_SZ + 6 * PACK_IDX_ENTRY_SZ,
		       idx.buf + PACK_IDX_HDR_SZ + 5 * PACK_IDX_ENTRY_SZ, PACK_IDX_ENTRY_SZ);
		fix_trailer(&idx);
		ok(decode(&idx, &err) == CAIRN_EFORMAT, "duplicate entries");
	}

	/* entry fields, each with a good checksum */
	{
		static const struct {
			size_t off; /* in the entry */
			int what;   /* 0: byte value, 1: le32, 2: le64 */
			uint64_t v;
			const char *name;
		} cases[] = {
			{ 16, 0, 0, "type 0" },
			{ 16, 0, 4, "type 4" },
			{ 17, 0, 4, "codec 4" },
			{ 17, 0, 255, "codec 255" },
			{ 18, 0, 1, "flags low byte" },
			{ 19, 0, 0x80, "flags high byte" },
			{ 20, 1, OBJ_MAX_SIZE + 1u, "raw_len over the limit" },
			{ 24, 1, OBJ_MAX_SIZE + 1u, "stored_len over the limit" },
			{ 28, 2, 0, "offset 0 (inside the header)" },
			{ 28, 2, 15, "offset 15" },
			{ 28, 2, UINT64_MAX, "offset 2^64-1" },
			{ 28, 2, UINT64_MAX - 10, "offset near 2^64 (overflow)" },
		};
		size_t c, which;
		for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
			int refused = 1;
			for (which = 0; which < n; which += n - 1) {
				uint8_t *q;
				strbuf_reset(&idx);
				strbuf_add(&idx, good->buf, good->len);
				q = (uint8_t *)idx.buf + PACK_IDX_HDR_SZ + which * PACK_IDX_ENTRY_SZ;
				if (cases[c].what == 0)
					q[cases[c].off] = (uint8_t)cases[c].v;
				else if (cases[c].what == 1)
					put_le32(q + cases[c].off, (uint32_t)cases[c].v);
				else
					put_le64(q + cases[c].off, cases[c].v);
				fix_trailer(&idx);
				if (decode(&idx, &err) != CAIRN_EFORMAT)
					refused = 0;
			}
			ok(refused, "entry with %s is refused", cases[c].name);
		}
	}

	/* offsets against the pack size */
	{
		struct pack_entry *e = NULL;
		struct oid pid;
		uint64_t psize;
		size_t cnt, last = 0, k;
		r = pack_idx_decode(good->buf, good->len, "x", &pid, &psize, &e, &cnt, &err);
		/* the entry that ends the pack */
		for (k = 0; k < cnt; k++)
			if (e[k].offset + PACK_ENTRY_HDR_SZ + e[k].stored_len == pack_size)
				last = k;
		ok(r == 0 && e[last].offset + PACK_ENTRY_HDR_SZ + e[last].stored_len == pack_size,
		   "entry %zu ends the pack", last);

		strbuf_reset(&idx);
		strbuf_add(&idx, good->buf, good->len);
		put_le64((uint8_t *)idx.buf + PACK_IDX_HDR_SZ + last * PACK_IDX_ENTRY_SZ + 28,
			 pack_size);
		fix_trailer(&idx);
		ok(decode(&idx, &err) == CAIRN_EFORMAT, "entry offset at the pack size");
		put_le64((uint8_t *)idx.buf + PACK_IDX_HDR_SZ + last * PACK_IDX_ENTRY_SZ + 28,
			 pack_size + 1000);
		fix_trailer(&idx);
		ok(decode(&idx, &err) == CAIRN_EFORMAT, "entry offset beyond the pack size");
		put_le64((uint8_t *)idx.buf + PACK_IDX_HDR_SZ + last * PACK_IDX_ENTRY_SZ + 28,
			 e[last].offset + 1);
		fix_trailer(&idx);
		ok(decode(&idx, &err) == CAIRN_EFORMAT, "entry data one byte past the pack end");
		/* the pack size one byte short */
		strbuf_reset(&idx);
		strbuf_add(&idx, good->buf, good->len);
		put_le64((uint8_t *)idx.buf + 32, pack_size - 1);
		fix_trailer(&idx);
		ok(decode(&idx, &err) == CAIRN_EFORMAT, "pack size one byte short of the last entry");
		/* raw entry with stored_len != raw_len */
		for (k = 0; k < cnt && e[k].codec != CODEC_RAW; k++)
			;
		if (k < cnt) {
			strbuf_reset(&idx);
			strbuf_add(&idx, good->buf, good->len);
			put_le32((uint8_t *)idx.buf + PACK_IDX_HDR_SZ + k * PACK_IDX_ENTRY_SZ + 20,
				 e[k].raw_len + 1);
			fix_trailer(&idx);
			ok(decode(&idx, &err) == CAIRN_EFORMAT, "raw entry with raw_len != stored_len");
		} else {
			ok(0, "no raw entry to test with");
		}
		free(e);
	}

	/* garbage is not an index */
	{
		struct pack_entry *e = NULL;
		struct oid pid;
		uint64_t psize;
		size_t cnt = 99;
		ok(pack_idx_decode("", 0, "x", &pid, &psize, &e, &cnt, &err) == CAIRN_EFORMAT,
		   "an empty file is not an index");
		/* a huge count in a short file must not allocate */
		strbuf_reset(&idx);
		strbuf_add(&idx, good->buf, good->len);
		put_le32((uint8_t *)idx.buf + 12, UINT32_MAX);
		fix_trailer(&idx);
		ok(decode(&idx, &err) == CAIRN_EFORMAT, "count 2^32-1 in a short file");
	}
	/* the message names the file */
	strbuf_reset(&idx);
	strbuf_add(&idx, good->buf, good->len);
	idx.buf[100] ^= 1;
	ok(decode(&idx, &err) == CAIRN_ECORRUPT && strstr(err.buf, "test.idx"),
	   "message names the index: %s", err.buf);

	strbuf_release(&idx);
	strbuf_release(&err);
}

static void test_entry_header(void)
{
	struct pack_entry e, d;
	uint8_t h[PACK_ENTRY_HDR_SZ], b[PACK_ENTRY_HDR_SZ];
	int t, c;

	memset(&e, 0, sizeof(e));
	oid_hash(&e.id, "x", 1);
	e.type = OBJ_TREE;
	e.codec = CODEC_ZSTD;
	e.raw_len = 1000;
	e.stored_len = 100;
	pack_entry_header_encode(h, &e);
	ok(pack_entry_header_decode(h, &d) == 0 && d.type == e.type && d.codec == e.codec &&
	   d.raw_len == 1000 && d.stored_len == 100 && oid_eq(&d.id, &e.id),
	   "entry header round trip");
	ok(h[0] == OBJ_TREE && h[1] == CODEC_ZSTD && !h[2] && !h[3] && get_le32(h + 4) == 1000 &&
	   get_le32(h + 8) == 100 && !memcmp(h + 12, e.id.b, 16), "entry header layout");

	for (t = 0; t < 256; t++) {
		int want = t >= OBJ_CHUNK && t <= OBJ_TREE;
		memcpy(b, h, sizeof(b));
		b[0] = (uint8_t)t;
		if ((pack_entry_header_decode(b, &d) == 0) != want)
			break;
	}
	ok(t == 256, "entry header: only types 1..3 accepted");
	for (c = 0; c < 256; c++) {
		int want = c <= CODEC_MAX;
		memcpy(b, h, sizeof(b));
		b[1] = (uint8_t)c;
		if (c == CODEC_RAW)
			put_le32(b + 8, 1000);
		if ((pack_entry_header_decode(b, &d) == 0) != want)
			break;
	}
	ok(c == 256, "entry header: only codecs 0..4 accepted");
	memcpy(b, h, sizeof(b));
	b[1] = CODEC_DELTA;
	for (t = OBJ_CHUNK; t <= OBJ_TREE; t++) {
		b[0] = (uint8_t)t;
		if ((pack_entry_header_decode(b, &d) == 0) != (t == OBJ_TREE))
			break;
	}
	ok(t == OBJ_TREE + 1, "entry header: a delta only for a tree");
	memcpy(b, h, sizeof(b));
	b[2] = 1;
	ok(pack_entry_header_decode(b, &d) == CAIRN_EFORMAT, "entry header: flags byte 2");
	memcpy(b, h, sizeof(b));
	b[3] = 0x40;
	ok(pack_entry_header_decode(b, &d) == CAIRN_EFORMAT, "entry header: flags byte 3");
	memcpy(b, h, sizeof(b));
	put_le32(b + 4, OBJ_MAX_SIZE + 1);
	ok(pack_entry_header_decode(b, &d) == CAIRN_EFORMAT, "entry header: raw_len too big");
	put_le32(b + 4, OBJ_MAX_SIZE);
	ok(pack_entry_header_decode(b, &d) == 0, "entry header: raw_len at the limit");
	memcpy(b, h, sizeof(b));
	put_le32(b + 8, UINT32_MAX);
	ok(pack_entry_header_decode(b, &d) == CAIRN_EFORMAT, "entry header: stored_len 2^32-1");
	memcpy(b, h, sizeof(b));
	b[1] = CODEC_RAW;
	ok(pack_entry_header_decode(b, &d) == CAIRN_EFORMAT,
	   "entry header: raw codec with stored_len != raw_len");
	put_le32(b + 8, 1000);
	ok(pack_entry_header_decode(b, &d) == 0, "entry header: raw codec with equal lengths");

	/* the pack header */
	{
		uint8_t ph[PACK_HDR_SZ], x[PACK_HDR_SZ];
		pack_header_encode(ph);
		ok(pack_header_check(ph) == 0, "pack header: good");
		memcpy(x, ph, sizeof(x));
		x[0] = 'c';
		ok(pack_header_check(x) == CAIRN_EFORMAT, "pack header: bad magic");
		memcpy(x, ph, sizeof(x));
		put_le32(x + 8, 2);
		ok(pack_header_check(x) == CAIRN_EVERSION, "pack header: version 2");
		memcpy(x, ph, sizeof(x));
		x[15] = 1;
		ok(pack_header_check(x) == CAIRN_EFORMAT, "pack header: reserved not zero");
	}
	ok(!strcmp(obj_type_name(OBJ_CHUNK), "chunk") && !strcmp(obj_type_name(OBJ_TREE), "tree") &&
	   !strcmp(obj_type_name(OBJ_MANIFEST), "manifest") && !strcmp(obj_type_name(9), "unknown"),
	   "obj_type_name");
}

/*
 * A pack of no objects. Last, because pack_idx_encode() passes a NULL
 * array to qsort() when there are no entries, which UBSan reports (and
 * aborts on) in a SANITIZE=undefined build.
 */
static void test_empty_pack(void)
{
	struct pack_writer w;
	struct strbuf err = STRBUF_INIT, empty = STRBUF_INIT, idx = STRBUF_INIT;
	struct pack_entry *e = NULL;
	struct oid pid, id;
	uint64_t psize;
	size_t cnt = 99;
	int r, before = count_files(packdir, NULL);

	r = pack_writer_open(&w, packtmp, &err);
	if (!r) {
		r = pack_writer_finish(&w, packdir, &id, &err);
		pack_writer_release(&w);
	}
	ok(r == 0 && count_files(packdir, NULL) == before + 2 && count_files(packtmp, NULL) == 0,
	   "an empty pack is written");
	if (!r) {
		char hex[OID_HEXSZ + 1];
		char *path = xstrfmt("%s/%s.idx", packdir, oid_to_hex(&id, hex));
		r = read_whole(path, &idx);
		if (!r)
			r = pack_idx_decode(idx.buf, idx.len, path, &pid, &psize, &e, &cnt, &err);
		ok(r == 0 && cnt == 0 && psize == PACK_HDR_SZ && oid_eq(&pid, &id),
		   "the empty pack's index decodes");
		free(e);
		e = NULL;
		free(path);
	}

	memset(&pid, 7, sizeof(pid));
	pack_idx_encode(&empty, &pid, PACK_HDR_SZ, NULL, 0);
	r = pack_idx_decode(empty.buf, empty.len, "empty", &pid, &psize, &e, &cnt, &err);
	ok(r == 0 && cnt == 0 && psize == PACK_HDR_SZ && pid.b[0] == 7,
	   "an index of no entries decodes");
	free(e);
	strbuf_release(&empty);
	strbuf_release(&idx);
	strbuf_release(&err);
}

int main(void)
{
	struct strbuf idx = STRBUF_INIT;
	uint64_t pack_size = 0;

	if (!mkdtemp(tmpdir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	packtmp = xstrfmt("%s/tmp", tmpdir);
	packdir = xstrfmt("%s/packs", tmpdir);
	if (mkdir(packtmp, 0777) < 0 || mkdir(packdir, 0777) < 0) {
		printf("Bail out! mkdir: %s\n", strerror(errno));
		return 1;
	}
	make_objects();
	test_write_read(&idx, &pack_size);
	test_writer_abandoned();
	if (idx.len)
		test_idx_rejects(&idx, pack_size);
	test_entry_header();
	test_empty_pack();
	free_objects();
	strbuf_release(&idx);
	remove_dir(packtmp);
	remove_dir(packdir);
	if (rmdir(tmpdir) < 0)
		diag("cannot remove '%s': %s", tmpdir, strerror(errno));
	free(packtmp);
	free(packdir);
	return tap_done();
}
