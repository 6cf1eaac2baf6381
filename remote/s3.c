/*
 * The S3 backend: AWS S3 and compatible object stores (MinIO, Ceph RGW,
 * R2, ...) through libcurl, signed with CURLOPT_AWS_SIGV4.
 *
 * s3://BUCKET/PREFIX names the remote; object "packs/X.pack" is the key
 * PREFIX/packs/X.pack. One struct remote is one CURL easy handle, so its
 * connection is kept alive between requests; parallel transfers come from
 * sync.c opening one remote per job. Handles outlive their remote in a
 * pool, and DNS and TLS sessions are shared ("What the S3 remotes of a
 * process share" below).
 *
 * https: the certificate is always verified, against remote.NAME.ca-bundle
 * or the CA bundle the environment names (s3_ca_bundle); a failure is
 * permanent and names the endpoint. remote.NAME.resolve is CURLOPT_RESOLVE.
 *
 * What libcurl 7.88 leaves to us (Documentation/technical/remote-format.md):
 *  - every request carries x-amz-content-sha256 (we send UNSIGNED-PAYLOAD
 *    and a Content-MD5 the server checks on every upload);
 *  - the query string is signed as written, so it is written canonically
 *    (s3_query: sorted, %XX in uppercase, "uploads=" for "uploads").
 *
 * Objects are never overwritten: a PUT carries If-None-Match: * (412 ->
 * CAIRN_EEXIST); with remote.NAME.conditional-writes false, for a
 * multipart upload and before any body of 1 MiB or more, a HEAD comes
 * first. Directories do not exist in S3:
 * prepare() writes an empty "DIR/" key, so that an empty directory lists
 * as empty and a missing one as not found, as for the other backends.
 *
 * Transient failures (connection refused or reset, timeouts, 5xx, 429,
 * SlowDown) are retried with exponential backoff and jitter; permanent
 * ones (403, a missing bucket, a bad request) fail at once. Messages
 * name the bucket and key, never the credentials.
 */
#include "remote/remote.h"
#include "remote/s3.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * How much of an answer is read (remote-format.md, "Limits"): an error's
 * body (only its <Code> is wanted) and the body of an answer that should
 * have none are cut off after S3_ERRBODY_MAX; an XML answer (a listing
 * page, a multipart upload's id or result) may be S3_XML_MAX long; a
 * read, what it asked for. The rest is not waited for.
 */
#define S3_ERRBODY_MAX (64u << 10)
#define S3_XML_MAX (8u << 20)
#define S3_DEFAULT_THRESHOLD (64ull << 20)
#define S3_DEFAULT_PART (16ull << 20)
#define S3_MIN_PART (5ull << 20)
#define S3_HEAD_FIRST (1ull << 20)

struct s3_remote {
	struct remote base;
	CURL *h;
	char *bucket;
	char *prefix;     /* "" or "a/b/" */
	char *base_url;   /* up to the key: "http://h:p/bucket" or "https://bucket.h" */
	char *server;     /* what is connected to, for messages: "https://bucket.h:p" */
	char *ca_bundle;  /* CURLOPT_CAINFO, or NULL: libcurl's default */
	char *ca_from;    /* where ca_bundle was set, for messages */
	struct curl_slist *resolve; /* remote.NAME.resolve, CURLOPT_RESOLVE */
	char *sigv4;      /* "aws:amz:REGION:s3" */
	char *access_key; /* secret: never in a message */
	char *secret_key;
	char *token_hdr;  /* "x-amz-security-token: ..." or NULL; secret too */
	int virt;         /* virtual-hosted: the bucket is in the host name */
	int retries;
	int conditional;  /* the server honours If-None-Match */
	long timeout;     /* seconds below low_speed before a transfer is dropped */
	long low_speed;   /* bytes per second; 0: no low-speed limit */
	long request_timeout; /* seconds a request may take in all */
	uint64_t threshold, part_size;
	int list_max;     /* keys per ListObjectsV2 page */
	unsigned seed;    /* jitter */
	/* counted for CAIRN_TEST_S3_STATS (s3_close) */
	unsigned long requests, connects, resumed;
	int64_t tls_us;   /* spent in TLS handshakes */
	char *stats_file;
};

/*
 * What the S3 remotes of a process share, so that the jobs of a push or
 * fetch do not each resolve the host and do full TLS handshakes:
 *
 *  - one CURLSH with the DNS cache and the TLS session cache, locked by a
 *    mutex per kind of data, as CURLSHOPT_LOCKFUNC(3) asks for handles
 *    used by several threads at once. A job's first connection offers
 *    the TLS session an earlier connection got (an abbreviated handshake:
 *    no certificate chain to send and verify again);
 *  - kept-alive connections, in a pool of idle easy handles. libcurl can
 *    put its connection cache in a share too, but says that sharing it
 *    between threads that run at once is not supported (CURLSHOPT_SHARE(3)),
 *    and jobs do run at once. A connection belongs to the easy handle
 *    that made it, so s3_close puts its handle, reset, into the pool with
 *    its idle connection, and s3_open takes one from there before making
 *    a new one. sync.c starts its jobs anew for each batch (fetch: each
 *    level of trees, the manifests, the chunks), and each batch now
 *    reuses the connections of the last instead of connecting again.
 *
 * Both live until the process exits; a pooled handle holds no setting of
 * the remote that used it (curl_easy_reset), credentials included.
 */
#define S3_POOL_MAX 64

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static CURLSH *curl_share;
static pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static CURL *pool[S3_POOL_MAX];
static size_t pool_n;

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *p)
{
	if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *p)
{
	if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&share_locks[data]);
}

static void curl_init(void)
{
	int i;
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (curl_init_rc)
		return;
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&share_locks[i], NULL);
	/* without a share every handle keeps its own caches: slower, not wrong */
	curl_share = curl_share_init();
	if (curl_share &&
	    (curl_share_setopt(curl_share, CURLSHOPT_LOCKFUNC, share_lock) ||
	     curl_share_setopt(curl_share, CURLSHOPT_UNLOCKFUNC, share_unlock) ||
	     curl_share_setopt(curl_share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) ||
	     curl_share_setopt(curl_share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION))) {
		curl_share_cleanup(curl_share);
		curl_share = NULL;
	}
}

/* An easy handle: an idle one from the pool, else a new one on the share. */
static CURL *handle_get(void)
{
	CURL *h = NULL;
	pthread_mutex_lock(&pool_lock);
	if (pool_n)
		h = pool[--pool_n];
	pthread_mutex_unlock(&pool_lock);
	if (h)
		return h;
	h = curl_easy_init();
	if (h && curl_share)
		curl_easy_setopt(h, CURLOPT_SHARE, curl_share);
	return h;
}

