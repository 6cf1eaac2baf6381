/*
 * libFuzzer target: pack index files and pack entry headers, as received
 * from a remote; and the zstd/planar decoder with the sizes they claim.
 */
#include "core/compress.h"
#include "core/pack.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct pack_entry *e = NULL, h;
	struct oid id;
	uint64_t psize;
	size_t n, i;
	if (!pack_idx_decode(data, size, "fuzz", &id, &psize, &e, &n, &err)) {
		for (i = 0; i < n; i++)
			if (e[i].offset + PACK_ENTRY_HDR_SZ + e[i].stored_len > psize)
				__builtin_trap();
		free(e);
	}
	if (size >= PACK_ENTRY_HDR_SZ && !pack_entry_header_decode(data, &h)) {
		/* the bytes after the header, decoded under what it claims */
		struct zctx *z = zctx_new(1);
		size_t avail = size - PACK_ENTRY_HDR_SZ;
		if (h.stored_len <= avail &&
		    !zctx_decode(z, h.codec, data + PACK_ENTRY_HDR_SZ, h.stored_len, h.raw_len, &out) &&
		    out.len != h.raw_len)
			__builtin_trap();
		zctx_free(z);
	}
	strbuf_release(&err);
	strbuf_release(&out);
	return 0;
}
