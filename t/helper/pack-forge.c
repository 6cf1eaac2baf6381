/*
 * pack-forge DIR PACK VARIANT: plants a malformed pack or pack index for
 * the tests, where a byte flip would only meet a checksum: each variant
 * keeps everything else valid (the index's trailer is computed again, a
 * changed pack is renamed after its new hash and indexed under that
 * name), so that the one check it aims at is the one that must refuse it.
 * Reads DIR/PACK.pack and DIR/PACK.idx, writes the forged files into DIR
 * (removing the old ones when the name changes) and prints the pack's
 * name. Variants:
 *
 *   idx-magic          the index's magic is wrong
 *   idx-version        the index says version 2
 *   idx-count          the index's count is 0x7fffffff (not its length)
 *   idx-past-end       the last entry starts at the end of the pack
 *   idx-len-past-end   the last entry's stored length runs past the end
 *   idx-size-lie       the index claims 1 MiB more pack than there is, and
 *                      its last entry lives in that missing MiB
 *   idx-other-pack     the index names another pack than its file name
 *   pack-magic         the pack's magic is wrong
 *   pack-entry-len     the first entry's header claims a stored length
 *                      past the end of the pack
 *   pack-entry-type    the first entry's header has type 9
 */
#include "core/hash.h"
#include "core/pack.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int by_offset(const void *x, const void *y)
{
	const struct pack_entry *p = x, *q = y;
	return p->offset < q->offset ? -1 : p->offset > q->offset;
}

/* The entry with the largest offset. */
static struct pack_entry *last_entry(struct pack_entry *e, size_t n)
{
	size_t i, k = 0;
	for (i = 1; i < n; i++)
		if (e[i].offset > e[k].offset)
			k = i;
	return &e[k];
}

static void fix_trailer(struct strbuf *idx)
{
	struct oid sum;
	oid_hash(&sum, idx->buf, idx->len - PACK_IDX_TRAILER_SZ);
	memcpy(idx->buf + idx->len - PACK_IDX_TRAILER_SZ, sum.b, OID_RAWSZ);
}

static int write_pair(const char *dir, const char *hex, const struct strbuf *pack,
		      const struct strbuf *idx, struct strbuf *err)
{
	char *p = xstrfmt("%s/%s.pack", dir, hex);
	int ret = pack ? write_file_atomic(p, pack->buf, pack->len, 0, err) : 0;
	free(p);
	p = xstrfmt("%s/%s.idx", dir, hex);
	if (!ret)
		ret = write_file_atomic(p, idx->buf, idx->len, 0, err);
	free(p);
	return ret;
}

int main(int argc, const char **argv)
{
	struct strbuf pack = STRBUF_INIT, idx = STRBUF_INIT, out = STRBUF_INIT, err = STRBUF_INIT;
	struct pack_entry *e = NULL;
	struct oid pid, name;
	uint64_t psize;
	size_t n, i;
	char *p, hex[OID_HEXSZ + 1];
	const char *dir, *v;

	if (argc != 4) {
		fprintf(stderr, "usage: pack-forge DIR PACK VARIANT\n");
		return 2;
	}
	dir = argv[1];
	v = argv[3];
	p = xstrfmt("%s/%s.pack", dir, argv[2]);
	if (read_file(p, (size_t)1 << 30, &pack, &err))
		goto fail;
	free(p);
	p = xstrfmt("%s/%s.idx", dir, argv[2]);
	if (read_file(p, (size_t)1 << 30, &idx, &err) ||
	    pack_idx_decode(idx.buf, idx.len, p, &pid, &psize, &e, &n, &err))
		goto fail;
	free(p);
	if (!n) {
		fprintf(stderr, "pack-forge: the pack is empty\n");
		return 1;
	}

	if (!strncmp(v, "idx-", 4)) {
		oid_to_hex(&pid, hex);
		if (!strcmp(v, "idx-past-end")) {
			last_entry(e, n)->offset = psize;
		} else if (!strcmp(v, "idx-len-past-end")) {
			struct pack_entry *l = last_entry(e, n);
			l->stored_len += 4096;
			if (l->codec == 0)
				l->raw_len = l->stored_len;
		} else if (!strcmp(v, "idx-size-lie")) {
			last_entry(e, n)->offset = psize + 64;
			psize += 1 << 20;
		} else if (!strcmp(v, "idx-other-pack")) {
			pid.b[0] ^= 0x01;
		} else if (strcmp(v, "idx-magic") && strcmp(v, "idx-version") && strcmp(v, "idx-count")) {
			fprintf(stderr, "pack-forge: unknown variant '%s'\n", v);
			return 2;
		}
		pack_idx_encode(&out, &pid, psize, e, n);
		if (!strcmp(v, "idx-magic"))
			out.buf[6] = 'Y';
		else if (!strcmp(v, "idx-version"))
			put_le32((uint8_t *)out.buf + 8, 2);
		else if (!strcmp(v, "idx-count"))
			put_le32((uint8_t *)out.buf + 12, 0x7fffffff);
		fix_trailer(&out);
		if (write_pair(dir, hex, NULL, &out, &err))
			goto fail;
	} else {
		uint8_t *first;
		sort_array(e, n, sizeof(*e), by_offset);
		first = (uint8_t *)pack.buf + e[0].offset;
		if (!strcmp(v, "pack-magic"))
			pack.buf[0] = 'K';
		else if (!strcmp(v, "pack-entry-len"))
			put_le32(first + 8, (uint32_t)(pack.len + 4096));
		else if (!strcmp(v, "pack-entry-type"))
			first[0] = 9;
		else {
			fprintf(stderr, "pack-forge: unknown variant '%s'\n", v);
			return 2;
		}
		oid_hash(&name, pack.buf, pack.len);
		pack_idx_encode(&out, &name, pack.len, e, n);
		oid_to_hex(&name, hex);
		if (write_pair(dir, hex, &pack, &out, &err))
			goto fail;
		for (i = 0; i < 2; i++) {
			p = xstrfmt("%s/%s.%s", dir, argv[2], i ? "idx" : "pack");
			unlink(p);
			free(p);
		}
	}
	printf("%s\n", hex);
	free(e);
	strbuf_release(&pack);
	strbuf_release(&idx);
	strbuf_release(&out);
	strbuf_release(&err);
	return 0;
fail:
	fprintf(stderr, "pack-forge: %s\n", err.buf);
	return 1;
}
