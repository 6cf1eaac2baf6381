/* libFuzzer target: the INI config parser (through a temp file). */
#include "core/config.h"

#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/cairn-fuzz-config-XXXXXX";
	const char *files[1] = { path };
	struct strbuf err = STRBUF_INIT;
	struct config *cfg = NULL;
	int fd = mkstemp(path);
	if (fd < 0)
		return 0;
	if (write_all(fd, data, size) == 0 && !config_load(&cfg, files, 1, &err)) {
		int64_t v;
		int b;
		config_get(cfg, "core.format");
		config_get_int(cfg, "pack.size", 0, &v, &err);
		config_get_bool(cfg, "core.x", 0, &b, &err);
		/* an edit of a file that loads keeps it loadable */
		if (!config_set(path, "remote.fuzz.url", "a b#\"c", &err)) {
			struct config *again = NULL;
			if (config_load(&again, files, 1, &err))
				__builtin_trap();
			config_free(again);
		}
		config_free(cfg);
	}
	close(fd);
	unlink(path);
	strbuf_release(&err);
	return 0;
}
