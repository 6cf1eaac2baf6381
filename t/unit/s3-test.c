/*
 * The server-free parts of the S3 backend: SigV4 percent-encoding and
 * query canonicalisation, the XML of S3's answers, AWS INI files.
 */
#include "remote/s3.h"
#include "remote/remote.h"
#include "t/unit/tap.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void enc(const char *in, int keep_slash, const char *want)
{
	struct strbuf sb = STRBUF_INIT;
	s3_uri_encode(&sb, in, strlen(in), keep_slash);
	ok(!strcmp(sb.buf, want), "encode '%s' -> '%s' (%s)", in, want, sb.buf);
	strbuf_release(&sb);
}

static void query(const char *const *v, const char *want)
{
	struct strbuf sb = STRBUF_INIT;
	s3_query(&sb, v);
	ok(!strcmp(sb.buf, want), "query '%s' (%s)", want, sb.buf);
	strbuf_release(&sb);
}

/* a listing callback: "name size\n" for each file, stops at "stop" */
static int add_file(const char *name, uint64_t size, int64_t mtime, void *data)
{
	struct strbuf *sb = data;
	strbuf_addf(sb, "%s %llu", name, (unsigned long long)size);
	if (mtime != REMOTE_MTIME_UNKNOWN)
		strbuf_addf(sb, " @%lld", (long long)mtime);
	strbuf_addch(sb, '\n');
	return strcmp(name, "stop") ? 0 : 7;
}

/* s3_list_page on xml of prefix "p/packs/": its return, files in *got */
static int page(const char *xml, struct s3_page *pg, struct strbuf *got)
{
	strbuf_reset(got);
	return s3_list_page(xml, strlen(xml), "p/packs/", add_file, got, pg);
}

static void list_pages(void)
{
	struct s3_page pg;
	struct strbuf got = STRBUF_INIT, big = STRBUF_INIT;
	size_t i;
	/* ok(page(..., &got), "...", got.buf) may read got.buf before page()
	 * runs: room for every listing here, so page() never moves it */
	strbuf_grow(&got, 1 << 16);
	s3_page_init(&pg);
	ok(!page("<ListBucketResult><IsTruncated>false</IsTruncated>"
		 "<Contents><Key>p/packs/</Key><Size>0</Size></Contents>"
		 "<Contents><Key>p/packs/a.idx</Key><Size>12</Size></Contents>"
		 "<Contents><Key>p/packs/sub/b</Key><Size>1</Size></Contents>"
		 "<CommonPrefixes><Prefix>p/packs/sub/</Prefix></CommonPrefixes></ListBucketResult>",
		 &pg, &got) &&
	   !strcmp(got.buf, "a.idx 12\n") && pg.seen && pg.keys == 4 && !pg.truncated,
	   "a page: the files directly under the prefix (%s)", got.buf);
	ok(!page("<ListBucketResult><Contents><Key>p/packs/a</Key><Size>1</Size>"
		 "<LastModified>1970-01-01T00:00:02.000Z</LastModified></Contents>"
		 "<Contents><Key>p/packs/b</Key><Size>2</Size>"
		 "<LastModified>yesterday</LastModified></Contents></ListBucketResult>",
		 &pg, &got) &&
	   !strcmp(got.buf, "a 1 @2\nb 2\n"),
	   "LastModified is each file's time, a bad one no time (%s)", got.buf);
	ok(!page("<ListBucketResult><IsTruncated>true</IsTruncated>"
		 "<NextContinuationToken>t&amp;1</NextContinuationToken></ListBucketResult>",
		 &pg, &got) &&
	   pg.truncated && !strcmp(pg.token.buf, "t&1") && !pg.seen && !got.len,
	   "an empty truncated page and its token");
	ok(page("<ListBucketResult><Contents><Key>p/packs/stop</Key><Size>1</Size></Contents>"
		"<Contents><Key>p/packs/z</Key><Size>1</Size></Contents></ListBucketResult>",
		&pg, &got) == 7 && !strcmp(got.buf, "stop 1\n"),
	   "the callback's non-zero return stops the page and is returned");
	ok(page("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>", &pg, &got) ==
		   CAIRN_EFORMAT && strstr(pg.why.buf, "token"),
	   "a truncated page without a token (%s)", pg.why.buf);
	ok(page("<ListBucketResult><Contents><Key>q/packs/a</Key><Size>1</Size></Contents></ListBucketResult>",
		&pg, &got) == CAIRN_EFORMAT && strstr(pg.why.buf, "outside"),
	   "a key outside the prefix (%s)", pg.why.buf);
	ok(page("<ListBucketResult><Contents><Key>p/packs/a</Key></Contents></ListBucketResult>",
		&pg, &got) == CAIRN_EFORMAT,
	   "an entry without a Size");
	ok(page("<ListBucketResult><Contents><Key>p/packs/a</Key><Size>-1</Size></Contents></ListBucketResult>",
		&pg, &got) == CAIRN_EFORMAT &&
	   page("<ListBucketResult><Contents><Key>p/packs/a</Key><Size>18446744073709551616</Size>"
		"</Contents></ListBucketResult>", &pg, &got) == CAIRN_EFORMAT &&
	   !page("<ListBucketResult><Contents><Key>p/packs/a</Key><Size>18446744073709551615</Size>"
		 "</Contents></ListBucketResult>", &pg, &got),
	   "a Size must be a number that fits in 64 bits");
	ok(page("<ListBucketResult><Contents><Key>p/packs/a&#0;b</Key><Size>1</Size></Contents>"
		"</ListBucketResult>", &pg, &got) == CAIRN_EFORMAT,
	   "a key holding a NUL byte");
	strbuf_addstr(&big, "<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>");
	for (i = 0; i <= S3_TOKEN_MAX; i++)
		strbuf_addch(&big, 'x');
	strbuf_addstr(&big, "</NextContinuationToken></ListBucketResult>");
	ok(page(big.buf, &pg, &got) == CAIRN_EFORMAT && strstr(pg.why.buf, "8 KiB"),
	   "a continuation token longer than 8 KiB (%s)", pg.why.buf);
	s3_page_release(&pg);
	strbuf_release(&got);
	strbuf_release(&big);
}

