/*
 * The SSH backend: SFTP over libssh2.
 *
 * Settings come from the URL, then ~/.ssh/config (Host blocks with * and ?
 * patterns: HostName, User, Port, IdentityFile, UserKnownHostsFile), then
 * defaults. The host key must be in a known_hosts file (strict checking
 * always: an unknown host is refused with its fingerprint and how to
 * accept it, a changed key is refused loudly). Authentication tries
 * ssh-agent, then the key files; a passphrase-protected key is asked for
 * on the terminal when there is one.
 *
 * Uploads go to a temp name in the target's directory and are renamed
 * into place; an SFTP v3 rename never replaces an existing file, so an
 * object that exists stays as it is (EEXIST). Note: libssh2 1.10 cannot
 * sign with RSA-SHA2, so RSA keys only work with servers that still accept
 * ssh-rsa; ed25519 and ecdsa keys work everywhere.
 */
#include "remote/remote.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <libssh2.h>
#include <libssh2_sftp.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#define IO_BUF (1u << 20)
#define CONNECT_TIMEOUT_MS 15000
#define SESSION_TIMEOUT_MS 120000
#define NS_PER_S 1000000000ll

struct ssh_remote {
	struct remote base;
	int sock;
	LIBSSH2_SESSION *s;
	LIBSSH2_SFTP *sftp;
	char *root;
	char *where; /* user@host:port, for messages */
	/* remote.NAME.timeout, .low-speed-limit, .request-timeout (s3.c too) */
	int64_t timeout, low_speed, request_timeout;
	int dead; /* a transfer was dropped: the session is not used again */
};

/*
 * A transfer's progress. libssh2 bounds each call (session timeout), but
 * a server that trickles answers each call in time; as libcurl does for
 * S3, a transfer that moves less than low_speed bytes a second for
 * `timeout` seconds, or is not done after request_timeout seconds, is
 * dropped, and with it the session.
 */
struct pace {
	int64_t start, win_start;
	uint64_t win_bytes;
};

static void pace_init(struct pace *p)
{
	p->start = p->win_start = now_ns();
	p->win_bytes = 0;
}

/*
 * Drops the connection of a server too slow to wait for: the socket is
 * shut now, so what libssh2 still does with it (closing a handle frees
 * its memory) fails at once instead of waiting on the server.
 */
static void drop(struct ssh_remote *r)
{
	r->dead = 1;
	if (r->sock >= 0)
		shutdown(r->sock, SHUT_RDWR);
	libssh2_session_set_timeout(r->s, 1000);
}

static int pace_check(struct ssh_remote *r, struct pace *p, uint64_t n, const char *what,
		      const char *path, struct strbuf *err)
{
	int64_t now = now_ns();
	p->win_bytes += n;
	if (now - p->start > r->request_timeout * NS_PER_S) {
		drop(r);
		return cerr(err, CAIRN_ETRANSIENT,
			    "ssh %s: %s '%s': not done after %lld seconds (remote.%s.request-timeout); dropped",
			    r->where, what, path, (long long)r->request_timeout, r->base.name);
	}
	if (now - p->win_start < r->timeout * NS_PER_S)
		return 0;
	if (r->low_speed && p->win_bytes < (uint64_t)(r->low_speed * r->timeout)) {
		drop(r);
		return cerr(err, CAIRN_ETRANSIENT,
			    "ssh %s: %s '%s': less than %lld bytes a second for %lld seconds (remote.%s.low-speed-limit); dropped",
			    r->where, what, path, (long long)r->low_speed, (long long)r->timeout,
			    r->base.name);
	}
	p->win_start = now;
	p->win_bytes = 0;
	return 0;
}

static int check_alive(struct ssh_remote *r, struct strbuf *err)
{
	if (r->dead)
		return cerr(err, CAIRN_ETRANSIENT, "ssh %s: the connection was dropped (too slow)",
			    r->where);
	return 0;
}

