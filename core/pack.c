#include "core/pack.h"
#include "core/compress.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const uint8_t pack_magic[8] = { 'C', 'A', 'I', 'R', 'N', 'P', 'K', 0 };
static const uint8_t idx_magic[8] = { 'C', 'A', 'I', 'R', 'N', 'I', 'X', 0 };
#define PACK_VERSION 1
#define PACK_IDX_VERSION 1
#define WRITE_BUF (1u << 20)

const char *obj_type_name(int type)
{
	switch (type) {
	case OBJ_CHUNK: return "chunk";
	case OBJ_MANIFEST: return "manifest";
	case OBJ_TREE: return "tree";
	}
	return "unknown";
}

void pack_header_encode(uint8_t out[PACK_HDR_SZ])
{
	memcpy(out, pack_magic, 8);
	put_le32(out + 8, PACK_VERSION);
	put_le32(out + 12, 0);
}

int pack_header_check(const uint8_t in[PACK_HDR_SZ])
{
	if (memcmp(in, pack_magic, 8))
		return CAIRN_EFORMAT;
	if (get_le32(in + 8) != PACK_VERSION)
		return CAIRN_EVERSION;
	if (get_le32(in + 12) != 0)
		return CAIRN_EFORMAT;
	return 0;
}

void pack_entry_header_encode(uint8_t out[PACK_ENTRY_HDR_SZ], const struct pack_entry *e)
{
	out[0] = e->type;
	out[1] = e->codec;
	out[2] = out[3] = 0;
	put_le32(out + 4, e->raw_len);
	put_le32(out + 8, e->stored_len);
	memcpy(out + 12, e->id.b, OID_RAWSZ);
}

static int entry_fields_ok(const struct pack_entry *e)
{
	if (e->type < OBJ_CHUNK || e->type > OBJ_TREE)
		return 0;
	if (e->codec > CODEC_MAX)
		return 0;
	if (e->raw_len > OBJ_MAX_SIZE || e->stored_len > OBJ_MAX_SIZE)
		return 0;
	if (e->codec == CODEC_RAW && e->stored_len != e->raw_len)
		return 0;
	if (e->codec == CODEC_DELTA && e->type != OBJ_TREE)
		return 0;
	return 1;
}

int pack_entry_header_decode(const uint8_t in[PACK_ENTRY_HDR_SZ], struct pack_entry *e)
{
	e->type = in[0];
	e->codec = in[1];
	if (in[2] || in[3])
		return CAIRN_EFORMAT;
	e->raw_len = get_le32(in + 4);
	e->stored_len = get_le32(in + 8);
	memcpy(e->id.b, in + 12, OID_RAWSZ);
	return entry_fields_ok(e) ? 0 : CAIRN_EFORMAT;
}

int pack_entry_cmp(const void *a, const void *b)
{
	const struct pack_entry *x = a, *y = b;
	int c = oid_cmp(&x->id, &y->id);
	if (c)
		return c;
	return (int)x->type - (int)y->type;
}

void pack_idx_encode(struct strbuf *out, const struct oid *pack_id, uint64_t pack_size,
		     struct pack_entry *e, size_t n)
{
	uint8_t hdr[PACK_IDX_HDR_SZ], ent[PACK_IDX_ENTRY_SZ];
	struct oid sum;
	size_t i;

	if (n)
		sort_array(e, n, sizeof(*e), pack_entry_cmp);
	strbuf_reset(out);
	strbuf_grow(out, PACK_IDX_HDR_SZ + n * PACK_IDX_ENTRY_SZ + PACK_IDX_TRAILER_SZ);
	memcpy(hdr, idx_magic, 8);
	put_le32(hdr + 8, PACK_IDX_VERSION);
	put_le32(hdr + 12, (uint32_t)n);
	memcpy(hdr + 16, pack_id->b, OID_RAWSZ);
	put_le64(hdr + 32, pack_size);
	put_le64(hdr + 40, 0);
	strbuf_add(out, hdr, sizeof(hdr));
	for (i = 0; i < n; i++) {
		memcpy(ent, e[i].id.b, OID_RAWSZ);
		ent[16] = e[i].type;
		ent[17] = e[i].codec;
		ent[18] = ent[19] = 0;
		put_le32(ent + 20, e[i].raw_len);
		put_le32(ent + 24, e[i].stored_len);
		put_le64(ent + 28, e[i].offset);
		strbuf_add(out, ent, sizeof(ent));
	}
	oid_hash(&sum, out->buf, out->len);
	strbuf_add(out, sum.b, OID_RAWSZ);
}

