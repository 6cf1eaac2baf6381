/* Writes the seed corpus of the fuzz targets (run once; seeds are committed). */
#include "core/object.h"
#include "core/pack.h"
#include "core/pointer.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static void put(const char *dir, const char *name, const void *p, size_t n)
{
	char path[512];
	FILE *f;
	snprintf(path, sizeof(path), "corpus/%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n)
		perror(path);
	if (f)
		fclose(f);
}

int main(void)
{
	struct strbuf sb = STRBUF_INIT;
	struct pointer p;
	struct tree t;
	struct manifest m;
	struct pack_entry e[3];
	struct oid id;
	const char *dirs[] = { "pointer", "tree", "manifest", "packidx", "config", "url" };
	size_t i;

	mkdir("corpus", 0777);
	for (i = 0; i < 6; i++) {
		char d[64];
		snprintf(d, sizeof(d), "corpus/%s", dirs[i]);
		mkdir(d, 0777);
	}
	memset(&p, 0, sizeof(p));
	oid_hash(&p.id, "x", 1);
	sha256_hash(&p.sha, "x", 1);
	p.size = 1;
	p.mode = MODE_FILE;
	ptr_format(&p, &sb);
	put("pointer", "file", sb.buf, sb.len);
	p.is_dir = 1;
	p.files = 3;
	p.mode = MODE_DIR;
	ptr_format(&p, &sb);
	put("pointer", "dir", sb.buf, sb.len);
	put("pointer", "bad-version", "version: 2\n", 11);

	tree_init(&t);
	tree_add(&t, "a.txt", MODE_FILE)->size = 5;
	tree_add(&t, "run.sh", MODE_EXEC)->size = 7;
	tree_add(&t, "link", MODE_LINK)->size = 4;
	{
		struct tree_entry *d = tree_add(&t, "sub", MODE_DIR);
		d->size = 100;
		d->files = 2;
	}
	tree_sort(&t);
	tree_encode(&t, &sb, NULL, NULL);
	put("tree", "four-entries", sb.buf, sb.len);
	tree_release(&t);
	tree_init(&t);
	tree_encode(&t, &sb, NULL, NULL);
	put("tree", "empty", sb.buf, sb.len);

	manifest_init(&m);
	oid_hash(&id, "chunk1", 6);
	manifest_add(&m, &id, 100);
	oid_hash(&id, "chunk2", 6);
	manifest_add(&m, &id, 50);
	m.size = 150;
	manifest_encode(&m, &sb);
	put("manifest", "two-chunks", sb.buf, sb.len);
	manifest_release(&m);

	memset(e, 0, sizeof(e));
	for (i = 0; i < 3; i++) {
		oid_hash(&e[i].id, &i, sizeof(i));
		e[i].type = OBJ_CHUNK;
		e[i].raw_len = e[i].stored_len = 10;
		e[i].offset = PACK_HDR_SZ + i * (PACK_ENTRY_HDR_SZ + 10);
	}
	oid_hash(&id, "pack", 4);
	pack_idx_encode(&sb, &id, PACK_HDR_SZ + 3 * (PACK_ENTRY_HDR_SZ + 10), e, 3);
	put("packidx", "three-entries", sb.buf, sb.len);
	{
		uint8_t hdr[PACK_ENTRY_HDR_SZ + 10];
		pack_entry_header_encode(hdr, &e[0]);
		memset(hdr + PACK_ENTRY_HDR_SZ, 'z', 10);
		put("packidx", "entry-raw", hdr, sizeof(hdr));
	}

	{
		static const char cfg[] = "[core]\n\tformat = 1\n[chunker]\n\tmin = 16384\n"
					  "[remote \"origin\"]\n\turl = ssh://a@h:22/x # c\n"
					  "\tjobs = 4k\n[x]\n\tflag\n\tq = \"a \\\" b\"\n";
		put("config", "typical", cfg, sizeof(cfg) - 1);
	}
	put("url", "ssh", "ssh://alice@data.example:2222/srv/cairn", 39);
	put("url", "scp", "alice@host:path/x", 17);
	put("url", "file", "file:///srv/x", 13);
	put("url", "relative", "../shared", 9);
	strbuf_release(&sb);
	return 0;
}
