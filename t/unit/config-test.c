/*
 * Unit tests for core/config.c: parsing, layering, typed getters, and the
 * editing functions (which must keep every other byte of the file).
 */
#include "core/config.h"
#include "core/util.h"
#include "t/unit/tap.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/cairn-config-test-XXXXXX";

static char *tpath(const char *name)
{
	return xstrfmt("%s/%s", tmpdir, name);
}

static void write_str(const char *path, const char *s)
{
	struct strbuf err = STRBUF_INIT;
	if (write_file_atomic(path, s, strlen(s), 0, &err) < 0) {
		diag("cannot write '%s': %s", path, err.buf);
		exit(1);
	}
	strbuf_release(&err);
}

/* The file's contents, or NULL if it cannot be read. */
static char *read_str(const char *path)
{
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;
	if (read_file(path, (size_t)8 << 20, &sb, &err) < 0) {
		strbuf_release(&sb);
		strbuf_release(&err);
		return NULL;
	}
	strbuf_release(&err);
	return strbuf_detach(&sb, NULL);
}

static int file_is(const char *path, const char *expect, const char *name)
{
	char *got = read_str(path);
	int good = got && !strcmp(got, expect);
	ok(good, "%s", name);
	if (!good) {
		diag("expected:\n%s", expect);
		diag("got:\n%s", got ? got : "(no file)");
	}
	free(got);
	return good;
}

static int str_is(const char *got, const char *expect, const char *name)
{
	int good = got && expect ? !strcmp(got, expect) : got == expect;
	ok(good, "%s", name);
	if (!good)
		diag("expected '%s', got '%s'", expect ? expect : "(null)", got ? got : "(null)");
	return good;
}

static struct config *load1(const char *path)
{
	struct strbuf err = STRBUF_INIT;
	struct config *cfg = NULL;
	const char *files[1] = { path };
	if (config_load(&cfg, files, 1, &err) < 0) {
		diag("config_load '%s': %s", path, err.buf);
		cfg = NULL;
	}
	strbuf_release(&err);
	return cfg;
}

static void test_parse(void)
{
	char *path = tpath("parse");
	struct config *cfg;

	write_str(path,
		  "# full-line comment\n"
		  "; another one\n"
		  "\n"
		  "[core]\n"
		  "\tcompression = zstd\n"
		  "\tLevel=3 ; trailing comment\n"
		  "    spaced   =   a  b   # trailing\n"
		  "\tverbose\n"
		  "\tflag # a comment after a bare key\n"
		  "\tempty =\n"
		  "\tquoted = \"  keep  # this ; too  \"\n"
		  "\tescapes = \"tab\\there \\\"q\\\" back\\\\slash\\nnl\"\n"
		  "\tmixed = abc\"  def  \"ghi\n"
		  "\tdash-ed = 1\n"
		  "[Remote \"Origin Server\"]   # header comment\n"
		  "\tURL = ssh://x\n"
		  "[remote \"a.b\\\"c\\\\d\"]\n"
		  "\turl = weird\n"
		  "[section \"\"]\n"
		  "\tk = emptysub\n"
		  "[ spaced ]\n"
		  "\tk = v\n"
		  "[9-x]\n"
		  "\tk = digits\n");
	cfg = load1(path);
	ok(cfg != NULL, "parse: file with every syntax loads");
	if (!cfg) {
		free(path);
		return;
	}
	str_is(config_get(cfg, "core.compression"), "zstd", "parse: plain value");
	str_is(config_get(cfg, "core.level"), "3", "parse: no blanks around '=', trailing ';' comment");
	str_is(config_get(cfg, "CORE.LEVEL"), "3", "parse: section and name are case-insensitive");
	str_is(config_get(cfg, "core.spaced"), "a  b", "parse: outer blanks dropped, inner kept");
	str_is(config_get(cfg, "core.verbose"), "true", "parse: bare key reads as true");
	str_is(config_get(cfg, "core.flag"), "true", "parse: bare key with a comment");
	str_is(config_get(cfg, "core.empty"), "", "parse: empty value");
	str_is(config_get(cfg, "core.quoted"), "  keep  # this ; too  ",
	       "parse: quotes keep blanks, '#' and ';'");
	str_is(config_get(cfg, "core.escapes"), "tab\there \"q\" back\\slash\nnl",
	       "parse: escapes in a quoted value");
	str_is(config_get(cfg, "core.mixed"), "abc  def  ghi", "parse: quotes inside a value");
	str_is(config_get(cfg, "core.dash-ed"), "1", "parse: '-' in a name");
	str_is(config_get(cfg, "remote.Origin Server.url"), "ssh://x",
	       "parse: quoted subsection with a space");
	str_is(config_get(cfg, "REMOTE.Origin Server.URL"), "ssh://x",
	       "parse: section and name fold case around a subsection");
	ok(config_get(cfg, "remote.origin server.url") == NULL,
	   "parse: the subsection is case-sensitive");
	str_is(config_get(cfg, "remote.a.b\"c\\d.url"), "weird",
	       "parse: subsection with a dot and escapes");
	str_is(config_get(cfg, "section..k"), "emptysub", "parse: empty subsection");
	ok(config_get(cfg, "section.k") == NULL, "parse: empty subsection differs from none");
	str_is(config_get(cfg, "spaced.k"), "v", "parse: blanks inside the brackets");
	str_is(config_get(cfg, "9-x.k"), "digits", "parse: section of digits and '-'");
	ok(config_get(cfg, "core.missing") == NULL, "parse: absent key is NULL");
	ok(config_get(cfg, "core") == NULL && config_get(cfg, "") == NULL,
	   "parse: key without a dot is NULL");
	config_free(cfg);

	write_str(path, "[a]\r\n\tb = c\r\n\td = \"q\"\r\n\te\r\n");
	cfg = load1(path);
	ok(cfg && !strcmp(config_get(cfg, "a.b"), "c") && !strcmp(config_get(cfg, "a.d"), "q") &&
	   !strcmp(config_get(cfg, "a.e"), "true"), "parse: CRLF line ends");
	config_free(cfg);

	write_str(path, "[a]\n\tb = no newline at the end");
	cfg = load1(path);
	ok(cfg && !strcmp(config_get(cfg, "a.b"), "no newline at the end"),
	   "parse: last line without a newline");
	config_free(cfg);

	write_str(path, "");
	cfg = load1(path);
	ok(cfg && config_get(cfg, "a.b") == NULL, "parse: empty file");
	config_free(cfg);
	unlink(path);
	free(path);
}