int pack_idx_decode(const void *data, size_t len, const char *what, struct oid *pack_id,
		    uint64_t *pack_size, struct pack_entry **entries, size_t *n,
		    struct strbuf *err)
{
	const uint8_t *p = data;
	struct pack_entry *e = NULL;
	struct oid sum;
	uint32_t count, i;
	uint64_t psize;

	if (len < PACK_IDX_HDR_SZ + PACK_IDX_TRAILER_SZ || memcmp(p, idx_magic, 8))
		return cerr(err, CAIRN_EFORMAT, "'%s' is not a pack index", what);
	if (get_le32(p + 8) != PACK_IDX_VERSION)
		return cerr(err, CAIRN_EVERSION, "pack index '%s' has unknown version %u", what,
			    get_le32(p + 8));
	count = get_le32(p + 12);
	if ((len - PACK_IDX_HDR_SZ - PACK_IDX_TRAILER_SZ) / PACK_IDX_ENTRY_SZ != count ||
	    (len - PACK_IDX_HDR_SZ - PACK_IDX_TRAILER_SZ) % PACK_IDX_ENTRY_SZ)
		return cerr(err, CAIRN_EFORMAT, "pack index '%s' has a bad length", what);
	oid_hash(&sum, p, len - PACK_IDX_TRAILER_SZ);
	if (memcmp(sum.b, p + len - PACK_IDX_TRAILER_SZ, OID_RAWSZ))
		return cerr(err, CAIRN_ECORRUPT, "pack index '%s' fails its checksum", what);
	psize = get_le64(p + 32);
	if (get_le64(p + 40) != 0 || psize < PACK_HDR_SZ)
		return cerr(err, CAIRN_EFORMAT, "pack index '%s' has a bad header", what);
	e = xcalloc(count ? count : 1, sizeof(*e));
	for (i = 0; i < count; i++) {
		const uint8_t *q = p + PACK_IDX_HDR_SZ + (size_t)i * PACK_IDX_ENTRY_SZ;
		memcpy(e[i].id.b, q, OID_RAWSZ);
		e[i].type = q[16];
		e[i].codec = q[17];
		e[i].raw_len = get_le32(q + 20);
		e[i].stored_len = get_le32(q + 24);
		e[i].offset = get_le64(q + 28);
		if (q[18] || q[19] || !entry_fields_ok(&e[i]) || e[i].offset < PACK_HDR_SZ ||
		    e[i].offset > psize ||
		    psize - e[i].offset < PACK_ENTRY_HDR_SZ + (uint64_t)e[i].stored_len ||
		    (i && pack_entry_cmp(&e[i - 1], &e[i]) >= 0)) {
			free(e);
			return cerr(err, CAIRN_EFORMAT, "pack index '%s' has a bad entry %u", what, i);
		}
	}
	*pack_id = *(const struct oid *)(p + 16);
	*pack_size = psize;
	*entries = e;
	*n = count;
	return 0;
}

int pack_writer_open(struct pack_writer *w, const char *tmpdir, struct strbuf *err)
{
	uint8_t hdr[PACK_HDR_SZ];
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	strbuf_init(&w->buf, WRITE_BUF);
	{
		struct tempfile t = TEMPFILE_INIT;
		char *prefix = xstrfmt("%s/pack-%ld-", tmpdir, (long)getpid());
		int r = tempfile_create(&t, prefix, 0600, err);
		free(prefix);
		if (r) {
			strbuf_release(&w->buf);
			return cerr_wrap(err, r, "cannot create a temporary pack in '%s'", tmpdir);
		}
		w->tmp_path = t.path;
		w->fd = t.fd;
	}
	oid_ctx_init(&w->hash);
	pack_header_encode(hdr);
	strbuf_add(&w->buf, hdr, sizeof(hdr));
	oid_ctx_update(&w->hash, hdr, sizeof(hdr));
	w->size = PACK_HDR_SZ;
	return 0;
}

static int flush_buf(struct pack_writer *w, struct strbuf *err)
{
	if (!w->buf.len)
		return 0;
	if (write_all(w->fd, w->buf.buf, w->buf.len) < 0)
		return cerr_errno(err, "cannot write pack '%s'", w->tmp_path);
	strbuf_reset(&w->buf);
	return 0;
}