int main(void)
{
	static const char list_xml[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
		"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
		"<Name>b</Name><Prefix>p/packs/</Prefix><IsTruncated>true</IsTruncated>"
		"<Contents><Key>p/packs/a&amp;b.idx</Key><Size>12</Size></Contents>"
		"<Contents><Key>p/packs/c.pack</Key><LastModified>x</LastModified><Size>3456</Size></Contents>"
		"<NextContinuationToken>1/a+b=</NextContinuationToken></ListBucketResult>";
	static const char err_xml[] =
		"<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><RequestId>r</RequestId></Error>";
	const char *const q1[] = { "prefix", "p/packs/", "list-type", "2", "delimiter", "/", NULL };
	const char *const q2[] = { "uploads", NULL, NULL };
	const char *const q3[] = { "uploadId", "2~Ab+/=", "partNumber", "10", NULL };
	const char *const q4[] = { "continuation-token", "1/a+b=", "list-type", "2", NULL };
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;
	char path[] = "/tmp/cairn-s3-test-XXXXXX";
	const char *in;
	size_t pos = 0, il, n = 0;
	FILE *f;
	int fd;

	enc("packs/0123abcd.pack", 1, "packs/0123abcd.pack");
	enc("packs/0123abcd.pack", 0, "packs%2F0123abcd.pack");
	enc("a b+c~d_e-f.g", 1, "a%20b%2Bc~d_e-f.g");
	enc("\xc3\xa9=&?", 0, "%C3%A9%3D%26%3F");
	query(q1, "delimiter=%2F&list-type=2&prefix=p%2Fpacks%2F");
	query(q2, "uploads=");
	query(q3, "partNumber=10&uploadId=2~Ab%2B%2F%3D");
	query(q4, "continuation-token=1%2Fa%2Bb%3D&list-type=2");

	while (s3_xml_next_raw(list_xml, sizeof(list_xml) - 1, &pos, "Contents", &in, &il)) {
		size_t p2 = 0, p3 = 0;
		struct strbuf k = STRBUF_INIT, s = STRBUF_INIT;
		s3_xml_next(in, il, &p2, "Key", &k);
		s3_xml_next(in, il, &p3, "Size", &s);
		if (n == 0)
			ok(!strcmp(k.buf, "p/packs/a&b.idx") && !strcmp(s.buf, "12"),
			   "first Contents: key entity-decoded, size (%s %s)", k.buf, s.buf);
		else
			ok(!strcmp(k.buf, "p/packs/c.pack") && !strcmp(s.buf, "3456"),
			   "second Contents (%s %s)", k.buf, s.buf);
		n++;
		strbuf_release(&k);
		strbuf_release(&s);
	}
	ok(n == 2, "two Contents elements");
	pos = 0;
	ok(s3_xml_next(list_xml, sizeof(list_xml) - 1, &pos, "IsTruncated", &sb) && !strcmp(sb.buf, "true"),
	   "IsTruncated");
	pos = 0;
	ok(s3_xml_next(list_xml, sizeof(list_xml) - 1, &pos, "NextContinuationToken", &sb) &&
	   !strcmp(sb.buf, "1/a+b="), "NextContinuationToken");
	pos = 0;
	ok(!s3_xml_next(list_xml, sizeof(list_xml) - 1, &pos, "Key2", &sb), "a missing tag");
	pos = 0;
	ok(!s3_xml_next(list_xml, 60, &pos, "Name", &sb), "a truncated document");
	pos = 0;
	ok(s3_xml_next(err_xml, sizeof(err_xml) - 1, &pos, "Code", &sb) &&
	   !strcmp(sb.buf, "SignatureDoesNotMatch"), "an error's Code");
	pos = 0;
	ok(!s3_xml_next("<Code", 5, &pos, "Code", &sb) && !s3_xml_next("", 0, &pos, "Code", &sb),
	   "garbage is not a Code");
	strbuf_reset(&sb);
	s3_xml_escape(&sb, "\"a\"&<b>");
	ok(!strcmp(sb.buf, "&quot;a&quot;&amp;&lt;b&gt;"), "xml escape (%s)", sb.buf);
	list_pages();

	{
		int64_t t = 0;
		ok(!s3_parse_time("2026-12-05T08:47:53.000Z", &t) && t == 1796460473 &&
		   !s3_parse_time("1970-01-01T00:00:01Z", &t) && t == 1,
		   "LastModified times (%lld)", (long long)t);
		ok(s3_parse_time("2026-12-05T08:47:53+01:00", &t) &&
		   s3_parse_time("2026-12-05T-8:47:53Z", &t) && s3_parse_time("", &t) &&
		   s3_parse_time("2026-12-05T08:47:53.Z", &t), "anything else is refused");
	}

	fd = mkstemp(path);
	f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f)
		return 1;
	fputs("# comment\n[default]\naws_access_key_id = AK1\n"
	      "[profile dev]\r\n  aws_access_key_id=AK2\r\nregion = eu-west-1 \r\n"
	      "[dev]\naws_access_key_id = AK3\n", f);
	fclose(f);
	ok(s3_ini_get(path, "default", "aws_access_key_id", &sb, &err) == 1 && !strcmp(sb.buf, "AK1"),
	   "ini: [default]");
	ok(s3_ini_get(path, "profile dev", "aws_access_key_id", &sb, &err) == 1 && !strcmp(sb.buf, "AK2"),
	   "ini: [profile dev], CRLF and blanks");
	ok(s3_ini_get(path, "profile dev", "region", &sb, &err) == 1 && !strcmp(sb.buf, "eu-west-1"),
	   "ini: trailing blanks dropped");
	ok(s3_ini_get(path, "dev", "aws_access_key_id", &sb, &err) == 1 && !strcmp(sb.buf, "AK3"),
	   "ini: [dev] is another section");
	ok(s3_ini_get(path, "nope", "aws_access_key_id", &sb, &err) == 0, "ini: a missing section");
	unlink(path);
	ok(s3_ini_get(path, "default", "aws_access_key_id", &sb, &err) == 0, "ini: a missing file");

	{
		static const char *const good[] = {
			"h.example:443:10.0.0.1", "a:1:[::1]", "b-c.d:65535:1.2.3.4,[fe80::1],5.6.7.8",
		};
		static const char *const bad[] = {
			"h", "h:443", "h:443:", ":443:1.2.3.4", "h::1.2.3.4", "h:0:1.2.3.4",
			"h:65536:1.2.3.4", "h:4x3:1.2.3.4", "h:443:localhost", "h:443:::1",
			"h:443:[1.2.3.4]", "h:443:1.2.3.4,", "h:443:1.2.3", "-h:443:1.2.3.4",
			"h_x:443:1.2.3.4", "h:0000443:1.2.3.4",
		};
		char **e = NULL;
		size_t ne = 0, alloc = 0, i;
		for (i = 0; i < sizeof(good) / sizeof(*good); i++) {
			ne = 0;
			ok(!s3_resolve_parse(good[i], &e, &ne, &alloc, &err) && ne == 1 &&
			   !strcmp(e[0], good[i]), "resolve: '%s' is good", good[i]);
			if (ne)
				free(e[0]);
		}
		for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
			ne = 0;
			ok(s3_resolve_parse(bad[i], &e, &ne, &alloc, &err) == CAIRN_EINVAL && !ne &&
			   strstr(err.buf, bad[i]), "resolve: '%s' is bad (%s)", bad[i], err.buf);
		}
		ne = 0;
		ok(!s3_resolve_parse("  a:1:1.1.1.1\tb:2:[::2]\n ", &e, &ne, &alloc, &err) && ne == 2 &&
		   !strcmp(e[0], "a:1:1.1.1.1") && !strcmp(e[1], "b:2:[::2]"),
		   "resolve: entries separated by white space");
		while (ne)
			free(e[--ne]);
		ok(s3_resolve_parse("a:1:1.1.1.1 b:2:x", &e, &ne, &alloc, &err) == CAIRN_EINVAL && !ne &&
		   strstr(err.buf, "'b:2:x'"), "resolve: one bad entry fails them all, naming it");
		ok(!s3_resolve_parse("", &e, &ne, &alloc, &err) && !ne, "resolve: empty");
		free(e);
	}
	strbuf_release(&sb);
	strbuf_release(&err);
	return tap_done();
}