/* Back to the pool, with its connection; cleaned up when the pool is full. */
static void handle_put(CURL *h)
{
	if (!h)
		return;
	curl_easy_reset(h); /* forgets the credentials, keeps the connection and the share */
	pthread_mutex_lock(&pool_lock);
	if (pool_n < S3_POOL_MAX) {
		pool[pool_n++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&pool_lock);
	if (h)
		curl_easy_cleanup(h);
}

/* --- one request --- */

struct s3_req {
	const char *method;  /* GET HEAD PUT POST DELETE */
	const char *key;     /* relative to the remote; NULL: the bucket */
	const char *query;   /* canonical (s3_query), or NULL */
	int fd;              /* PUT body: [off, off + len) of fd; -1: none */
	uint64_t off, len;
	const char *data;    /* POST body */
	size_t data_len;
	const char *range;   /* "bytes=A-B" or NULL */
	const char *md5;     /* base64 Content-MD5 or NULL */
	int if_none_match;
	struct strbuf *out;  /* 2xx body (GET, POST); NULL: discarded */
	uint64_t max;        /* the most bytes of a 2xx body, kept or discarded */
	uint64_t range_off;  /* where the range asked for starts */

	/* results */
	long status;
	uint64_t length;     /* Content-Length of the answer */
	int has_length;
	struct strbuf etag;
	struct strbuf errbody;
	size_t out_start;
	uint64_t sent;       /* PUT: bytes read from fd */
	int read_failed;
	uint64_t skip;       /* a 200 to a ranged GET: bytes before the range, still to skip */
	uint64_t discarded;  /* bytes of a 2xx body not kept (out NULL) */
	int whole;           /* a 200 to a ranged GET: the whole object comes */
	int stopped;         /* the transfer was cut off with all that is wanted */
	int overflow;        /* ... because the body is longer than max */
};

static size_t on_header(char *d, size_t size, size_t n, void *data)
{
	struct s3_req *q = data;
	size_t len = size * n;
	if (len > 5 && !strncmp(d, "HTTP/", 5)) {
		const char *sp = memchr(d, ' ', len);
		q->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		q->has_length = 0;
		strbuf_reset(&q->etag);
		/* a server that ignores Range sends the whole object */
		q->whole = q->range && q->status == 200;
		q->skip = q->whole ? q->range_off : 0;
	} else if (len > 15 && !strncasecmp(d, "content-length:", 15)) {
		q->length = strtoull(d + 15, NULL, 10);
		q->has_length = 1;
		/* one allocation for the whole body, not a doubling per callback,
		 * but never more than is wanted */
		if (q->out && q->status >= 200 && q->status < 300 && !q->whole &&
		    q->length <= q->max && q->length < (1ull << 32))
			strbuf_grow(q->out, (size_t)q->length);
	} else if (len > 5 && !strncasecmp(d, "etag:", 5)) {
		const char *v = d + 5, *e = d + len;
		while (v < e && (*v == ' ' || *v == '\t'))
			v++;
		while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '))
			e--;
		strbuf_reset(&q->etag);
		strbuf_add(&q->etag, v, (size_t)(e - v));
	}
	return len;
}

/*
 * Keeps at most q->max bytes of a 2xx body (skipping, for a server that
 * ignores Range, the bytes before the range) and S3_ERRBODY_MAX of an
 * error's. Past that the transfer is cut off (returning less than len
 * makes libcurl stop): q->stopped when all that is wanted is there, with
 * q->overflow too when more than was asked for is an error.
 */
static size_t on_body(char *d, size_t size, size_t n, void *data)
{
	struct s3_req *q = data;
	size_t len = size * n, all = len;
	uint64_t kept, room;
	if (q->status < 200 || q->status >= 300) {
		room = S3_ERRBODY_MAX - q->errbody.len;
		if (len > room) {
			strbuf_add(&q->errbody, d, (size_t)room);
			q->stopped = 1;
			return 0;
		}
		strbuf_add(&q->errbody, d, len);
		return all;
	}
	if (q->skip) {
		size_t k = len < q->skip ? len : (size_t)q->skip;
		d += k;
		len -= k;
		q->skip -= k;
	}
	kept = q->out ? q->out->len - q->out_start : q->discarded;
	room = q->max - kept;
	if (len > room) {
		len = (size_t)room;
		q->stopped = 1;
		q->overflow = !q->whole; /* a whole object: the range is all there */
	}
	if (q->out)
		strbuf_add(q->out, d, len);
	else
		q->discarded += len;
	return q->stopped ? 0 : all;
}

static size_t on_read(char *d, size_t size, size_t n, void *data)
{
	struct s3_req *q = data;
	size_t want = size * n;
	ssize_t got;
	if (q->sent >= q->len)
		return 0;
	if (want > q->len - q->sent)
		want = (size_t)(q->len - q->sent);
	got = pread_full(q->fd, d, want, (off_t)(q->off + q->sent));
	if (got <= 0) {
		q->read_failed = 1;
		return CURL_READFUNC_ABORT;
	}
	q->sent += (uint64_t)got;
	return (size_t)got;
}

static int on_seek(void *data, curl_off_t offset, int origin)
{
	struct s3_req *q = data;
	if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > q->len)
		return CURL_SEEKFUNC_CANTSEEK;
	q->sent = (uint64_t)offset;
	return CURL_SEEKFUNC_OK;
}

static void s3_key(struct s3_remote *s, const char *key, struct strbuf *out)
{
	strbuf_addstr(out, s->prefix);
	strbuf_addstr(out, key);
}

/* s3://bucket/prefix/key, for messages */
static void s3_where(struct s3_remote *s, const char *key, struct strbuf *out)
{
	strbuf_addf(out, "s3://%s/", s->bucket);
	if (key)
		s3_key(s, key, out);
	else
		strbuf_addstr(out, s->prefix);
}

static int transient_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SEND_FAIL_REWIND:
		return 1;
	default:
		return 0;
	}
}

/* TLS failures that retrying cannot mend: the server's certificate or our CA bundle */
static int tls_trust_error(CURLcode rc)
{
	return rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_ISSUER_ERROR ||
	       rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CRL_BADFILE;
}

/*
 * CURLOPT_DEBUGFUNCTION, set only for CAIRN_TEST_S3_STATS: counts the
 * TLS sessions offered for resumption. It looks at libcurl's own
 * informational text only, never at headers (they hold the signature).
 */
static int on_debug(CURL *h, curl_infotype type, char *d, size_t n, void *data)
{
	static const char reuse[] = "SSL re-using session ID";
	struct s3_remote *s = data;
	if (type == CURLINFO_TEXT && n >= sizeof(reuse) - 1 && !memcmp(d, reuse, sizeof(reuse) - 1))
		s->resumed++;
	return 0;
}