struct seen {
	struct strbuf sb;
	int stop_at;
	int calls;
};

static int collect(const char *key, const char *value, const char *file, void *data)
{
	struct seen *s = data;
	const char *slash = strrchr(file, '/');
	s->calls++;
	strbuf_addf(&s->sb, "%s=%s@%s;", key, value, slash ? slash + 1 : file);
	return s->calls == s->stop_at ? 42 : 0;
}

static void test_layers(void)
{
	char *f1 = tpath("layer1"), *f2 = tpath("layer2"), *missing = tpath("no-such-file");
	const char *files[3] = { f1, missing, f2 };
	struct strbuf err = STRBUF_INIT;
	struct config *cfg = NULL;
	struct seen s = { STRBUF_INIT, 0, 0 };
	int r;

	write_str(f1, "[core]\n\ta = 1\n\tb = 1\n\tb = 1b\n[remote \"origin\"]\n\turl = one\n");
	write_str(f2, "[CORE]\n\tA = 2\n[remote \"origin\"]\n\tURL = two\n"
		  "[remote \"Origin\"]\n\turl = three\n");
	r = config_load(&cfg, files, 3, &err);
	ok(r == 0 && cfg, "layers: load two files and a missing one");
	if (!cfg)
		goto out;
	str_is(config_get(cfg, "core.a"), "2", "layers: later file overrides");
	str_is(config_get(cfg, "core.b"), "1b", "layers: last value in a file wins");
	str_is(config_get(cfg, "remote.origin.url"), "two", "layers: subsection override");
	str_is(config_get(cfg, "remote.Origin.url"), "three", "layers: other-case subsection apart");

	r = config_foreach(cfg, collect, &s);
	str_is(s.sb.buf,
	       "core.a=1@layer1;core.b=1@layer1;core.b=1b@layer1;remote.origin.url=one@layer1;"
	       "core.a=2@layer2;remote.origin.url=two@layer2;remote.Origin.url=three@layer2;",
	       "foreach: file order, canonical keys, file names");
	ok(r == 0 && s.calls == 7, "foreach: returns 0 after visiting all");
	strbuf_reset(&s.sb);
	s.calls = 0;
	s.stop_at = 2;
	r = config_foreach(cfg, collect, &s);
	ok(r == 42 && s.calls == 2, "foreach: stops on non-zero and returns it");
	config_free(cfg);

	cfg = NULL;
	r = config_load(&cfg, files + 1, 1, &err);
	ok(r == 0 && cfg && config_get(cfg, "core.a") == NULL, "missing: a missing file is empty");
	config_free(cfg);
	cfg = NULL;
	r = config_load(&cfg, NULL, 0, &err);
	ok(r == 0 && cfg && config_get(cfg, "core.a") == NULL, "missing: no files at all");
	config_free(cfg);
	config_free(NULL);
out:
	strbuf_release(&s.sb);
	strbuf_release(&err);
	unlink(f1);
	unlink(f2);
	free(f1);
	free(f2);
	free(missing);
}

