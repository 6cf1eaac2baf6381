#ifndef CAIRN_CONFIG_H
#define CAIRN_CONFIG_H
/*
 * Git-style INI configuration files.
 *
 *   # a comment; so is a line starting with ';'
 *   [core]
 *           compression = zstd      ; a trailing comment
 *           verbose                 # no '=': the value is "true"
 *   [remote "my origin"]
 *           url = "ssh://host/path # with a hash"
 *
 * Section and variable names are case-insensitive and stored lowercased:
 * sections are made of [A-Za-z0-9-], variables start with a letter and hold
 * [A-Za-z0-9-]. A subsection is double-quoted after the section name, is
 * case-sensitive, may hold any byte but newline and NUL, and escapes '"' and
 * '\' with a backslash. Values run from after '=' to the end of the line or
 * an unquoted '#' or ';'; surrounding blanks are dropped, and double quotes
 * keep blanks, '#' and ';'. Anywhere in a value, \" \\ \n \t and \b are
 * escapes; any other backslash, a backslash at the end of a line (there are
 * no continuation lines) or an unterminated quote makes the line bad. A file
 * may use CRLF line ends. `[section] key = value` on one line is not
 * accepted.
 *
 * Keys are addressed as "section.name" or "section.subsection.name", where
 * the subsection is everything between the first and the last dot (so it
 * may itself hold dots). "section..name" is the empty subsection,
 * `[section ""]`, which is distinct from `[section]`.
 *
 * A loaded `struct config` is immutable: several threads may read it at
 * once. There is no global state. Files are limited to 1 MiB.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/util.h"

#define CONFIG_MAX_FILE_SIZE ((size_t)1 << 20)
/* How long an edit waits for another one's PATH.lock before giving up. */
#define CONFIG_LOCK_WAIT_MS 2000

struct config;

/*
 * Load `nfiles` files, in increasing priority: for a key set in several,
 * the last value read wins. A file that does not exist is skipped (it is
 * simply empty). On success *out is a new config for config_free().
 *
 * Returns 0, CAIRN_EFORMAT (a bad line: "bad config line N in 'file'", or
 * a file over 1 MiB), or CAIRN_EIO / CAIRN_ENOMEM when a file cannot be
 * read. *out is written only on success.
 */
int config_load(struct config **out, const char *const *files, size_t nfiles,
		struct strbuf *err);

/* Free a config from config_load(); NULL is fine. */
void config_free(struct config *cfg);

/*
 * The value of `key` ("section.name" or "section.sub.name", section and
 * name matched case-insensitively, the subsection exactly): the last one
 * read when the key is set more than once. A variable written without '='
 * reads as "true". NULL if the key is absent or malformed. The string lives
 * as long as `cfg`.
 */
const char *config_get(const struct config *cfg, const char *key);

/*
 * `key` as a signed decimal integer, with an optional k, m or g suffix
 * (either case; times 1024, 1024^2, 1024^3). If the key is absent, *out is
 * `def`.
 *
 * Returns 0, or CAIRN_EFORMAT when the value is not such an integer or does
 * not fit in int64_t (the message names the key and the value). *out is
 * written only on success.
 */
int config_get_int(const struct config *cfg, const char *key, int64_t def, int64_t *out,
		   struct strbuf *err);

/*
 * `key` as a boolean: true, yes, on, 1 give 1; false, no, off, 0 give 0
 * (any case). A variable written without '=' is true. If the key is absent,
 * *out is `def`.
 *
 * Returns 0, or CAIRN_EFORMAT for any other value (the message names the
 * key and the value). *out is written only on success.
 */
int config_get_bool(const struct config *cfg, const char *key, int def, int *out,
		    struct strbuf *err);

/*
 * Call fn(key, value, file, data) for every variable, in the order read
 * (files in the order given to config_load(), then line order). `key` is
 * canonical: section and name lowercased. Stops at the first non-zero
 * return of `fn` and returns it; returns 0 when all were visited.
 */
int config_foreach(const struct config *cfg,
		   int (*fn)(const char *key, const char *value, const char *file, void *data),
		   void *data);

/*
 * Set `key` to `value` in the one file `path`, or unset it when `value` is
 * NULL. Every other line and comment is kept byte for byte.
 *
 * Set: the last occurrence of the key is replaced in place (its indentation
 * and trailing comment are kept; earlier occurrences stay, and are
 * overridden); otherwise a line is added after the last variable of the
 * last matching section, or a new section is appended at the end. The file
 * is created when missing. Values that need it are double-quoted and
 * escaped so that they read back exactly.
 *
 * Unset: every occurrence of the key in the file is removed; a section
 * header this leaves with nothing under it but blank lines is removed too.
 *
 * Every edit (this and the section functions below) holds PATH.lock, as
 * git does, from before the file is read until the new content, written
 * there, is renamed over PATH: edits at once are serialised and none is
 * lost (lock_file_hold: a lock that stays for CONFIG_LOCK_WAIT_MS is an
 * error, CAIRN_ETRANSIENT, unless it is stale).
 * The file is replaced atomically and durably, keeping its mode; a new one
 * gets 0666 less the umask, and a "*.local" file (credentials) is always
 * owner-only.
 *
 * Returns 0, CAIRN_EINVAL (malformed key), CAIRN_ENOTFOUND (unset of a key
 * that is not in the file), CAIRN_EFORMAT (the file has a bad line or is
 * over 1 MiB: it is left alone), or CAIRN_EIO / CAIRN_ENOSPC / CAIRN_ENOMEM
 * from reading or writing the file.
 */
int config_set(const char *path, const char *key, const char *value, struct strbuf *err);

/*
 * Remove every `section` ("core" or "remote.origin": the subsection is what
 * follows the first dot) from `path`: the header, and the lines under it up
 * to its last variable and the blank lines after it. Comments that follow
 * the last variable are kept, as they usually introduce the next section.
 *
 * Returns 0, CAIRN_EINVAL (malformed section name), CAIRN_ENOTFOUND (no
 * such section, or no such file), CAIRN_EFORMAT (a bad line in the file),
 * or CAIRN_EIO / CAIRN_ENOSPC / CAIRN_ENOMEM.
 */
int config_remove_section(const char *path, const char *section, struct strbuf *err);

/*
 * Rename every `old_name` section header of `path` to `new_name` (both as
 * in config_remove_section()); the variables under it are untouched and a
 * trailing comment on the header is kept.
 *
 * Returns 0, CAIRN_EINVAL (malformed name), CAIRN_ENOTFOUND (no `old_name`
 * section, or no such file), CAIRN_EEXIST (a `new_name` section already
 * exists), CAIRN_EFORMAT (a bad line in the file), or CAIRN_EIO /
 * CAIRN_ENOSPC / CAIRN_ENOMEM.
 */
int config_rename_section(const char *path, const char *old_name, const char *new_name,
			  struct strbuf *err);

/*
 * 1 if `key` is a well-formed "section.name" or "section.sub.name" (section
 * of [A-Za-z0-9-]+, name a letter then [A-Za-z0-9-]*, subsection without a
 * newline), else 0.
 */
int config_key_valid(const char *key);

#endif