static const char *hint(const char *code)
{
	if (!strcmp(code, "SignatureDoesNotMatch"))
		return " (wrong secret key?)";
	if (!strcmp(code, "InvalidAccessKeyId"))
		return " (unknown access key id)";
	if (!strcmp(code, "AccessDenied"))
		return " (no permission)";
	if (!strcmp(code, "RequestTimeTooSkewed"))
		return " (the clock of this machine is off)";
	if (!strcmp(code, "NoSuchBucket"))
		return " (no such bucket)";
	return "";
}

/* Performs q once; 0 on a 2xx, else a code with the message in err. */
static int s3_perform(struct s3_remote *s, struct s3_req *q, int *retry, struct strbuf *err)
{
	struct strbuf url = STRBUF_INIT, key = STRBUF_INIT, hdr = STRBUF_INIT, code = STRBUF_INIT;
	struct strbuf where = STRBUF_INIT;
	struct curl_slist *hl = NULL;
	char ebuf[CURL_ERROR_SIZE];
	CURL *h = s->h;
	CURLcode rc;
	long nconn = 0;
	size_t pos = 0;
	int ret = 0;

	*retry = 0;
	q->status = 0;
	q->has_length = 0;
	q->length = 0;
	q->sent = 0;
	q->read_failed = 0;
	q->skip = q->discarded = 0;
	q->whole = q->stopped = q->overflow = 0;
	strbuf_reset(&q->etag);
	strbuf_reset(&q->errbody);
	if (q->out)
		strbuf_setlen(q->out, q->out_start);

	strbuf_addstr(&url, s->base_url);
	if (q->key) {
		strbuf_addch(&url, '/');
		s3_key(s, q->key, &key);
		s3_uri_encode(&url, key.buf, key.len, 1);
	} else if (s->virt) {
		strbuf_addch(&url, '/'); /* virtual-hosted: the bucket is "/" */
	}
	if (q->query)
		strbuf_addf(&url, "?%s", q->query);

	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url.buf);
	curl_easy_setopt(h, CURLOPT_AWS_SIGV4, s->sigv4);
	curl_easy_setopt(h, CURLOPT_USERNAME, s->access_key);
	curl_easy_setopt(h, CURLOPT_PASSWORD, s->secret_key);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	/* the defaults, said out loud: there is no setting that turns them off */
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (s->ca_bundle)
		curl_easy_setopt(h, CURLOPT_CAINFO, s->ca_bundle);
	if (s->resolve)
		curl_easy_setopt(h, CURLOPT_RESOLVE, s->resolve);
	ebuf[0] = '\0';
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	if (s->stats_file) {
		curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug);
		curl_easy_setopt(h, CURLOPT_DEBUGDATA, s);
		curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	}
	/* fewer, larger callbacks for packs of many MiB */
	curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 512L * 1024);
	curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	/* a server that trickles or stalls cannot hold a request for long */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, s->low_speed);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, s->timeout);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, s->request_timeout);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, q);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, q);
	/* libcurl 7.88 neither adds nor computes this one; the server wants it */
	hl = curl_slist_append(hl, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
	if (s->token_hdr)
		hl = curl_slist_append(hl, s->token_hdr);
	if (q->range) {
		strbuf_addf(&hdr, "Range: %s", q->range);
		hl = curl_slist_append(hl, hdr.buf);
	}
	if (q->md5) {
		strbuf_reset(&hdr);
		strbuf_addf(&hdr, "Content-MD5: %s", q->md5);
		hl = curl_slist_append(hl, hdr.buf);
	}
	if (q->if_none_match)
		hl = curl_slist_append(hl, "If-None-Match: *");
	if (!strcmp(q->method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(q->method, "PUT")) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, q);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, q);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)q->len);
	} else if (!strcmp(q->method, "POST")) {
		hl = curl_slist_append(hl, "Content-Type: application/xml");
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, q->data ? q->data : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->data_len);
	} else if (strcmp(q->method, "GET")) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	rc = curl_easy_perform(h);
	curl_slist_free_all(hl);
	/* cut off by on_body: the answer is what was read of it */
	if (rc == CURLE_WRITE_ERROR && q->stopped)
		rc = CURLE_OK;
	s->requests++;
	if (!curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &nconn) && nconn > 0) {
		curl_off_t tcp = 0, tls = 0;
		s->connects += (unsigned long)nconn;
		if (!curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &tcp) &&
		    !curl_easy_getinfo(h, CURLINFO_APPCONNECT_TIME_T, &tls) && tls > tcp)
			s->tls_us += (int64_t)(tls - tcp);
	}
	if (q->out && (q->status < 200 || q->status >= 300))
		strbuf_setlen(q->out, q->out_start);
	/* ebuf is about to go out of scope; the handle outlives it */
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);

	s3_where(s, q->key, &where);
	if (q->read_failed) {
		ret = cerr(err, CAIRN_EIO, "remote '%s': cannot read the local file for %s",
			   s->base.name, where.buf);
	} else if (q->overflow && rc == CURLE_OK) {
		ret = cerr(err, CAIRN_EPERMANENT,
			   "remote '%s': %s %s (%s): the server sent more than the %llu bytes expected; refused",
			   s->base.name, q->method, where.buf, s->server, (unsigned long long)q->max);
	} else if (rc == CURLE_SSL_CACERT_BADFILE && s->ca_bundle) {
		ret = cerr(err, CAIRN_EPERMANENT, "remote '%s': %s: cannot use the CA bundle '%s', from %s: %s",
			   s->base.name, s->server, s->ca_bundle, s->ca_from,
			   ebuf[0] ? ebuf : curl_easy_strerror(rc));
	} else if (tls_trust_error(rc)) {
		/* never retried, and never retried without verification */
		struct strbuf how = STRBUF_INIT;
		if (s->ca_bundle)
			strbuf_addf(&how, "CA bundle '%s', from %s", s->ca_bundle, s->ca_from);
		else
			strbuf_addf(&how, "the system's CA certificates; a private CA's certificate "
				    "goes in remote.%s.ca-bundle or AWS_CA_BUNDLE",
				    s->base.name);
		ret = cerr(err, CAIRN_EPERMANENT,
			   "remote '%s': %s: the server's TLS certificate is not trusted: %s (%s)",
			   s->base.name, s->server, ebuf[0] ? ebuf : curl_easy_strerror(rc), how.buf);
		strbuf_release(&how);
	} else if (rc != CURLE_OK) {
		*retry = transient_curl(rc);
		ret = cerr(err, *retry ? CAIRN_ETRANSIENT : CAIRN_EPERMANENT,
			   "remote '%s': %s %s (%s): %s", s->base.name, q->method, where.buf,
			   s->server, ebuf[0] ? ebuf : curl_easy_strerror(rc));
	} else if (q->status >= 200 && q->status < 300) {
		ret = 0;
	} else {
		s3_xml_next(q->errbody.buf, q->errbody.len, &pos, "Code", &code);
		if (q->status == 404 && strcmp(code.buf, "NoSuchBucket")) {
			ret = cerr(err, CAIRN_ENOTFOUND, "remote '%s': %s does not exist", s->base.name,
				   where.buf);
		} else if (q->status == 412) {
			ret = cerr(err, CAIRN_EEXIST, "remote '%s': %s already exists", s->base.name,
				   where.buf);
		} else {
			if (!code.len && (q->status == 403 || q->status == 401))
				strbuf_addstr(&code, "(wrong credentials or no permission)");
			*retry = q->status >= 500 || q->status == 429 || q->status == 408 ||
				 !strcmp(code.buf, "SlowDown") || !strcmp(code.buf, "RequestTimeout") ||
				 !strcmp(code.buf, "OperationAborted") ||
				 !strcmp(code.buf, "ConditionalRequestConflict");
			ret = cerr(err, *retry ? CAIRN_ETRANSIENT : CAIRN_EPERMANENT,
				   "remote '%s': %s %s: HTTP %ld%s%s%s", s->base.name, q->method,
				   where.buf, q->status, code.len ? " " : "", code.buf, hint(code.buf));
		}
	}
	strbuf_release(&url);
	strbuf_release(&key);
	strbuf_release(&hdr);
	strbuf_release(&code);
	strbuf_release(&where);
	return ret;
}