static void test_int(void)
{
	static const struct {
		const char *v;
		int64_t want;
	} good[] = {
		{ "0", 0 }, { "10", 10 }, { "+7", 7 }, { "-3", -3 },
		{ "10k", 10240 }, { "2M", 2 << 20 }, { "1g", (int64_t)1 << 30 },
		{ "1G", (int64_t)1 << 30 }, { "-3k", -3072 },
		{ "9223372036854775807", INT64_MAX },
		{ "-9223372036854775808", INT64_MIN },
		{ "8589934591g", INT64_MAX - ((int64_t)1 << 30) + 1 },
		{ "-8589934592g", INT64_MIN },
	};
	static const char *const junk[] = { "", "k", "12x", "1.5k", "0x10", "1kk", "1 k", "--1",
					     "99999999999999999999z" };
	static const char *const big[] = { "9223372036854775808", "-9223372036854775809",
					   "8589934592g", "9007199254740992k",
					   "99999999999999999999", "99999999999999999999k" };
	char *path = tpath("int");
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
	struct config *cfg;
	int64_t n;
	size_t i;
	int r;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		strbuf_reset(&sb);
		strbuf_addf(&sb, "[n]\n\tv = %s\n", good[i].v);
		write_str(path, sb.buf);
		cfg = load1(path);
		n = 12345;
		r = cfg ? config_get_int(cfg, "n.v", 0, &n, &err) : -1;
		ok(r == 0 && n == good[i].want, "int: '%s' is %lld", good[i].v, (long long)good[i].want);
		config_free(cfg);
	}
	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		strbuf_reset(&sb);
		strbuf_addf(&sb, "[n]\n\tv = \"%s\"\n", junk[i]);
		write_str(path, sb.buf);
		cfg = load1(path);
		n = 12345;
		strbuf_reset(&err);
		r = cfg ? config_get_int(cfg, "n.v", 0, &n, &err) : -1;
		ok(r == CAIRN_EFORMAT && n == 12345 && strstr(err.buf, "'n.v'") &&
		   strstr(err.buf, junk[i]), "int: junk '%s' refused (%s)", junk[i], err.buf);
		config_free(cfg);
	}
	for (i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		strbuf_reset(&sb);
		strbuf_addf(&sb, "[n]\n\tv = %s\n", big[i]);
		write_str(path, sb.buf);
		cfg = load1(path);
		n = 12345;
		strbuf_reset(&err);
		r = cfg ? config_get_int(cfg, "n.v", 0, &n, &err) : -1;
		ok(r == CAIRN_EFORMAT && n == 12345 && strstr(err.buf, "out of range") &&
		   strstr(err.buf, big[i]) && strstr(err.buf, "'n.v'"),
		   "int: overflow '%s' refused (%s)", big[i], err.buf);
		config_free(cfg);
	}
	write_str(path, "[n]\n\tv = 1\n");
	cfg = load1(path);
	r = cfg ? config_get_int(cfg, "n.absent", -9, &n, &err) : -1;
	ok(r == 0 && n == -9, "int: absent key gives the default");
	config_free(cfg);
	unlink(path);
	free(path);
	strbuf_release(&err);
	strbuf_release(&sb);
}

