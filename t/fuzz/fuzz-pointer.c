/* libFuzzer target: the pointer file parser. */
#include "core/pointer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pointer p;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	if (!ptr_parse(&p, (const char *)data, size, "fuzz", &err)) {
		/* what parses formats back to something that parses the same */
		struct pointer q;
		ptr_format(&p, &out);
		if (ptr_parse(&q, out.buf, out.len, "fuzz", &err) || q.is_dir != p.is_dir ||
		    !oid_eq(&q.id, &p.id) || q.size != p.size)
			__builtin_trap();
	}
	strbuf_release(&err);
	strbuf_release(&out);
	return 0;
}