struct ssh_settings {
	char *hostname, *user;
	int port;
	char *identity[8];
	int nident;
	char *known_hosts;
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;

static void lib_init(void)
{
	init_rc = libssh2_init(0);
}

static char *home_path(const char *rel)
{
	const char *home = getenv("HOME");
	if (!home || !*home) {
		struct passwd *pw = getpwuid(getuid());
		home = pw ? pw->pw_dir : "/";
	}
	return xstrfmt("%s/%s", home, rel);
}

static char *expand_tilde(const char *p)
{
	if (p[0] == '~' && p[1] == '/')
		return home_path(p + 2);
	return xstrdup(p);
}

static void settings_release(struct ssh_settings *c)
{
	int i;
	free(c->hostname);
	free(c->user);
	free(c->known_hosts);
	for (i = 0; i < c->nident; i++)
		free(c->identity[i]);
	memset(c, 0, sizeof(*c));
}

/* Does `host` match a Host line's patterns (whitespace separated, !negation)? */
static int host_matches(const char *patterns, const char *host)
{
	char *dup = xstrdup(patterns), *save = NULL, *tok;
	int match = 0, negated = 0;
	for (tok = strtok_r(dup, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		int neg = tok[0] == '!';
		if (!fnmatch(neg ? tok + 1 : tok, host, 0)) {
			if (neg)
				negated = 1;
			else
				match = 1;
		}
	}
	free(dup);
	return match && !negated;
}

/* The first value of each keyword wins, as in ssh_config(5). */
static void read_ssh_config(struct ssh_settings *c, const char *host)
{
	char *path = home_path(".ssh/config");
	struct strbuf sb = STRBUF_INIT;
	size_t pos = 0;
	int active = 1;
	if (read_file(path, 1u << 20, &sb, NULL)) {
		free(path);
		strbuf_release(&sb);
		return;
	}
	free(path);
	while (pos < sb.len) {
		char *line = sb.buf + pos, *nl = memchr(line, '\n', sb.len - pos), *key, *val, *end;
		size_t n = nl ? (size_t)(nl - line) : sb.len - pos;
		pos += n + 1;
		line[n] = '\0';
		key = line;
		while (*key == ' ' || *key == '\t')
			key++;
		if (!*key || *key == '#')
			continue;
		val = key + strcspn(key, " \t=");
		if (*val)
			*val++ = '\0';
		while (*val == ' ' || *val == '\t' || *val == '=')
			val++;
		end = val + strlen(val);
		while (end > val && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			*--end = '\0';
		if (*val == '"' && end > val + 1 && end[-1] == '"') {
			val++;
			end[-1] = '\0';
		}
		if (!strcasecmp(key, "Host")) {
			active = host_matches(val, host);
			continue;
		}
		if (!strcasecmp(key, "Match")) {
			active = 0; /* Match blocks are not supported: skipped */
			continue;
		}
		if (!active)
			continue;
		if (!strcasecmp(key, "HostName") && !c->hostname)
			c->hostname = xstrdup(val);
		else if (!strcasecmp(key, "User") && !c->user)
			c->user = xstrdup(val);
		else if (!strcasecmp(key, "Port") && !c->port)
			c->port = atoi(val);
		else if (!strcasecmp(key, "IdentityFile") && c->nident < 8)
			c->identity[c->nident++] = expand_tilde(val);
		else if (!strcasecmp(key, "UserKnownHostsFile") && !c->known_hosts)
			c->known_hosts = expand_tilde(strtok_r(val, " \t", &end));
	}
	strbuf_release(&sb);
}

static int fail_session(struct ssh_remote *r, struct strbuf *err, const char *what)
{
	char *msg = NULL;
	int rc = libssh2_session_last_error(r->s, &msg, NULL, 0);
	int code = CAIRN_EPERMANENT;
	if (rc == LIBSSH2_ERROR_SOCKET_SEND || rc == LIBSSH2_ERROR_SOCKET_RECV ||
	    rc == LIBSSH2_ERROR_TIMEOUT || rc == LIBSSH2_ERROR_SOCKET_DISCONNECT ||
	    rc == LIBSSH2_ERROR_SOCKET_TIMEOUT)
		code = CAIRN_ETRANSIENT;
	return cerr(err, code, "ssh %s: %s: %s%s", r->where, what, msg ? msg : "unknown error",
		    code == CAIRN_ETRANSIENT ? " (connection lost)" : "");
}

static int fail_sftp(struct ssh_remote *r, struct strbuf *err, const char *what, const char *path)
{
	unsigned long st = libssh2_sftp_last_error(r->sftp);
	int rc = libssh2_session_last_errno(r->s);
	if (rc != LIBSSH2_ERROR_SFTP_PROTOCOL && rc != 0)
		return fail_session(r, err, what);
	switch (st) {
	case LIBSSH2_FX_NO_SUCH_FILE:
	case LIBSSH2_FX_NO_SUCH_PATH:
		return cerr(err, CAIRN_ENOTFOUND, "ssh %s: %s '%s': no such file", r->where, what, path);
	case LIBSSH2_FX_PERMISSION_DENIED:
		return cerr(err, CAIRN_EPERMANENT, "ssh %s: %s '%s': permission denied", r->where, what,
			    path);
	case LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM:
	case LIBSSH2_FX_QUOTA_EXCEEDED:
		return cerr(err, CAIRN_EPERMANENT, "ssh %s: %s '%s': the remote disk is full", r->where,
			    what, path);
	case LIBSSH2_FX_FILE_ALREADY_EXISTS:
		return cerr(err, CAIRN_EEXIST, "ssh %s: '%s' exists already", r->where, path);
	}
	return cerr(err, CAIRN_EPERMANENT, "ssh %s: %s '%s' failed (sftp status %lu%s)", r->where, what,
		    path, st, st == LIBSSH2_FX_FAILURE ? "; is the remote disk full?" : "");
}

static int tcp_connect(const char *host, int port, const char *where, struct strbuf *err)
{
	struct addrinfo hints, *res = NULL, *ai;
	char portstr[16];
	int fd = -1, rc, last = 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	snprintf(portstr, sizeof(portstr), "%d", port);
	rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc)
		return cerr(err, CAIRN_EPERMANENT, "ssh %s: cannot resolve '%s': %s", where, host,
			    gai_strerror(rc));
	for (ai = res; ai; ai = ai->ai_next) {
		struct pollfd p;
		int flags;
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		flags = fcntl(fd, F_GETFL);
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
		rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
		if (rc < 0 && errno == EINPROGRESS) {
			socklen_t len = sizeof(last);
			p.fd = fd;
			p.events = POLLOUT;
			rc = poll(&p, 1, CONNECT_TIMEOUT_MS);
			if (rc == 1 && !getsockopt(fd, SOL_SOCKET, SO_ERROR, &last, &len) && !last)
				rc = 0;
			else {
				if (rc == 0)
					last = ETIMEDOUT;
				rc = -1;
			}
		} else if (rc < 0) {
			last = errno;
		}
		if (!rc) {
			fcntl(fd, F_SETFL, flags);
			break;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return cerr(err, CAIRN_ETRANSIENT, "ssh %s: cannot connect: %s", where,
			    strerror(last ? last : ECONNREFUSED));
	return fd;
}

static int kh_type(int t)
{
	switch (t) {
	case LIBSSH2_HOSTKEY_TYPE_RSA: return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
	case LIBSSH2_HOSTKEY_TYPE_DSS: return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
	case LIBSSH2_HOSTKEY_TYPE_ED25519: return LIBSSH2_KNOWNHOST_KEY_ED25519;
	}
	return LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
}

static void b64(struct strbuf *out, const unsigned char *p, size_t n)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;
	for (i = 0; i + 2 < n; i += 3) {
		strbuf_addch(out, t[p[i] >> 2]);
		strbuf_addch(out, t[((p[i] & 3) << 4) | (p[i + 1] >> 4)]);
		strbuf_addch(out, t[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)]);
		strbuf_addch(out, t[p[i + 2] & 63]);
	}
	if (n - i == 1) {
		strbuf_addch(out, t[p[i] >> 2]);
		strbuf_addch(out, t[(p[i] & 3) << 4]);
	} else if (n - i == 2) {
		strbuf_addch(out, t[p[i] >> 2]);
		strbuf_addch(out, t[((p[i] & 3) << 4) | (p[i + 1] >> 4)]);
		strbuf_addch(out, t[(p[i + 1] & 15) << 2]);
	}
}

static int check_host_key(struct ssh_remote *r, const struct ssh_settings *c, struct strbuf *err)
{
	size_t klen;
	int ktype, check = LIBSSH2_KNOWNHOST_CHECK_NOTFOUND, i;
	const char *key = libssh2_session_hostkey(r->s, &klen, &ktype);
	const char *files[2];
	struct strbuf fp = STRBUF_INIT, shown = STRBUF_INIT;
	const unsigned char *hash;
	char *def = home_path(".ssh/known_hosts");
	int ret = 0;

	if (!key)
		return fail_session(r, err, "no host key");
	files[0] = c->known_hosts ? c->known_hosts : def;
	files[1] = "/etc/ssh/ssh_known_hosts";
	for (i = 0; i < 2 && check != LIBSSH2_KNOWNHOST_CHECK_MATCH &&
		    check != LIBSSH2_KNOWNHOST_CHECK_MISMATCH; i++) {
		LIBSSH2_KNOWNHOSTS *kh = libssh2_knownhost_init(r->s);
		struct libssh2_knownhost *found = NULL;
		if (!kh)
			break;
		if (libssh2_knownhost_readfile(kh, files[i], LIBSSH2_KNOWNHOST_FILE_OPENSSH) >= 0)
			check = libssh2_knownhost_checkp(kh, c->hostname, c->port, key, klen,
							 LIBSSH2_KNOWNHOST_TYPE_PLAIN |
								 LIBSSH2_KNOWNHOST_KEYENC_RAW | kh_type(ktype),
							 &found);
		libssh2_knownhost_free(kh);
	}
	hash = (const unsigned char *)libssh2_hostkey_hash(r->s, LIBSSH2_HOSTKEY_HASH_SHA256);
	strbuf_addstr(&fp, "SHA256:");
	if (hash)
		b64(&fp, hash, 32);
	if (c->port == 22)
		strbuf_addstr(&shown, c->hostname);
	else
		strbuf_addf(&shown, "[%s]:%d", c->hostname, c->port);
	if (check == LIBSSH2_KNOWNHOST_CHECK_MISMATCH)
		ret = cerr(err, CAIRN_EPERMANENT,
			   "ssh: THE HOST KEY OF %s HAS CHANGED (now %s); someone may be intercepting the connection. "
			   "Refusing to connect. If the change is expected, remove the old key with: ssh-keygen -R '%s'",
			   shown.buf, fp.buf, shown.buf);
	else if (check != LIBSSH2_KNOWNHOST_CHECK_MATCH)
		ret = cerr(err, CAIRN_EPERMANENT,
			   "ssh: unknown host %s (key fingerprint %s). Check the fingerprint, then trust it with: "
			   "ssh-keyscan -p %d %s >> %s",
			   shown.buf, fp.buf, c->port, c->hostname, files[0]);
	strbuf_release(&fp);
	strbuf_release(&shown);
	free(def);
	return ret;
}

/*
 * Passphrases typed once serve every connection of this process (push and
 * fetch open several): one prompt per key file, never two at once.
 */
static pthread_mutex_t pass_lock = PTHREAD_MUTEX_INITIALIZER;
static char *pass_file, *pass_value;

/* Reads a passphrase from the terminal, without echo; NULL if none. */
static char *read_passphrase(const char *keyfile)
{
	struct termios old, noecho;
	char buf[512];
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC), n;
	char *prompt;
	if (fd < 0)
		return NULL;
	prompt = xstrfmt("Enter passphrase for key '%s': ", keyfile);
	(void)!write(fd, prompt, strlen(prompt));
	free(prompt);
	if (tcgetattr(fd, &old) == 0) {
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fd, TCSAFLUSH, &noecho);
	}
	n = (int)read(fd, buf, sizeof(buf) - 1);
	tcsetattr(fd, TCSAFLUSH, &old);
	(void)!write(fd, "\n", 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return xstrdup(buf);
}

/* The passphrase of keyfile: remembered, or asked for (under the lock). */
static char *ask_passphrase(const char *keyfile, int retry)
{
	char *p = NULL;
	pthread_mutex_lock(&pass_lock);
	if (!retry && pass_file && !strcmp(pass_file, keyfile) && pass_value) {
		p = xstrdup(pass_value);
	} else {
		p = read_passphrase(keyfile);
		if (p) {
			free(pass_file);
			if (pass_value) {
				memset(pass_value, 0, strlen(pass_value));
				free(pass_value);
			}
			pass_file = xstrdup(keyfile);
			pass_value = xstrdup(p);
		}
	}
	pthread_mutex_unlock(&pass_lock);
	return p;
}

static int authenticate(struct ssh_remote *r, const struct ssh_settings *c, struct strbuf *err)
{
	struct strbuf tried = STRBUF_INIT;
	const char *defaults[] = { ".ssh/id_ed25519", ".ssh/id_ecdsa", ".ssh/id_rsa" };
	char *list = libssh2_userauth_list(r->s, c->user, (unsigned)strlen(c->user));
	int i, ret;

	if (!list && libssh2_userauth_authenticated(r->s))
		return 0;
	if (list && !strstr(list, "publickey"))
		return cerr(err, CAIRN_EPERMANENT,
			    "ssh %s: the server does not accept public keys (it offers: %s)", r->where, list);
	if (getenv("SSH_AUTH_SOCK")) {
		LIBSSH2_AGENT *agent = libssh2_agent_init(r->s);
		struct libssh2_agent_publickey *id = NULL, *prev = NULL;
		int done = 0;
		if (agent && !libssh2_agent_connect(agent) && !libssh2_agent_list_identities(agent)) {
			strbuf_addstr(&tried, "ssh-agent");
			while (!done && !libssh2_agent_get_identity(agent, &id, prev)) {
				if (!libssh2_agent_userauth(agent, c->user, id))
					done = 1;
				prev = id;
			}
			libssh2_agent_disconnect(agent);
		}
		if (agent)
			libssh2_agent_free(agent);
		if (done) {
			strbuf_release(&tried);
			return 0;
		}
	}
	for (i = 0; i < c->nident + 3; i++) {
		char *path = i < c->nident ? xstrdup(c->identity[i]) : home_path(defaults[i - c->nident]);
		int rc;
		if (i >= c->nident && c->nident) {
			free(path);
			break; /* IdentityFile given: only those */
		}
		if (access(path, R_OK)) {
			free(path);
			continue;
		}
		strbuf_addf(&tried, "%s%s", tried.len ? ", " : "", path);
		rc = libssh2_userauth_publickey_fromfile(r->s, c->user, NULL, path, NULL);
		if (rc == LIBSSH2_ERROR_FILE || rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED) {
			/* maybe protected by a passphrase: three tries, as ssh gives */
			int t;
			for (t = 0; t < 3 && rc && isatty(2); t++) {
				char *pass = ask_passphrase(path, t > 0);
				if (!pass)
					break;
				rc = libssh2_userauth_publickey_fromfile(r->s, c->user, NULL, path, pass);
				memset(pass, 0, strlen(pass));
				free(pass);
			}
		}
		free(path);
		if (!rc) {
			strbuf_release(&tried);
			return 0;
		}
	}
	ret = cerr(err, CAIRN_EPERMANENT, "ssh %s: authentication refused (tried: %s)", r->where,
		   tried.len ? tried.buf : "no agent, no key file");
	strbuf_release(&tried);
	return ret;
}

static void ssh_close(struct remote *base)
{
	struct ssh_remote *r = (struct ssh_remote *)base;
	if (r->sftp)
		libssh2_sftp_shutdown(r->sftp);
	if (r->s) {
		if (!r->dead)
			libssh2_session_disconnect(r->s, "bye");
		libssh2_session_free(r->s);
	}
	if (r->sock >= 0)
		close(r->sock);
	free(r->root);
	free(r->where);
	free(base->name);
	remote_url_release(&base->url);
	free(r);
}

static int ssh_open(struct remote **out, const struct remote_url *u, const struct config *cfg,
		    const char *name, struct strbuf *err)
{
	struct ssh_remote *r = xcalloc(1, sizeof(*r));
	struct ssh_settings c;
	int ret = 0;

	pthread_once(&init_once, lib_init);
	if (init_rc)
		return cerr(err, CAIRN_EPERMANENT, "cannot initialise libssh2");
	memset(&c, 0, sizeof(c));
	r->sock = -1;
	r->base.ops = &remote_ssh_ops;
	r->base.name = xstrdup(name);
	r->base.url.scheme = xstrdup(u->scheme);
	r->base.url.host = xstrdup(u->host);
	r->base.url.user = u->user ? xstrdup(u->user) : NULL;
	r->base.url.port = u->port;
	r->base.url.path = xstrdup(u->path);
	r->root = xstrdup(u->path);
	ret = remote_setting_int(cfg, name, "timeout", 60, 1, 3600, &r->timeout, err);
	if (!ret)
		ret = remote_setting_int(cfg, name, "low-speed-limit", 1024, 0, 1 << 30, &r->low_speed,
					 err);
	if (!ret)
		ret = remote_setting_int(cfg, name, "request-timeout", 3600, 1, 7 * 86400,
					 &r->request_timeout, err);
	if (ret) {
		ssh_close(&r->base);
		return ret;
	}
	read_ssh_config(&c, u->host);
	if (u->user) {
		free(c.user);
		c.user = xstrdup(u->user);
	}
	if (u->port)
		c.port = u->port;
	if (!c.port)
		c.port = 22;
	if (!c.hostname)
		c.hostname = xstrdup(u->host);
	if (!c.user) {
		struct passwd *pw = getpwuid(getuid());
		const char *env = getenv("USER");
		c.user = xstrdup(env && *env ? env : pw ? pw->pw_name : "root");
	}
	r->where = xstrfmt("%s@%s:%d", c.user, c.hostname, c.port);
	r->sock = tcp_connect(c.hostname, c.port, r->where, err);
	if (r->sock < 0) {
		ret = r->sock;
		r->sock = -1;
		goto out;
	}
	r->s = libssh2_session_init();
	if (!r->s) {
		ret = cerr(err, CAIRN_EPERMANENT, "cannot create an ssh session");
		goto out;
	}
	libssh2_session_set_blocking(r->s, 1);
	/* a call waits at most this long for the server */
	libssh2_session_set_timeout(r->s, r->timeout * 1000 > SESSION_TIMEOUT_MS
						  ? r->timeout * 1000 : SESSION_TIMEOUT_MS);
	if (libssh2_session_handshake(r->s, r->sock)) {
		ret = fail_session(r, err, "handshake");
		goto out;
	}
	ret = check_host_key(r, &c, err);
	if (!ret)
		ret = authenticate(r, &c, err);
	if (!ret) {
		r->sftp = libssh2_sftp_init(r->s);
		if (!r->sftp)
			ret = fail_session(r, err, "cannot start sftp");
	}
out:
	settings_release(&c);
	if (ret) {
		ssh_close(&r->base);
		return ret;
	}
	*out = &r->base;
	return 0;
}

static char *full(struct ssh_remote *r, const char *path)
{
	return *path ? xstrfmt("%s/%s", r->root, path) : xstrdup(r->root);
}

static int ssh_stat(struct remote *base, const char *path, uint64_t *size, struct strbuf *err)
{
	struct ssh_remote *r = (struct ssh_remote *)base;
	LIBSSH2_SFTP_ATTRIBUTES a;
	char *p;
	int ret = check_alive(r, err);
	if (ret)
		return ret;
	p = full(r, path);
	if (libssh2_sftp_stat(r->sftp, p, &a))
		ret = fail_sftp(r, err, "cannot stat", p);
	else
		*size = (a.flags & LIBSSH2_SFTP_ATTR_SIZE) ? (uint64_t)a.filesize : 0;
	free(p);
	return ret;
}

static int ssh_prepare(struct remote *base, const char *dir, struct strbuf *err)
{
	struct ssh_remote *r = (struct ssh_remote *)base;
	char *p = full(r, dir);
	size_t i, n = strlen(p);
	int ret = 0;
	for (i = 1; i <= n && !ret; i++) {
		LIBSSH2_SFTP_ATTRIBUTES a;
		char save;
		if (i < n && p[i] != '/')
			continue;
		save = p[i];
		p[i] = '\0';
		if (libssh2_sftp_stat(r->sftp, p, &a)) {
			if (libssh2_sftp_mkdir(r->sftp, p, 0777) && libssh2_sftp_stat(r->sftp, p, &a))
				ret = fail_sftp(r, err, "cannot create directory", p);
		} else if ((a.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) && !LIBSSH2_SFTP_S_ISDIR(a.permissions)) {
			ret = cerr(err, CAIRN_EPERMANENT, "ssh %s: '%s' is not a directory", r->where, p);
		}
		p[i] = save;
	}
	free(p);
	return ret;
}

static int ssh_list(struct remote *base, const char *dir,
		    int (*cb)(const char *name, uint64_t size, int64_t mtime, void *data), void *data,
		    struct strbuf *err)
{
	struct ssh_remote *r = (struct ssh_remote *)base;
	char *p;
	LIBSSH2_SFTP_HANDLE *h;
	char name[1024];
	size_t listed = 0;
	struct pace pc;
	int ret = check_alive(r, err);
	if (ret)
		return ret;
	p = full(r, dir);
	pace_init(&pc);
	h = libssh2_sftp_opendir(r->sftp, p);
	if (!h) {
		ret = fail_sftp(r, err, "cannot list", p);
		free(p);
		return ret;
	}
	for (;;) {
		LIBSSH2_SFTP_ATTRIBUTES a;
		int n = libssh2_sftp_readdir(h, name, sizeof(name) - 1, &a);
		if (n < 0) {
			ret = fail_sftp(r, err, "cannot list", p);
			break;
		}
		if (n == 0)
			break;
		/* an entry is its name and some 40 bytes of attributes */
		ret = pace_check(r, &pc, (uint64_t)n + 40, "cannot list", p, err);
		if (ret)
			break;
		name[n] = '\0';
		if (name[0] == '.')
			continue;
		if ((a.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) && !LIBSSH2_SFTP_S_ISREG(a.permissions))
			continue;
		if (++listed > REMOTE_LIST_MAX) {
			ret = cerr(err, CAIRN_EPERMANENT, "ssh %s: '%s' lists more than %d files; refused",
				   r->where, p, REMOTE_LIST_MAX);
			break;
		}
		ret = cb(name, (a.flags & LIBSSH2_SFTP_ATTR_SIZE) ? (uint64_t)a.filesize : UINT64_MAX,
			 (a.flags & LIBSSH2_SFTP_ATTR_ACMODTIME) ? (int64_t)a.mtime
								 : REMOTE_MTIME_UNKNOWN,
			 data);
		if (ret)
			break;
	}
	libssh2_sftp_closedir(h); /* after drop(), fails fast but frees */
	free(p);
	return ret;
}

static int ssh_read(struct remote *base, const char *path, uint64_t off, uint64_t len,
		    struct strbuf *out, struct strbuf *err)
{
	struct ssh_remote *r = (struct ssh_remote *)base;
	char *p;
	LIBSSH2_SFTP_HANDLE *h;
	uint64_t got = 0;
	struct pace pc;
	int ret = check_alive(r, err);
	if (ret)
		return ret;
	p = full(r, path);
	pace_init(&pc);
	h = libssh2_sftp_open(r->sftp, p, LIBSSH2_FXF_READ, 0);
	if (!h) {
		ret = fail_sftp(r, err, "cannot open", p);
		free(p);
		return ret;
	}
	libssh2_sftp_seek64(h, off);
	while (got < len) {
		size_t want = len - got < IO_BUF ? (size_t)(len - got) : IO_BUF;
		ssize_t n;
		strbuf_grow(out, want);
		n = libssh2_sftp_read(h, out->buf + out->len, want);
		if (n < 0) {
			ret = fail_sftp(r, err, "cannot read", p);
			break;
		}
		if (n == 0)
			break;
		strbuf_setlen(out, out->len + (size_t)n);
		got += (uint64_t)n;
		ret = pace_check(r, &pc, (uint64_t)n, "cannot read", p, err);
		if (ret)
			break;
	}
	libssh2_sftp_close(h); /* after drop(), fails fast but frees */
	free(p);
	return ret;
}

static int ssh_write(struct remote *base, const char *path, int fd, uint64_t size,
		     struct strbuf *err)
{
	struct ssh_remote *r = (struct ssh_remote *)base;
	char *p = full(r, path), *tmp;
	const char *slash = strrchr(p, '/');
	LIBSSH2_SFTP_HANDLE *h;
	LIBSSH2_SFTP_ATTRIBUTES a;
	char *buf = xmalloc(IO_BUF);
	uint64_t done = 0;
	unsigned rnd;
	struct pace pc;
	int ret = check_alive(r, err);

