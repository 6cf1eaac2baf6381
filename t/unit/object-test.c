/*
 * Unit tests for core/object.c: manifest and tree encodings round trip and
 * are stable, the strict decoders refuse malformed input, and entry names
 * that could escape or touch .git are refused (CAIRN_EUNSAFE).
 */
#include "core/hash.h"
#include "core/object.h"
#include "core/util.h"
#include "t/unit/tap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0x0b1ec7ULL;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rnd_bytes(uint8_t *p, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

/* --- manifests --- */

static void make_manifest(struct manifest *m, size_t n)
{
	size_t i;
	manifest_init(m);
	rnd_bytes(m->sha.b, SHA256_RAWSZ);
	for (i = 0; i < n; i++) {
		struct oid id;
		uint32_t len = i % 7 == 3 ? 1 : i % 7 == 5 ? (64u << 20) : 1 + (uint32_t)(rnd() % 300000);
		rnd_bytes(id.b, OID_RAWSZ);
		manifest_add(m, &id, len);
		m->size += len;
	}
}

static int manifest_same(const struct manifest *a, const struct manifest *b)
{
	size_t i;
	if (a->size != b->size || a->n != b->n || !sha256_eq(&a->sha, &b->sha))
		return 0;
	for (i = 0; i < a->n; i++)
		if (!oid_eq(&a->chunks[i].id, &b->chunks[i].id) || a->chunks[i].len != b->chunks[i].len)
			return 0;
	return 1;
}

/* Fix the trailing XXH3-64 of an encoded manifest after editing it. */
static void manifest_fix_sum(struct strbuf *sb)
{
	put_le64((uint8_t *)sb->buf + sb->len - 8, xxh64_sum(sb->buf, sb->len - 8));
}

