/*
 * Unit tests for core/audit.c: redaction of secrets, the canonical
 * encoding and its strict parser.
 */
#include "core/audit.h"
#include "core/hash.h"
#include "core/util.h"
#include "t/unit/tap.h"

#include <string.h>

static void check_redact(const char *in, const char *want)
{
	struct strbuf s = STRBUF_INIT;
	strbuf_addstr(&s, in);
	audit_redact_urls(&s);
	ok(!strcmp(s.buf, want), "redact '%s' -> '%s' (got '%s')", in, want, s.buf);
	strbuf_release(&s);
}

/* "ID JSON" for e, as audit_append writes it (without the newline). */
static void line_of(struct audit_entry *e, struct strbuf *line)
{
	struct sha256 h;
	char hex[SHA256_HEXSZ + 1];
	struct strbuf js = STRBUF_INIT;
	audit_entry_encode(e, &js);
	sha256_hash(&h, js.buf, js.len);
	strbuf_reset(line);
	strbuf_addf(line, "%s %s", sha256_to_hex(&h, hex), js.buf);
	strbuf_release(&js);
}

static int parses(const char *line)
{
	struct audit_entry e;
	char id[AUDIT_ID_HEXSZ + 1];
	int ret = audit_entry_parse(&e, id, line, strlen(line), NULL);
	if (!ret)
		audit_entry_release(&e);
	return ret;
}

/* Re-hash a JSON text so that only its form can make it fail. */
static int parses_json(const char *json)
{
	struct strbuf l = STRBUF_INIT;
	struct sha256 h;
	char hex[SHA256_HEXSZ + 1];
	int ret;
	sha256_hash(&h, json, strlen(json));
	strbuf_addf(&l, "%s %s", sha256_to_hex(&h, hex), json);
	ret = parses(l.buf);
	strbuf_release(&l);
	return ret;
}

static void replace(struct strbuf *sb, const char *from, const char *to)
{
	char *p = strstr(sb->buf, from);
	struct strbuf n = STRBUF_INIT;
	if (!p)
		return;
	strbuf_add(&n, sb->buf, (size_t)(p - sb->buf));
	strbuf_addstr(&n, to);
	strbuf_addstr(&n, p + strlen(from));
	strbuf_release(sb);
	*sb = n;
}

