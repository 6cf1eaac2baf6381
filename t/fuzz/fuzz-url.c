/* libFuzzer target: remote URL parsing and display. */
#include "remote/remote.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	struct remote_url u;
	struct strbuf err = STRBUF_INIT, shown = STRBUF_INIT;
	if (!remote_url_parse(&u, s, "/repo", &err)) {
		remote_url_display(&u, &shown);
		/* never a password in what is shown */
		if (u.user && strchr(u.user, ':'))
			__builtin_trap();
		remote_url_release(&u);
	}
	free(s);
	strbuf_release(&err);
	strbuf_release(&shown);
	return 0;
}
