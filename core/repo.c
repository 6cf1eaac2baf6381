#include "core/repo.h"
#include "core/chunker.h"
#include "core/git.h"
#include "core/object.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int exists(const char *p)
{
	struct stat st;
	return lstat(p, &st) == 0;
}

char *repo_config_path(const struct repo *r, const char *which)
{
	if (!strcmp(which, "repo"))
		return xstrfmt("%s/config", r->cairn_dir);
	if (!strcmp(which, "local"))
		return xstrfmt("%s/config.local", r->cairn_dir);
	{
		const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
		if (xdg && *xdg)
			return xstrfmt("%s/cairn/config", xdg);
		return xstrfmt("%s/.config/cairn/config", home && *home ? home : "/");
	}
}

static int get_u32(struct repo *r, const char *key, int64_t def, int64_t lo, int64_t hi,
		   uint32_t *out, struct strbuf *err)
{
	int64_t v;
	int ret = config_get_int(r->cfg, key, def, &v, err);
	if (ret)
		return ret;
	if (v < lo || v > hi)
		return cerr(err, CAIRN_EFORMAT, "config %s = %lld is out of range (%lld..%lld)", key,
			    (long long)v, (long long)lo, (long long)hi);
	*out = (uint32_t)v;
	return 0;
}

int repo_load_config(struct repo *r, struct strbuf *err)
{
	char *files[3];
	const char *files_repo;
	int ret, i;
	int64_t fmt;
	uint32_t z, t;

	files[0] = repo_config_path(r, "user");
	files[1] = repo_config_path(r, "repo");
	files[2] = repo_config_path(r, "local");
	config_free(r->cfg);
	r->cfg = NULL;
	ret = config_load(&r->cfg, (const char *const *)files, 3, err);
	if (ret) {
		for (i = 0; i < 3; i++)
			free(files[i]);
		return ret;
	}
	files_repo = files[1];
	/* format and chunking come from the committed file only, so every
	 * clone chunks alike whatever its local or user settings say */
	{
		struct config *repo_only = NULL;
		const char *one[1] = { files_repo };
		struct config *all = r->cfg;
		ret = config_load(&repo_only, one, 1, err);
		if (ret)
			goto out;
		r->cfg = repo_only;
		ret = config_get_int(r->cfg, "core.format", REPO_FORMAT, &fmt, err);
		if (!ret && fmt != REPO_FORMAT)
			ret = cerr(err, CAIRN_EVERSION,
				   "repository format %lld is not supported by this cairn (it reads %d)",
				   (long long)fmt, REPO_FORMAT);
		if (!ret)
			ret = get_u32(r, "chunker.min", CHUNK_MIN_DEFAULT, 64, CHUNK_MAX_LIMIT, &r->chunk_min, err);
		if (!ret)
			ret = get_u32(r, "chunker.avg", CHUNK_AVG_DEFAULT, 64, CHUNK_MAX_LIMIT, &r->chunk_avg, err);
		if (!ret)
			ret = get_u32(r, "chunker.max", CHUNK_MAX_DEFAULT, 64, CHUNK_MAX_LIMIT, &r->chunk_max, err);
		r->cfg = all;
		config_free(repo_only);
		if (ret)
			goto out;
	}
	if (chunker_check_params(r->chunk_min, r->chunk_avg, r->chunk_max)) {
		ret = cerr(err, CAIRN_EFORMAT,
			    "bad chunker settings %u/%u/%u (need 64 <= min < avg < max <= 64M, avg a power of two from 256 to 16M)",
			    r->chunk_min, r->chunk_avg, r->chunk_max);
		goto out;
	}
	ret = get_u32(r, "compress.level", ODB_ZLEVEL_DEFAULT, 1, 19, &z, err);
	if (!ret)
		r->zlevel = (int)z;
	if (!ret)
		ret = get_u32(r, "core.threads", 0, 0, 256, &t, err);
	if (!ret) {
		int64_t ps;
		r->threads = t ? (int)t : online_cpus();
		ret = config_get_int(r->cfg, "pack.size", (int64_t)ODB_PACK_SIZE_DEFAULT, &ps, err);
		if (!ret && (ps < 4096 || ps > (4ll << 30)))
			ret = cerr(err, CAIRN_EFORMAT, "config pack.size = %lld is out of range (4K..4G)",
				   (long long)ps);
	}
out:
	for (i = 0; i < 3; i++)
		free(files[i]);
	return ret;
}

