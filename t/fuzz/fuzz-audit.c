/* libFuzzer target: the audit entry parser (lines come from remotes). */
#include "core/audit.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct audit_entry e, q;
	char id[AUDIT_ID_HEXSZ + 1], id2[AUDIT_ID_HEXSZ + 1];
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	if (!audit_entry_read(&e, id, (const char *)data, size, &err)) {
		/* what reads encodes back to its own JSON, byte for byte, when
		 * the full parser accepts it too */
		audit_entry_encode(&e, &out);
		if (!audit_entry_parse(&q, id2, (const char *)data, size, &err)) {
			if (out.len != size - AUDIT_ID_HEXSZ - 1 ||
			    memcmp(out.buf, data + AUDIT_ID_HEXSZ + 1, out.len) || strcmp(id, id2))
				__builtin_trap();
			audit_entry_release(&q);
		}
		audit_entry_release(&e);
	}
	strbuf_release(&err);
	strbuf_release(&out);
	return 0;
}