static void test_bool(void)
{
	static const char *const yes[] = { "true", "yes", "on", "1", "TRUE", "Yes", "oN" };
	static const char *const no[] = { "false", "no", "off", "0", "FALSE", "No", "OFF" };
	static const char *const bad[] = { "", "2", "maybe", "truex", "y", "-1" };
	char *path = tpath("bool");
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
	struct config *cfg;
	size_t i;
	int b, r;

	strbuf_addstr(&sb, "[b]\n\tbare\n");
	for (i = 0; i < 7; i++)
		strbuf_addf(&sb, "\ty%zu = %s\n\tn%zu = %s\n", i, yes[i], i, no[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		strbuf_addf(&sb, "\tbad%zu = \"%s\"\n", i, bad[i]);
	write_str(path, sb.buf);
	cfg = load1(path);
	if (!cfg) {
		ok(0, "bool: load");
		goto out;
	}
	for (i = 0; i < 7; i++) {
		char ky[16], kn[16];
		int by = -1, bn = -1;
		snprintf(ky, sizeof(ky), "b.y%zu", i);
		snprintf(kn, sizeof(kn), "b.n%zu", i);
		r = config_get_bool(cfg, ky, 0, &by, &err);
		r |= config_get_bool(cfg, kn, 1, &bn, &err);
		ok(r == 0 && by == 1 && bn == 0, "bool: '%s' true, '%s' false", yes[i], no[i]);
	}
	b = -1;
	r = config_get_bool(cfg, "b.bare", 0, &b, &err);
	ok(r == 0 && b == 1, "bool: bare key is true");
	r = config_get_bool(cfg, "b.absent", 1, &b, &err);
	ok(r == 0 && b == 1, "bool: absent key gives the default (1)");
	r = config_get_bool(cfg, "b.absent", 0, &b, &err);
	ok(r == 0 && b == 0, "bool: absent key gives the default (0)");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char k[16];
		snprintf(k, sizeof(k), "b.bad%zu", i);
		b = -1;
		strbuf_reset(&err);
		r = config_get_bool(cfg, k, 0, &b, &err);
		ok(r == CAIRN_EFORMAT && b == -1 && strstr(err.buf, k) &&
		   strstr(err.buf, bad[i]), "bool: '%s' refused (%s)", bad[i], err.buf);
	}
	config_free(cfg);
out:
	unlink(path);
	free(path);
	strbuf_release(&err);
	strbuf_release(&sb);
}

static void test_bad_lines(void)
{
	static const struct {
		const char *text;
		int line;
		const char *what;
	} cases[] = {
		{ "[core\n\ta = 1\n", 1, "unterminated section" },
		{ "# c\n\n[core]\n\tgood = 1\n\tbad_key = 2\n", 5, "bad key character" },
		{ "[core]\n\t1key = 2\n", 2, "key starting with a digit" },
		{ "[core]\n\t-key = 2\n", 2, "key starting with '-'" },
		{ "[core]\n\tk = \"open\n\tj = 1\n", 2, "unterminated quote" },
		{ "k = v\n", 1, "key before any section" },
		{ "[a b]\n", 1, "unquoted subsection" },
		{ "[a \"sub]\n", 1, "unterminated subsection" },
		{ "[a \"s\\x\"]\n", 1, "bad escape in subsection" },
		{ "[a] junk\n", 1, "junk after the header" },
		{ "[a] k = v\n", 1, "key on the header line" },
		{ "[a.b]\n", 1, "dot in a section name" },
		{ "[]\n", 1, "empty section name" },
		{ "[a_b]\n", 1, "bad section character" },
		{ "[a]\n\tk = x\\\n\ty = 1\n", 2, "backslash at the end of a line" },
		{ "[a]\n\tk = \\q\n", 2, "unknown escape" },
		{ "[a]\n\tk v\n", 2, "missing '='" },
		{ "[a]\n\tk = \"x\"\n\n\tj = \"\n", 4, "unterminated quote, later line" },
	};
	char *path = tpath("bad");
	struct strbuf err = STRBUF_INIT, want = STRBUF_INIT;
	const char *files[1] = { path };
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config *cfg = (struct config *)&want; /* must stay untouched */
		int r;
		write_str(path, cases[i].text);
		strbuf_reset(&err);
		r = config_load(&cfg, files, 1, &err);
		strbuf_reset(&want);
		strbuf_addf(&want, "bad config line %d in '%s'", cases[i].line, path);
		ok(r == CAIRN_EFORMAT && !strcmp(err.buf, want.buf) &&
		   cfg == (struct config *)&want, "bad line: %s (%s)", cases[i].what, err.buf);
	}

	/* A NUL byte in a line. */
	{
		struct config *cfg = NULL;
		int fdr;
		FILE *f = fopen(path, "wb");
		if (!f || fwrite("[a]\n\tk = x\0y\n", 1, 13, f) != 13 || fclose(f)) {
			diag("cannot write '%s'", path);
			exit(1);
		}
		strbuf_reset(&err);
		fdr = config_load(&cfg, files, 1, &err);
		strbuf_reset(&want);
		strbuf_addf(&want, "bad config line 2 in '%s'", path);
		ok(fdr == CAIRN_EFORMAT && !strcmp(err.buf, want.buf), "bad line: NUL byte (%s)",
		   err.buf);
	}

	/* Over 1 MiB. */
	{
		struct strbuf big = STRBUF_INIT;
		struct config *cfg = NULL;
		int r;
		strbuf_addstr(&big, "[a]\n");
		while (big.len <= CONFIG_MAX_FILE_SIZE)
			strbuf_addstr(&big, "\t# padding padding padding padding padding\n");
		write_str(path, big.buf);
		strbuf_reset(&err);
		r = config_load(&cfg, files, 1, &err);
		ok(r == CAIRN_EFORMAT && strstr(err.buf, path), "file over 1 MiB refused (%s)",
		   err.buf);
		r = config_set(path, "a.b", "c", &err);
		ok(r == CAIRN_EFORMAT, "config_set refuses a file over 1 MiB");
		strbuf_release(&big);
	}

	/* Editing a broken file leaves it alone. */
	{
		int r;
		write_str(path, "[a]\n\tk = 1\n[broken\n");
		strbuf_reset(&err);
		r = config_set(path, "a.k", "2", &err);
		strbuf_reset(&want);
		strbuf_addf(&want, "bad config line 3 in '%s'", path);
		ok(r == CAIRN_EFORMAT && !strcmp(err.buf, want.buf), "config_set on a bad file fails");
		file_is(path, "[a]\n\tk = 1\n[broken\n", "config_set on a bad file leaves it alone");
		r = config_remove_section(path, "a", &err);
		ok(r == CAIRN_EFORMAT, "remove_section on a bad file fails");
		r = config_rename_section(path, "a", "b", &err);
		ok(r == CAIRN_EFORMAT, "rename_section on a bad file fails");
	}
	unlink(path);
	free(path);
	strbuf_release(&err);
	strbuf_release(&want);
}