static void test_manifest(void)
{
	static const size_t counts[] = { 0, 1, 2, 7, 1000 };
	struct strbuf enc = STRBUF_INIT, enc2 = STRBUF_INIT, err = STRBUF_INIT, bad = STRBUF_INIT;
	struct manifest m, d;
	size_t ci, i;
	int r, all;

	for (ci = 0; ci < sizeof(counts) / sizeof(counts[0]); ci++) {
		make_manifest(&m, counts[ci]);
		manifest_encode(&m, &enc);
		r = manifest_decode(&d, enc.buf, enc.len, &err);
		ok(r == 0 && manifest_same(&m, &d), "manifest of %zu chunks round trips", counts[ci]);
		manifest_encode(&d, &enc2);
		ok(enc.len == enc2.len && !memcmp(enc.buf, enc2.buf, enc.len),
		   "manifest of %zu chunks: re-encoding gives the same bytes", counts[ci]);
		manifest_release(&d);
		manifest_release(&m);
	}
	ok(m.chunks == NULL && m.n == 0, "manifest_release resets");

	make_manifest(&m, 5);
	manifest_encode(&m, &enc);
	ok(!memcmp(enc.buf, "CMF1", 4), "manifest magic");

	/* checksum: any flipped byte */
	all = 1;
	for (i = 0; i < enc.len; i++) {
		strbuf_reset(&bad);
		strbuf_add(&bad, enc.buf, enc.len);
		bad.buf[i] ^= 0x10;
		r = manifest_decode(&d, bad.buf, bad.len, &err);
		if (r != CAIRN_ECORRUPT && !(i < 4 && r == CAIRN_EFORMAT))
			all = 0;
		if (d.chunks)
			all = 0;
	}
	ok(all, "manifest with any byte flipped fails (checksum)");

	/* truncated */
	all = 1;
	for (i = 0; i < enc.len; i++) {
		r = manifest_decode(&d, enc.buf, i, &err);
		if (r >= 0)
			all = 0;
	}
	ok(all, "truncated manifests are refused");
	/* truncated, with a recomputed checksum */
	all = 1;
	for (i = 4 + 8; i < enc.len - 8; i++) {
		strbuf_reset(&bad);
		strbuf_add(&bad, enc.buf, i);
		strbuf_add(&bad, "\0\0\0\0\0\0\0\0", 8);
		manifest_fix_sum(&bad);
		r = manifest_decode(&d, bad.buf, bad.len, &err);
		if (r != CAIRN_EFORMAT) {
			diag("cut at %zu: %d", i, r);
			all = 0;
		}
	}
	ok(all, "truncated manifests with a good checksum are malformed");

	/* sizes not summing */
	m.size += 1;
	manifest_encode(&m, &bad);
	r = manifest_decode(&d, bad.buf, bad.len, &err);
	ok(r == CAIRN_EFORMAT, "manifest whose size is one more than the chunks (%s)", err.buf);
	m.size -= 2;
	manifest_encode(&m, &bad);
	ok(manifest_decode(&d, bad.buf, bad.len, &err) == CAIRN_EFORMAT,
	   "manifest whose size is one less than the chunks");
	m.size += 1;

	/* a zero-length chunk */
	{
		struct manifest z;
		struct oid id;
		manifest_init(&z);
		oid_hash(&id, "", 0);
		manifest_add(&z, &m.chunks[0].id, 10);
		manifest_add(&z, &id, 0);
		manifest_add(&z, &m.chunks[1].id, 10);
		z.size = 20;
		manifest_encode(&z, &bad);
		ok(manifest_decode(&d, bad.buf, bad.len, &err) == CAIRN_EFORMAT,
		   "manifest with a zero-length chunk");
		/* a chunk over 64 MiB */
		z.chunks[1].len = (64u << 20) + 1;
		z.size = 20 + z.chunks[1].len;
		manifest_encode(&z, &bad);
		ok(manifest_decode(&d, bad.buf, bad.len, &err) == CAIRN_EFORMAT,
		   "manifest with a chunk over 64 MiB");
		manifest_release(&z);
	}

	/* trailing bytes before the checksum */
	strbuf_reset(&bad);
	strbuf_add(&bad, enc.buf, enc.len - 8);
	strbuf_addch(&bad, 0);
	strbuf_add(&bad, "\0\0\0\0\0\0\0\0", 8);
	manifest_fix_sum(&bad);
	ok(manifest_decode(&d, bad.buf, bad.len, &err) == CAIRN_EFORMAT,
	   "manifest with a trailing byte");
	/* a count larger than the data */
	{
		struct manifest one;
		make_manifest(&one, 1);
		manifest_encode(&one, &bad);
		/* the count is the byte after magic, size varint and sha */
		{
			uint64_t sz;
			size_t u = get_varint((const uint8_t *)bad.buf + 4, bad.len - 4, &sz);
			bad.buf[4 + u + SHA256_RAWSZ] = 2;
			manifest_fix_sum(&bad);
		}
		ok(manifest_decode(&d, bad.buf, bad.len, &err) == CAIRN_EFORMAT,
		   "manifest claiming more chunks than it holds");
		manifest_release(&one);
	}
	/* a non-canonical varint (size 5 written as 0x85 0x00) */
	{
		struct manifest one;
		struct strbuf nc = STRBUF_INIT;
		manifest_init(&one);
		manifest_add(&one, &m.chunks[0].id, 5);
		one.size = 5;
		manifest_encode(&one, &bad);
		strbuf_add(&nc, "CMF1\x85\x00", 6);
		strbuf_add(&nc, bad.buf + 5, bad.len - 5);
		manifest_fix_sum(&nc);
		ok(manifest_decode(&d, nc.buf, nc.len, &err) == CAIRN_EFORMAT,
		   "manifest with a non-canonical varint");
		manifest_release(&one);
		strbuf_release(&nc);
	}
	ok(manifest_decode(&d, "CMF2", 4, &err) == CAIRN_EFORMAT, "a 4-byte manifest");
	strbuf_reset(&bad);
	strbuf_add(&bad, enc.buf, enc.len);
	bad.buf[3] = '2';
	manifest_fix_sum(&bad);
	ok(manifest_decode(&d, bad.buf, bad.len, &err) == CAIRN_EFORMAT, "manifest magic CMF2");

	manifest_release(&m);
	strbuf_release(&enc);
	strbuf_release(&enc2);
	strbuf_release(&bad);
	strbuf_release(&err);
}

