/* libFuzzer target: the manifest decoder. */
#include "core/object.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest m;
	struct strbuf err = STRBUF_INIT, enc = STRBUF_INIT;
	if (!manifest_decode(&m, data, size, &err)) {
		uint64_t total = 0;
		size_t i;
		for (i = 0; i < m.n; i++)
			total += m.chunks[i].len;
		if (total != m.size)
			__builtin_trap();
		manifest_encode(&m, &enc);
		if (enc.len != size || memcmp(enc.buf, data, size))
			__builtin_trap();
		manifest_release(&m);
	}
	strbuf_release(&err);
	strbuf_release(&enc);
	return 0;
}