int main(void)
{
	struct audit_entry e, back;
	struct strbuf line = STRBUF_INIT, js = STRBUF_INIT, again = STRBUF_INIT;
	char id[AUDIT_ID_HEXSZ + 1];
	const char *args_cfg[] = { "--local", "s3.secret-access-key", "hunter2" };
	const char *args_opt[] = { "--secret-key", "hunter3", "--token=abc123", "tokens", "data" };
	const char *args_odd[] = { "quote\" back\\ nl\n tab\t ctl\001 del\177 utf8 \xc3\xa9", "" };

	check_redact("ssh://alice:pw@host/srv", "ssh://alice:***@host/srv");
	check_redact("error: 'https://u:p@ss@h:8/x' bad", "error: 'https://u:***@h:8/x' bad");
	check_redact("a ssh://u:a@h b file://v:b@/c", "a ssh://u:***@h b file://v:***@/c");
	check_redact("ssh://alice@host/srv", "ssh://alice@host/srv");
	check_redact("ssh://host:22/srv", "ssh://host:22/srv");
	check_redact("no url here", "no url here");
	check_redact("://:@", "://:***@");
	check_redact("x://", "x://");

	audit_entry_start(&e, ".", "9.9", "config", 3, args_cfg);
	ok(!strcmp(e.args[2], "***") && !strcmp(e.args[1], "s3.secret-access-key"),
	   "config: the value of a secret key is redacted");
	audit_entry_set_outcome(&e, 0, "cannot set 'hunter2' here");
	ok(!strstr(e.error, "hunter2") && !strcmp(e.outcome, "error"),
	   "a redacted value is redacted from the error too (%s)", e.error);
	audit_entry_set_outcome(&e, 0, "a second error");
	ok(!strcmp(e.error, "cannot set '***' here"), "the first error is kept");
	audit_entry_release(&e);

	audit_entry_start(&e, ".", "9.9", "remote", 5, args_opt);
	ok(!strcmp(e.args[1], "***") && !strcmp(e.args[2], "--token=***") &&
	   !strcmp(e.args[3], "tokens") && !strcmp(e.args[4], "data"),
	   "options: values after and in secret options redacted, plain words kept");
	audit_entry_release(&e);

	/* round trip through the canonical form, odd bytes included */
	audit_entry_start(&e, "/r\"epo", "9.9", "add", 2, args_odd);
	memset(e.clone, 'a', AUDIT_CLONE_HEXSZ);
	e.seq = 18446744073709551615ull;
	audit_entry_add_path(&e, "d/\xc3\xa9\n", "", "0123456789abcdef0123456789abcdef");
	audit_entry_add_path(&e, "x", NULL, NULL);
	audit_entry_add_bytes(&e, 1, 2, 3);
	audit_entry_set_remote(&e, "o", "ssh://u:secret@h/p");
	ok(!strcmp(e.url, "ssh://u:***@h/p"), "remote URLs lose their password");
	line_of(&e, &line);
	ok(!strchr(line.buf, '\n'), "an entry is one line");
	{
		struct strbuf err = STRBUF_INIT;
		ok(!audit_entry_parse(&back, id, line.buf, line.len, &err), "it parses back (%s)", err.buf);
		strbuf_release(&err);
	}
	audit_entry_encode(&back, &again);
	audit_entry_encode(&e, &js);
	ok(again.len == js.len && !memcmp(again.buf, js.buf, js.len), "to the same bytes");
	ok(back.seq == e.seq && back.npaths == 2 && !strcmp(back.paths[0].path, e.paths[0].path) &&
	   !strcmp(back.args[0], args_odd[0]) && !strcmp(back.args[1], "") &&
	   back.stored == 1 && back.sent == 2 && back.received == 3,
	   "with the same fields");
	ok(!strncmp(line.buf, id, AUDIT_ID_HEXSZ), "and its id");
	audit_entry_release(&back);
	ok(!strstr(js.buf, "\"deleted\""), "no deleted bytes: no key");
	{
		/* gc -r: the bytes it removed from a remote */
		struct strbuf l2 = STRBUF_INIT, j2 = STRBUF_INIT;
		audit_entry_add_deleted(&e, 4096);
		line_of(&e, &l2);
		audit_entry_encode(&e, &j2);
		ok(strstr(l2.buf, ",\"received\":3,\"deleted\":4096,\"remote\":") != NULL &&
		   !audit_entry_parse(&back, id, l2.buf, l2.len, NULL) && back.deleted == 4096,
		   "deleted bytes are kept, after received");
		audit_entry_release(&back);
		replace(&j2, "\"deleted\":4096", "\"deleted\":0");
		ok(parses_json(j2.buf) == CAIRN_EFORMAT, "\"deleted\":0 is not canonical");
		strbuf_release(&l2);
		strbuf_release(&j2);
		e.deleted = 0;
	}

	/* the strict parser */
	ok(parses(line.buf) == 0, "the line itself is fine");
	line.buf[5] = line.buf[5] == '0' ? '1' : '0';
	ok(parses(line.buf) == CAIRN_ECORRUPT, "a wrong id is corruption");
	line.buf[AUDIT_ID_HEXSZ] = '\t';
	ok(parses(line.buf) == CAIRN_EFORMAT, "no space after the id");
	ok(parses("") == CAIRN_EFORMAT && parses("abc") == CAIRN_EFORMAT, "short lines");
#define FORM(from, to, what) do { \
		strbuf_reset(&again); strbuf_addstr(&again, js.buf); \
		replace(&again, from, to); \
		ok(parses_json(again.buf) == CAIRN_EFORMAT, "refused: %s", what); \
	} while (0)
	ok(parses_json(js.buf) == 0, "the JSON re-hashed is fine");
	FORM("{\"v\":1", "{\"v\":2", "another format version");
	FORM("\"v\":1,", "\"v\":1, ", "a blank");
	FORM("\"stored\":1", "\"stored\":01", "a leading zero");
	FORM("\"stored\":1", "\"stored\":-1", "a negative number");
	FORM("\"seq\":18446744073709551615", "\"seq\":18446744073709551616", "a number too big");
	FORM("\"outcome\":\"ok\"", "\"outcome\":\"fine\"", "an unknown outcome");
	FORM("\"user\":", "\"usr\":", "an unknown key");
	FORM("\\u0001", "\\u0041", "a needless escape");
	FORM("\\n", "\\u000a", "another escape of a newline");
	FORM("\"error\":", "\"x\":1,\"error\":", "an extra key");
	FORM("}]", "}],", "a trailing comma");
	FORM("\"clone\":\"a", "\"clone\":\"A", "an upper case clone id");
	strbuf_reset(&again);
	strbuf_add(&again, js.buf, js.len - 1);
	ok(parses_json(again.buf) == CAIRN_EFORMAT, "refused: a truncated entry");
	strbuf_addstr(&again, "}}");
	ok(parses_json(again.buf) == CAIRN_EFORMAT, "refused: bytes after the entry");

	audit_entry_release(&e);
	strbuf_release(&line);
	strbuf_release(&js);
	strbuf_release(&again);
	return tap_done();
}