/* --- trees --- */

static void fill_entry(struct tree_entry *e, uint64_t size, uint64_t files)
{
	e->size = size;
	e->files = files;
	rnd_bytes(e->id.b, OID_RAWSZ);
	rnd_bytes(e->sha.b, SHA256_RAWSZ);
}

static void make_tree(struct tree *t)
{
	tree_init(t);
	fill_entry(tree_add(t, "weights.bin", MODE_FILE), 123456789, 0);
	fill_entry(tree_add(t, "run.sh", MODE_EXEC), 77, 0);
	fill_entry(tree_add(t, "latest", MODE_LINK), 8, 0);
	fill_entry(tree_add(t, "data", MODE_DIR), (uint64_t)1 << 40, 100000);
	fill_entry(tree_add(t, "empty", MODE_FILE), 0, 0);
	fill_entry(tree_add(t, "\xc3\xa9t\xc3\xa9", MODE_FILE), 5, 0); /* "été" */
	fill_entry(tree_add(t, "Z", MODE_FILE), (uint64_t)1 << 62, 0);
	fill_entry(tree_add(t, ".gitignore", MODE_FILE), 12, 0);
	tree_sort(t);
}

static int tree_same(const struct tree *a, const struct tree *b)
{
	size_t i;
	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++) {
		const struct tree_entry *x = &a->e[i], *y = &b->e[i];
		if (x->mode != y->mode || x->size != y->size || x->files != y->files ||
		    !oid_eq(&x->id, &y->id) || !sha256_eq(&x->sha, &y->sha) || strcmp(x->name, y->name))
			return 0;
	}
	return 1;
}

/* One raw tree entry with a name of any bytes (tree_add cannot hold a NUL). */
static void put_entry(struct strbuf *sb, uint64_t mode, uint64_t size, uint64_t files,
		      const char *name, size_t nl)
{
	uint8_t zero[SHA256_RAWSZ];
	memset(zero, 0x11, sizeof(zero));
	strbuf_add_varint(sb, mode);
	strbuf_add_varint(sb, size);
	strbuf_add_varint(sb, files);
	strbuf_add(sb, zero, OID_RAWSZ);
	strbuf_add(sb, zero, SHA256_RAWSZ);
	strbuf_add_varint(sb, nl);
	strbuf_add(sb, name, nl);
}

static void tree_start(struct strbuf *sb, uint64_t n)
{
	strbuf_reset(sb);
	strbuf_add(sb, "CTR1", 4);
	strbuf_add_varint(sb, n);
}