	if (ret) {
		free(buf);
		free(p);
		return ret;
	}
	pace_init(&pc);
	{
		int u = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
		if (u < 0 || read(u, &rnd, sizeof(rnd)) != sizeof(rnd))
			rnd = (unsigned)now_ns();
		if (u >= 0)
			close(u);
	}
	tmp = slash ? xstrfmt("%.*s/.tmp-%ld-%08x", (int)(slash - p), p, (long)getpid(), rnd)
		    : xstrfmt(".tmp-%ld-%08x", (long)getpid(), rnd);
	if (!libssh2_sftp_stat(r->sftp, p, &a)) {
		ret = cerr(err, CAIRN_EEXIST, "ssh %s: '%s' exists already", r->where, p);
		goto out;
	}
	h = libssh2_sftp_open(r->sftp, tmp, LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_EXCL,
			      0444);
	if (!h) {
		ret = fail_sftp(r, err, "cannot create", tmp);
		goto out;
	}
	while (!ret && done < size) {
		size_t want = size - done < IO_BUF ? (size_t)(size - done) : IO_BUF, sent = 0;
		ssize_t n = pread_full(fd, buf, want, (off_t)done);
		if (n != (ssize_t)want) {
			ret = cerr(err, CAIRN_EIO, "cannot read the local file for '%s'", path);
			break;
		}
		while (sent < want) {
			ssize_t w = libssh2_sftp_write(h, buf + sent, want - sent);
			if (w < 0) {
				ret = fail_sftp(r, err, "cannot write", tmp);
				break;
			}
			sent += (size_t)w;
			ret = pace_check(r, &pc, (uint64_t)w, "cannot write", tmp, err);
			if (ret)
				break;
		}
		done += sent;
	}
	if (r->dead) {
		libssh2_sftp_close(h); /* fails fast, frees the handle */
		goto out; /* the temp file stays, as after a kill */
	}
	if (!ret)
		libssh2_sftp_fsync(h); /* fsync@openssh.com where offered */
	if (libssh2_sftp_close(h) && !ret)
		ret = fail_sftp(r, err, "cannot close", tmp);
	/* an SFTP v3 rename never replaces the target */
	if (!ret && libssh2_sftp_rename_ex(r->sftp, tmp, (unsigned)strlen(tmp), p, (unsigned)strlen(p),
					   LIBSSH2_SFTP_RENAME_ATOMIC | LIBSSH2_SFTP_RENAME_NATIVE)) {
		if (!libssh2_sftp_stat(r->sftp, p, &a))
			ret = cerr(err, CAIRN_EEXIST, "ssh %s: '%s' exists already", r->where, p);
		else
			ret = fail_sftp(r, err, "cannot rename into", p);
	}
	if (ret)
		libssh2_sftp_unlink(r->sftp, tmp);
out:
	free(buf);
	free(tmp);
	free(p);
	return ret;
}

static int ssh_remove(struct remote *base, const char *path, struct strbuf *err)
{
	struct ssh_remote *r = (struct ssh_remote *)base;
	char *p;
	int ret = check_alive(r, err);
	if (ret)
		return ret;
	p = full(r, path);
	ret = libssh2_sftp_unlink(r->sftp, p) ? fail_sftp(r, err, "cannot remove", p) : 0;
	free(p);
	return ret;
}

const struct remote_ops remote_ssh_ops = {
	.scheme = "ssh",
	.open = ssh_open,
	.close = ssh_close,
	.prepare = ssh_prepare,
	.list = remote_list_plain,
	.list_times = ssh_list,
	.stat = ssh_stat,
	.read = ssh_read,
	.write = ssh_write,
	.remove = ssh_remove,
};