/* s3_perform with retries: exponential backoff, half of it random. */
static int s3_do(struct s3_remote *s, struct s3_req *q, struct strbuf *err)
{
	int attempt, ret = 0, retry;
	if (q->out)
		q->out_start = q->out->len;
	for (attempt = 0;; attempt++) {
		uint64_t ms;
		ret = s3_perform(s, q, &retry, err);
		if (!ret || !retry || attempt >= s->retries)
			break;
		ms = 200ull << (attempt < 6 ? attempt : 6);
		if (ms > 10000)
			ms = 10000;
		ms = ms / 2 + (uint64_t)rand_r(&s->seed) % (ms / 2 + 1);
		{
			struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
			nanosleep(&ts, NULL);
		}
	}
	if (ret == CAIRN_ETRANSIENT && attempt)
		strbuf_addf(err, " (after %d attempts)", attempt + 1);
	return ret;
}

static void req_init(struct s3_req *q, const char *method, const char *key)
{
	memset(q, 0, sizeof(*q));
	q->method = method;
	q->key = key;
	q->fd = -1;
	q->max = S3_ERRBODY_MAX; /* an answer without a wanted body */
	strbuf_init(&q->etag, 0);
	strbuf_init(&q->errbody, 0);
}

static void req_release(struct s3_req *q)
{
	strbuf_release(&q->etag);
	strbuf_release(&q->errbody);
}

/* --- settings and credentials --- */

static const char *setting(const struct config *cfg, const char *name, const char *var)
{
	char *key;
	const char *v;
	if (!cfg)
		return NULL;
	key = xstrfmt("remote.%s.%s", name, var);
	v = config_get(cfg, key);
	free(key);
	return v && *v ? v : NULL;
}

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

struct secret_check {
	const char *prefix; /* "remote.NAME." */
	const char *bad_key, *bad_file;
	const char *ak, *sk, *tok;
};

static const char *const secret_vars[] = { "access-key-id", "secret-access-key", "session-token" };

/* Credentials come from the clone's own files, never the committed one. */
static int find_secrets(const char *key, const char *value, const char *file, void *data)
{
	struct secret_check *c = data;
	size_t i, pl = strlen(c->prefix);
	if (strncmp(key, c->prefix, pl))
		return 0;
	for (i = 0; i < 3; i++) {
		if (strcmp(key + pl, secret_vars[i]))
			continue;
		if (!file || !ends_with(file, "config.local")) {
			c->bad_key = key;
			c->bad_file = file ? file : "?";
			return 1;
		}
		if (i == 0)
			c->ak = value;
		else if (i == 1)
			c->sk = value;
		else
			c->tok = value;
	}
	return 0;
}

static char *home_file(const char *envname, const char *rel)
{
	const char *p = env(envname), *home = env("HOME");
	if (p)
		return xstrdup(p);
	return xstrfmt("%s/%s", home ? home : "/", rel);
}

/*
 * Credentials, first found wins: .cairn/config.local
 * (remote.NAME.access-key-id, .secret-access-key, .session-token); the
 * profile named by remote.NAME.profile; AWS_ACCESS_KEY_ID /
 * AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN; the profile AWS_PROFILE (or
 * "default") of ~/.aws/credentials and ~/.aws/config. The region and
 * ca_bundle of that profile are read too.
 */
static int s3_credentials(struct s3_remote *s, const struct config *cfg, const char *name,
			  struct strbuf *region, struct strbuf *ca_bundle, struct strbuf *err)
{
	struct secret_check c;
	struct strbuf ak = STRBUF_INIT, sk = STRBUF_INIT, tok = STRBUF_INIT, sec = STRBUF_INIT;
	const char *profile = setting(cfg, name, "profile");
	char *prefix = xstrfmt("remote.%s.", name), *cred_file = NULL, *conf_file = NULL;
	int ret = 0, from_profile = 0;