static void test_tree_round_trip(void)
{
	struct tree t, d;
	struct strbuf enc = STRBUF_INIT, enc2 = STRBUF_INIT, err = STRBUF_INIT;
	struct oid id, id2, hid;
	struct sha256 sha, sha2, hsha;
	uint64_t size, files;
	int r;

	make_tree(&t);
	tree_encode(&t, &enc, &id, &sha);
	tree_encode(&t, &enc2, &id2, &sha2);
	ok(enc.len == enc2.len && !memcmp(enc.buf, enc2.buf, enc.len) && oid_eq(&id, &id2) &&
	   sha256_eq(&sha, &sha2), "tree encoding is stable (encode twice)");
	oid_hash(&hid, enc.buf, enc.len);
	sha256_hash(&hsha, enc.buf, enc.len);
	ok(oid_eq(&id, &hid) && sha256_eq(&sha, &hsha), "tree id and sha256 are those of the encoding");
	ok(!memcmp(enc.buf, "CTR1", 4), "tree magic");
	tree_encode(&t, &enc2, NULL, NULL);
	ok(enc.len == enc2.len && !memcmp(enc.buf, enc2.buf, enc.len), "tree_encode without id/sha");

	r = tree_decode(&d, enc.buf, enc.len, &err);
	ok(r == 0 && tree_same(&t, &d), "tree round trips (%s)", err.buf);
	tree_encode(&d, &enc2, &id2, &sha2);
	ok(oid_eq(&id, &id2) && sha256_eq(&sha, &sha2), "decoded tree encodes to the same id");
	{
		size_t i;
		int sorted = 1;
		for (i = 1; i < d.n; i++)
			if (strcmp(d.e[i - 1].name, d.e[i].name) >= 0)
				sorted = 0;
		ok(sorted && !strcmp(d.e[0].name, ".gitignore"), "entries sorted bytewise");
	}
	ok(tree_find(&d, "data") && tree_find(&d, "data")->mode == MODE_DIR &&
	   tree_find(&d, "Z") && tree_find(&d, ".gitignore") && !tree_find(&d, "dat") &&
	   !tree_find(&d, "zz") && !tree_find(&d, ""), "tree_find");
	tree_totals(&d, &size, &files);
	ok(files == 100000 + 7, "tree_totals: files (%llu)", (unsigned long long)files);
	ok(size == 123456789ULL + 77 + 8 + ((uint64_t)1 << 40) + 0 + 5 + ((uint64_t)1 << 62) + 12,
	   "tree_totals: size (%llu)", (unsigned long long)size);

	/* insertion order does not matter */
	{
		struct tree u;
		size_t i;
		tree_init(&u);
		for (i = t.n; i-- > 0;) {
			struct tree_entry *e = tree_add(&u, t.e[i].name, t.e[i].mode);
			e->size = t.e[i].size;
			e->files = t.e[i].files;
			e->id = t.e[i].id;
			e->sha = t.e[i].sha;
		}
		tree_sort(&u);
		tree_encode(&u, &enc2, &id2, NULL);
		ok(oid_eq(&id, &id2), "same entries added in another order: same id");
		tree_release(&u);
	}
	/* the largest size and file count round trip (10-byte varints) */
	{
		struct tree big, bd;
		struct tree_entry *e;
		tree_init(&big);
		e = tree_add(&big, "big", MODE_DIR);
		fill_entry(e, UINT64_MAX, UINT64_MAX);
		tree_encode(&big, &enc2, NULL, NULL);
		ok(tree_decode(&bd, enc2.buf, enc2.len, &err) == 0 && tree_same(&big, &bd),
		   "size and files of 2^64-1 round trip");
		tree_release(&big);
		tree_release(&bd);
	}
	/* the empty tree */
	{
		struct tree e0, e1;
		tree_init(&e0);
		tree_encode(&e0, &enc2, &id2, NULL);
		ok(enc2.len == 5 && !memcmp(enc2.buf, "CTR1\0", 5), "empty tree encoding");
		ok(tree_decode(&e1, enc2.buf, enc2.len, &err) == 0 && e1.n == 0, "empty tree decodes");
		tree_release(&e1);
	}
	/* a change in any field changes the id */
	{
		struct tree_entry *e = (struct tree_entry *)tree_find(&t, "run.sh");
		e->mode = MODE_FILE;
		tree_encode(&t, &enc2, &id2, NULL);
		ok(!oid_eq(&id, &id2), "mode change changes the tree id");
		e->mode = MODE_EXEC;
		e->size++;
		tree_encode(&t, &enc2, &id2, NULL);
		ok(!oid_eq(&id, &id2), "size change changes the tree id");
		e->size--;
		tree_encode(&t, &enc2, &id2, NULL);
		ok(oid_eq(&id, &id2), "and back");
	}
	tree_release(&t);
	tree_release(&d);
	strbuf_release(&enc);
	strbuf_release(&enc2);
	strbuf_release(&err);
}

