/*
 * Unit tests for core/pointer.c: pointer files format to stable bytes,
 * parse back, and the strict parser refuses everything else.
 */
#include "core/object.h"
#include "core/pointer.h"
#include "core/util.h"
#include "t/unit/tap.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ID "0123456789abcdef0123456789abcdef"
#define SHA "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define HEADER "# cairn pointer: the data beside this file is versioned by cairn\n"

static const char *const file_644 =
	HEADER
	"version: 1\n"
	"type: file\n"
	"hash: xxh3-128\n"
	"id: " ID "\n"
	"sha256: " SHA "\n"
	"size: 1234567\n"
	"mode: 644\n";

static const char *const file_755 =
	HEADER
	"version: 1\n"
	"type: file\n"
	"hash: xxh3-128\n"
	"id: " ID "\n"
	"sha256: " SHA "\n"
	"size: 0\n"
	"mode: 755\n";

static const char *const dir_ptr =
	HEADER
	"version: 1\n"
	"type: dir\n"
	"hash: xxh3-128\n"
	"id: " ID "\n"
	"sha256: " SHA "\n"
	"size: 18446744073709551615\n"
	"files: 42\n";

static void set_ids(struct pointer *p)
{
	oid_from_hex(&p->id, ID, OID_HEXSZ);
	sha256_from_hex(&p->sha, SHA, SHA256_HEXSZ);
}

static int same(const struct pointer *a, const struct pointer *b)
{
	return a->is_dir == b->is_dir && oid_eq(&a->id, &b->id) && sha256_eq(&a->sha, &b->sha) &&
	       a->size == b->size && a->files == b->files && a->mode == b->mode;
}

static int parse_str(struct pointer *p, const char *s, struct strbuf *err)
{
	strbuf_reset(err);
	return ptr_parse(p, s, strlen(s), "x.cairn", err);
}

static void test_format(void)
{
	struct pointer p, q;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	int r;

	memset(&p, 0, sizeof(p));
	set_ids(&p);
	p.size = 1234567;
	p.files = 1;
	p.mode = MODE_FILE;
	ptr_format(&p, &out);
	ok(!strcmp(out.buf, file_644), "file pointer (644) formats to the expected bytes");
	if (strcmp(out.buf, file_644))
		diag("got:\n%s", out.buf);
	r = ptr_parse(&q, out.buf, out.len, "a.cairn", &err);
	ok(r == 0 && same(&p, &q), "file pointer (644) round trips");

	p.size = 0;
	p.mode = MODE_EXEC;
	ptr_format(&p, &out);
	ok(!strcmp(out.buf, file_755), "file pointer (755) formats to the expected bytes");
	r = ptr_parse(&q, out.buf, out.len, "a.cairn", &err);
	ok(r == 0 && same(&p, &q) && q.mode == MODE_EXEC && q.files == 1,
	   "file pointer (755) round trips");

	memset(&p, 0, sizeof(p));
	set_ids(&p);
	p.is_dir = 1;
	p.size = UINT64_MAX;
	p.files = 42;
	p.mode = MODE_DIR;
	ptr_format(&p, &out);
	ok(!strcmp(out.buf, dir_ptr), "dir pointer formats to the expected bytes");
	if (strcmp(out.buf, dir_ptr))
		diag("got:\n%s", out.buf);
	r = ptr_parse(&q, out.buf, out.len, "a.cairn", &err);
	ok(r == 0 && same(&p, &q) && q.mode == MODE_DIR, "dir pointer round trips");

	/* formatting is a function of the fields only */
	{
		struct strbuf again = STRBUF_INIT;
		strbuf_addstr(&again, "old contents are replaced");
		ptr_format(&p, &again);
		ok(!strcmp(again.buf, out.buf), "format replaces the buffer, same bytes again");
		strbuf_release(&again);
	}

	/* through a file */
	{
		char dir[] = "/tmp/cairn-pointer-test-XXXXXX";
		if (mkdtemp(dir)) {
			char *path = xstrfmt("%s/data.cairn", dir);
			struct strbuf got = STRBUF_INIT;
			r = ptr_write(&p, path, &err);
			ok(r == 0 && read_file(path, 4096, &got, &err) == 0 && !strcmp(got.buf, dir_ptr),
			   "ptr_write writes the formatted bytes");
			r = ptr_read(&q, path, &err);
			ok(r == 0 && same(&p, &q), "ptr_read reads them back");
			unlink(path);
			strbuf_reset(&err);
			r = ptr_read(&q, path, &err);
			ok(r == CAIRN_ENOTFOUND && strstr(err.buf, path), "ptr_read of a missing file (%s)",
			   err.buf);
			{
				struct strbuf big = STRBUF_INIT;
				while (big.len <= POINTER_MAX_SIZE)
					strbuf_addstr(&big, "# padding padding padding\n");
				write_file_atomic(path, big.buf, big.len, 0, &err);
				r = ptr_read(&q, path, &err);
				ok(r == CAIRN_EFORMAT, "ptr_read of a file over 4 KiB");
				strbuf_release(&big);
			}
			unlink(path);
			rmdir(dir);
			free(path);
			strbuf_release(&got);
		} else {
			ok(0, "mkdtemp: %s", strerror(errno));
		}
	}
	strbuf_release(&out);
	strbuf_release(&err);
}

