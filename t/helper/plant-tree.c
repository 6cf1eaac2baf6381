/*
 * plant-tree POINTER NAME: stands in for a hash collision in the tests.
 * Reads the directory pointer POINTER, stores a copy of its tree in which
 * the entry NAME keeps its id and size (so its chunks verify) but records
 * another SHA-256, and rewrites POINTER to name that tree. Run at the top
 * of a cairn repository. A checkout must refuse the file: its bytes match
 * its XXH3 id but not the SHA-256 the (signed, committed) tree records.
 *
 * plant-tree --rename POINTER PATH NEW PACKDIR: plants a hostile tree on
 * a remote. The entry at PATH (below the pointer's directory, '/'
 * between components) is renamed to NEW, which may be anything cairn
 * refuses to write (".." or "a/b" included); the trees from there up to
 * the root are encoded again, written as one pack with its index into
 * PACKDIR (a remote's packs/: push would refuse to send them) and not
 * into the local store, and POINTER is rewritten to name the new root.
 * The pack's name is printed.
 *
 * plant-tree --deep POINTER DEPTH [PACKDIR]: plants a valid tree DEPTH
 * levels deep, as cairn never writes one past its limit
 * (Documentation/technical/store-format.md, "Tree depth"). The tree the
 * pointer names is level 1 and holds one directory "d", which holds one
 * directory "d", and so on; the tree at level DEPTH holds one file "f"
 * ("deep\n"). POINTER is written to name the top tree. The trees and
 * the file go into the local store, or with PACKDIR into one pack there
 * (its name is printed), the local store untouched.
 */
#include "core/object.h"
#include "core/odb.h"
#include "core/pack.h"
#include "core/pointer.h"
#include "core/repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct forged {
	struct strbuf pack;
	struct pack_entry *e;
	size_t n, alloc;
};

static void forge_init(struct forged *f)
{
	uint8_t hdr[PACK_HDR_SZ];
	memset(f, 0, sizeof(*f));
	strbuf_init(&f->pack, 0);
	pack_header_encode(hdr);
	strbuf_add(&f->pack, hdr, sizeof(hdr));
}

/* Appends an object to the forged pack (stored raw). */
static void forge_add(struct forged *f, int type, const struct oid *id, const void *raw,
		      size_t len)
{
	struct pack_entry *pe;
	uint8_t hdr[PACK_ENTRY_HDR_SZ];
	ALLOC_GROW(f->e, f->n + 1, f->alloc);
	pe = &f->e[f->n++];
	memset(pe, 0, sizeof(*pe));
	pe->id = *id;
	pe->type = (uint8_t)type;
	pe->codec = 0;
	pe->raw_len = pe->stored_len = (uint32_t)len;
	pe->offset = f->pack.len;
	pack_entry_header_encode(hdr, pe);
	strbuf_add(&f->pack, hdr, sizeof(hdr));
	strbuf_add(&f->pack, raw, len);
}

/* Writes the forged pack and its index into dir; the name out in hex. */
static int forge_write(struct forged *f, const char *dir, char hex[OID_HEXSZ + 1],
		       struct strbuf *err)
{
	struct strbuf idx = STRBUF_INIT;
	struct oid name;
	char *path;
	int ret;

	oid_hash(&name, f->pack.buf, f->pack.len);
	oid_to_hex(&name, hex);
	pack_idx_encode(&idx, &name, f->pack.len, f->e, f->n);
	path = xstrfmt("%s/%s.pack", dir, hex);
	ret = write_file_atomic(path, f->pack.buf, f->pack.len, 0, err);
	free(path);
	path = xstrfmt("%s/%s.idx", dir, hex);
	if (!ret)
		ret = write_file_atomic(path, idx.buf, idx.len, 0, err);
	free(path);
	strbuf_release(&idx);
	return ret;
}

static void forge_release(struct forged *f)
{
	free(f->e);
	strbuf_release(&f->pack);
}