static void test_tree_rejects(void)
{
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT, good = STRBUF_INIT;
	struct tree t, d;
	size_t i;
	int r, all;

	make_tree(&t);
	tree_encode(&t, &good, NULL, NULL);

	strbuf_reset(&sb);
	strbuf_add(&sb, good.buf, good.len);
	sb.buf[3] = '2';
	ok(tree_decode(&d, sb.buf, sb.len, &err) == CAIRN_EFORMAT && d.e == NULL,
	   "tree: bad magic");
	ok(tree_decode(&d, "CTR", 3, &err) == CAIRN_EFORMAT, "tree: 3 bytes");
	ok(tree_decode(&d, "", 0, &err) == CAIRN_EFORMAT, "tree: empty input");

	all = 1;
	for (i = 0; i < good.len; i++) {
		r = tree_decode(&d, good.buf, i, &err);
		if (r != CAIRN_EFORMAT) {
			diag("truncated to %zu: %d", i, r);
			all = 0;
		}
		if (d.e || d.n)
			all = 0;
	}
	ok(all, "tree: every truncation is malformed, nothing left allocated");

	strbuf_reset(&sb);
	strbuf_add(&sb, good.buf, good.len);
	strbuf_addch(&sb, 0);
	ok(tree_decode(&d, sb.buf, sb.len, &err) == CAIRN_EFORMAT, "tree: a trailing byte");

	/* unsorted and duplicate names */
	tree_start(&sb, 2);
	put_entry(&sb, MODE_FILE, 1, 0, "b", 1);
	put_entry(&sb, MODE_FILE, 1, 0, "a", 1);
	ok(tree_decode(&d, sb.buf, sb.len, &err) == CAIRN_EFORMAT, "tree: unsorted names (%s)",
	   err.buf);
	tree_start(&sb, 2);
	put_entry(&sb, MODE_FILE, 1, 0, "a", 1);
	put_entry(&sb, MODE_DIR, 1, 1, "a", 1);
	ok(tree_decode(&d, sb.buf, sb.len, &err) == CAIRN_EFORMAT, "tree: duplicate names");
	tree_start(&sb, 3);
	put_entry(&sb, MODE_FILE, 1, 0, "a", 1);
	put_entry(&sb, MODE_FILE, 1, 0, "ab", 2);
	put_entry(&sb, MODE_FILE, 1, 0, "ab", 2);
	ok(tree_decode(&d, sb.buf, sb.len, &err) == CAIRN_EFORMAT, "tree: duplicate last names");
	tree_start(&sb, 2);
	put_entry(&sb, MODE_FILE, 1, 0, "a\xff", 2);
	put_entry(&sb, MODE_FILE, 1, 0, "a\x01", 2);
	ok(tree_decode(&d, sb.buf, sb.len, &err) == CAIRN_EFORMAT,
	   "tree: names compare as unsigned bytes");
	tree_start(&sb, 2);
	put_entry(&sb, MODE_FILE, 1, 0, "a\x01", 2);
	put_entry(&sb, MODE_FILE, 1, 0, "a\xff", 2);
	ok(tree_decode(&d, sb.buf, sb.len, &err) == 0 && d.n == 2, "tree: a\\x01 before a\\xff");
	tree_release(&d);

	/* modes */
	{
		static const uint64_t bad_modes[] = { 0, 0100664, 0100777, 0100000, 040755, 0160000,
						      0120777, 0644, 0755, UINT64_MAX };
		all = 1;
		for (i = 0; i < sizeof(bad_modes) / sizeof(bad_modes[0]); i++) {
			tree_start(&sb, 1);
			put_entry(&sb, bad_modes[i], 1, 0, "a", 1);
			if (tree_decode(&d, sb.buf, sb.len, &err) != CAIRN_EFORMAT) {
				diag("mode %llo accepted", (unsigned long long)bad_modes[i]);
				all = 0;
			}
		}
		ok(all, "tree: unknown modes (0, 0100664, 0100777, 0160000, ...)");
	}
	/* files on a non-dir entry */
	tree_start(&sb, 1);
	put_entry(&sb, MODE_FILE, 1, 1, "a", 1);
	ok(tree_decode(&d, sb.buf, sb.len, &err) == CAIRN_EFORMAT, "tree: files=1 on a file");
	tree_start(&sb, 1);
	put_entry(&sb, MODE_EXEC, 1, 7, "a", 1);
	ok(tree_decode(&d, sb.buf, sb.len, &err) == CAIRN_EFORMAT, "tree: files=7 on an executable");
	tree_start(&sb, 1);
	put_entry(&sb, MODE_LINK, 1, 1, "a", 1);
	ok(tree_decode(&d, sb.buf, sb.len, &err) == CAIRN_EFORMAT, "tree: files=1 on a symlink");
	tree_start(&sb, 1);
	put_entry(&sb, MODE_DIR, 1, 0, "a", 1);
	ok(tree_decode(&d, sb.buf, sb.len, &err) == 0, "tree: files=0 on a dir is fine");
	tree_release(&d);

	/* counts */
	tree_start(&sb, 2);
	put_entry(&sb, MODE_FILE, 1, 0, "a", 1);
	ok(tree_decode(&d, sb.buf, sb.len, &err) == CAIRN_EFORMAT, "tree: count 2, one entry");
	tree_start(&sb, UINT64_MAX);
	put_entry(&sb, MODE_FILE, 1, 0, "a", 1);
	ok(tree_decode(&d, sb.buf, sb.len, &err) == CAIRN_EFORMAT, "tree: count 2^64-1");
	tree_start(&sb, 0);
	put_entry(&sb, MODE_FILE, 1, 0, "a", 1);
	ok(tree_decode(&d, sb.buf, sb.len, &err) == CAIRN_EFORMAT, "tree: count 0, one entry");
	/* a name length past the end */
	tree_start(&sb, 1);
	put_entry(&sb, MODE_FILE, 1, 0, "abc", 3);
	sb.buf[sb.len - 4] = 4;
	ok(tree_decode(&d, sb.buf, sb.len, &err) == CAIRN_EFORMAT, "tree: name length past the end");
	/* non-canonical varint in the mode */
	strbuf_reset(&sb);
	strbuf_add(&sb, "CTR1\x01", 5);
	strbuf_add(&sb, "\xa4\x80\x02\x00", 4); /* 0100644 = 33188 would be a4 83 02 */
	ok(tree_decode(&d, sb.buf, sb.len, &err) == CAIRN_EFORMAT, "tree: malformed varint");

	tree_release(&t);
	strbuf_release(&sb);
	strbuf_release(&err);
	strbuf_release(&good);
}

