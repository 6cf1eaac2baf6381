#ifndef CAIRN_REMOTE_H
#define CAIRN_REMOTE_H
/*
 * Remote transports: one interface, a backend per URL scheme.
 *
 * A remote is a flat namespace of immutable objects (files) under the
 * URL's path or prefix; cairn uses "cairn-remote", "packs/NAME.pack" and
 * "packs/NAME.idx" (Documentation/technical/remote-format.md). Backends
 * know nothing about packs: they list, stat, read byte ranges, write
 * whole objects atomically and remove.
 *
 * Every operation returns 0 or a CAIRN_E* code with a message in err:
 *   CAIRN_ENOTFOUND   the object (or the remote) does not exist
 *   CAIRN_EEXIST      write: the object exists already (never overwritten)
 *   CAIRN_ETRANSIENT  may succeed if retried (connection reset, timeout)
 *   CAIRN_EPERMANENT  will fail again (refused auth, no permission,
 *                     unknown host key, remote disk full)
 * One struct remote is one connection; it is used by one thread at a
 * time. Callers wanting parallel transfers open several.
 */
#include <stdint.h>

#include "core/config.h"
#include "core/util.h"

struct remote_url {
	char *scheme; /* "file", "ssh", "s3" */
	char *user;   /* ssh: may be NULL (then ~/.ssh/config or $USER) */
	char *host;   /* ssh: the host; s3: the bucket */
	int port;     /* 0: the default */
	char *path;   /* file/ssh: directory; s3: prefix (may be "") */
};

/*
 * Parses a remote URL: /abs/path, file:///abs/path, ssh://[user@]host[:port]/path,
 * [user@]host:path (scp style; a relative path is relative to the login
 * directory), s3://bucket[/prefix]. A relative local path is resolved against `base` (the
 * repository top) when base is not NULL. Passwords in URLs are refused.
 */
int remote_url_parse(struct remote_url *u, const char *s, const char *base, struct strbuf *err);
void remote_url_release(struct remote_url *u);
/* The URL as shown to people: never with secrets. */
void remote_url_display(const struct remote_url *u, struct strbuf *out);

#define REMOTE_ALL UINT64_MAX
#define REMOTE_MTIME_UNKNOWN INT64_MIN

/*
 * A listing of a remote's directory holds at most this many entries; a
 * backend refuses a bigger one (CAIRN_EPERMANENT) instead of growing
 * without bound (remote-format.md, "Limits").
 */
#define REMOTE_LIST_MAX 1000000

struct remote;

struct remote_ops {
	const char *scheme;
	/* Parallel connections when remote.NAME.jobs and -j say nothing. */
	int default_jobs;
	/* Connects; `name` is the remote's name for messages, cfg its settings. */
	int (*open)(struct remote **out, const struct remote_url *u, const struct config *cfg,
		    const char *name, struct strbuf *err);
	void (*close)(struct remote *r);
	/* Creates the directories the layout needs (no-op where there are none). */
	int (*prepare)(struct remote *r, const char *dir, struct strbuf *err);
	/* Calls cb(name, size) for each object directly under dir; stops on a
	 * non-zero return of cb and returns it. ENOTFOUND if dir is absent;
	 * EPERMANENT past REMOTE_LIST_MAX entries. size is UINT64_MAX when
	 * the backend cannot tell. */
	int (*list)(struct remote *r, const char *dir,
		    int (*cb)(const char *name, uint64_t size, void *data), void *data,
		    struct strbuf *err);
	/* list, with each object's time of last modification on the
	 * remote's own clock (Unix seconds), or REMOTE_MTIME_UNKNOWN: the
	 * time of upload, which gc -r compares with the time of a file it
	 * wrote itself, never with the local clock. A backend sets .list
	 * to remote_list_plain() and implements this. */
	int (*list_times)(struct remote *r, const char *dir,
			  int (*cb)(const char *name, uint64_t size, int64_t mtime, void *data),
			  void *data, struct strbuf *err);
	int (*stat)(struct remote *r, const char *path, uint64_t *size, struct strbuf *err);
	/* Appends bytes [off, off + len) of path to out (len REMOTE_ALL: to
	 * the end). Fewer bytes than asked means the object is shorter; never
	 * more are appended. What a remote sends is not trusted: callers
	 * pass a bound, never REMOTE_ALL. */
	int (*read)(struct remote *r, const char *path, uint64_t off, uint64_t len,
		    struct strbuf *out, struct strbuf *err);
	/* Makes path hold the `size` bytes of local file fd (from offset 0),
	 * atomically: a temp name, then a rename or its equivalent. EEXIST
	 * (nothing written) if path exists. */
	int (*write)(struct remote *r, const char *path, int fd, uint64_t size, struct strbuf *err);
	int (*remove)(struct remote *r, const char *path, struct strbuf *err);
};

struct remote {
	const struct remote_ops *ops;
	char *name;
	struct remote_url url;
};

/* The backend for a URL's scheme; NULL with a message in err (which may be
 * NULL) for an unknown scheme or a backend that cannot be loaded. The ssh
 * and s3 backends live in cairn-ext.so (core/ext.h). */
const struct remote_ops *remote_ops_for(const struct remote_url *u, struct strbuf *err);
/* Parallel transfers for url when nothing says how many (4, 8 for s3). */
int remote_default_jobs(const char *url);
/*
 * The longest remote name a remote can be opened under: the name starts
 * the keys of the local cache of remote contents (remote-format.md), and
 * an LMDB key holds at most 511 bytes. `cairn remote add` allows 64.
 */
#define REMOTE_NAME_MAX 255
/* Parses, picks the backend and opens; *out owns a copy of the URL.
 * CAIRN_EINVAL for a name longer than REMOTE_NAME_MAX. */
int remote_open_url(struct remote **out, const char *url, const char *base,
		    const struct config *cfg, const char *name, struct strbuf *err);
void remote_close(struct remote *r);
/* ops->list through ops->list_times, for the backends. */
int remote_list_plain(struct remote *r, const char *dir,
		      int (*cb)(const char *name, uint64_t size, void *data), void *data,
		      struct strbuf *err);

/*
 * remote.NAME.VAR as an integer (config_get_int: k, m, g suffixes), def
 * when unset or cfg is NULL; CAIRN_EINVAL outside min..max.
 */
int remote_setting_int(const struct config *cfg, const char *name, const char *var, int64_t def,
		       int64_t min, int64_t max, int64_t *out, struct strbuf *err);

extern const struct remote_ops remote_dir_ops;
extern const struct remote_ops remote_ssh_ops;
extern const struct remote_ops remote_s3_ops;

#endif