/* file_644 with the line starting with `key` replaced by `line` (NULL: removed). */
static char *edit(const char *base, const char *key, const char *line)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = base;
	size_t kl = strlen(key);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t ll = nl ? (size_t)(nl - p) + 1 : strlen(p);
		if (!strncmp(p, key, kl) && p[kl] == ':') {
			if (line) {
				strbuf_addstr(&sb, line);
				strbuf_addch(&sb, '\n');
			}
		} else {
			strbuf_add(&sb, p, ll);
		}
		p += ll;
	}
	return strbuf_detach(&sb, NULL);
}

enum { B_FILE, B_DIR };

static void test_rejects(void)
{
	static const struct {
		int base;
		const char *key;  /* the line with this key is replaced */
		const char *line; /* by this (NULL: removed) */
		int code;
		const char *what;
	} cases[] = {
		{ B_FILE, "version", NULL, CAIRN_EFORMAT, "no version" },
		{ B_FILE, "version", "version: 0", CAIRN_EFORMAT, "version 0" },
		{ B_FILE, "version", "version: 01", CAIRN_EFORMAT, "version 01" },
		{ B_FILE, "version", "version: one", CAIRN_EFORMAT, "version one" },
		{ B_FILE, "version", "version:", CAIRN_EFORMAT, "empty version" },
		{ B_FILE, "version", "version: 2", CAIRN_EVERSION, "version 2" },
		{ B_FILE, "version", "version: 99999", CAIRN_EVERSION, "version 99999" },
		{ B_DIR, "version", "version: 2", CAIRN_EVERSION, "dir pointer version 2" },
		{ B_FILE, "hash", "hash: sha1", CAIRN_EVERSION, "hash sha1" },
		{ B_FILE, "hash", "hash: xxh3-64", CAIRN_EVERSION, "hash xxh3-64" },
		{ B_FILE, "hash", "hash: XXH3-128", CAIRN_EVERSION, "hash XXH3-128" },
		{ B_FILE, "hash", NULL, CAIRN_EFORMAT, "no hash" },
		{ B_FILE, "type", NULL, CAIRN_EFORMAT, "no type" },
		{ B_FILE, "type", "type: link", CAIRN_EFORMAT, "type link" },
		{ B_FILE, "type", "type: File", CAIRN_EFORMAT, "type File" },
		{ B_FILE, "type", "type: files", CAIRN_EFORMAT, "type files" },
		{ B_FILE, "type", "type:", CAIRN_EFORMAT, "empty type" },
		{ B_FILE, "id", NULL, CAIRN_EFORMAT, "no id" },
		{ B_FILE, "id", "id: 0123456789abcdef0123456789abcde", CAIRN_EFORMAT, "id of 31 digits" },
		{ B_FILE, "id", "id: 0123456789abcdef0123456789abcdef0", CAIRN_EFORMAT, "id of 33 digits" },
		{ B_FILE, "id", "id: 0123456789ABCDEF0123456789abcdef", CAIRN_EFORMAT, "id in uppercase" },
		{ B_FILE, "id", "id: 0123456789abcdeg0123456789abcdef", CAIRN_EFORMAT, "id with a 'g'" },
		{ B_FILE, "id", "id: 0123456789abcdef 123456789abcdef", CAIRN_EFORMAT, "id with a space" },
		{ B_FILE, "id", "id: 0x23456789abcdef0123456789abcdef", CAIRN_EFORMAT, "id with 0x" },
		{ B_FILE, "id", "id:", CAIRN_EFORMAT, "empty id" },
		{ B_FILE, "sha256", "sha256: " SHA "0", CAIRN_EFORMAT, "sha256 of 65 digits" },
		{ B_FILE, "sha256",
		  "sha256: 00112233445566778899aabbccddeeff00112233445566778899aabbccddeef",
		  CAIRN_EFORMAT, "sha256 of 63 digits" },
		{ B_FILE, "sha256", "sha256: " ID, CAIRN_EFORMAT, "sha256 of 32 digits" },
		{ B_FILE, "sha256",
		  "sha256: 00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff",
		  CAIRN_EFORMAT, "sha256 in uppercase" },
		{ B_FILE, "sha256",
		  "sha256: 00112233445566778899zzbbccddeeff00112233445566778899aabbccddeeff",
		  CAIRN_EFORMAT, "sha256 with non-hex" },
		{ B_FILE, "sha256", NULL, CAIRN_EFORMAT, "no sha256" },
		{ B_FILE, "size", NULL, CAIRN_EFORMAT, "no size" },
		{ B_FILE, "size", "size: 01", CAIRN_EFORMAT, "size with a leading zero" },
		{ B_FILE, "size", "size: 00", CAIRN_EFORMAT, "size 00" },
		{ B_FILE, "size", "size: -1", CAIRN_EFORMAT, "negative size" },
		{ B_FILE, "size", "size: -0", CAIRN_EFORMAT, "size -0" },
		{ B_FILE, "size", "size: +1", CAIRN_EFORMAT, "size +1" },
		{ B_FILE, "size", "size: 18446744073709551616", CAIRN_EFORMAT, "size 2^64" },
		{ B_FILE, "size", "size: 18446744073709551620", CAIRN_EFORMAT, "size 2^64+4" },
		{ B_FILE, "size", "size: 99999999999999999999", CAIRN_EFORMAT, "size 10^20-1" },
		{ B_FILE, "size", "size: 100000000000000000000", CAIRN_EFORMAT, "size of 21 digits" },
		{ B_FILE, "size", "size: 1e6", CAIRN_EFORMAT, "size 1e6" },
		{ B_FILE, "size", "size: 1 2", CAIRN_EFORMAT, "size '1 2'" },
		{ B_FILE, "size", "size: 0x10", CAIRN_EFORMAT, "size in hex" },
		{ B_FILE, "size", "size:", CAIRN_EFORMAT, "empty size" },
		{ B_FILE, "mode", "mode: 777", CAIRN_EFORMAT, "mode 777" },
		{ B_FILE, "mode", "mode: 0644", CAIRN_EFORMAT, "mode 0644" },
		{ B_FILE, "mode", "mode: 100644", CAIRN_EFORMAT, "mode 100644" },
		{ B_FILE, "mode", "mode: 644\nfiles: 1", CAIRN_EFORMAT, "file with files" },
		{ B_FILE, "mode", "files: 1", CAIRN_EFORMAT, "file with files and no mode" },
		{ B_DIR, "files", NULL, CAIRN_EFORMAT, "dir without files" },
		{ B_DIR, "files", "files: 42\nmode: 644", CAIRN_EFORMAT, "dir with a mode" },
		{ B_DIR, "files", "files: 042", CAIRN_EFORMAT, "files with a leading zero" },
		{ B_DIR, "files", "files: -1", CAIRN_EFORMAT, "negative files" },
		{ B_DIR, "files", "files: 18446744073709551616", CAIRN_EFORMAT, "files 2^64" },
		{ B_DIR, "type", "type: tree", CAIRN_EFORMAT, "type tree" },
		{ B_FILE, "mode", "mode: 644\nmode: 644", CAIRN_EFORMAT, "repeated mode" },
		{ B_FILE, "size", "size: 1\nsize: 1", CAIRN_EFORMAT, "repeated size" },
		{ B_FILE, "version", "version: 1\nversion: 1", CAIRN_EFORMAT, "repeated version" },
		{ B_FILE, "id", "id: " ID "\nid: " ID, CAIRN_EFORMAT, "repeated id" },
		{ B_FILE, "type", "type: file\ntype: file", CAIRN_EFORMAT, "repeated type" },
		{ B_DIR, "files", "files: 1\nfiles: 1", CAIRN_EFORMAT, "repeated files" },
		{ B_FILE, "mode", "mode: 644\ncolor: blue", CAIRN_EFORMAT, "unknown key" },
		{ B_FILE, "mode", "mode: 644\nMode: 644", CAIRN_EFORMAT, "key in another case" },
		{ B_FILE, "mode", "mode: 644\npath: a/b", CAIRN_EFORMAT, "a path key" },
		{ B_FILE, "mode", "mode: 644\njust words", CAIRN_EFORMAT, "a line without a colon" },
		{ B_FILE, "mode", "mode: 644\n: 1", CAIRN_EFORMAT, "a line with an empty key" },
		{ B_FILE, "mode", "mode: 644\n  # indented", CAIRN_EFORMAT,
		  "an indented comment (not a comment)" },
		{ B_FILE, "size", " size: 1", CAIRN_EFORMAT, "an indented key" },
		{ B_FILE, "size", "size : 1", CAIRN_EFORMAT, "a space before the colon" },
		{ B_FILE, "size", "size: 1 # a comment", CAIRN_EFORMAT, "a trailing comment" },
		{ B_FILE, "size", "size: '1'", CAIRN_EFORMAT, "a quoted value" },
	};
	struct strbuf err = STRBUF_INIT;
	struct pointer p;
	size_t i;
	int r;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = edit(cases[i].base == B_DIR ? dir_ptr : file_644, cases[i].key,
				  cases[i].line);
		r = parse_str(&p, text, &err);
		ok(r == cases[i].code && strstr(err.buf, "x.cairn"), "refuses %s: %s (%s)",
		   cases[i].what, r == CAIRN_EVERSION ? "EVERSION" : r == CAIRN_EFORMAT ? "EFORMAT" : "?",
		   err.buf);
		if (r != cases[i].code)
			diag("input:\n%s", text);
		free(text);
	}

	/* whole-input cases */
	r = parse_str(&p, "", &err);
	ok(r == CAIRN_EFORMAT, "refuses an empty file (%s)", err.buf);
	r = parse_str(&p, "\n\n# just comments\n", &err);
	ok(r == CAIRN_EFORMAT, "refuses a file of comments");
	r = parse_str(&p, "version: 1\n", &err);
	ok(r == CAIRN_EFORMAT, "refuses a version alone");
	r = parse_str(&p, "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 12\n", &err);
	ok(r == CAIRN_EFORMAT, "refuses a git-lfs pointer (%s)", err.buf);
	{
		/* a NUL byte: in a value, in a comment, at the end */
		size_t len = strlen(file_644);
		char *t = xmalloc(len + 2);
		size_t at[3] = { len - 3, 5, len };
		int k, all = 1;
		for (k = 0; k < 3; k++) {
			memcpy(t, file_644, len + 1);
			t[at[k]] = '\0';
			if (at[k] == len)
				t[len + 1] = '\0';
			strbuf_reset(&err);
			r = ptr_parse(&p, t, at[k] == len ? len + 1 : len, "x.cairn", &err);
			if (r != CAIRN_EFORMAT)
				all = 0;
		}
		ok(all, "refuses a NUL byte in a value, a comment or at the end");
		free(t);
	}
	{
		struct strbuf big = STRBUF_INIT;
		strbuf_addstr(&big, file_644);
		while (big.len < 5000)
			strbuf_addstr(&big, "# a long comment line to pad the pointer file out\n");
		strbuf_setlen(&big, 5000);
		r = ptr_parse(&p, big.buf, big.len, "x.cairn", &err);
		ok(r == CAIRN_EFORMAT, "refuses 5000 bytes (%s)", err.buf);
		strbuf_setlen(&big, POINTER_MAX_SIZE + 1);
		r = ptr_parse(&p, big.buf, big.len, "x.cairn", &err);
		ok(r == CAIRN_EFORMAT, "refuses 4097 bytes");
		/* exactly 4096 bytes of good pointer plus comments is fine */
		strbuf_reset(&big);
		strbuf_addstr(&big, file_644);
		while (big.len < POINTER_MAX_SIZE - 2)
			strbuf_addch(&big, '#');
		strbuf_addch(&big, '\n');
		while (big.len < POINTER_MAX_SIZE)
			strbuf_addch(&big, '\n');
		strbuf_reset(&err);
		r = ptr_parse(&p, big.buf, big.len, "x.cairn", &err);
		ok(r == 0 && big.len == POINTER_MAX_SIZE, "accepts exactly 4096 bytes (%s)", err.buf);
		strbuf_release(&big);
	}
	/* a newer version is reported as such, not as the unknown keys after it */
	r = parse_str(&p, "version: 2\nfuture-key: x\n", &err);
	ok(r == CAIRN_EVERSION, "version 2 with a new key after it: EVERSION (%s)", err.buf);
	r = parse_str(&p, "version: 3\ntype: file\n", &err);
	ok(r == CAIRN_EVERSION && strstr(err.buf, "upgrade"), "version 3: asks to upgrade (%s)",
	   err.buf);
	strbuf_release(&err);
}