/* Is `dir` one of the colon-separated absolute paths in GIT_CEILING_DIRECTORIES? */
static int is_ceiling(const char *dir, size_t len)
{
	const char *c = getenv("GIT_CEILING_DIRECTORIES");
	int hit = 0;
	while (c && *c && !hit) {
		size_t n = strcspn(c, ":");
		char *one = xstrndup(c, n), *real = realpath(one, NULL);
		const char *cmp = real ? real : one;
		size_t m = strlen(cmp);
		while (m > 1 && cmp[m - 1] == '/')
			m--;
		hit = m == len && !strncmp(cmp, dir, len);
		free(real);
		free(one);
		c += n;
		if (*c)
			c++;
	}
	return hit;
}

/* A symlink, or (with want_dir) something else than a directory. */
static int check_entry(const struct stat *st, const char *shown, int want_dir, struct strbuf *err)
{
	if (S_ISLNK(st->st_mode))
		return cerr(err, CAIRN_EUNSAFE,
			    "'%s' is a symlink; cairn never follows one in .cairn/ (a cloned "
			    "repository can plant it to make cairn write or delete elsewhere): remove it",
			    shown);
	if (want_dir && !S_ISDIR(st->st_mode))
		return cerr(err, CAIRN_EUNSAFE, "'%s' is not a directory", shown);
	return 0;
}

/*
 * The directory .cairn/SUB (shown as such) and every entry in it: none
 * a symlink. A missing directory is fine. The directory is opened with
 * O_NOFOLLOW, so what is read is what was checked.
 */
static int check_cairn_dir(const struct repo *r, const char *sub, struct strbuf *err)
{
	char *abs = *sub ? xstrfmt("%s/%s", r->cairn_dir, sub) : xstrdup(r->cairn_dir);
	char *shown = *sub ? xstrfmt(".cairn/%s", sub) : xstrdup(".cairn");
	struct stat st;
	struct dirent *de;
	DIR *d = NULL;
	int fd, ret = 0;

	if (lstat(abs, &st) < 0) {
		if (errno != ENOENT)
			ret = cerr_errno(err, "cannot stat '%s'", shown);
		goto out;
	}
	ret = check_entry(&st, shown, 1, err);
	if (ret)
		goto out;
	fd = open(abs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		ret = cerr_errno(err, "cannot open '%s'", shown);
		if (fd >= 0)
			close(fd);
		goto out;
	}
	while (!ret && (de = readdir(d))) {
		char *name;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (de->d_type != DT_UNKNOWN && de->d_type != DT_LNK)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* gone since readdir */
		name = xstrfmt("%s/%s", shown, de->d_name);
		ret = check_entry(&st, name, 0, err);
		free(name);
	}
	closedir(d);
out:
	free(abs);
	free(shown);
	return ret;
}

/*
 * The identity of git's index file (device, inode, size, mtime, ctime),
 * or -1 when it cannot be found cheaply: GIT_DIR and the like set, .git
 * a symlink, no index yet. git replaces its index whenever it changes
 * (a new inode, a new ctime), and no clone can predict those.
 */
