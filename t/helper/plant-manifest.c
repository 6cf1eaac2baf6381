/*
 * plant-manifest SRC DST PACKDIR: plants a manifest on a remote for the
 * tests, as anyone who can write to it could (no hash collision needed:
 * a manifest is stored under its file's id, not under a hash of itself).
 * Run at the top of a cairn repository: reads the manifest of file SRC
 * (hex id) from its store and writes, into PACKDIR (a remote's packs/),
 * a pack with its index holding those bytes as the manifest of file DST.
 * The pack's name is printed.
 */
#include "core/object.h"
#include "core/odb.h"
#include "core/pack.h"
#include "core/repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, const char **argv)
{
	struct strbuf err = STRBUF_INIT, raw = STRBUF_INIT, pack = STRBUF_INIT, idx = STRBUF_INIT;
	struct repo *r = NULL;
	struct odb_thread th;
	struct pack_entry e;
	struct oid src, dst, name;
	uint8_t hdr[PACK_HDR_SZ], ehdr[PACK_ENTRY_HDR_SZ];
	char hex[OID_HEXSZ + 1], *path;
	int ret;

	if (argc != 4 || oid_from_hex(&src, argv[1], OID_HEXSZ) ||
	    oid_from_hex(&dst, argv[2], OID_HEXSZ)) {
		fprintf(stderr, "usage: plant-manifest SRC DST PACKDIR\n");
		return 2;
	}
	if (repo_discover(&r, 1, &err) || repo_open_store(r, 0, &err))
		goto fail;
	odb_thread_init(&th, r->odb);
	ret = odb_read(&th, &src, OBJ_MANIFEST, &raw, &err);
	odb_thread_release(&th);
	if (ret)
		goto fail;
	pack_header_encode(hdr);
	strbuf_add(&pack, hdr, sizeof(hdr));
	memset(&e, 0, sizeof(e));
	e.id = dst;
	e.type = OBJ_MANIFEST;
	e.codec = 0;
	e.raw_len = e.stored_len = (uint32_t)raw.len;
	e.offset = pack.len;
	pack_entry_header_encode(ehdr, &e);
	strbuf_add(&pack, ehdr, sizeof(ehdr));
	strbuf_add(&pack, raw.buf, raw.len);
	oid_hash(&name, pack.buf, pack.len);
	oid_to_hex(&name, hex);
	pack_idx_encode(&idx, &name, pack.len, &e, 1);
	path = xstrfmt("%s/%s.pack", argv[3], hex);
	ret = write_file_atomic(path, pack.buf, pack.len, 0, &err);
	free(path);
	path = xstrfmt("%s/%s.idx", argv[3], hex);
	if (!ret)
		ret = write_file_atomic(path, idx.buf, idx.len, 0, &err);
	free(path);
	if (ret)
		goto fail;
	printf("%s\n", hex);
	repo_free(r);
	strbuf_release(&raw);
	strbuf_release(&pack);
	strbuf_release(&idx);
	strbuf_release(&err);
	return 0;
fail:
	fprintf(stderr, "plant-manifest: %s\n", err.buf);
	return 1;
}