static void test_accepts(void)
{
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
	struct pointer want, p;
	int r;

	memset(&want, 0, sizeof(want));
	set_ids(&want);
	want.size = 1234567;
	want.files = 1;
	want.mode = MODE_FILE;

	r = parse_str(&p, file_644, &err);
	ok(r == 0 && same(&p, &want), "the canonical file pointer");

	r = parse_str(&p,
		      "# a comment\n"
		      "#another: comment\n"
		      "\n"
		      "version: 1\n"
		      "# comment between\n"
		      "type: file\n\n\n"
		      "hash: xxh3-128\n"
		      "id: " ID "\n"
		      "sha256: " SHA "\n"
		      "size: 1234567\n"
		      "mode: 644\n"
		      "# trailing comment", &err);
	ok(r == 0 && same(&p, &want), "comments and blank lines anywhere (%s)", err.buf);

	/* CRLF line ends */
	{
		const char *s = file_644;
		strbuf_reset(&sb);
		for (; *s; s++) {
			if (*s == '\n')
				strbuf_addch(&sb, '\r');
			strbuf_addch(&sb, *s);
		}
		r = ptr_parse(&p, sb.buf, sb.len, "x.cairn", &err);
		ok(r == 0 && same(&p, &want), "CRLF line ends (%s)", err.buf);
	}
	r = parse_str(&p,
		      "version:1\n"
		      "type:   file   \n"
		      "hash:\txxh3-128\t\n"
		      "id:  " ID "  \n"
		      "sha256: \t" SHA "\r\n"
		      "size:1234567 \n"
		      "mode:  644\t", &err);
	ok(r == 0 && same(&p, &want), "extra spaces and tabs around values, no final newline (%s)",
	   err.buf);
	r = parse_str(&p,
		      "mode: 644\n"
		      "size: 1234567\n"
		      "sha256: " SHA "\n"
		      "id: " ID "\n"
		      "hash: xxh3-128\n"
		      "type: file\n"
		      "version: 1\n", &err);
	ok(r == 0 && same(&p, &want), "keys in reverse order (%s)", err.buf);
	r = parse_str(&p,
		      "version: 1\n"
		      "id: " ID "\n"
		      "size: 1234567\n"
		      "type: file\n"
		      "sha256: " SHA "\n"
		      "hash: xxh3-128\n", &err);
	ok(r == 0 && same(&p, &want), "a file pointer without mode is 644 (%s)", err.buf);

	r = parse_str(&p,
		      "files: 42\n"
		      "size: 18446744073709551615\n"
		      "type: dir\n"
		      "sha256: " SHA "\n"
		      "id: " ID "\n"
		      "version: 1\n"
		      "hash: xxh3-128\n", &err);
	ok(r == 0 && p.is_dir && p.files == 42 && p.size == UINT64_MAX && p.mode == MODE_DIR,
	   "dir pointer, keys in another order, size 2^64-1 (%s)", err.buf);
	r = parse_str(&p,
		      "version: 1\ntype: dir\nhash: xxh3-128\nid: " ID "\nsha256: " SHA
		      "\nsize: 0\nfiles: 0\n", &err);
	ok(r == 0 && p.is_dir && p.files == 0 && p.size == 0, "an empty dir pointer");

	strbuf_release(&err);
	strbuf_release(&sb);
}

int main(void)
{
	test_format();
	test_rejects();
	test_accepts();
	return tap_done();
}