static int git_index_stamp(const struct repo *r, struct strbuf *out)
{
	struct strbuf p = STRBUF_INIT, gitfile = STRBUF_INIT;
	struct stat st;
	int ret = -1;
	if (getenv("GIT_DIR") || getenv("GIT_INDEX_FILE") || getenv("GIT_WORK_TREE") ||
	    getenv("GIT_COMMON_DIR"))
		return -1;
	strbuf_addf(&p, "%s/.git", r->top);
	if (lstat(p.buf, &st) < 0)
		goto out;
	if (S_ISREG(st.st_mode)) {
		/* "gitdir: PATH" of a linked work tree or a submodule */
		if (read_file(p.buf, 4096, &gitfile, NULL) || !starts_with(gitfile.buf, "gitdir: "))
			goto out;
		strbuf_rtrim(&gitfile);
		strbuf_reset(&p);
		if (gitfile.buf[8] != '/')
			strbuf_addf(&p, "%s/", r->top);
		strbuf_addstr(&p, gitfile.buf + 8);
	} else if (!S_ISDIR(st.st_mode)) {
		goto out;
	}
	strbuf_addstr(&p, "/index");
	if (stat(p.buf, &st) < 0)
		goto out;
	strbuf_addf(out, "%llu %llu %lld %lld.%09ld %lld.%09ld\n", (unsigned long long)st.st_dev,
		    (unsigned long long)st.st_ino, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
		    st.st_mtim.tv_nsec, (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
	ret = 0;
out:
	strbuf_release(&p);
	strbuf_release(&gitfile);
	return ret;
}

/*
 * Only .cairn/config and .cairn/.gitignore are committed. Anything else
 * in .cairn/ that git tracks came with a clone: a forged audit chain or
 * clone id, an LMDB file crafted to crash the reader, a config.local
 * naming other remotes. Refused, with the way out. git is asked once per
 * version of its index: .cairn/state/tracked-ok holds the stamp of the
 * index last found clean (a git process costs more than the rest of a
 * small command).
 */
static int check_cairn_untracked(struct repo *r, struct strbuf *err)
{
	const char *argv[] = { "git", "ls-files", "-z", "--", ".cairn", NULL };
	struct strbuf out = STRBUF_INIT, stamp = STRBUF_INIT, had = STRBUF_INIT;
	char *ok_path = xstrfmt("%s/state/tracked-ok", r->cairn_dir);
	size_t pos = 0;
	int ret = 0, git_ok, have_stamp = !git_index_stamp(r, &stamp);

	if (have_stamp && !read_file(ok_path, 256, &had, NULL) && !strcmp(had.buf, stamp.buf))
		goto out;
	/*
	 * git that cannot read its own index (it said why) fails again in
	 * whatever the command asks of it, and a clone cannot make it fail;
	 * a list over the cap names more than config and .gitignore, and
	 * what was read is enough.
	 */
	git_ok = !run_capture(argv, r->top, 64 << 10, &out, err);
	strbuf_reset(err);
	while (!ret && pos < out.len) {
		const char *name = out.buf + pos;
		size_t n = strnlen(name, out.len - pos);
		pos += n + 1;
		if (!strcmp(name, ".cairn/config") || !strcmp(name, ".cairn/.gitignore"))
			continue;
		{
			struct strbuf shown = STRBUF_INIT;
			strbuf_add_json_str(&shown, name, n > 300 ? 300 : n);
			ret = cerr(err, CAIRN_EUNSAFE,
				   "%s is tracked by git, but in .cairn/ only config and .gitignore may "
				   "be (a repository that commits the rest can plant local state): run "
				   "'git rm -r --cached .cairn' and 'git add .cairn/config .cairn/.gitignore', "
				   "check what is left in .cairn/, and commit",
				   shown.buf);
			strbuf_release(&shown);
		}
	}
	/* recorded when the store is opened for writing (repo_open_store) */
	if (!ret && git_ok && have_stamp)
		r->tracked_ok = strbuf_detach(&stamp, NULL);
out:
	free(ok_path);
	strbuf_release(&out);
	strbuf_release(&stamp);
	strbuf_release(&had);
	return ret;
}

/*
 * .cairn/ as a cloned repository may have planted it: checked before any
 * file in it is read or written, by every command.
 */
static int check_cairn_layout(struct repo *r, struct strbuf *err)
{
	static const char *const dirs[] = { "", "store", "store/index", "state", "audit",
					    "audit/conflicts" };
	struct stat st;
	size_t i;
	int ret = 0;
	if (lstat(r->cairn_dir, &st) < 0)
		return 0; /* none yet: cairn init makes it, the rest say so */
	for (i = 0; i < sizeof(dirs) / sizeof(*dirs) && !ret; i++)
		ret = check_cairn_dir(r, dirs[i], err);
	if (!ret)
		ret = check_cairn_untracked(r, err);
	return ret;
}

int repo_discover(struct repo **out, int need_cairn, struct strbuf *err)
{
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd)))
		return cerr_errno(err, "cannot get the current directory");
	return repo_discover_at(cwd, out, need_cairn, err);
}