static void test_key_valid(void)
{
	static const char *const valid[] = { "a.b", "core.compression", "Core.Level", "a-1.b-2",
					     "9.x", "remote.origin.url", "remote.my origin.url",
					     "remote.a.b.c.url", "section..k", "x.\"q\\.y" };
	static const char *const invalid[] = { "", "core", ".b", "a.", "a.1b", "a.-b", "a_b.c",
					       "a.b_c", "a b.c", "remote.x.", "a.sub\nx.k",
					       "a.b c", "é.b" };
	char *path = tpath("keys");
	struct strbuf err = STRBUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		ok(config_key_valid(valid[i]) == 1, "key_valid: '%s'", valid[i]);
	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		ok(config_key_valid(invalid[i]) == 0, "key_valid: not invalid[%zu]", i);
	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		int r;
		strbuf_reset(&err);
		r = config_set(path, invalid[i], "v", &err);
		ok(r == CAIRN_EINVAL && starts_with(err.buf, "invalid config key '") &&
		   access(path, F_OK) < 0, "config_set refuses bad key invalid[%zu]", i);
	}
	ok(config_remove_section(path, "a_b", &err) == CAIRN_EINVAL,
	   "remove_section refuses a bad name");
	ok(config_rename_section(path, "a", "b_c.x", &err) == CAIRN_EINVAL,
	   "rename_section refuses a bad new name");
	ok(config_rename_section(path, "", "b", &err) == CAIRN_EINVAL,
	   "rename_section refuses an empty old name");
	free(path);
	strbuf_release(&err);
}

static const char *original =
	"# top comment\n"
	"[core]\n"
	"\t# about a\n"
	"\ta = 1   # keep me\n"
	"    b = 2\n"
	"\n"
	"; about the remote\n"
	"[remote \"origin\"]\n"
	"\turl = x\n";

