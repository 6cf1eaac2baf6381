/* The bounded cache of open pack files: never more than its cap open
 * while unpinned, never a pinned fd closed, removed packs closed. */
#include <fcntl.h>
#include <unistd.h>

#include "core/pack-fds.h"
#include "t/unit/tap.h"

static int is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

static int open_null(void)
{
	return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

int main(void)
{
	struct pack_fds c;
	int fds[20], pinned, again, i, all_open = 1;

	pack_fds_init(&c, 4);
	for (i = 0; i < 10; i++) {
		fds[i] = pack_fds_add(&c, (uint32_t)i, open_null());
		pack_fds_unpin(&c, (uint32_t)i, fds[i]);
	}
	ok(pack_fds_open(&c) == 4, "ten packs read one after the other: four stay open (%zu)",
	   pack_fds_open(&c));
	ok(pack_fds_pin(&c, 0) == -1, "the least recently used was closed");
	again = pack_fds_pin(&c, 9);
	ok(again == fds[9], "the most recent is still cached");
	pack_fds_unpin(&c, 9, again);

	/* a pinned fd survives any number of other packs */
	pinned = pack_fds_add(&c, 100, open_null());
	for (i = 0; i < 10; i++) {
		int fd = pack_fds_add(&c, (uint32_t)(200 + i), open_null());
		pack_fds_unpin(&c, (uint32_t)(200 + i), fd);
	}
	ok(is_open(pinned) && pack_fds_pin(&c, 100) == pinned,
	   "a pinned fd is not closed while others come and go");
	pack_fds_unpin(&c, 100, pinned);
	pack_fds_unpin(&c, 100, pinned);
	ok(pack_fds_open(&c) <= 4, "back under the cap once unpinned (%zu)", pack_fds_open(&c));

	/* all pinned: the cache grows past its cap, then shrinks back */
	for (i = 0; i < 8; i++)
		fds[i] = pack_fds_add(&c, (uint32_t)(300 + i), open_null());
	for (i = 0; i < 8; i++)
		all_open &= is_open(fds[i]);
	ok(all_open && pack_fds_open(&c) == 8, "eight pinned at once: all open (%zu)",
	   pack_fds_open(&c));
	for (i = 0; i < 8; i++)
		pack_fds_unpin(&c, (uint32_t)(300 + i), fds[i]);
	ok(pack_fds_open(&c) <= 4, "unpinned: back to the cap (%zu)", pack_fds_open(&c));

	/* a dropped pack: closed now if unpinned, else at its last unpin */
	pinned = pack_fds_add(&c, 400, open_null());
	pack_fds_drop(&c, 400);
	ok(is_open(pinned) && pack_fds_pin(&c, 400) == -1,
	   "a dropped pack in use stays open for its reader, and is not handed out again");
	pack_fds_unpin(&c, 400, pinned);
	ok(!is_open(pinned), "and is closed at its last unpin");
	again = pack_fds_add(&c, 401, open_null());
	pack_fds_unpin(&c, 401, again);
	pack_fds_drop(&c, 401);
	ok(!is_open(again), "an unpinned dropped pack is closed at once");

	ok(pack_fds_shed(&c) > 0 && pack_fds_open(&c) == 0, "shed closes every unpinned fd");
	pack_fds_release(&c);

	pack_fds_init(&c, 0);
	ok(c.cap >= 8 && c.cap <= 256, "the default cap follows RLIMIT_NOFILE (%zu)", c.cap);
	pack_fds_release(&c);
	return tap_done();
}