int repo_discover_at(const char *dir, struct repo **out, int need_cairn, struct strbuf *err)
{
	char cwd[PATH_MAX];
	struct strbuf top = STRBUF_INIT, probe = STRBUF_INIT;
	struct repo *r;
	int ret;

	if (!realpath(dir, cwd))
		return cerr_errno(err, "cannot open '%s'", dir);
	strbuf_addstr(&top, cwd);
	for (;;) {
		strbuf_reset(&probe);
		strbuf_addf(&probe, "%s/.git", top.len ? top.buf : "");
		if (exists(probe.buf))
			break;
		{
			/* like git: never look into or above a ceiling directory */
			size_t plen = top.len;
			while (plen > 1 && top.buf[plen - 1] != '/')
				plen--;
			if (plen > 1)
				plen--;
			if (top.len > 1 && is_ceiling(top.buf, plen == 1 && top.buf[0] == '/' ? 1 : plen))
				top.len = 1;
		}
		if (top.len <= 1) {
			strbuf_release(&top);
			strbuf_release(&probe);
			return cerr(err, CAIRN_ENOREPO,
				    "not in a git work tree (run 'git init' first, then 'cairn init')");
		}
		while (top.len > 1 && top.buf[top.len - 1] != '/')
			top.len--;
		if (top.len > 1)
			top.len--;
		top.buf[top.len] = '\0';
	}
	r = xcalloc(1, sizeof(*r));
	r->top = strbuf_detach(&top, NULL);
	r->cairn_dir = xstrfmt("%s/.cairn", r->top);
	r->store_dir = xstrfmt("%s/.cairn/store", r->top);
	{
		size_t tl = strlen(r->top);
		const char *rest = cwd + tl;
		if (tl == 1)
			rest = cwd + 1;
		while (*rest == '/')
			rest++;
		r->prefix = *rest ? xstrfmt("%s/", rest) : xstrdup("");
	}
	strbuf_release(&probe);
	ret = check_cairn_layout(r, err);
	if (ret) {
		repo_free(r);
		return ret;
	}
	if (need_cairn && !is_dir(r->cairn_dir)) {
		ret = cerr(err, CAIRN_ENOREPO, "not a cairn repository: no .cairn in '%s' (run 'cairn init')",
			   r->top);
		repo_free(r);
		return ret;
	}
	ret = repo_load_config(r, err);
	if (ret) {
		repo_free(r);
		return ret;
	}
	*out = r;
	return 0;
}

int repo_init(struct repo *r, uint32_t min, uint32_t avg, uint32_t max, int zlevel,
	      struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	char *cfg;
	int ret;
	char buf[32];

	if (!min)
		min = CHUNK_MIN_DEFAULT;
	if (!avg)
		avg = CHUNK_AVG_DEFAULT;
	if (!max)
		max = CHUNK_MAX_DEFAULT;
	if (chunker_check_params(min, avg, max))
		return cerr(err, CAIRN_EINVAL,
			    "bad chunk sizes %u/%u/%u (need 64 <= min < avg < max <= 64M, avg a power of two)",
			    min, avg, max);
	if (mkdir(r->cairn_dir, 0777) < 0 && errno != EEXIST)
		return cerr_errno(err, "cannot create '%s'", r->cairn_dir);
	cfg = repo_config_path(r, "repo");
	ret = 0;
	if (!exists(cfg)) {
		snprintf(buf, sizeof(buf), "%d", REPO_FORMAT);
		ret = config_set(cfg, "core.format", buf, err);
		if (!ret) {
			snprintf(buf, sizeof(buf), "%u", min);
			ret = config_set(cfg, "chunker.min", buf, err);
		}
		if (!ret) {
			snprintf(buf, sizeof(buf), "%u", avg);
			ret = config_set(cfg, "chunker.avg", buf, err);
		}
		if (!ret) {
			snprintf(buf, sizeof(buf), "%u", max);
			ret = config_set(cfg, "chunker.max", buf, err);
		}
		if (!ret && zlevel) {
			snprintf(buf, sizeof(buf), "%d", zlevel);
			ret = config_set(cfg, "compress.level", buf, err);
		}
	}
	free(cfg);
	if (!ret) {
		static const char ign[] =
			"# cairn: the object store and local settings stay out of git\n"
			"/store/\n/state/\n/config.local\n";
		strbuf_addf(&sb, "%s/.gitignore", r->cairn_dir);
		if (!exists(sb.buf))
			ret = write_file_atomic(sb.buf, ign, sizeof(ign) - 1, 1, err);
	}
	if (!ret)
		ret = odb_create(r->store_dir, err);
	if (!ret)
		ret = repo_load_config(r, err);
	strbuf_release(&sb);
	return ret;
}

