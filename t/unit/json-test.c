/* Known answers for the JSON string writers (core/util.h). */
#include "core/util.h"
#include "t/unit/tap.h"

#include <string.h>

/* what strbuf_add_json_text() makes of in[0..len) must be want */
static void text(const char *in, size_t len, const char *want, const char *what)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_add_json_text(&sb, in, len);
	ok(!strcmp(sb.buf, want), "json_text: %s (got %s)", what, sb.buf);
	strbuf_release(&sb);
}

int main(void)
{
	struct strbuf sb = STRBUF_INIT;

	text("a\"b\\c\n\t\x01", 8, "\"a\\\"b\\\\c\\n\\t\\u0001\"", "escapes as json_str");
	text("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
	     "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"", "valid UTF-8 kept as it is");
	text("a\xff" "b", 3, "\"a\\udcffb\"", "a byte that starts nothing");
	text("\xc0\x80", 2, "\"\\udcc0\\udc80\"", "an overlong NUL");
	text("\xe0\x80\xaf", 3, "\"\\udce0\\udc80\\udcaf\"", "an overlong three-byte form");
	text("\xed\xa0\x80", 3, "\"\\udced\\udca0\\udc80\"", "an encoded surrogate");
	text("\xf4\x90\x80\x80", 4, "\"\\udcf4\\udc90\\udc80\\udc80\"", "past U+10FFFF");
	text("x\xe2\x82", 3, "\"x\\udce2\\udc82\"", "a sequence cut at the end");
	text("\xc3" "A", 2, "\"\\udcc3A\"", "a lead byte without its continuation");
	text("", 0, "\"\"", "empty");

	strbuf_add_json_str(&sb, "a\xff", 2);
	ok(sb.len == 4 && !memcmp(sb.buf, "\"a\xff\"", 4),
	   "json_str keeps the bytes as they are (the audit trail's canonical form)");
	strbuf_reset(&sb);
	strbuf_add_json_utf8(&sb, "{\"p\":\"\xff\xc3\xa9\"}", 11);
	ok(!strcmp(sb.buf, "{\"p\":\"\\udcff\xc3\xa9\"}"), "json_utf8: an entry's raw byte (%s)",
	   sb.buf);
	strbuf_release(&sb);
	return tap_done();
}