static void test_set(void)
{
	char *path = tpath("set");
	struct strbuf err = STRBUF_INIT;
	struct config *cfg;
	int r;

	write_str(path, original);
	r = config_set(path, "core.a", "5", &err);
	ok(r == 0, "set: replace an existing key");
	file_is(path,
		"# top comment\n[core]\n\t# about a\n\ta = 5 # keep me\n    b = 2\n\n"
		"; about the remote\n[remote \"origin\"]\n\turl = x\n",
		"set: replaced in place, trailing comment and the rest kept");

	write_str(path, original);
	ok(config_set(path, "Core.C", "3", &err) == 0, "set: new key in an existing section");
	file_is(path,
		"# top comment\n[core]\n\t# about a\n\ta = 1   # keep me\n    b = 2\n    C = 3\n\n"
		"; about the remote\n[remote \"origin\"]\n\turl = x\n",
		"set: added after the section's last key, with its indentation");
	ok(config_set(path, "remote.origin.push", "y", &err) == 0, "set: key in a subsection");
	ok(config_set(path, "new.Sub Sec.key", "v", &err) == 0, "set: key in a new section");
	ok(config_set(path, "other.key", "w", &err) == 0, "set: key in a new plain section");
	file_is(path,
		"# top comment\n[core]\n\t# about a\n\ta = 1   # keep me\n    b = 2\n    C = 3\n\n"
		"; about the remote\n[remote \"origin\"]\n\turl = x\n\tpush = y\n"
		"[new \"Sub Sec\"]\n\tkey = v\n[other]\n\tkey = w\n",
		"set: new sections appended at the end");
	cfg = load1(path);
	ok(cfg && !strcmp(config_get(cfg, "core.c"), "3") &&
	   !strcmp(config_get(cfg, "remote.origin.push"), "y") &&
	   !strcmp(config_get(cfg, "new.Sub Sec.key"), "v") &&
	   !strcmp(config_get(cfg, "other.key"), "w") &&
	   !strcmp(config_get(cfg, "core.a"), "1"), "set: values read back");
	config_free(cfg);

	ok(config_set(path, "other.key", NULL, &err) == 0, "unset: key alone in its section");
	ok(config_set(path, "new.Sub Sec.KEY", NULL, &err) == 0, "unset: key in a subsection");
	ok(config_set(path, "remote.origin.push", NULL, &err) == 0, "unset: key in remote");
	ok(config_set(path, "core.c", NULL, &err) == 0, "unset: key in core");
	file_is(path, original, "unset: round trip gives back the original bytes");

	strbuf_reset(&err);
	r = config_set(path, "core.absent", NULL, &err);
	ok(r == CAIRN_ENOTFOUND && strstr(err.buf, "core.absent"), "unset: absent key (%s)",
	   err.buf);
	r = config_set(path, "remote.ORIGIN.url", NULL, &err);
	ok(r == CAIRN_ENOTFOUND, "unset: subsection case matters");
	file_is(path, original, "unset: failed unset leaves the file alone");

	/* A key set more than once: set replaces the last, unset removes all. */
	write_str(path, "[a]\n\tx = 1\n\ty = 0\n\tx = 2\n[b]\n\tz = 1\n[a]\n\tx = 3\n");
	ok(config_set(path, "a.x", "4", &err) == 0, "set: multi-valued key");
	file_is(path, "[a]\n\tx = 1\n\ty = 0\n\tx = 2\n[b]\n\tz = 1\n[a]\n\tx = 4\n",
		"set: only the last occurrence is replaced");
	ok(config_set(path, "a.x", NULL, &err) == 0, "unset: multi-valued key");
	file_is(path, "[a]\n\ty = 0\n[b]\n\tz = 1\n",
		"unset: every occurrence removed, emptied header too");
	ok(config_set(path, "a.q", "1", &err) == 0 && config_set(path, "b.z", NULL, &err) == 0,
	   "set then unset in two sections");
	file_is(path, "[a]\n\ty = 0\n\tq = 1\n", "unset: emptied section removed");

	/* A header that keeps a comment, or a comment under it, stays. */
	write_str(path, "[a] # mine\n\tx = 1\n[b]\n\t# note\n\tx = 1\n");
	ok(config_set(path, "a.x", NULL, &err) == 0 && config_set(path, "b.x", NULL, &err) == 0,
	   "unset in sections with comments");
	file_is(path, "[a] # mine\n[b]\n\t# note\n", "unset: sections with comments kept");

	/* No newline at the end; CRLF line ends. */
	write_str(path, "[a]\n\tx = 1");
	ok(config_set(path, "a.y", "2", &err) == 0 && config_set(path, "b.z", "3", &err) == 0,
	   "set: file without a final newline");
	file_is(path, "[a]\n\tx = 1\n\ty = 2\n[b]\n\tz = 3\n", "set: newline added before new lines");
	write_str(path, "[a]\n\tx = 1");
	ok(config_set(path, "a.x", "9", &err) == 0, "set: replace on a last line without newline");
	file_is(path, "[a]\n\tx = 9", "set: no newline invented on replace");
	write_str(path, "[a]\r\n\tx = 1\r\n");
	ok(config_set(path, "a.x", "2", &err) == 0, "set: CRLF file");
	file_is(path, "[a]\r\n\tx = 2\r\n", "set: CRLF line end kept");

	/* A bare boolean key is replaced like any other. */
	write_str(path, "[a]\n\tflag\n");
	ok(config_set(path, "a.flag", "false", &err) == 0, "set: replace a bare key");
	file_is(path, "[a]\n\tflag = false\n", "set: bare key gets a value");

	/* Missing file: set creates it; unset does not. */
	unlink(path);
	r = config_set(path, "a.x", NULL, &err);
	ok(r == CAIRN_ENOTFOUND && access(path, F_OK) < 0, "unset on a missing file: not found");
	ok(config_set(path, "remote.a\"b\\c.url", "u", &err) == 0, "set: creates a missing file");
	file_is(path, "[remote \"a\\\"b\\\\c\"]\n\turl = u\n",
		"set: new file, subsection escaped");
	cfg = load1(path);
	ok(cfg && !strcmp(config_get(cfg, "remote.a\"b\\c.url"), "u"),
	   "set: escaped subsection reads back");
	config_free(cfg);
	unlink(path);
	free(path);
	strbuf_release(&err);
}