int repo_open_store(struct repo *r, int readonly, struct strbuf *err)
{
	struct odb_opts o;
	int64_t ps;
	int ret;
	char *state;
	if (r->odb)
		return 0;
	ret = config_get_int(r->cfg, "pack.size", (int64_t)ODB_PACK_SIZE_DEFAULT, &ps, err);
	if (ret)
		return ret;
	if (ps < 4096 || ps > (4ll << 30))
		return cerr(err, CAIRN_EFORMAT, "config pack.size = %lld is out of range", (long long)ps);
	o.zlevel = r->zlevel;
	o.pack_size = (uint64_t)ps;
	if (!is_dir(r->store_dir)) {
		if (readonly)
			return cerr(err, CAIRN_ENOTFOUND,
				    "the object store '%s' is missing (run 'cairn init' to create it)",
				    r->store_dir);
		ret = odb_create(r->store_dir, err);
		if (ret)
			return ret;
	}
	state = xstrfmt("%s/state", r->cairn_dir);
	o.state_dir = state;
	if (!readonly) {
		/* a repository from before the state existed has no line for it
		 * in .cairn/.gitignore: the directory ignores itself */
		char *gi = xstrfmt("%s/.gitignore", state);
		if (!exists(gi)) {
			if (mkdir(state, 0777) < 0 && errno != EEXIST)
				ret = cerr_errno(err, "cannot create '%s'", state);
			else
				ret = write_file_atomic(gi, "*\n", 2, 1, err);
		}
		free(gi);
		if (!ret && r->tracked_ok) {
			char *ok = xstrfmt("%s/tracked-ok", state);
			ret = write_file_atomic(ok, r->tracked_ok, strlen(r->tracked_ok), 0, err);
			free(ok);
			free(r->tracked_ok);
			r->tracked_ok = NULL;
		}
		if (ret) {
			free(state);
			return ret;
		}
	}
	ret = odb_open(&r->odb, r->store_dir, &o, readonly, err);
	free(state);
	return ret;
}

int repo_open_store_reading(struct repo *r, struct strbuf *err)
{
	struct strbuf e2 = STRBUF_INIT;
	int ret = repo_open_store(r, 0, err);
	/* a read-only file system, or a store we may not write: read it as it is */
	if (ret && is_dir(r->store_dir) && !repo_open_store(r, 1, &e2))
		ret = 0;
	strbuf_release(&e2);
	return ret;
}

void repo_free(struct repo *r)
{
	if (!r)
		return;
	odb_close(r->odb);
	config_free(r->cfg);
	free(r->top);
	free(r->cairn_dir);
	free(r->store_dir);
	free(r->prefix);
	free(r->tracked_ok);
	free(r);
}

char *repo_tmp_prefix(const struct repo *r)
{
	if (!r->odb)
		return NULL;
	return xstrfmt("%s/wt-%ld-", r->odb->tmpdir, (long)getpid());
}

char *repo_abspath(const struct repo *r, const char *rel)
{
	if (!*rel)
		return xstrdup(r->top);
	if (!strcmp(r->top, "/"))
		return xstrfmt("/%s", rel);
	return xstrfmt("%s/%s", r->top, rel);
}