int pack_writer_append(struct pack_writer *w, const struct pack_entry *e, const void *stored,
		       struct strbuf *err)
{
	uint8_t hdr[PACK_ENTRY_HDR_SZ];
	struct pack_entry *ne;
	int r;

	ALLOC_GROW(w->entries, w->n + 1, w->alloc);
	ne = &w->entries[w->n];
	*ne = *e;
	ne->offset = w->size;
	pack_entry_header_encode(hdr, ne);
	oid_ctx_update(&w->hash, hdr, sizeof(hdr));
	oid_ctx_update(&w->hash, stored, e->stored_len);
	if (w->buf.len + sizeof(hdr) + e->stored_len > WRITE_BUF) {
		r = flush_buf(w, err);
		if (r)
			return r;
	}
	strbuf_add(&w->buf, hdr, sizeof(hdr));
	if (e->stored_len > WRITE_BUF) {
		r = flush_buf(w, err);
		if (r)
			return r;
		if (write_all(w->fd, stored, e->stored_len) < 0)
			return cerr_errno(err, "cannot write pack '%s'", w->tmp_path);
	} else {
		strbuf_add(&w->buf, stored, e->stored_len);
	}
	w->size += sizeof(hdr) + e->stored_len;
	w->raw_bytes += e->raw_len;
	w->n++;
	return 0;
}

int pack_writer_finish(struct pack_writer *w, const char *packdir, struct oid *pack_id,
		       struct strbuf *err)
{
	struct strbuf idx = STRBUF_INIT, path = STRBUF_INIT, itmp = STRBUF_INIT;
	char hex[OID_HEXSZ + 1];
	int r = flush_buf(w, err), fd = -1;

	if (r)
		goto out;
	oid_ctx_final(&w->hash, pack_id);
	/* packs are never modified: read-only for everyone, like their index */
	if (fchmod(w->fd, 0444) < 0) {
		r = cerr_errno(err, "cannot chmod pack '%s'", w->tmp_path);
		goto out;
	}
	if (fsync(w->fd) < 0) {
		r = cerr_errno(err, "cannot fsync pack '%s'", w->tmp_path);
		goto out;
	}
	if (close(w->fd) < 0) {
		w->fd = -1;
		r = cerr_errno(err, "cannot close pack '%s'", w->tmp_path);
		goto out;
	}
	w->fd = -1;
	pack_idx_encode(&idx, pack_id, w->size, w->entries, w->n);
	strbuf_addf(&itmp, "%s.idx", w->tmp_path);
	fd = open(itmp.buf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
	if (fd < 0) {
		r = cerr_errno(err, "cannot create '%s'", itmp.buf);
		goto out;
	}
	if (write_all(fd, idx.buf, idx.len) < 0 || fsync(fd) < 0) {
		r = cerr_errno(err, "cannot write '%s'", itmp.buf);
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		r = cerr_errno(err, "cannot close '%s'", itmp.buf);
		goto out;
	}
	fd = -1;
	oid_to_hex(pack_id, hex);
	/* pack first, then its index: an index names a complete pack */
	strbuf_addf(&path, "%s/%s.pack", packdir, hex);
	if (rename(w->tmp_path, path.buf) < 0) {
		r = cerr_errno(err, "cannot rename '%s' to '%s'", w->tmp_path, path.buf);
		goto out;
	}
	free(w->tmp_path);
	w->tmp_path = NULL;
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/%s.idx", packdir, hex);
	if (rename(itmp.buf, path.buf) < 0) {
		r = cerr_errno(err, "cannot rename '%s' to '%s'", itmp.buf, path.buf);
		goto out;
	}
	strbuf_reset(&itmp);
	if (fsync_dir_of(packdir, 1) < 0)
		r = cerr_errno(err, "cannot fsync '%s'", packdir);
out:
	if (fd >= 0)
		close(fd);
	if (itmp.len)
		unlink(itmp.buf);
	strbuf_release(&itmp);
	strbuf_release(&idx);
	strbuf_release(&path);
	return r;
}

void pack_writer_release(struct pack_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	if (w->tmp_path) {
		unlink(w->tmp_path);
		free(w->tmp_path);
		w->tmp_path = NULL;
	}
	if (w->hash.st) {
		struct oid dummy;
		oid_ctx_final(&w->hash, &dummy);
	}
	free(w->entries);
	w->entries = NULL;
	w->n = w->alloc = 0;
	strbuf_release(&w->buf);
}
