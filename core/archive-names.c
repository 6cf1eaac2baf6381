/*
 * The names of export formats: plain tables, apart from core/archive.c so
 * that cairn parses an export's arguments without loading libarchive
 * (core/ext.h).
 */
#include "core/archive.h"

#include <string.h>

int archive_format_by_name(const char *name)
{
	static const struct {
		const char *name;
		int fmt;
	} names[] = {
		{ "tar", EXPORT_TAR },        { "tar.gz", EXPORT_TAR_GZ }, { "tgz", EXPORT_TAR_GZ },
		{ "tar.bz2", EXPORT_TAR_BZ2 }, { "tbz2", EXPORT_TAR_BZ2 }, { "tar.xz", EXPORT_TAR_XZ },
		{ "txz", EXPORT_TAR_XZ },     { "tar.zst", EXPORT_TAR_ZST }, { "tzst", EXPORT_TAR_ZST },
		{ "zip", EXPORT_ZIP },
	};
	size_t i;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i].name))
			return names[i].fmt;
	return 0;
}

int archive_format_by_suffix(const char *path)
{
	const char *base = strrchr(path, '/'), *dot;
	base = base ? base + 1 : path;
	/* the longest suffix first: "x.tar.gz" is tar.gz, not gz */
	for (dot = strchr(base, '.'); dot; dot = strchr(dot + 1, '.')) {
		int f = archive_format_by_name(dot + 1);
		if (f)
			return f;
	}
	return 0;
}
