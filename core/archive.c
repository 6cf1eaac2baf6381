#include "core/archive.h"
#include "core/content.h"
#include "core/treewalk.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int archive_import_disk_flags(void)
{
	/* no ARCHIVE_EXTRACT_OWNER, _PERM or _TIME: files get the user's
	 * umask and the current time, as a checkout's do */
	return ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
	       ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS;
}

/* --- import --- */

struct imp_entry {
	char *path;     /* normalised, relative to the target */
	size_t len;     /* of path */
	uint64_t hash;  /* path_hash of path */
	size_t parent;  /* index + 1 of its directory's entry; 0: the target */
	uint32_t mode;  /* MODE_* */
	uint64_t size;
	struct oid id;
	struct sha256 sha;
};

struct imp {
	struct repo *r;
	const struct import_opts *o;
	const char *archive;  /* its name, for messages */
	struct archive *a, *disk;
	struct ingest_stream *is;
	struct imp_entry *e;
	size_t n, alloc;
	size_t *tab;          /* open addressing: entry index + 1, 0 = empty */
	size_t tabsz;
	char *tmprel;         /* the temp dir (relative to the top), or NULL */
	uint64_t total, archive_bytes, skipped;
	struct strbuf cur;    /* the entry being read, quoted for messages */
};

/*
 * Paths are found one component at a time, each by the hash of the path
 * so far (FNV-1a, carried from one component to the next), its parent
 * entry and its own name: finding or adding a path of any depth costs
 * time linear in its length (comparing whole prefixes made an archive
 * with one deep path take time cubic in its depth).
 */
#define PATH_HASH_INIT 1469598103934665603ull