struct name_case {
	const char *name;
	size_t len; /* 0: strlen */
	const char *what;
};

static const struct name_case unsafe_names[] = {
	{ ".", 0, "." },
	{ "..", 0, ".." },
	{ ".git", 0, ".git" },
	{ ".GIT", 0, ".GIT" },
	{ ".Git", 0, ".Git" },
	{ ".gIt", 0, ".gIt" },
	{ ".git.", 0, ".git." },
	{ ".git..", 0, ".git.." },
	{ ".git ", 0, "'.git '" },
	{ ".git . ", 0, "'.git . '" },
	{ "git~1", 0, "git~1" },
	{ "GIT~1", 0, "GIT~1" },
	{ "Git~1.", 0, "Git~1." },
	{ ".\xe2\x80\x8cgit", 0, ".<U+200C>git" },
	{ ".g\xe2\x80\x8cit", 0, ".g<U+200C>it" },
	{ ".gi\xe2\x80\x8ct", 0, ".gi<U+200C>t" },
	{ "\xe2\x80\x8c.git", 0, "<U+200C>.git" },
	{ ".git\xe2\x80\x8c", 0, ".git<U+200C>" },
	{ "\xe2\x80\x8c.git\xe2\x80\x8c", 0, "<U+200C>.git<U+200C>" },
	{ "\xef\xbb\xbf.git", 0, "<U+FEFF>.git" },
	{ ".G\xe2\x80\x8dIT", 0, ".G<U+200D>IT" },
	{ ".git\xe2\x80\xae", 0, ".git<U+202E>" },
	{ ".\xe2\x81\xaagit", 0, ".<U+206A>git" },
	{ "a/b", 0, "a/b" },
	{ "/", 0, "/" },
	{ "a/", 0, "a/" },
	{ "a\\b", 0, "a\\b" },
	{ "\\", 0, "\\" },
	{ "a\0b", 3, "a<NUL>b" },
	{ "\0", 1, "<NUL>" },
	{ "ab\0", 3, "ab<NUL>" },
	{ "C:", 0, "C:" },
	{ "c:", 0, "c:" },
	{ "", 0, "empty name" },
	{ ".cairn", 0, ".cairn" },
	{ ".CAIRN", 0, ".CAIRN" },
	{ ".cairn.", 0, ".cairn." },
	{ NULL, 256, "a 256-byte name" },
	{ NULL, 300, "a 300-byte name" },
};

