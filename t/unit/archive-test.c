/*
 * Unit tests for core/archive.c: import writes through libarchive with the
 * secure extraction flags set, and those flags really refuse "..",
 * absolute paths and writes through a symlink; export formats by name.
 */
#include "core/archive.h"
#include "core/util.h"
#include "t/unit/tap.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_flags(void)
{
	int f = archive_import_disk_flags();
	ok(f & ARCHIVE_EXTRACT_SECURE_NODOTDOT, "SECURE_NODOTDOT is set");
	ok(f & ARCHIVE_EXTRACT_SECURE_SYMLINKS, "SECURE_SYMLINKS is set");
	ok(f & ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS, "SECURE_NOABSOLUTEPATHS is set");
	ok(!(f & (ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME)),
	   "owners, exact permissions and times are not restored");
}

/* Whether a write_disk with import's flags accepts a file at `path`. */
static int disk_accepts(const char *path)
{
	struct archive *d = archive_write_disk_new();
	struct archive_entry *e = archive_entry_new();
	int rc;
	archive_write_disk_set_options(d, archive_import_disk_flags());
	archive_entry_copy_pathname(e, path);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, 1);
	rc = archive_write_header(d, e);
	if (rc == ARCHIVE_OK) {
		archive_write_data(d, "x", 1);
		archive_write_finish_entry(d);
	}
	archive_entry_free(e);
	archive_write_free(d);
	return rc == ARCHIVE_OK;
}

static void test_disk_refuses(void)
{
	char tmpl[] = "/tmp/cairn-archive-test-XXXXXX";
	char *dir = mkdtemp(tmpl), *abs;
	struct stat st;
	if (!dir || chdir(dir) < 0) {
		ok(0, "cannot make a temp dir");
		return;
	}
	mkdir("t", 0777);
	ok(disk_accepts("t/plain"), "a plain relative path is written");
	ok(!disk_accepts("t/../escaped"), "a '..' path is refused");
	ok(lstat("escaped", &st) < 0, "... and nothing was written");
	abs = xstrfmt("%s/absolute", dir);
	ok(!disk_accepts(abs), "an absolute path is refused");
	ok(lstat(abs, &st) < 0, "... and nothing was written");
	mkdir("outside", 0777);
	ok(symlink("../outside", "t/link") == 0, "a symlink in the target");
	ok(!disk_accepts("t/link/through"), "a path through a symlink is refused");
	ok(lstat("outside/through", &st) < 0, "... and nothing was written");
	free(abs);
	unlink("t/plain");
	unlink("t/link");
	rmdir("t");
	rmdir("outside");
	if (chdir("/") == 0)
		rmdir(dir);
}

static void test_formats(void)
{
	ok(archive_format_by_suffix("x.tar") == EXPORT_TAR, "x.tar is tar");
	ok(archive_format_by_suffix("d/v1.2/x.tar.gz") == EXPORT_TAR_GZ, "x.tar.gz is tar.gz");
	ok(archive_format_by_suffix("x.tgz") == EXPORT_TAR_GZ, "x.tgz is tar.gz");
	ok(archive_format_by_suffix("train-v1.2.tar.zst") == EXPORT_TAR_ZST,
	   "a dotted name: train-v1.2.tar.zst is tar.zst");
	ok(archive_format_by_suffix("x.tar.xz") == EXPORT_TAR_XZ, "x.tar.xz is tar.xz");
	ok(archive_format_by_suffix("x.tar.bz2") == EXPORT_TAR_BZ2, "x.tar.bz2 is tar.bz2");
	ok(archive_format_by_suffix("x.zip") == EXPORT_ZIP, "x.zip is zip");
	ok(archive_format_by_suffix("x.rar") == 0, "x.rar is nothing");
	ok(archive_format_by_suffix("tar") == 0, "a bare 'tar' is nothing");
	ok(archive_format_by_name("zip") == EXPORT_ZIP && archive_format_by_name("gz") == 0,
	   "names");
}

int main(void)
{
	test_flags();
	test_disk_refuses();
	test_formats();
	return tap_done();
}