/* Renames the entry at path below the tree (id, sha); new id and sha out. */
static int rename_in(struct odb_thread *th, struct oid *id, struct sha256 *sha, const char *path,
		     const char *newname, struct forged *f, struct strbuf *err)
{
	struct strbuf raw = STRBUF_INIT, enc = STRBUF_INIT;
	struct tree t;
	const char *slash = strchr(path, '/');
	size_t len = slash ? (size_t)(slash - path) : strlen(path), i;
	int ret;

	tree_init(&t);
	ret = odb_read(th, id, OBJ_TREE, &raw, err);
	if (!ret)
		ret = tree_decode(&t, raw.buf, raw.len, err);
	for (i = 0; !ret && i < t.n; i++)
		if (strlen(t.e[i].name) == len && !memcmp(t.e[i].name, path, len))
			break;
	if (!ret && i == t.n)
		ret = cerr(err, CAIRN_ENOTFOUND, "no entry '%.*s'", (int)len, path);
	if (!ret && slash) {
		if (t.e[i].mode != MODE_DIR)
			ret = cerr(err, CAIRN_EINVAL, "'%.*s' is not a directory", (int)len, path);
		else
			ret = rename_in(th, &t.e[i].id, &t.e[i].sha, slash + 1, newname, f, err);
	} else if (!ret) {
		free(t.e[i].name);
		t.e[i].name = xstrdup(newname);
		tree_sort(&t);
	}
	if (!ret) {
		tree_encode(&t, &enc, id, sha);
		forge_add(f, OBJ_TREE, id, enc.buf, enc.len);
	}
	tree_release(&t);
	strbuf_release(&raw);
	strbuf_release(&enc);
	return ret;
}

static int plant_rename(int argc, const char **argv)
{
	struct strbuf err = STRBUF_INIT;
	struct forged f;
	struct repo *r = NULL;
	struct pointer p;
	struct odb_thread th;
	char hex[OID_HEXSZ + 1];
	int ret;

	if (argc != 6) {
		fprintf(stderr, "usage: plant-tree --rename POINTER PATH NEW PACKDIR\n");
		return 2;
	}
	forge_init(&f);
	if (repo_discover(&r, 1, &err) || repo_open_store(r, 0, &err) ||
	    ptr_read(&p, argv[2], &err))
		goto fail;
	if (!p.is_dir) {
		fprintf(stderr, "plant-tree: %s is not a directory pointer\n", argv[2]);
		return 1;
	}
	odb_thread_init(&th, r->odb);
	ret = rename_in(&th, &p.id, &p.sha, argv[3], argv[4], &f, &err);
	odb_thread_release(&th);
	if (ret || forge_write(&f, argv[5], hex, &err) || ptr_write(&p, argv[2], &err))
		goto fail;
	printf("%s\n", hex);
	repo_free(r);
	forge_release(&f);
	strbuf_release(&err);
	return 0;
fail:
	fprintf(stderr, "plant-tree: %s\n", err.buf);
	return 1;
}