	memset(&c, 0, sizeof(c));
	c.prefix = prefix;
	if (cfg && config_foreach(cfg, find_secrets, &c)) {
		ret = cerr(err, CAIRN_EPERMANENT,
			   "remote '%s': %s is set in '%s', a file committed with the project; "
			   "credentials go in .cairn/config.local (cairn config --local), the "
			   "environment or ~/.aws/credentials",
			   name, c.bad_key, c.bad_file);
		goto out;
	}
	if (!c.ak != !c.sk) {
		ret = cerr(err, CAIRN_EINVAL,
			   "remote '%s': .cairn/config.local sets only one of remote.%s.access-key-id "
			   "and remote.%s.secret-access-key",
			   name, name, name);
		goto out;
	}
	if (c.ak && c.sk) {
		strbuf_addstr(&ak, c.ak);
		strbuf_addstr(&sk, c.sk);
		if (c.tok)
			strbuf_addstr(&tok, c.tok);
	} else if (!profile && env("AWS_ACCESS_KEY_ID") && env("AWS_SECRET_ACCESS_KEY")) {
		strbuf_addstr(&ak, env("AWS_ACCESS_KEY_ID"));
		strbuf_addstr(&sk, env("AWS_SECRET_ACCESS_KEY"));
		if (env("AWS_SESSION_TOKEN"))
			strbuf_addstr(&tok, env("AWS_SESSION_TOKEN"));
	} else {
		if (!profile)
			profile = env("AWS_PROFILE") ? env("AWS_PROFILE") : "default";
		from_profile = 1;
	}
	cred_file = home_file("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
	conf_file = home_file("AWS_CONFIG_FILE", ".aws/config");
	if (!profile)
		profile = env("AWS_PROFILE") ? env("AWS_PROFILE") : "default";
	if (!strcmp(profile, "default"))
		strbuf_addstr(&sec, "default");
	else
		strbuf_addf(&sec, "profile %s", profile);
	if (from_profile) {
		/* credentials file first, then the config file, as the AWS CLI */
		const char *files[2] = { cred_file, conf_file };
		const char *sections[2] = { profile, sec.buf };
		int i, r1, r2;
		for (i = 0; i < 2 && !ak.len; i++) {
			r1 = s3_ini_get(files[i], sections[i], "aws_access_key_id", &ak, err);
			r2 = r1 < 0 ? r1 : s3_ini_get(files[i], sections[i], "aws_secret_access_key", &sk, err);
			if (r1 < 0 || r2 < 0) {
				ret = r1 < 0 ? r1 : r2;
				goto out;
			}
			if (r1 && r2) {
				if (s3_ini_get(files[i], sections[i], "aws_session_token", &tok, err) < 0)
					strbuf_reset(&tok);
			} else {
				strbuf_reset(&ak);
				strbuf_reset(&sk);
			}
		}
		if (!ak.len) {
			ret = cerr(err, CAIRN_EPERMANENT,
				   "remote '%s': no S3 credentials: set AWS_ACCESS_KEY_ID and "
				   "AWS_SECRET_ACCESS_KEY, a profile '%s' in %s, or "
				   "remote.%s.access-key-id and .secret-access-key in .cairn/config.local",
				   name, profile, cred_file, name);
			goto out;
		}
	}
	/* the profile's region, when nothing closer names one */
	if (!region->len && s3_ini_get(conf_file, sec.buf, "region", region, err) < 0)
		strbuf_reset(region);
	/* and its ca_bundle, as the AWS CLI reads it */
	if (s3_ini_get(conf_file, sec.buf, "ca_bundle", ca_bundle, err) < 0)
		strbuf_reset(ca_bundle);
	s->access_key = strbuf_detach(&ak, NULL);
	s->secret_key = strbuf_detach(&sk, NULL);
	if (tok.len)
		s->token_hdr = xstrfmt("x-amz-security-token: %s", tok.buf);
out:
	strbuf_release(&ak);
	strbuf_release(&sk);
	strbuf_release(&tok);
	strbuf_release(&sec);
	free(prefix);
	free(cred_file);
	free(conf_file);
	return ret;
}

/* CAIRN_TEST_S3_STATS=FILE: a line per closed remote, for the tests */
static void write_stats(struct s3_remote *s)
{
	char line[160];
	int fd, len;
	if (!s->stats_file || !s->requests)
		return;
	len = snprintf(line, sizeof(line), "requests %lu connects %lu resumed %lu tls_us %lld\n",
		       s->requests, s->connects, s->resumed, (long long)s->tls_us);
	fd = open(s->stats_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, line, (size_t)len) != len) {
		/* a test hook: the test notices a missing line */
	}
	close(fd);
}

static void wipe(char *p)
{
	if (p) {
		explicit_bzero(p, strlen(p));
		free(p);
	}
}

static void s3_close(struct remote *r)
{
	struct s3_remote *s = (struct s3_remote *)r;
	if (!r)
		return;
	write_stats(s);
	handle_put(s->h);
	free(s->bucket);
	free(s->prefix);
	free(s->base_url);
	free(s->server);
	free(s->ca_bundle);
	free(s->ca_from);
	curl_slist_free_all(s->resolve);
	free(s->stats_file);
	free(s->sigv4);
	wipe(s->access_key);
	wipe(s->secret_key);
	wipe(s->token_hdr);
	free(r->name);
	remote_url_release(&r->url);
	free(s);
}

/*
 * The CA certificates the server's certificate is checked against, first
 * found wins: remote.NAME.ca-bundle (an absolute path, or ~/...),
 * AWS_CA_BUNDLE, the profile's ca_bundle (both as the AWS CLI), then
 * CURL_CA_BUNDLE and SSL_CERT_FILE (as curl and OpenSSL); else libcurl's
 * default, the system's store. The file must be readable: a bundle that
 * cannot be used is an error, never a reason to check less. The
 * environment is only looked at for https endpoints.
 */
