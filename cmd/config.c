/*
 * cairn config: get and set options in .cairn/config, .cairn/config.local
 * or the user file.
 */
#include "cmd/builtin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* S3 credentials (remote/s3.c): never printed, never in committed files */
static int is_secret(const char *key)
{
	return starts_with(key, "remote.") &&
	       (ends_with(key, ".secret-access-key") || ends_with(key, ".session-token") ||
		ends_with(key, ".access-key-id"));
}

static int print_one(const char *key, const char *value, const char *file, void *data)
{
	printf("%s=%s\n", key, is_secret(key) ? "(hidden)" : value);
	return 0;
}

int cmd_config(int argc, const char **argv, struct repo *r)
{
	struct strbuf err = STRBUF_INIT;
	const char *which = "repo", *key = NULL, *value = NULL;
	int unset = 0, list = 0, i, ret = 0;
	char *path, *old = NULL;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--local"))
			which = "local";
		else if (!strcmp(a, "--user") || !strcmp(a, "--global"))
			which = "user";
		else if (!strcmp(a, "--unset"))
			unset = 1;
		else if (!strcmp(a, "--list") || !strcmp(a, "-l"))
			list = 1;
		else if (a[0] == '-' && a[1])
			return usage_error("config", "unknown option '%s'", a);
		else if (!key)
			key = a;
		else if (!value)
			value = a;
		else
			return usage_error("config", "too many arguments");
	}
	if (list) {
		if (key)
			return usage_error("config", "--list takes no key");
		config_foreach(r->cfg, print_one, NULL);
		return 0;
	}
	if (!key)
		return usage_error("config", "give a key, e.g. 'cairn config compress.level'");
	if (!config_key_valid(key))
		return error("invalid config key '%s' (want section.name or section.sub.name)", key);
	if (unset && value)
		return usage_error("config", "--unset takes no value");
	if (!value && !unset) {
		const char *v = config_get(r->cfg, key);
		if (!v)
			return 1; /* like git: absent key, exit 1, no message */
		printf("%s\n", is_secret(key) ? "(hidden)" : v);
		return 0;
	}
	if (is_secret(key) && !unset && strcmp(which, "local"))
		return error("'%s' is a credential: it goes in .cairn/config.local, which is not "
			     "committed (cairn config --local %s VALUE)", key, key);
	if (!strncmp(key, "chunker.", 8) || !strcmp(key, "core.format"))
		return error("'%s' is fixed when the repository is created", key);
	path = repo_config_path(r, which);
	{
		/* remember the old value of this file, to roll back to */
		struct config *one = NULL;
		const char *files[1] = { path };
		if (!config_load(&one, files, 1, &err) && config_get(one, key))
			old = xstrdup(config_get(one, key));
		config_free(one);
	}
	if (!strcmp(which, "user")) {
		char *slash = strrchr(path, '/');
		*slash = '\0';
		mkdir_p(path, 0777);
		*slash = '/';
	}
	if (config_set(path, key, unset ? NULL : value, &err))
		ret = error("%s", err.buf);
	else if (repo_load_config(r, &err)) {
		/* refuse a value that makes the configuration unusable */
		struct strbuf e2 = STRBUF_INIT;
		ret = error("%s", err.buf);
		config_set(path, key, old, &e2);
		strbuf_release(&e2);
	}
	free(old);
	free(path);
	strbuf_release(&err);
	return ret;
}
