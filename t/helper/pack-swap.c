/*
 * pack-swap DIR PACK A B: plants a poisoned pack for the tests. Reads
 * DIR/PACK.pack and its index, and writes a new, well-formed pack (with a
 * valid name and index) in which object A carries the bytes of object B.
 * The old pack and index are removed; the new pack's name is printed.
 * Only a reader that checks each object against its id can tell.
 */
#include "core/hash.h"
#include "core/pack.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int find(const struct pack_entry *e, size_t n, const char *hex)
{
	char h[OID_HEXSZ + 1];
	size_t i;
	for (i = 0; i < n; i++)
		if (!strcmp(oid_to_hex(&e[i].id, h), hex))
			return (int)i;
	return -1;
}

static int by_offset(const void *x, const void *y)
{
	const struct pack_entry *p = x, *q = y;
	return p->offset < q->offset ? -1 : p->offset > q->offset;
}

int main(int argc, const char **argv)
{
	struct strbuf pack = STRBUF_INIT, idx = STRBUF_INIT, out = STRBUF_INIT, enc = STRBUF_INIT;
	struct strbuf err = STRBUF_INIT;
	struct pack_entry *e = NULL;
	struct oid pid, name;
	uint64_t psize;
	size_t n, i;
	int a, b;
	char *p, hex[OID_HEXSZ + 1];
	uint8_t hdr[PACK_HDR_SZ];

	if (argc != 5) {
		fprintf(stderr, "usage: pack-swap DIR PACK A B\n");
		return 2;
	}
	p = xstrfmt("%s/%s.pack", argv[1], argv[2]);
	if (read_file(p, (size_t)1 << 30, &pack, &err))
		goto fail;
	free(p);
	p = xstrfmt("%s/%s.idx", argv[1], argv[2]);
	if (read_file(p, (size_t)1 << 30, &idx, &err) ||
	    pack_idx_decode(idx.buf, idx.len, p, &pid, &psize, &e, &n, &err))
		goto fail;
	free(p);
	a = find(e, n, argv[3]);
	b = find(e, n, argv[4]);
	if (a < 0 || b < 0) {
		fprintf(stderr, "pack-swap: %s or %s is not in the pack\n", argv[3], argv[4]);
		return 1;
	}
	pack_header_encode(hdr);
	strbuf_add(&out, hdr, sizeof(hdr));
	/* entries in pack order (the index is sorted by id, not offset) */
	sort_array(e, n, sizeof(*e), by_offset);
	{
		struct pack_entry orig_b;
		a = find(e, n, argv[3]);
		b = find(e, n, argv[4]);
		orig_b = e[b];
		for (i = 0; i < n; i++) {
			struct pack_entry ne = (int)i == a ? orig_b : e[i];
			uint8_t eh[PACK_ENTRY_HDR_SZ];
			uint64_t from = ne.offset;
			ne.id = e[i].id;
			ne.type = e[i].type;
			pack_entry_header_encode(eh, &ne);
			strbuf_add(&out, eh, sizeof(eh));
			strbuf_add(&out, pack.buf + from + PACK_ENTRY_HDR_SZ, ne.stored_len);
		}
	}
	/* index the new layout */
	{
		uint64_t off = PACK_HDR_SZ;
		for (i = 0; i < n; i++) {
			struct pack_entry pe;
			pack_entry_header_decode((const uint8_t *)out.buf + off, &pe);
			pe.offset = off;
			e[i] = pe;
			off += PACK_ENTRY_HDR_SZ + pe.stored_len;
		}
	}
	oid_hash(&name, out.buf, out.len);
	pack_idx_encode(&enc, &name, out.len, e, n);
	oid_to_hex(&name, hex);
	p = xstrfmt("%s/%s.pack", argv[1], hex);
	if (write_file_atomic(p, out.buf, out.len, 0, &err))
		goto fail;
	free(p);
	p = xstrfmt("%s/%s.idx", argv[1], hex);
	if (write_file_atomic(p, enc.buf, enc.len, 0, &err))
		goto fail;
	free(p);
	p = xstrfmt("%s/%s.pack", argv[1], argv[2]);
	unlink(p);
	free(p);
	p = xstrfmt("%s/%s.idx", argv[1], argv[2]);
	unlink(p);
	free(p);
	printf("%s\n", hex);
	free(e);
	strbuf_release(&pack);
	strbuf_release(&idx);
	strbuf_release(&out);
	strbuf_release(&enc);
	strbuf_release(&err);
	return 0;
fail:
	fprintf(stderr, "pack-swap: %s\n", err.buf);
	return 1;
}