static int s3_ca_bundle(struct s3_remote *s, const struct config *cfg, const char *name, int https,
			const char *profile_ca, struct strbuf *err)
{
	static const char *const envs[] = { "AWS_CA_BUNDLE", NULL, "CURL_CA_BUNDLE", "SSL_CERT_FILE" };
	const char *v = setting(cfg, name, "ca-bundle");
	size_t i;
	int fd;
	if (v) {
		const char *home = env("HOME");
		if (starts_with(v, "~/") && home) {
			s->ca_bundle = xstrfmt("%s/%s", home, v + 2);
		} else if (v[0] == '/') {
			s->ca_bundle = xstrdup(v);
		} else {
			return cerr(err, CAIRN_EINVAL,
				    "remote '%s': remote.%s.ca-bundle '%s' is not an absolute path "
				    "(or ~/...)", name, name, v);
		}
		s->ca_from = xstrfmt("remote.%s.ca-bundle", name);
	} else if (https) {
		for (i = 0; i < sizeof(envs) / sizeof(*envs) && !s->ca_bundle; i++) {
			if (!envs[i] && *profile_ca) {
				s->ca_bundle = xstrdup(profile_ca);
				s->ca_from = xstrdup("ca_bundle of the AWS profile");
			} else if (envs[i] && env(envs[i])) {
				s->ca_bundle = xstrdup(env(envs[i]));
				s->ca_from = xstrdup(envs[i]);
			}
		}
	}
	if (!s->ca_bundle)
		return 0;
	fd = open(s->ca_bundle, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cerr(err, CAIRN_EINVAL, "remote '%s': cannot read the CA bundle '%s', from %s: %s",
			    name, s->ca_bundle, s->ca_from, strerror(errno));
	close(fd);
	return 0;
}

/* remote.NAME.resolve: CURLOPT_RESOLVE, host names given their addresses */
static int s3_resolve(struct s3_remote *s, const struct config *cfg, const char *name,
		      struct strbuf *err)
{
	const char *v = setting(cfg, name, "resolve");
	char **e = NULL;
	size_t n = 0, alloc = 0, i;
	int ret;
	if (!v)
		return 0;
	ret = s3_resolve_parse(v, &e, &n, &alloc, err);
	if (ret)
		ret = cerr_wrap(err, ret, "remote '%s': remote.%s.resolve", name, name);
	for (i = 0; i < n; i++) {
		struct curl_slist *l = curl_slist_append(s->resolve, e[i]);
		if (!l && !ret)
			ret = cerr(err, CAIRN_ENOMEM, "out of memory");
		if (l)
			s->resolve = l;
		free(e[i]);
	}
	free(e);
	return ret;
}

static int s3_open(struct remote **out, const struct remote_url *u, const struct config *cfg,
		   const char *name, struct strbuf *err)
{
	struct s3_remote *s = xcalloc(1, sizeof(*s));
	struct strbuf region = STRBUF_INIT, ep = STRBUF_INIT, prof_ca = STRBUF_INIT;
	const char *v, *addressing, *endpoint;
	int64_t n;
	int ret = 0, virt, b;

	s->base.ops = &remote_s3_ops;
	s->base.name = xstrdup(name);
	s->base.url.scheme = xstrdup(u->scheme);
	s->base.url.host = xstrdup(u->host);
	s->base.url.path = xstrdup(u->path);
	s->bucket = xstrdup(u->host);
	s->prefix = *u->path ? xstrfmt("%s/", u->path) : xstrdup("");
	s->seed = (unsigned)getpid() ^ (unsigned)now_ns() ^ (unsigned)(uintptr_t)s;
	if (env("CAIRN_TEST_S3_STATS"))
		s->stats_file = xstrdup(env("CAIRN_TEST_S3_STATS"));

	pthread_once(&curl_once, curl_init);
	if (curl_init_rc) {
		ret = cerr(err, CAIRN_EPERMANENT, "cannot initialise libcurl: %s",
			   curl_easy_strerror(curl_init_rc));
		goto fail;
	}
	v = setting(cfg, name, "region");
	if (!v)
		v = env("AWS_REGION") ? env("AWS_REGION") : env("AWS_DEFAULT_REGION");
	if (v)
		strbuf_addstr(&region, v);
	ret = s3_credentials(s, cfg, name, &region, &prof_ca, err);
	if (ret)
		goto fail;
	if (!region.len)
		strbuf_addstr(&region, "us-east-1");
	if (strchr(region.buf, ':') || strchr(region.buf, '/')) {
		ret = cerr(err, CAIRN_EINVAL, "remote '%s': bad region '%s'", name, region.buf);
		goto fail;
	}
	s->sigv4 = xstrfmt("aws:amz:%s:s3", region.buf);

	endpoint = setting(cfg, name, "endpoint");
	if (!endpoint)
		endpoint = env("AWS_ENDPOINT_URL_S3") ? env("AWS_ENDPOINT_URL_S3") : env("AWS_ENDPOINT_URL");
	if (endpoint) {
		if (!starts_with(endpoint, "http://") && !starts_with(endpoint, "https://")) {
			ret = cerr(err, CAIRN_EINVAL,
				   "remote '%s': endpoint '%s' must start with http:// or https://", name,
				   endpoint);
			goto fail;
		}
		strbuf_addstr(&ep, endpoint);
		while (ep.len > 8 && ep.buf[ep.len - 1] == '/')
			strbuf_setlen(&ep, ep.len - 1);
		if (strchr(strstr(ep.buf, "://") + 3, '/') || strchr(ep.buf, '@') || strchr(ep.buf, '?')) {
			ret = cerr(err, CAIRN_EINVAL,
				   "remote '%s': endpoint '%s' must be scheme://host[:port] only", name,
				   endpoint);
			goto fail;
		}
	} else {
		strbuf_addf(&ep, "https://s3.%s.amazonaws.com", region.buf);
	}
	/* AWS prefers virtual-hosted names; other servers mostly want paths */
	addressing = setting(cfg, name, "addressing");
	if (!addressing)
		addressing = endpoint ? "path" : "virtual";
	if (!strcmp(addressing, "virtual")) {
		virt = 1;
	} else if (!strcmp(addressing, "path")) {
		virt = 0;
	} else {
		ret = cerr(err, CAIRN_EINVAL, "remote '%s': addressing '%s' is neither 'path' nor 'virtual'",
			   name, addressing);
		goto fail;
	}
	s->virt = virt;
	if (virt) {
		const char *host = strstr(ep.buf, "://") + 3;
		s->base_url = xstrfmt("%.*s%s.%s", (int)(host - ep.buf), ep.buf, s->bucket, host);
		s->server = xstrdup(s->base_url);
	} else {
		s->base_url = xstrfmt("%s/%s", ep.buf, s->bucket);
		s->server = xstrdup(ep.buf);
	}
	ret = s3_ca_bundle(s, cfg, name, starts_with(ep.buf, "https://"), prof_ca.buf, err);
	if (!ret)
		ret = s3_resolve(s, cfg, name, err);
	if (ret)
		goto fail;

	ret = remote_setting_int(cfg, name, "retries", 5, 0, 100, &n, err);
	s->retries = (int)n;
	if (!ret)
		ret = remote_setting_int(cfg, name, "timeout", 60, 1, 3600, &n, err);
	s->timeout = (long)n;
	if (!ret)
		ret = remote_setting_int(cfg, name, "low-speed-limit", 1024, 0, 1 << 30, &n, err);
	s->low_speed = (long)n;
	if (!ret)
		ret = remote_setting_int(cfg, name, "request-timeout", 3600, 1, 7 * 86400, &n, err);
	s->request_timeout = (long)n;
	if (!ret)
		ret = remote_setting_int(cfg, name, "multipart-threshold", (int64_t)S3_DEFAULT_THRESHOLD,
				  (int64_t)S3_MIN_PART, INT64_MAX, &n, err);
	s->threshold = (uint64_t)n;
	if (!ret)
		ret = remote_setting_int(cfg, name, "part-size", (int64_t)S3_DEFAULT_PART, 1 << 20,
				  5ll << 30, &n, err);
	s->part_size = (uint64_t)n;
	if (!ret)
		ret = remote_setting_int(cfg, name, "list-max-keys", 1000, 1, 1000, &n, err);
	s->list_max = (int)n;
	b = 1;
	if (!ret && cfg) {
		char *key = xstrfmt("remote.%s.conditional-writes", name);
		ret = config_get_bool(cfg, key, 1, &b, err);
		free(key);
	}
	s->conditional = b;
	if (ret)
		goto fail;
	s->h = handle_get();
	if (!s->h) {
		ret = cerr(err, CAIRN_ENOMEM, "cannot create a libcurl handle");
		goto fail;
	}
	strbuf_release(&region);
	strbuf_release(&ep);
	strbuf_release(&prof_ca);
	*out = &s->base;
	return 0;
fail:
	strbuf_release(&region);
	strbuf_release(&ep);
	strbuf_release(&prof_ca);
	s3_close(&s->base);
	return ret;
}

/* --- operations --- */

static int s3_stat(struct remote *r, const char *path, uint64_t *size, struct strbuf *err)
{
	struct s3_remote *s = (struct s3_remote *)r;
	struct s3_req q;
	int ret;
	req_init(&q, "HEAD", path);
	ret = s3_do(s, &q, err);
	if (!ret)
		*size = q.has_length ? q.length : 0;
	req_release(&q);
	return ret;
}

static int s3_prepare(struct remote *r, const char *dir, struct strbuf *err)
{
	struct s3_remote *s = (struct s3_remote *)r;
	struct s3_req q;
	char *key;
	uint64_t size;
	int ret;
	if (!*dir)
		return 0; /* the bucket itself */
	key = xstrfmt("%s/", dir);
	/* an empty "dir/" key, as S3 consoles make for folders */
	if (!s3_stat(r, key, &size, err)) {
		free(key);
		return 0;
	}
	req_init(&q, "PUT", key);
	q.if_none_match = s->conditional;
	ret = s3_do(s, &q, err);
	if (ret == CAIRN_EEXIST)
		ret = 0;
	req_release(&q);
	free(key);
	return ret;
}

/*
 * ListObjectsV2, page after page. A listing ends when a page is not
 * truncated; one that would not end is refused (remote-format.md,
 * "Limits"): a page that hands back the token it was asked with, more
 * pages than REMOTE_LIST_MAX keys could fill at half the page size, or
 * more than REMOTE_LIST_MAX keys in all.
 */
static int s3_list(struct remote *r, const char *dir,
		   int (*cb)(const char *name, uint64_t size, int64_t mtime, void *data), void *data,
		   struct strbuf *err)
{
	struct s3_remote *s = (struct s3_remote *)r;
	struct strbuf body = STRBUF_INIT, token = STRBUF_INIT, query = STRBUF_INIT;
	struct s3_page pg;
	char *prefix = *dir ? xstrfmt("%s%s/", s->prefix, dir) : xstrdup(s->prefix);
	size_t pages = 0, keys = 0;
	size_t max_pages = 2 * ((REMOTE_LIST_MAX + (size_t)s->list_max - 1) / (size_t)s->list_max) + 1;
	int ret = 0, seen = 0;

	s3_page_init(&pg);
	for (;;) {
		struct s3_req q;
		const char *v[12];
		char max[16];
		size_t nv = 0;
		if (pages++ >= max_pages) {
			ret = cerr(err, CAIRN_EPERMANENT,
				   "remote '%s': the listing of s3://%s/%s goes on past %zu pages; refused",
				   r->name, s->bucket, prefix, max_pages);
			break;
		}
		if (token.len) {
			v[nv++] = "continuation-token";
			v[nv++] = token.buf;
		}
		v[nv++] = "delimiter";
		v[nv++] = "/";
		v[nv++] = "list-type";
		v[nv++] = "2";
		if (s->list_max != 1000) {
			snprintf(max, sizeof(max), "%d", s->list_max);
			v[nv++] = "max-keys";
			v[nv++] = max;
		}
		v[nv++] = "prefix";
		v[nv++] = prefix;
		v[nv] = NULL;
		strbuf_reset(&query);
		s3_query(&query, v);
		strbuf_reset(&body);
		req_init(&q, "GET", NULL);
		q.query = query.buf;
		q.out = &body;
		q.max = S3_XML_MAX;
		ret = s3_do(s, &q, err);
		req_release(&q);
		if (ret)
			break;
		ret = s3_list_page(body.buf, body.len, prefix, cb, data, &pg);
		if (ret == CAIRN_EFORMAT && pg.why.len) {
			ret = cerr(err, CAIRN_EFORMAT, "remote '%s': a bad listing of s3://%s/%s: %s",
				   r->name, s->bucket, prefix, pg.why.buf);
			break;
		}
		seen |= pg.seen;
		keys += pg.keys;
		if (!ret && keys > REMOTE_LIST_MAX)
			ret = cerr(err, CAIRN_EPERMANENT,
				   "remote '%s': the listing of s3://%s/%s holds more than %d keys; refused",
				   r->name, s->bucket, prefix, REMOTE_LIST_MAX);
		if (ret || !pg.truncated)
			break;
		if (token.len && !strcmp(token.buf, pg.token.buf)) {
			ret = cerr(err, CAIRN_EPERMANENT,
				   "remote '%s': the listing of s3://%s/%s gives back the continuation token it was asked with; refused",
				   r->name, s->bucket, prefix);
			break;
		}
		strbuf_reset(&token);
		strbuf_add(&token, pg.token.buf, pg.token.len);
	}
	if (!ret && !seen && *dir)
		ret = cerr(err, CAIRN_ENOTFOUND, "remote '%s': s3://%s/%s does not exist", r->name,
			   s->bucket, prefix);
	free(prefix);
	s3_page_release(&pg);
	strbuf_release(&body);
	strbuf_release(&token);
	strbuf_release(&query);
	return ret;
}

/*
 * Never more bytes than asked for: a 206 longer than the range is
 * refused, and of a 200 (a server that ignores Range sends the whole
 * object) the bytes before the range are skipped and the transfer is
 * cut off at its end (on_body).
 */
static int s3_read(struct remote *r, const char *path, uint64_t off, uint64_t len,
		   struct strbuf *out, struct strbuf *err)
{
	struct s3_remote *s = (struct s3_remote *)r;
	struct s3_req q;
	char range[64];
	int ret;
	if (!len) {
		uint64_t size;
		return s3_stat(r, path, &size, err);
	}
	req_init(&q, "GET", path);
	if (len == REMOTE_ALL && off) {
		snprintf(range, sizeof(range), "bytes=%llu-", (unsigned long long)off);
		q.range = range;
	} else if (len != REMOTE_ALL) {
		snprintf(range, sizeof(range), "bytes=%llu-%llu", (unsigned long long)off,
			 (unsigned long long)(off + len - 1));
		q.range = range;
	}
	q.out = out;
	q.max = len;
	q.range_off = off;
	ret = s3_do(s, &q, err);
	if (ret && q.status == 416) {
		ret = 0; /* a range starting past the end: nothing */
		strbuf_setlen(out, q.out_start);
	}
	if (!ret && q.has_length && out->len - q.out_start != q.length && q.status == 206)
		ret = cerr(err, CAIRN_ETRANSIENT, "remote '%s': short read of s3://%s/%s%s", r->name,
			   s->bucket, s->prefix, path);
	req_release(&q);
	return ret;
}

/* base64 of the MD5 of fd's [off, off + len) */
static int md5_range(int fd, uint64_t off, uint64_t len, char *out64, struct strbuf *err)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t bsz = 1 << 20;
	char *buf = xmalloc(bsz);
	uint64_t done = 0;
	int ret = 0;
	if (!c || !EVP_DigestInit_ex(c, EVP_md5(), NULL))
		ret = cerr(err, CAIRN_EIO, "cannot compute an MD5 checksum");
	while (!ret && done < len) {
		size_t want = len - done < bsz ? (size_t)(len - done) : bsz;
		ssize_t got = pread_full(fd, buf, want, (off_t)(off + done));
		if (got <= 0) {
			ret = cerr(err, CAIRN_EIO, "cannot read the local file to upload");
			break;
		}
		EVP_DigestUpdate(c, buf, (size_t)got);
		done += (uint64_t)got;
	}
	if (!ret) {
		EVP_DigestFinal_ex(c, md, &mdlen);
		EVP_EncodeBlock((unsigned char *)out64, md, (int)mdlen);
	}
	EVP_MD_CTX_free(c);
	free(buf);
	return ret;
}

