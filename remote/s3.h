#ifndef CAIRN_REMOTE_S3_H
#define CAIRN_REMOTE_S3_H
/*
 * The pure parts of the S3 backend (remote/s3.c), apart so that the unit
 * tests reach them without a server: SigV4 percent-encoding and query
 * canonicalisation, the few XML answers S3 gives, and the AWS shared
 * credentials/config files.
 */
#include "core/util.h"

#include <stdint.h>

/*
 * Appends s[0..n) percent-encoded as SigV4 wants: A-Z a-z 0-9 - . _ ~ as
 * they are, every other byte as %XX with uppercase hex; '/' is kept when
 * keep_slash (object keys in paths), encoded otherwise (query values).
 */
void s3_uri_encode(struct strbuf *out, const char *s, size_t n, int keep_slash);

/*
 * A query string as SigV4 canonicalises it, which libcurl 7.88 does not do
 * for us (it signs the query as written): the NULL-terminated name/value
 * pairs v[0], v[1], v[2], v[3], ... are encoded, sorted by name (then
 * value) and joined "a=1&b=2". A NULL value is written "name=" (libcurl
 * 7.88 signs a bare "uploads" wrongly; "uploads=" is the same request).
 */
void s3_query(struct strbuf *out, const char *const *v);

/*
 * The text of the first <tag>...</tag> in xml[0..n) at or after *pos,
 * entity-decoded into out; *pos moves past the closing tag. Returns 1 if
 * found, 0 if not. Enough for S3's flat answers; attributes on the tag
 * are allowed, CDATA and comments are not expected.
 */
int s3_xml_next(const char *xml, size_t n, size_t *pos, const char *tag, struct strbuf *out);
/* The same within the element at xml[0..n): the raw (not decoded) inner text. */
int s3_xml_next_raw(const char *xml, size_t n, size_t *pos, const char *tag,
		    const char **inner, size_t *inner_len);
/*
 * One page of a ListObjectsV2 answer (delimiter "/"), as s3_list_page
 * reads it.
 */
struct s3_page {
	int truncated;       /* IsTruncated is "true" */
	int seen;            /* a key or a common prefix under the prefix was listed */
	size_t keys;         /* Contents and CommonPrefixes on the page */
	struct strbuf token; /* NextContinuationToken ("" if none) */
	struct strbuf why;   /* CAIRN_EFORMAT: what is wrong with the page */
};
void s3_page_init(struct s3_page *pg);
void s3_page_release(struct s3_page *pg);
/*
 * Reads the page xml[0..n) of a listing of `prefix` ("" or ending in
 * '/'): calls cb(name, size, mtime, data) for each key directly under
 * prefix (name without the prefix; the prefix's own key and deeper keys
 * are not files of the directory), mtime its LastModified
 * (REMOTE_MTIME_UNKNOWN if absent or not an S3 time), stopping at the first non-zero return of cb,
 * which is returned. CAIRN_EFORMAT with pg->why set for a page that is
 * not a listing of prefix: a Contents without a Key or a Size, a key
 * outside the prefix, a Size that is not a decimal number, a truncated
 * page without a continuation token or with one longer than 8 KiB.
 * Everything else of the page is ignored.
 */
int s3_list_page(const char *xml, size_t n, const char *prefix,
		 int (*cb)(const char *name, uint64_t size, int64_t mtime, void *data), void *data,
		 struct s3_page *pg);
#define S3_TOKEN_MAX (8u << 10)

/*
 * An ISO 8601 time as S3 writes LastModified, "2026-12-05T08:47:53.000Z"
 * (fraction optional, UTC only), into Unix seconds. 0, or -1 when s is
 * not that.
 */
int s3_parse_time(const char *s, int64_t *out);

/* Appends s with & < > " ' escaped. */
void s3_xml_escape(struct strbuf *out, const char *s);

/*
 * The value of `key` in section [section] of an AWS-style INI file
 * (~/.aws/credentials: [NAME]; ~/.aws/config: [default] or [profile
 * NAME]). Returns 1 and fills out, 0 if absent (or the file is), or a
 * CAIRN_E* code when the file cannot be read.
 */
int s3_ini_get(const char *path, const char *section, const char *key, struct strbuf *out,
	       struct strbuf *err);

/*
 * remote.NAME.resolve: entries "HOST:PORT:ADDRESS[,ADDRESS]..." (curl's
 * --resolve) separated by white space. HOST is a host name (letters,
 * digits, '-' and '.'), PORT 1 to 65535, each ADDRESS an IPv4 address or
 * an IPv6 one in brackets. Each entry is appended to *entries (grown with
 * ALLOC_GROW, *n counting them), as written. Returns 0, or CAIRN_EINVAL
 * naming the first bad entry (nothing is appended then).
 */
int s3_resolve_parse(const char *value, char ***entries, size_t *n, size_t *alloc,
		     struct strbuf *err);

#endif