static void test_quoting(void)
{
	static const struct {
		const char *value;
		const char *line; /* as written, or NULL not to check */
	} cases[] = {
		{ "plain", "\tv = plain\n" },
		{ "hello world", "\tv = hello world\n" },
		{ "two  spaces", "\tv = two  spaces\n" },
		{ "", "\tv = \"\"\n" },
		{ "  lead", "\tv = \"  lead\"\n" },
		{ "trail  ", "\tv = \"trail  \"\n" },
		{ "a # b", "\tv = \"a # b\"\n" },
		{ "a;b", "\tv = \"a;b\"\n" },
		{ "say \"hi\"", "\tv = \"say \\\"hi\\\"\"\n" },
		{ "back\\slash", "\tv = \"back\\\\slash\"\n" },
		{ "multi\nline", "\tv = \"multi\\nline\"\n" },
		{ "tab\there", "\tv = \"tab\\there\"\n" },
		{ " \"#;\\\n\t\b\r mix ", NULL },
		{ "true", "\tv = true\n" },
		{ "=x=", "\tv = =x=\n" },
		{ "[not a section]", "\tv = [not a section]\n" },
	};
	char *path = tpath("quote");
	struct strbuf err = STRBUF_INIT, want = STRBUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config *cfg;
		int r;
		unlink(path);
		r = config_set(path, "q.v", cases[i].value, &err);
		ok(r == 0, "quote %zu: set", i);
		if (cases[i].line) {
			strbuf_reset(&want);
			strbuf_addf(&want, "[q]\n%s", cases[i].line);
			file_is(path, want.buf, "quote: written form");
		}
		/* Once more, replacing in place. */
		r = config_set(path, "q.v", cases[i].value, &err);
		cfg = load1(path);
		str_is(cfg ? config_get(cfg, "q.v") : NULL, cases[i].value, "quote: reads back");
		config_free(cfg);
	}
	unlink(path);
	free(path);
	strbuf_release(&err);
	strbuf_release(&want);
}