static int s3_put_part(struct s3_remote *s, const char *path, const char *query, int fd,
		       uint64_t off, uint64_t len, int cond, struct strbuf *etag, struct strbuf *err)
{
	struct s3_req q;
	char md5[32];
	int ret = md5_range(fd, off, len, md5, err);
	if (ret)
		return ret;
	req_init(&q, "PUT", path);
	q.query = query;
	q.fd = fd;
	q.off = off;
	q.len = len;
	q.md5 = md5;
	q.if_none_match = cond;
	ret = s3_do(s, &q, err);
	if (!ret && etag) {
		strbuf_reset(etag);
		strbuf_add(etag, q.etag.buf, q.etag.len);
	}
	req_release(&q);
	return ret;
}

static void s3_abort(struct s3_remote *s, const char *path, const char *upload_id)
{
	struct strbuf query = STRBUF_INIT, e = STRBUF_INIT;
	const char *v[] = { "uploadId", upload_id, NULL };
	struct s3_req q;
	s3_query(&query, v);
	req_init(&q, "DELETE", path);
	q.query = query.buf;
	s3_do(s, &q, &e); /* best effort: the upload is abandoned either way */
	req_release(&q);
	strbuf_release(&query);
	strbuf_release(&e);
}

/*
 * Multipart upload for large objects: initiate, one PUT per part (each
 * with its Content-MD5), complete. Any failure aborts the upload so no
 * parts are left behind to be billed.
 */