int repo_relpath(const struct repo *r, const char *arg, struct strbuf *out, struct strbuf *err)
{
	struct strbuf full = STRBUF_INIT;
	const char *p;
	size_t tl = strlen(r->top), first_len;
	int ret = 0;

	strbuf_reset(out);
	if (!*arg)
		return cerr(err, CAIRN_EINVAL, "empty path");
	if (arg[0] == '/') {
		strbuf_addstr(&full, arg);
	} else {
		strbuf_addstr(&full, r->top);
		if (*r->prefix) {
			strbuf_addch(&full, '/');
			strbuf_add(&full, r->prefix, strlen(r->prefix) - 1);
		}
		strbuf_addch(&full, '/');
		strbuf_addstr(&full, arg);
	}
	/* normalise: split on '/', drop "." and "", resolve ".." lexically */
	{
		struct strbuf norm = STRBUF_INIT;
		p = full.buf;
		while (*p) {
			const char *s;
			size_t n;
			while (*p == '/')
				p++;
			s = p;
			while (*p && *p != '/')
				p++;
			n = (size_t)(p - s);
			if (!n || (n == 1 && s[0] == '.'))
				continue;
			if (n == 2 && s[0] == '.' && s[1] == '.') {
				while (norm.len && norm.buf[norm.len - 1] != '/')
					norm.len--;
				if (norm.len)
					norm.len--;
				norm.buf[norm.len] = '\0';
				continue;
			}
			strbuf_addch(&norm, '/');
			strbuf_add(&norm, s, n);
		}
		if (!norm.len)
			strbuf_addch(&norm, '/');
		strbuf_release(&full);
		full = norm;
	}
	if (tl == 1) {
		p = full.buf + 1;
	} else if (!strncmp(full.buf, r->top, tl) && (full.buf[tl] == '/' || !full.buf[tl])) {
		p = full.buf + tl;
		while (*p == '/')
			p++;
	} else {
		ret = cerr(err, CAIRN_EUNSAFE, "'%s' is outside the repository '%s'", arg, r->top);
		goto out;
	}
	if (!*p) {
		ret = cerr(err, CAIRN_EUNSAFE, "'%s' is the top of the repository, not a path in it", arg);
		goto out;
	}
	first_len = strcspn(p, "/");
	if ((first_len == 4 && !strncmp(p, ".git", 4)) || (first_len == 6 && !strncmp(p, ".cairn", 6))) {
		ret = cerr(err, CAIRN_EUNSAFE, "'%s' is inside %.*s/, which cairn never tracks", arg,
			   (int)first_len, p);
		goto out;
	}
	{
		const char *c = p;
		while (*c) {
			size_t n = strcspn(c, "/");
			if (!entry_name_ok(c, n)) {
				ret = cerr(err, CAIRN_EUNSAFE, "'%s' has a forbidden path component '%.*s'",
					   arg, (int)n, c);
				goto out;
			}
			c += n;
			while (*c == '/')
				c++;
		}
	}
	strbuf_addstr(out, p);
out:
	strbuf_release(&full);
	return ret;
}

/*
 * Every component of a path to be written must pass entry_name_ok(): the
 * path may come from a pointer file name that git listed ("...cairn" is
 * the data path "..", "sub/.git.cairn" is "sub/.git"), not from the user.
 */
static int check_components(const char *rel, struct strbuf *err)
{
	const char *c = rel;
	for (;;) {
		size_t n = strcspn(c, "/");
		if (!entry_name_ok(c, n)) {
			struct strbuf shown = STRBUF_INIT;
			int ret;
			strbuf_add_json_str(&shown, c, n > 300 ? 300 : n);
			ret = cerr(err, CAIRN_EUNSAFE, "refusing to write '%s': forbidden path component %s",
				   rel, shown.buf);
			strbuf_release(&shown);
			return ret;
		}
		if (!c[n])
			return 0;
		c += n + 1;
	}
}

int repo_check_parents(const struct repo *r, const char *rel, struct strbuf *err)
{
	struct strbuf p = STRBUF_INIT;
	const char *s = rel, *slash;
	int ret = check_components(rel, err);
	if (ret)
		return ret;
	while ((slash = strchr(s, '/'))) {
		struct stat st;
		char *abs;
		strbuf_reset(&p);
		strbuf_add(&p, rel, (size_t)(slash - rel));
		abs = repo_abspath(r, p.buf);
		if (lstat(abs, &st) == 0) {
			if (S_ISLNK(st.st_mode))
				ret = cerr(err, CAIRN_EUNSAFE,
					   "'%s' is a symlink; cairn does not write through symlinks", p.buf);
			else if (!S_ISDIR(st.st_mode))
				ret = cerr(err, CAIRN_EUNSAFE, "'%s' is not a directory", p.buf);
		} else if (errno != ENOENT) {
			ret = cerr_errno(err, "cannot stat '%s'", p.buf);
		}
		free(abs);
		if (ret)
			break;
		s = slash + 1;
	}
	strbuf_release(&p);
	return ret;
}