static const struct name_case safe_names[] = {
	{ ".gitignore", 0, ".gitignore" },
	{ ".github", 0, ".github" },
	{ ".gitmodules", 0, ".gitmodules" },
	{ "git", 0, "git" },
	{ "a.git", 0, "a.git" },
	{ ".git~1", 0, ".git~1" },
	{ "git~2", 0, "git~2" },
	{ "..a", 0, "..a" },
	{ "a..", 0, "a.." },
	{ "...", 0, "..." },
	{ ".a", 0, ".a" },
	{ "C:x", 0, "C:x" },
	{ "CC:", 0, "CC:" },
	{ ".cairnignore", 0, ".cairnignore" },
	{ "x.cairn", 0, "x.cairn" },
	{ "cairn", 0, "cairn" },
	{ "\xff\xfe", 0, "invalid UTF-8" },
	{ "\xc3\xa9t\xc3\xa9", 0, "UTF-8 été" },
	{ "\xe2\x80\x8c", 0, "a lone U+200C" },
	{ " ", 0, "a space" },
	{ "\n", 0, "a newline" },
	{ NULL, 255, "a 255-byte name" },
	{ NULL, 1, "a 1-byte name" },
};

static void test_names(void)
{
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;
	char longname[301];
	size_t i;

	memset(longname, 'n', sizeof(longname) - 1);
	longname[300] = '\0';
	for (i = 0; i < sizeof(unsafe_names) / sizeof(unsafe_names[0]); i++) {
		const struct name_case *c = &unsafe_names[i];
		const char *name = c->name ? c->name : longname;
		size_t len = c->len ? c->len : strlen(name);
		struct tree d;
		int r;
		ok(entry_name_ok(name, len) == 0, "entry_name_ok refuses %s", c->what);
		tree_start(&sb, 1);
		put_entry(&sb, MODE_FILE, 1, 0, name, len);
		strbuf_reset(&err);
		r = tree_decode(&d, sb.buf, sb.len, &err);
		ok(r == CAIRN_EUNSAFE && d.n == 0 && d.e == NULL, "tree_decode: %s is unsafe (%s)",
		   c->what, err.buf);
		/* also as the second entry, after a good one */
		tree_start(&sb, 2);
		put_entry(&sb, MODE_DIR, 1, 1, "\x01", 1);
		put_entry(&sb, MODE_FILE, 1, 0, name, len);
		r = tree_decode(&d, sb.buf, sb.len, &err);
		ok(r == CAIRN_EUNSAFE && d.e == NULL, "tree_decode: %s as a second entry", c->what);
	}
	for (i = 0; i < sizeof(safe_names) / sizeof(safe_names[0]); i++) {
		const struct name_case *c = &safe_names[i];
		const char *name = c->name ? c->name : longname;
		size_t len = c->len ? c->len : strlen(name);
		struct tree d;
		int r;
		ok(entry_name_ok(name, len) == 1, "entry_name_ok accepts %s", c->what);
		tree_start(&sb, 1);
		put_entry(&sb, MODE_FILE, 1, 0, name, len);
		strbuf_reset(&err);
		r = tree_decode(&d, sb.buf, sb.len, &err);
		ok(r == 0 && d.n == 1 && strlen(d.e[0].name) == len && !memcmp(d.e[0].name, name, len),
		   "tree_decode accepts %s (%s)", c->what, err.buf);
		tree_release(&d);
	}
	/* the message names the entry, shown safely */
	{
		struct tree d;
		tree_start(&sb, 1);
		put_entry(&sb, MODE_FILE, 1, 0, "x\n/\"", 4);
		strbuf_reset(&err);
		ok(tree_decode(&d, sb.buf, sb.len, &err) == CAIRN_EUNSAFE &&
		   strstr(err.buf, "\"x\\n/\\\"\"") && !strchr(err.buf, '\n'),
		   "message shows the name escaped: %s", err.buf);
	}
	strbuf_release(&sb);
	strbuf_release(&err);
}