static void test_sections(void)
{
	static const char *text =
		"# top\n"
		"[core]\n"
		"\ta = 1\n"
		"[remote \"origin\"] ; the main one\n"
		"\t# comment inside\n"
		"\turl = x\n"
		"\tpush = y\n"
		"\n"
		"# about other\n"
		"[remote \"other\"]\n"
		"\turl = z\n"
		"[Remote \"origin\"]\n"
		"\tfetch = f\n";
	char *path = tpath("sections");
	struct strbuf err = STRBUF_INIT;
	struct config *cfg;
	int r;

	write_str(path, text);
	r = config_remove_section(path, "remote.Origin", &err);
	ok(r == CAIRN_ENOTFOUND, "remove_section: subsection is case-sensitive");
	r = config_remove_section(path, "REMOTE.origin", &err);
	ok(r == 0, "remove_section: remote.origin");
	file_is(path,
		"# top\n[core]\n\ta = 1\n# about other\n[remote \"other\"]\n\turl = z\n",
		"remove_section: every occurrence gone, comments of the next kept");
	strbuf_reset(&err);
	r = config_remove_section(path, "remote.origin", &err);
	ok(r == CAIRN_ENOTFOUND && strstr(err.buf, "remote.origin"),
	   "remove_section: absent section (%s)", err.buf);
	ok(config_remove_section(path, "remote", &err) == CAIRN_ENOTFOUND,
	   "remove_section: 'remote' is not 'remote.other'");
	ok(config_remove_section(path, "core", &err) == 0, "remove_section: plain section");
	file_is(path, "# top\n# about other\n[remote \"other\"]\n\turl = z\n",
		"remove_section: plain section gone");

	write_str(path, text);
	r = config_rename_section(path, "remote.origin", "remote.up stream", &err);
	ok(r == 0, "rename_section: remote.origin");
	file_is(path,
		"# top\n[core]\n\ta = 1\n[remote \"up stream\"] ; the main one\n\t# comment inside\n"
		"\turl = x\n\tpush = y\n\n# about other\n[remote \"other\"]\n\turl = z\n"
		"[remote \"up stream\"]\n\tfetch = f\n",
		"rename_section: headers rewritten, header comment and keys kept");
	cfg = load1(path);
	ok(cfg && !strcmp(config_get(cfg, "remote.up stream.url"), "x") &&
	   !strcmp(config_get(cfg, "remote.up stream.fetch"), "f") &&
	   !config_get(cfg, "remote.origin.url"), "rename_section: keys follow the section");
	config_free(cfg);

	strbuf_reset(&err);
	r = config_rename_section(path, "remote.up stream", "remote.other", &err);
	ok(r == CAIRN_EEXIST && strstr(err.buf, "remote.other"),
	   "rename_section: target exists (%s)", err.buf);
	strbuf_reset(&err);
	r = config_rename_section(path, "remote.origin", "remote.new", &err);
	ok(r == CAIRN_ENOTFOUND && strstr(err.buf, "remote.origin"),
	   "rename_section: source absent (%s)", err.buf);
	ok(config_rename_section(path, "core", "Storage.a\"b", &err) == 0,
	   "rename_section: plain to subsection");
	ok(config_rename_section(path, "remote.other", "misc", &err) == 0,
	   "rename_section: subsection to plain");
	file_is(path,
		"# top\n[Storage \"a\\\"b\"]\n\ta = 1\n[remote \"up stream\"] ; the main one\n"
		"\t# comment inside\n\turl = x\n\tpush = y\n\n# about other\n[misc]\n\turl = z\n"
		"[remote \"up stream\"]\n\tfetch = f\n",
		"rename_section: both directions");
	unlink(path);
	ok(config_remove_section(path, "core", &err) == CAIRN_ENOTFOUND &&
	   access(path, F_OK) < 0, "remove_section: missing file");
	ok(config_rename_section(path, "core", "x", &err) == CAIRN_ENOTFOUND &&
	   access(path, F_OK) < 0, "rename_section: missing file");
	free(path);
	strbuf_release(&err);
}

static void remove_tmpdir(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		char *p;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		p = tpath(de->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
	if (rmdir(tmpdir) < 0)
		diag("cannot remove '%s': %s", tmpdir, strerror(errno));
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_parse();
	test_layers();
	test_int();
	test_bool();
	test_bad_lines();
	test_key_valid();
	test_set();
	test_quoting();
	test_sections();
	remove_tmpdir();
	return tap_done();
}
