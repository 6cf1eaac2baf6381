/* libFuzzer target: the tree decoder (names, modes, order, varints). */
#include "core/object.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tree t;
	struct strbuf err = STRBUF_INIT, enc = STRBUF_INIT;
	if (!tree_decode(&t, data, size, &err)) {
		size_t i;
		/* a decoded tree is canonical: it encodes back to the same bytes */
		tree_encode(&t, &enc, NULL, NULL);
		if (enc.len != size || memcmp(enc.buf, data, size))
			__builtin_trap();
		for (i = 0; i < t.n; i++)
			if (!entry_name_ok(t.e[i].name, strlen(t.e[i].name)))
				__builtin_trap();
		tree_release(&t);
	}
	strbuf_release(&err);
	strbuf_release(&enc);
	return 0;
}