/* Entries of one tree, in order: mode and name. */
struct case_entry {
	uint32_t mode;
	const char *name;
};

static int decode_entries(const struct case_entry *e, size_t n, struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	struct tree d;
	size_t i;
	int r;
	tree_start(&sb, n);
	for (i = 0; i < n; i++)
		put_entry(&sb, e[i].mode, 1, e[i].mode == MODE_DIR ? 1 : 0, e[i].name,
			  strlen(e[i].name));
	strbuf_reset(err);
	r = tree_decode(&d, sb.buf, sb.len, err);
	if (!r)
		tree_release(&d);
	strbuf_release(&sb);
	return r;
}

static void test_case_links(void)
{
	static const struct case_entry link_file[] = { { MODE_LINK, "L" }, { MODE_FILE, "l" } };
	static const struct case_entry dir_link[] = { { MODE_DIR, "Data" }, { MODE_LINK, "data" } };
	static const struct case_entry link_zw[] = { { MODE_LINK, "L" },
						     { MODE_DIR, "l\xe2\x80\x8c" } };
	static const struct case_entry apart[] = {
		{ MODE_LINK, "A" }, { MODE_FILE, "B" }, { MODE_FILE, "a" }, { MODE_DIR, "c" }
	};
	static const struct case_entry two_links[] = { { MODE_LINK, "X" }, { MODE_LINK, "x" } };
	static const struct case_entry files[] = { { MODE_FILE, "README" }, { MODE_DIR, "readme" } };
	static const struct case_entry far[] = { { MODE_LINK, "x" }, { MODE_FILE, "y" } };
	struct strbuf err = STRBUF_INIT;

	int r = decode_entries(link_file, 2, &err);

	ok(r == CAIRN_EUNSAFE && strstr(err.buf, "\"L\"") && strstr(err.buf, "\"l\"") &&
	   strstr(err.buf, "symlink"),
	   "tree_decode: a symlink and a file differing only in case (%s)", err.buf);
	ok(decode_entries(dir_link, 2, &err) == CAIRN_EUNSAFE,
	   "tree_decode: a directory and a symlink differing only in case");
	ok(decode_entries(link_zw, 2, &err) == CAIRN_EUNSAFE,
	   "tree_decode: a symlink and a name equal but for case and U+200C");
	ok(decode_entries(apart, 4, &err) == CAIRN_EUNSAFE,
	   "tree_decode: the pair is found when other entries sort between them");
	ok(decode_entries(two_links, 2, &err) == CAIRN_EUNSAFE, "tree_decode: two such symlinks");
	r = decode_entries(files, 2, &err);
	ok(r == 0, "tree_decode: a file and a directory differing only in case are fine %s", err.buf);
	ok(decode_entries(far, 2, &err) == 0, "tree_decode: a symlink with other names is fine");
	strbuf_release(&err);
}

int main(void)
{
	test_manifest();
	test_tree_round_trip();
	test_tree_rejects();
	test_names();
	test_case_links();
	return tap_done();
}