static int plant_deep(int argc, const char **argv)
{
	static const char content[] = "deep\n";
	const size_t clen = sizeof(content) - 1;
	struct strbuf err = STRBUF_INIT, enc = STRBUF_INIT;
	struct repo *r = NULL;
	struct odb_thread th;
	struct odb_batch *b = NULL;
	struct forged f;
	struct pointer p;
	struct tree t;
	struct tree_entry *e;
	struct oid fid;
	struct sha256 fsha;
	const char *packdir = argc > 4 ? argv[4] : NULL;
	char hex[OID_HEXSZ + 1];
	long depth, level;

	if (argc < 4 || argc > 5 || (depth = strtol(argv[3], NULL, 10)) < 1) {
		fprintf(stderr, "usage: plant-tree --deep POINTER DEPTH [PACKDIR]\n");
		return 2;
	}
	forge_init(&f);
	if (repo_discover(&r, 1, &err) || repo_open_store(r, 0, &err))
		goto fail;
	odb_thread_init(&th, r->odb);
	if (!packdir && odb_batch_begin(r->odb, &b, &err))
		goto fail;
	oid_hash(&fid, content, clen);
	sha256_hash(&fsha, content, clen);
	if (packdir)
		forge_add(&f, OBJ_CHUNK, &fid, content, clen);
	else if (odb_put(b, &th, OBJ_CHUNK, &fid, content, clen, 0, NULL, &err))
		goto fail;
	memset(&p, 0, sizeof(p));
	for (level = depth; level >= 1; level--) {
		tree_init(&t);
		e = tree_add(&t, level == depth ? "f" : "d", level == depth ? MODE_FILE : MODE_DIR);
		e->size = level == depth ? clen : p.size;
		e->files = level == depth ? 0 : p.files;
		e->id = level == depth ? fid : p.id;
		e->sha = level == depth ? fsha : p.sha;
		tree_encode(&t, &enc, &p.id, &p.sha);
		tree_totals(&t, &p.size, &p.files);
		tree_release(&t);
		if (packdir)
			forge_add(&f, OBJ_TREE, &p.id, enc.buf, enc.len);
		else if (odb_put(b, &th, OBJ_TREE, &p.id, enc.buf, enc.len, 0, NULL, &err))
			goto fail;
	}
	p.is_dir = 1;
	p.mode = MODE_DIR;
	if (packdir ? forge_write(&f, packdir, hex, &err) : odb_batch_commit(b, NULL, &err))
		goto fail;
	if (ptr_write(&p, argv[2], &err))
		goto fail;
	if (packdir)
		printf("%s\n", hex);
	odb_thread_release(&th);
	repo_free(r);
	forge_release(&f);
	strbuf_release(&enc);
	strbuf_release(&err);
	return 0;
fail:
	fprintf(stderr, "plant-tree: %s\n", err.buf);
	return 1;
}

int main(int argc, const char **argv)
{
	struct strbuf err = STRBUF_INIT, raw = STRBUF_INIT, enc = STRBUF_INIT;
	struct repo *r = NULL;
	struct pointer p;
	struct tree t;
	struct odb_thread th;
	struct odb_batch *b = NULL;
	size_t i;
	int found = 0;

	if (argc > 1 && !strcmp(argv[1], "--rename"))
		return plant_rename(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "--deep"))
		return plant_deep(argc, argv);
	if (argc != 3) {
		fprintf(stderr, "usage: plant-tree POINTER NAME\n");
		return 2;
	}
	if (repo_discover(&r, 1, &err) || repo_open_store(r, 0, &err) ||
	    ptr_read(&p, argv[1], &err))
		goto fail;
	if (!p.is_dir) {
		fprintf(stderr, "plant-tree: %s is not a directory pointer\n", argv[1]);
		return 1;
	}
	odb_thread_init(&th, r->odb);
	tree_init(&t);
	if (odb_read(&th, &p.id, OBJ_TREE, &raw, &err) || tree_decode(&t, raw.buf, raw.len, &err))
		goto fail;
	for (i = 0; i < t.n; i++)
		if (!strcmp(t.e[i].name, argv[2])) {
			t.e[i].sha.b[0] ^= 0x80;
			found = 1;
		}
	if (!found) {
		fprintf(stderr, "plant-tree: no entry '%s'\n", argv[2]);
		return 1;
	}
	tree_encode(&t, &enc, &p.id, &p.sha);
	if (odb_batch_begin(r->odb, &b, &err) ||
	    odb_put(b, &th, OBJ_TREE, &p.id, enc.buf, enc.len, 0, NULL, &err) ||
	    odb_batch_commit(b, NULL, &err) || ptr_write(&p, argv[1], &err))
		goto fail;
	tree_release(&t);
	odb_thread_release(&th);
	repo_free(r);
	strbuf_release(&raw);
	strbuf_release(&enc);
	strbuf_release(&err);
	return 0;
fail:
	fprintf(stderr, "plant-tree: %s\n", err.buf);
	return 1;
}