static uint64_t path_hash_more(uint64_t h, const char *s, size_t len)
{
	size_t i;
	for (i = 0; i < len; i++) {
		h ^= (uint8_t)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* The entry named name[0..nlen) in directory `parent`, whose path hashes to h. */
static struct imp_entry *find_child(struct imp *im, size_t parent, uint64_t h, const char *name,
				    size_t nlen)
{
	size_t mask = im->tabsz - 1, i;
	if (!im->tabsz)
		return NULL;
	for (i = (size_t)h & mask; im->tab[i]; i = (i + 1) & mask) {
		struct imp_entry *e = &im->e[im->tab[i] - 1];
		if (e->hash == h && e->parent == parent && e->len >= nlen &&
		    !memcmp(e->path + e->len - nlen, name, nlen) &&
		    (e->len == nlen || e->path[e->len - nlen - 1] == '/'))
			return e;
	}
	return NULL;
}

/*
 * A step along path: the component starting at *pos (after a '/' but the
 * first), its length, and *h carried over it. 0 at the end.
 */
static size_t next_component(const char *path, size_t len, size_t *pos, uint64_t *h)
{
	const char *slash;
	size_t start = *pos, n;
	if (start >= len)
		return 0;
	slash = memchr(path + start, '/', len - start);
	n = slash ? (size_t)(slash - (path + start)) : len - start;
	*h = path_hash_more(*h, path + (start ? start - 1 : 0), n + (start ? 1 : 0));
	*pos = start + n + 1;
	return n;
}

/* The entry for path[0..len), or NULL. */
static struct imp_entry *imp_find(struct imp *im, const char *path, size_t len)
{
	struct imp_entry *e = NULL;
	uint64_t h = PATH_HASH_INIT;
	size_t pos = 0, n, parent = 0;
	while ((n = next_component(path, len, &pos, &h))) {
		e = find_child(im, parent, h, path + pos - n - 1, n);
		if (!e)
			return NULL;
		parent = (size_t)(e - im->e) + 1;
	}
	return e;
}

static void tab_insert(struct imp *im, size_t idx)
{
	size_t mask = im->tabsz - 1, i = (size_t)im->e[idx].hash & mask;
	while (im->tab[i])
		i = (i + 1) & mask;
	im->tab[i] = idx + 1;
}

/* Adds path[0..len) (hashing to h) below `parent` (index + 1, or 0). */
static struct imp_entry *imp_add(struct imp *im, const char *path, size_t len, uint32_t mode,
				 size_t parent, uint64_t h)
{
	struct imp_entry *e;
	size_t i;
	if ((im->n + 1) * 2 > im->tabsz) {
		free(im->tab);
		im->tabsz = im->tabsz ? im->tabsz * 2 : 1024;
		im->tab = xcalloc(im->tabsz, sizeof(*im->tab));
		for (i = 0; i < im->n; i++)
			tab_insert(im, i);
	}
	ALLOC_GROW(im->e, im->n + 1, im->alloc);
	e = &im->e[im->n];
	memset(e, 0, sizeof(*e));
	e->path = xstrndup(path, len);
	e->len = len;
	e->hash = h;
	e->parent = parent;
	e->mode = mode;
	tab_insert(im, im->n++);
	return e;
}

static int utf8_ok(const unsigned char *s)
{
	while (*s) {
		unsigned c = *s;
		size_t n, i;
		uint32_t cp;
		if (c < 0x80) {
			s++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		for (i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i] & 0x3f);
		}
		/* overlong forms, surrogates, beyond U+10FFFF */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		s += n + 1;
	}
	return 1;
}

/* A name for messages: control bytes, and all high bytes of a name that is
 * not UTF-8, as \xNN, so a hostile name cannot garble the terminal; a very
 * long one (a deep path) keeps only its two ends. */
#define NAME_SHOWN_HEAD 80
#define NAME_SHOWN_TAIL 60

static void quote_name(struct strbuf *out, const char *name)
{
	int utf8 = utf8_ok((const unsigned char *)name);
	strbuf_reset(out);
	for (; *name; name++) {
		unsigned char c = (unsigned char)*name;
		if (c < 0x20 || c == 0x7f || c == '\\' || (c >= 0x80 && !utf8))
			strbuf_addf(out, "\\x%02x", c);
		else
			strbuf_addch(out, (char)c);
	}
	if (out->len > NAME_SHOWN_HEAD + 3 + NAME_SHOWN_TAIL) {
		memcpy(out->buf + NAME_SHOWN_HEAD, "...", 3);
		memmove(out->buf + NAME_SHOWN_HEAD + 3, out->buf + out->len - NAME_SHOWN_TAIL,
			NAME_SHOWN_TAIL);
		strbuf_setlen(out, NAME_SHOWN_HEAD + 3 + NAME_SHOWN_TAIL);
	}
}

/*
 * An archive name as a path below the target: "." and empty components
 * dropped, anything that could leave the target or that cairn never
 * writes refused (the reason goes to why). "" is the target itself.
 */
static int norm_path(const char *raw, struct strbuf *out, struct strbuf *why)
{
	const char *p = raw;
	size_t depth = 0;
	strbuf_reset(out);
	if (!raw)
		return cerr(why, CAIRN_EUNSAFE, "its name cannot be decoded");
	if (raw[0] == '/')
		return cerr(why, CAIRN_EUNSAFE, "an absolute path");
	if (!utf8_ok((const unsigned char *)raw))
		return cerr(why, CAIRN_EUNSAFE, "its name is not valid UTF-8");
	while (*p) {
		size_t n = strcspn(p, "/");
		if (!n || (n == 1 && p[0] == '.')) {
			/* "a//b", "./a": nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			return cerr(why, CAIRN_EUNSAFE, "a '..' component");
		} else if (!entry_name_ok(p, n)) {
			return cerr(why, CAIRN_EUNSAFE, "'%.*s' is a name cairn never writes", (int)n, p);
		} else if (++depth > TREE_MAX_DEPTH) {
			/* its tree would be deeper than any reader accepts */
			return cerr(why, CAIRN_EUNSAFE, "it is deeper than %d levels", TREE_MAX_DEPTH);
		} else {
			if (out->len)
				strbuf_addch(out, '/');
			strbuf_add(out, p, n);
		}
		p += n;
		if (*p)
			p++;
	}
	return 0;
}

/*
 * A refused entry: an error, or under --on-bad=skip a warning and 1 (the
 * caller skips the entry).
 */
static int refuse(struct imp *im, struct strbuf *why, struct strbuf *err)
{
	if (im->o->on_bad == ARCHIVE_ON_BAD_SKIP) {
		struct strbuf msg = STRBUF_INIT;
		strbuf_addf(&msg, "skipping entry '%s' of '%s': %s", im->cur.buf, im->archive,
			    why->buf);
		if (im->o->warn)
			im->o->warn(msg.buf, im->o->warn_data);
		strbuf_release(&msg);
		im->skipped++;
		return 1;
	}
	return cerr(err, CAIRN_EUNSAFE, "refusing entry '%s' of '%s': %s", im->cur.buf, im->archive,
		    why->buf);
}

static int caps_check(struct imp *im, uint64_t more, struct strbuf *err)
{
	const struct import_opts *o = im->o;
	uint64_t t = im->total + more;
	if (t < im->total || t > o->max_bytes)
		return cerr(err, CAIRN_EUNSAFE,
			    "refusing entry '%s' of '%s': the archive expands beyond %llu bytes (import.maxBytes)",
			    im->cur.buf, im->archive, (unsigned long long)o->max_bytes);
	if (o->max_ratio && t > IMPORT_RATIO_FLOOR && im->archive_bytes &&
	    t / o->max_ratio > im->archive_bytes)
		return cerr(err, CAIRN_EUNSAFE,
			    "refusing entry '%s' of '%s': the archive expands more than %llu times its size (import.maxRatio)",
			    im->cur.buf, im->archive, (unsigned long long)o->max_ratio);
	return 0;
}

static int disk_err(struct imp *im, const char *what, struct strbuf *err)
{
	return cerr(err, CAIRN_EIO, "cannot write entry '%s' of '%s' to '%s': %s", im->cur.buf,
		    im->archive, what, archive_error_string(im->disk));
}

/* ingest_read_fn: the entry's data, teed to the disk when materialising. */
static ssize_t read_entry(void *data, void *buf, size_t len, struct strbuf *err)
{
	struct imp *im = data;
	size_t have = 0;
	int ret;
	while (have < len) {
		la_ssize_t got = archive_read_data(im->a, (char *)buf + have, len - have);
		if (got < 0)
			return cerr(err, CAIRN_EFORMAT, "cannot read entry '%s' of '%s': %s", im->cur.buf,
				    im->archive, archive_error_string(im->a));
		if (!got)
			break;
		have += (size_t)got;
	}
	ret = caps_check(im, have, err);
	if (ret)
		return ret;
	im->total += have;
	if (im->disk && have) {
		size_t done = 0;
		while (done < have) {
			la_ssize_t w = archive_write_data(im->disk, (char *)buf + done, have - done);
			if (w <= 0)
				return disk_err(im, im->tmprel, err);
			done += (size_t)w;
		}
	}
	return (ssize_t)have;
}

/*
 * Checks the parents of `path` (known entries must be directories, never
 * symlinks or files) and adds the missing ones once add is set. *parent
 * gets the index + 1 of the entry of path's directory (0: the target, or
 * not there yet) and *h the hash of path.
 */
static int check_parents(struct imp *im, const char *path, size_t len, int add, size_t *parent,
			 uint64_t *h, struct strbuf *why)
{
	size_t pos = 0, n, par = 0;
	uint64_t hh = PATH_HASH_INIT;
	int missing = 0;
	while ((n = next_component(path, len, &pos, &hh))) {
		const char *name = path + pos - n - 1;
		struct imp_entry *p;
		if (pos >= len + 1) {
			/* the last component: path itself */
			*parent = par;
			*h = hh;
			return 0;
		}
		p = missing ? NULL : find_child(im, par, hh, name, n);
		if (p && p->mode == MODE_LINK)
			return cerr(why, CAIRN_EUNSAFE, "it would be written through the symlink '%.*s'",
				    (int)(pos - 1), path);
		if (p && p->mode != MODE_DIR)
			return cerr(why, CAIRN_EUNSAFE, "it would be written below the file '%.*s'",
				    (int)(pos - 1), path);
		if (!p && add)
			p = imp_add(im, path, pos - 1, MODE_DIR, par, hh);
		if (!p)
			missing = 1; /* then nothing below it is there either */
		par = p ? (size_t)(p - im->e) + 1 : 0;
	}
	*parent = par;
	*h = hh;
	return 0;
}

static const char *type_name(uint32_t mode)
{
	return mode == MODE_DIR ? "directory" : mode == MODE_LINK ? "symlink" : "file";
}

/* Writes the entry's header to the disk (a fresh entry: nothing of the
 * archive's owners, ACLs or flags is carried over). */
static int disk_header(struct imp *im, const char *path, uint32_t mode, uint64_t size,
		       const char *link, const char *hardlink, struct strbuf *err)
{
	struct archive_entry *de;
	struct strbuf p = STRBUF_INIT, h = STRBUF_INIT;
	int r = 0;
	if (!im->disk)
		return 0;
	de = archive_entry_new();
	strbuf_addf(&p, "%s/%s", im->tmprel, path);
	archive_entry_copy_pathname(de, p.buf);
	if (hardlink) {
		strbuf_addf(&h, "%s/%s", im->tmprel, hardlink);
		archive_entry_copy_hardlink(de, h.buf);
	}
	if (mode == MODE_DIR) {
		archive_entry_set_filetype(de, AE_IFDIR);
		archive_entry_set_perm(de, 0777);
	} else if (mode == MODE_LINK) {
		archive_entry_set_filetype(de, AE_IFLNK);
		archive_entry_set_perm(de, 0777);
		archive_entry_copy_symlink(de, link);
	} else {
		archive_entry_set_filetype(de, AE_IFREG);
		archive_entry_set_perm(de, mode == MODE_EXEC ? 0777 : 0666);
		archive_entry_set_size(de, (la_int64_t)size);
	}
	if (archive_write_header(im->disk, de) != ARCHIVE_OK)
		r = disk_err(im, p.buf, err);
	archive_entry_free(de);
	strbuf_release(&p);
	strbuf_release(&h);
	return r;
}

static int disk_finish(struct imp *im, struct strbuf *err)
{
	if (im->disk && archive_write_finish_entry(im->disk) != ARCHIVE_OK)
		return disk_err(im, im->tmprel, err);
	return 0;
}

/* One entry of the archive: checked, stored, written. */
static int import_entry(struct imp *im, struct archive_entry *ae, struct strbuf *path,
			struct strbuf *err)
{
	struct strbuf why = STRBUF_INIT, hl = STRBUF_INIT;
	const char *raw = archive_entry_pathname(ae), *hard = archive_entry_hardlink(ae);
	unsigned ft = archive_entry_filetype(ae);
	struct imp_entry *old, *src = NULL, *e;
	size_t src_i = 0, parent = 0;
	uint64_t h = 0;
	uint32_t mode = 0;
	int ret, link_data = 0;

	if (raw)
		quote_name(&im->cur, raw);
	else
		quote_name(&im->cur, "?");
	ret = norm_path(raw, path, &why);
	if (!ret && hard) {
		/*
		 * A hard link to a file imported before it: a copy of its
		 * content. newc cpio puts the data on the last link of a group
		 * instead (the earlier ones are empty): then the data is this
		 * entry's, and the file linked to gets it too.
		 */
		link_data = archive_entry_size(ae) > 0;
		ret = norm_path(hard, &hl, &why);
		if (!ret)
			src = imp_find(im, hl.buf, hl.len);
		if (ret)
			ret = cerr(&why, CAIRN_EUNSAFE, "a hard link to '%s', outside the target", hard);
		else if (!strcmp(hl.buf, path->buf))
			ret = cerr(&why, CAIRN_EUNSAFE, "a hard link to itself");
		else if (!src && !link_data)
			ret = cerr(&why, CAIRN_EUNSAFE, "a hard link to '%s', which is not in the archive before it",
				   hard);
		else if (src && src->mode != MODE_FILE && src->mode != MODE_EXEC)
			ret = cerr(&why, CAIRN_EUNSAFE, "a hard link to '%s', which is a %s", hard,
				   type_name(src->mode));
		else if (!link_data)
			mode = src->mode;
		else
			mode = (archive_entry_perm(ae) & 0100) ? MODE_EXEC : MODE_FILE;
		if (src)
			src_i = (size_t)(src - im->e); /* im->e may move below */
		else
			hard = NULL; /* data, nothing to link to: a plain file */
	} else if (!ret) {
		if (ft == AE_IFREG)
			mode = (archive_entry_perm(ae) & 0100) ? MODE_EXEC : MODE_FILE;
		else if (ft == AE_IFDIR)
			mode = MODE_DIR;
		else if (ft == AE_IFLNK)
			mode = MODE_LINK;
		else
			ret = cerr(&why, CAIRN_EUNSAFE, "a %s; only files, directories and symlinks are imported",
				   ft == AE_IFIFO ? "FIFO" : ft == AE_IFSOCK ? "socket" :
				   ft == AE_IFCHR ? "character device" : ft == AE_IFBLK ? "block device" :
				   "special file");
	}
	if (!ret && !path->len && mode != MODE_DIR)
		ret = cerr(&why, CAIRN_EUNSAFE, "a %s in place of the target directory", type_name(mode));
	if (!ret && !path->len)
		goto out; /* "./": the target itself */
	if (!ret)
		ret = check_parents(im, path->buf, path->len, 0, &parent, &h, &why);
	old = ret ? NULL : imp_find(im, path->buf, path->len);
	if (!ret && old && (old->mode == MODE_DIR) != (mode == MODE_DIR))
		ret = cerr(&why, CAIRN_EUNSAFE, "a %s where the archive already has a %s of that name",
			   type_name(mode), type_name(old->mode));
	if (!ret && old && (old->mode == MODE_LINK) != (mode == MODE_LINK))
		ret = cerr(&why, CAIRN_EUNSAFE, "a %s where the archive already has a %s of that name",
			   type_name(mode), type_name(old->mode));
	if (!ret && mode != MODE_DIR && ends_with(path->buf, POINTER_SUFFIX))
		ret = cerr(&why, CAIRN_EUNSAFE,
			   "a cairn pointer file name (tracked paths cannot nest, see cairn add)");
	if (!ret && mode == MODE_LINK) {
		const char *t = archive_entry_symlink(ae);
		if (!t || !*t)
			ret = cerr(&why, CAIRN_EUNSAFE, "a symlink without a target");
		else if (strlen(t) > 4095)
			ret = cerr(&why, CAIRN_EUNSAFE, "a symlink target longer than 4095 bytes");
	}
	if (ret) {
		ret = refuse(im, &why, err);
		if (ret == 1)
			ret = archive_read_data_skip(im->a) < ARCHIVE_WARN
				      ? cerr(err, CAIRN_EFORMAT, "cannot read '%s': %s", im->archive,
					     archive_error_string(im->a))
				      : 0;
		goto out;
	}
	if (mode != MODE_DIR && archive_entry_size_is_set(ae) && archive_entry_size(ae) > 0) {
		ret = caps_check(im, (uint64_t)archive_entry_size(ae), err);
		if (ret)
			goto out;
	}
	check_parents(im, path->buf, path->len, 1, &parent, &h, &why);
	e = old ? imp_find(im, path->buf, path->len)
		: imp_add(im, path->buf, path->len, mode, parent, h);
	if (src)
		src = &im->e[src_i];
	e->mode = mode;
	if (mode == MODE_DIR) {
		ret = disk_header(im, path->buf, mode, 0, NULL, NULL, err);
	} else if (mode == MODE_LINK) {
		const char *t = archive_entry_symlink(ae);
		e->size = strlen(t);
		oid_hash(&e->id, t, e->size);
		sha256_hash(&e->sha, t, e->size);
		ret = ingest_stream_put(im->is, OBJ_CHUNK, &e->id, t, e->size, err);
		if (!ret)
			ret = disk_header(im, path->buf, mode, 0, t, NULL, err);
	} else if (src && !link_data) {
		e->size = src->size;
		e->id = src->id;
		e->sha = src->sha;
		ret = disk_header(im, path->buf, mode, 0, NULL, hl.buf, err);
	} else {
		/* with link_data, write_disk links first, then writes the data
		 * into the shared inode */
		la_int64_t sz = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : 0;
		ret = disk_header(im, path->buf, mode, sz > 0 ? (uint64_t)sz : 0, NULL,
				  src ? hl.buf : NULL, err);
		if (!ret)
			ret = ingest_stream_file(im->is, read_entry, im, &e->id, &e->sha, &e->size, err);
		if (!ret && src && src != e) {
			src = &im->e[src_i];
			src->id = e->id;
			src->sha = e->sha;
			src->size = e->size;
			src->mode = e->mode;
		}
	}
	if (!ret)
		ret = disk_finish(im, err);
out:
	strbuf_release(&why);
	strbuf_release(&hl);
	return ret;
}

/*
 * Removes the temp directories that killed imports left in `parent`
 * (WT_TMP_PREFIX PID "-import", PID no longer running).
 */
static void clean_dead_imports(const char *parent)
{
	DIR *d = opendir(parent[0] ? parent : ".");
	struct dirent *de;
	const size_t pl = sizeof(WT_TMP_PREFIX) - 1;
	if (!d)
		return;
	while ((de = readdir(d))) {
		char *end;
		long pid;
		if (strncmp(de->d_name, WT_TMP_PREFIX, pl))
			continue;
		pid = strtol(de->d_name + pl, &end, 10);
		if (pid <= 0 || strcmp(end, "-import") ||
		    !(kill((pid_t)pid, 0) < 0 && errno == ESRCH))
			continue;
		{
			char *p = parent[0] ? xstrfmt("%s/%s", parent, de->d_name) : xstrdup(de->d_name);
			remove_tree(p);
			free(p);
		}
	}
	closedir(d);
}

/*
 * The length of the first parent directory of rel (a relative path) that
 * does not exist, or 0 when they all do: mkdir_p will create it and those
 * below, and a failed import removes them again.
 */
static size_t first_missing_parent(const char *rel)
{
	const char *s = rel, *slash;
	struct stat st;
	while ((slash = strchr(s, '/'))) {
		char *p = xstrndup(rel, (size_t)(slash - rel));
		int missing = lstat(p, &st) < 0;
		free(p);
		if (missing)
			return (size_t)(slash - rel);
		s = slash + 1;
	}
	return 0;
}

/* rmdir the (empty) parents of rel from its parent up to the one of
 * length `from` (see first_missing_parent). */
static void remove_made_parents(const char *rel, size_t from)
{
	char *p = xstrdup(rel), *slash;
	if (!from) {
		free(p);
		return;
	}
	while ((slash = strrchr(p, '/')) && (size_t)(slash - p) >= from) {
		*slash = '\0';
		if (rmdir(p) < 0)
			break;
	}
	free(p);
}

/* Sort order: a path's descendants right after it, siblings by strcmp. */
static int entry_path_cmp(const void *a, const void *b)
{
	const unsigned char *x = (const unsigned char *)(*(struct imp_entry *const *)a)->path;
	const unsigned char *y = (const unsigned char *)(*(struct imp_entry *const *)b)->path;
	while (*x && *x == *y) {
		x++;
		y++;
	}
	return (*x == '/' ? 1 : *x) - (*y == '/' ? 1 : *y);
}

/* How many kids and descendants each entry has (index + 1; 0: the target). */
struct imp_counts {
	size_t *kids, *desc;
};

/*
 * Fills dir's kids from es[0..n), all below dir (the entry idx + 1, or 0
 * for the target), sorted as above. Linear in the entries: the counts say
 * how many kids dir has and where each kid's descendants end. The
 * recursion goes as deep as the paths, at most TREE_MAX_DEPTH (norm_path).
 */
static void build_nodes(struct imp *im, const struct imp_counts *cnt, struct wt_node *dir,
			size_t dir_idx, struct imp_entry **es, size_t n, size_t plen)
{
	size_t i, k = cnt->kids[dir_idx];
	dir->kids = xcalloc(k ? k : 1, sizeof(*dir->kids));
	dir->alloc = k;
	for (i = 0; i < n;) {
		struct imp_entry *e = es[i];
		struct wt_node *c = &dir->kids[dir->nkids++];
		size_t idx = (size_t)(e - im->e) + 1, j = i + 1 + cnt->desc[idx];
		c->path = xstrfmt("%s/%s", dir->path, e->path + plen);
		c->pathlen = strlen(c->path);
		c->name = c->path + c->pathlen - (e->len - plen);
		c->mode = e->mode;
		c->size = e->size;
		c->id = e->id;
		c->sha = e->sha;
		c->known = e->mode != MODE_DIR;
		if (e->mode == MODE_DIR)
			build_nodes(im, cnt, c, idx, es + i + 1, j - i - 1, e->len + 1);
		i = j;
	}
}

static int put_tree(struct wt_node *dir, const struct tree *t, const struct strbuf *enc,
		    void *data, struct strbuf *err)
{
	struct imp *im = data;
	return ingest_stream_put(im->is, OBJ_TREE, &dir->id, enc->buf, enc->len, err);
}

static int restat_files(struct repo *r, struct wt_node *n, struct strbuf *err)
{
	size_t i;
	int ret = 0;
	if (n->mode == MODE_DIR) {
		for (i = 0; i < n->nkids && !ret; i++)
			ret = restat_files(r, &n->kids[i], err);
		return ret;
	}
	{
		uint32_t mode = n->mode;
		uint64_t size = n->size;
		ret = wt_node_restat(r, n, err);
		/* a mode the umask changed is not what the tree says */
		if (!ret && (n->mode != mode || n->size != size))
			n->known = 0;
		n->mode = mode;
		n->size = size;
	}
	return ret;
}

int archive_import(struct repo *r, const char *archive, const char *rel,
		   const struct import_opts *opts, struct import_result *res, struct strbuf *err)
{
	struct imp im;
	struct odb_batch *b = NULL;
	struct strbuf path = STRBUF_INIT;
	struct archive_entry *ae;
	struct wt_node *root = NULL;
	struct stat st;
	char *old = NULL;
	int ret = 0, placed = 0;
	size_t made_from = 0;
	size_t i;

	memset(res, 0, sizeof(*res));
	memset(&im, 0, sizeof(im));
	strbuf_init(&im.cur, 0);
	im.r = r;
	im.o = opts;
	im.archive = opts->name ? opts->name : archive;
	if (stat(archive, &st) < 0)
		return cerr_errno(err, "cannot read '%s'", im.archive);
	if (S_ISDIR(st.st_mode))
		return cerr(err, CAIRN_EINVAL, "'%s' is a directory, not an archive", im.archive);
	im.archive_bytes = res->archive_bytes = (uint64_t)st.st_size;
	if (opts->checkout && !lstat(rel, &st) && !opts->force)
		return cerr(err, CAIRN_EEXIST, "'%s' already exists (use -f to replace it)", rel);

	im.a = archive_read_new();
	archive_read_support_format_all(im.a);
	archive_read_support_filter_all(im.a);
	if (archive_read_open_filename(im.a, archive, 1 << 20) != ARCHIVE_OK) {
		ret = cerr(err, CAIRN_EFORMAT, "cannot read '%s': %s", im.archive,
			   archive_error_string(im.a));
		goto out;
	}
	if (opts->checkout) {
		const char *slash = strrchr(rel, '/');
		im.tmprel = xstrfmt("%.*s%s" WT_TMP_PREFIX "%ld-import", slash ? (int)(slash - rel) : 0,
				    rel, slash ? "/" : "", (long)getpid());
		/* what killed imports left beside the target goes first */
		{
			char *parent = xstrndup(rel, slash ? (size_t)(slash - rel) : 0);
			clean_dead_imports(parent);
			free(parent);
		}
		remove_tree(im.tmprel);
		made_from = first_missing_parent(im.tmprel);
		if (mkdir_p(im.tmprel, 0777) < 0) {
			ret = cerr_errno(err, "cannot create '%s'", im.tmprel);
			free(im.tmprel);
			im.tmprel = NULL;
			goto out;
		}
		im.disk = archive_write_disk_new();
		archive_write_disk_set_options(im.disk, archive_import_disk_flags());
	}
	ret = repo_open_store(r, 0, err);
	if (!ret)
		ret = odb_batch_begin(r->odb, &b, err);
	if (ret)
		goto out;
	im.is = ingest_stream_begin(r, b, opts->progress);
	for (;;) {
		int rc = archive_read_next_header(im.a, &ae);
		if (rc == ARCHIVE_EOF)
			break;
		if (rc < ARCHIVE_WARN) {
			ret = cerr(err, CAIRN_EFORMAT, "cannot read '%s': %s", im.archive,
				   archive_error_string(im.a));
			break;
		}
		ret = import_entry(&im, ae, &path, err);
		if (ret)
			break;
		progress_add(opts->progress, 0, 0);
	}
	/* the trees, bottom-up, from the sorted entries */
	if (!ret) {
		struct imp_entry **es = xcalloc(im.n ? im.n : 1, sizeof(*es));
		for (i = 0; i < im.n; i++)
			es[i] = &im.e[i];
		sort_array(es, im.n, sizeof(*es), entry_path_cmp);
		root = xcalloc(1, sizeof(*root));
		root->path = xstrdup(rel);
		root->pathlen = strlen(rel);
		root->name = root->path + (strrchr(rel, '/') ? strrchr(rel, '/') - rel + 1 : 0);
		root->mode = MODE_DIR;
		{
			struct imp_counts cnt;
			cnt.kids = xcalloc(im.n + 1, sizeof(*cnt.kids));
			cnt.desc = xcalloc(im.n + 1, sizeof(*cnt.desc));
			/* descendants come after their directory: count backwards */
			for (i = im.n; i-- > 0;) {
				size_t idx = (size_t)(es[i] - im.e) + 1;
				cnt.kids[es[i]->parent]++;
				cnt.desc[es[i]->parent] += 1 + cnt.desc[idx];
			}
			build_nodes(&im, &cnt, root, 0, es, im.n, 0);
			free(cnt.kids);
			free(cnt.desc);
		}
		free(es);
		ret = wt_compute_trees(root, put_tree, &im, err);
	}
	ret = ingest_stream_end(im.is, ret, &res->ingest, err);
	im.is = NULL;
	if (ret) {
		odb_batch_abort(b);
		goto out;
	}
	/* durable and indexed before anything names it */
	ret = odb_batch_commit(b, &res->odb, err);
	if (ret)
		goto out;
	if (im.disk) {
		if (archive_write_close(im.disk) != ARCHIVE_OK) {
			ret = disk_err(&im, im.tmprel, err);
			goto out;
		}
		if (!lstat(rel, &st)) {
			old = xstrfmt("%s-old", im.tmprel);
			remove_tree(old);
			if (rename(rel, old) < 0) {
				ret = cerr_errno(err, "cannot move '%s' out of the way", rel);
				goto out;
			}
		}
		if (rename(im.tmprel, rel) < 0) {
			ret = cerr_errno(err, "cannot rename '%s' to '%s'", im.tmprel, rel);
			if (old && rename(old, rel) == 0) {
				free(old);
				old = NULL;
			}
			goto out;
		}
		placed = 1;
		if (old && remove_tree(old) < 0)
			core_report("warning", "cannot remove '%s': %s", old, strerror(errno));
		/* so that status right after is fast and clean */
		if (!restat_files(r, root, err))
			ret = wt_stat_cache_save(r, &root, 1, err);
		if (ret) {
			core_report("warning", "%s", err->buf);
			ret = 0;
		}
	}
	res->ptr.is_dir = 1;
	res->ptr.id = root->id;
	res->ptr.sha = root->sha;
	res->ptr.size = root->size;
	res->ptr.files = root->files;
	res->ptr.mode = MODE_DIR;
	res->entries = im.n;
	res->skipped = im.skipped;
out:
	if (im.is) {
		ingest_stream_end(im.is, ret ? ret : CAIRN_EINVAL, NULL, NULL);
		odb_batch_abort(b);
	}
	if (im.disk) {
		archive_write_free(im.disk);
	}
	if (im.tmprel && !placed) {
		remove_tree(im.tmprel);
		remove_made_parents(im.tmprel, made_from);
	}
	free(im.tmprel);
	free(old);
	archive_read_free(im.a);
	for (i = 0; i < im.n; i++)
		free(im.e[i].path);
	free(im.e);
	free(im.tab);
	wt_node_free(root);
	strbuf_release(&path);
	strbuf_release(&im.cur);
	return ret;
}

/* --- export --- */

struct exp {
	struct archive *a;
	struct odb_thread t;
	const struct export_opts *o;
	struct export_result *res;
	const char *cur;
};

static int write_err(struct exp *ex, struct strbuf *err)
{
	int e = archive_errno(ex->a);
	return cerr(err, e == ENOSPC ? CAIRN_ENOSPC : CAIRN_EIO, "cannot write the archive at '%s': %s",
		    ex->cur, archive_error_string(ex->a));
}

static int to_archive(const void *p, size_t n, void *data, struct strbuf *err)
{
	struct exp *ex = data;
	size_t done = 0;
	while (done < n) {
		la_ssize_t w = archive_write_data(ex->a, (const char *)p + done, n - done);
		if (w <= 0)
			return write_err(ex, err);
		done += (size_t)w;
	}
	progress_add(ex->o->progress, 0, n);
	return 0;
}

static int exp_header(struct exp *ex, const char *path, const struct tree_entry *e,
		      const char *link, struct strbuf *err)
{
	struct archive_entry *ae = archive_entry_new();
	int r = 0;
	ex->cur = path;
	archive_entry_copy_pathname(ae, path);
	archive_entry_set_uid(ae, 0);
	archive_entry_set_gid(ae, 0);
	archive_entry_set_mtime(ae, (time_t)ex->o->mtime, 0);
	if (e->mode == MODE_DIR) {
		archive_entry_set_filetype(ae, AE_IFDIR);
		archive_entry_set_perm(ae, 0755);
	} else if (e->mode == MODE_LINK) {
		archive_entry_set_filetype(ae, AE_IFLNK);
		archive_entry_set_perm(ae, 0777);
		archive_entry_copy_symlink(ae, link);
	} else {
		archive_entry_set_filetype(ae, AE_IFREG);
		archive_entry_set_perm(ae, e->mode == MODE_EXEC ? 0755 : 0644);
		archive_entry_set_size(ae, (la_int64_t)e->size);
	}
	if (archive_write_header(ex->a, ae) < ARCHIVE_WARN)
		r = write_err(ex, err);
	archive_entry_free(ae);
	return r;
}

/* One entry: a directory's header (the walk goes on into it), or a file. */
static int exp_entry(struct exp *ex, const struct tree_entry *e, const char *path,
		     struct strbuf *err)
{
	int r = 0;
	if (e->mode == MODE_DIR) {
		ex->res->dirs++;
		return exp_header(ex, path, e, NULL, err);
	}
	if (e->mode == MODE_LINK) {
		struct strbuf target = STRBUF_INIT;
		r = content_read_small(&ex->t, &e->id, &e->sha, e->size, 4096, &target, path, err);
		if (!r && (!target.len || memchr(target.buf, '\0', target.len)))
			r = cerr(err, CAIRN_EFORMAT, "'%s': bad symlink target", path);
		if (!r)
			r = exp_header(ex, path, e, target.buf, err);
		strbuf_release(&target);
	} else {
		r = exp_header(ex, path, e, NULL, err);
		if (!r)
			r = content_foreach(&ex->t, &e->id, &e->sha, e->size, path, to_archive, ex, err);
		ex->res->bytes += e->size;
	}
	if (!r)
		ex->res->files++;
	progress_add(ex->o->progress, 1, 0);
	return r;
}

static int exp_walk_entry(struct tree_walk *w, const struct tree_entry *e, void *data,
			  struct strbuf *err)
{
	return exp_entry(data, e, w->path.buf, err);
}

int archive_export(struct repo *r, const struct pointer *p, const char *name, int fd,
		   const struct export_opts *opts, struct export_result *res, struct strbuf *err)
{
	struct exp ex;
	struct tree_entry te;
	int ret = 0, rc = ARCHIVE_OK;

	memset(res, 0, sizeof(*res));
	memset(&ex, 0, sizeof(ex));
	ex.o = opts;
	ex.res = res;
	ex.a = archive_write_new();
	if (opts->format == EXPORT_ZIP) {
		rc = archive_write_set_format_zip(ex.a);
	} else {
		/* pax only where ustar cannot say it (long names, big files) */
		rc = archive_write_set_format_pax_restricted(ex.a);
		if (rc == ARCHIVE_OK && opts->format == EXPORT_TAR_GZ) {
			rc = archive_write_add_filter_gzip(ex.a);
			/* no time stamp or name in the gzip header */
			if (rc == ARCHIVE_OK)
				rc = archive_write_set_filter_option(ex.a, "gzip", "timestamp", NULL);
		} else if (rc == ARCHIVE_OK && opts->format == EXPORT_TAR_BZ2) {
			rc = archive_write_add_filter_bzip2(ex.a);
		} else if (rc == ARCHIVE_OK && opts->format == EXPORT_TAR_XZ) {
			rc = archive_write_add_filter_xz(ex.a);
		} else if (rc == ARCHIVE_OK && opts->format == EXPORT_TAR_ZST) {
			rc = archive_write_add_filter_zstd(ex.a);
		}
	}
	/*
	 * No padding of the last block: libarchive pads to 10240 bytes unless
	 * the fd is a regular file, and the bytes must not depend on where
	 * they go (a file or a pipe).
	 */
	if (rc == ARCHIVE_OK)
		rc = archive_write_set_bytes_in_last_block(ex.a, 1);
	if (rc == ARCHIVE_OK)
		rc = archive_write_open_fd(ex.a, fd);
	if (rc != ARCHIVE_OK) {
		ret = cerr(err, CAIRN_EIO, "cannot start the archive: %s", archive_error_string(ex.a));
		archive_write_free(ex.a);
		return ret;
	}
	odb_thread_init(&ex.t, r->odb);
	memset(&te, 0, sizeof(te));
	te.mode = p->is_dir ? MODE_DIR : p->mode;
	te.size = p->size;
	te.id = p->id;
	te.sha = p->sha;
	if (p->is_dir) {
		static const struct tree_walk_ops ops = { exp_walk_entry, NULL, NULL };
		ret = tree_walk(&ex.t, &te, "", 1, &ops, &ex, err);
	} else {
		ret = exp_entry(&ex, &te, name, err);
	}
	ex.cur = "the end";
	if (!ret && archive_write_close(ex.a) != ARCHIVE_OK)
		ret = write_err(&ex, err);
	archive_write_free(ex.a);
	odb_thread_release(&ex.t);
	return ret;
}