static int s3_multipart(struct s3_remote *s, const char *path, int fd, uint64_t size,
			struct strbuf *err)
{
	struct strbuf body = STRBUF_INIT, id = STRBUF_INIT, query = STRBUF_INIT, etag = STRBUF_INIT;
	struct strbuf done = STRBUF_INIT, code = STRBUF_INIT, where = STRBUF_INIT;
	const char *init_v[] = { "uploads", NULL, NULL };
	uint64_t off, part = s->part_size;
	struct s3_req q;
	size_t pos = 0;
	unsigned no;
	int ret;

	/* parts of at most 10000, as S3 allows */
	while (size / part >= 10000)
		part *= 2;
	s3_query(&query, init_v);
	req_init(&q, "POST", path);
	q.query = query.buf;
	q.out = &body;
	q.max = S3_XML_MAX;
	ret = s3_do(s, &q, err);
	req_release(&q);
	if (!ret && !s3_xml_next(body.buf, body.len, &pos, "UploadId", &id))
		ret = cerr(err, CAIRN_EFORMAT, "remote '%s': no upload id for s3://%s/%s%s",
			   s->base.name, s->bucket, s->prefix, path);
	if (ret)
		goto out;
	strbuf_addstr(&done, "<CompleteMultipartUpload>");
	for (off = 0, no = 1; off < size && !ret; off += part, no++) {
		uint64_t len = size - off < part ? size - off : part;
		char num[16];
		const char *v[] = { "partNumber", num, "uploadId", id.buf, NULL };
		snprintf(num, sizeof(num), "%u", no);
		strbuf_reset(&query);
		s3_query(&query, v);
		ret = s3_put_part(s, path, query.buf, fd, off, len, 0, &etag, err);
		if (!ret && !etag.len)
			ret = cerr(err, CAIRN_EFORMAT, "remote '%s': no ETag for part %u of s3://%s/%s%s",
				   s->base.name, no, s->bucket, s->prefix, path);
		if (!ret) {
			strbuf_addf(&done, "<Part><PartNumber>%u</PartNumber><ETag>", no);
			s3_xml_escape(&done, etag.buf);
			strbuf_addstr(&done, "</ETag></Part>");
		}
	}
	strbuf_addstr(&done, "</CompleteMultipartUpload>");
	if (!ret) {
		const char *v[] = { "uploadId", id.buf, NULL };
		strbuf_reset(&query);
		s3_query(&query, v);
		strbuf_reset(&body);
		req_init(&q, "POST", path);
		q.query = query.buf;
		q.data = done.buf;
		q.data_len = done.len;
		q.out = &body;
		q.max = S3_XML_MAX;
		ret = s3_do(s, &q, err);
		req_release(&q);
		/* S3 may answer 200 and put the error in the body */
		pos = 0;
		if (!ret && s3_xml_next(body.buf, body.len, &pos, "Code", &code)) {
			s3_where(s, path, &where);
			ret = cerr(err, CAIRN_ETRANSIENT,
				   "remote '%s': completing the upload of %s failed: %s", s->base.name,
				   where.buf, code.buf);
		}
	}
	if (ret)
		s3_abort(s, path, id.buf);
out:
	strbuf_release(&body);
	strbuf_release(&id);
	strbuf_release(&query);
	strbuf_release(&etag);
	strbuf_release(&done);
	strbuf_release(&code);
	strbuf_release(&where);
	return ret;
}

static int s3_write(struct remote *r, const char *path, int fd, uint64_t size, struct strbuf *err)
{
	struct s3_remote *s = (struct s3_remote *)r;
	uint64_t have;
	int ret;
	/*
	 * Where If-None-Match cannot guard the write, a HEAD does; and before
	 * a body of a MiB or more too, as servers read the whole body before
	 * answering 412 (a pack left by a killed push is not sent again).
	 */
	if (!s->conditional || size >= s->threshold || size >= S3_HEAD_FIRST) {
		ret = s3_stat(r, path, &have, err);
		if (!ret) {
			struct strbuf where = STRBUF_INIT;
			s3_where(s, path, &where);
			ret = cerr(err, CAIRN_EEXIST, "remote '%s': %s already exists", r->name, where.buf);
			strbuf_release(&where);
			return ret;
		}
		if (ret != CAIRN_ENOTFOUND)
			return ret;
	}
	if (size >= s->threshold)
		return s3_multipart(s, path, fd, size, err);
	return s3_put_part(s, path, NULL, fd, 0, size, s->conditional, NULL, err);
}

static int s3_remove(struct remote *r, const char *path, struct strbuf *err)
{
	struct s3_remote *s = (struct s3_remote *)r;
	struct s3_req q;
	uint64_t size;
	/* DELETE succeeds on a missing key; the interface says not found */
	int ret = s3_stat(r, path, &size, err);
	if (ret)
		return ret;
	req_init(&q, "DELETE", path);
	ret = s3_do(s, &q, err);
	req_release(&q);
	return ret;
}

const struct remote_ops remote_s3_ops = {
	.scheme = "s3",
	.default_jobs = 8,
	.open = s3_open,
	.close = s3_close,
	.prepare = s3_prepare,
	.list = remote_list_plain,
	.list_times = s3_list,
	.stat = s3_stat,
	.read = s3_read,
	.write = s3_write,
	.remove = s3_remove,
};
