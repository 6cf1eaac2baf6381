#!/bin/sh

test_description='LMDB limits: a map that grows, stale readers, a read-only file system

The index starts with a small map (CAIRN_TEST_LMDB_MAPSIZE) and must grow
past it while adding; readers killed inside a read transaction leave
their slots taken, more of them than LMDB has slots, and the next command
must clear them; on a read-only file system, commands that only read
(status, ls, diff, log, stats, fsck) work, and commands that write fail
with a clear error.'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"

SHIM="$CAIRN_BUILD_DIR/t/shim/faultfs.so"
ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0"
export ASAN_OPTIONS

test_expect_success 'the map grows past a 128 KiB start while adding 3,000 files' '
	git init -q repo && cd repo &&
	cairn init --chunk-size 256:1024:4096 &&
	mkdir -p data &&
	for d in $(test_seq 1 30)
	do
		mkdir data/d$d &&
		for f in $(test_seq 1 100); do echo "$d $f" >data/d$d/f$f; done || return 1
	done &&
	make_random data/big 2000000 1 &&
	CAIRN_TEST_LMDB_MAPSIZE=131072 cairn add -q data &&
	test $(size_of .cairn/store/index/data.mdb) -gt 131072 &&
	CAIRN_TEST_LMDB_MAPSIZE=131072 cairn fsck -q &&
	cp -r data ../orig && rm -rf data &&
	CAIRN_TEST_LMDB_MAPSIZE=131072 cairn checkout -q && diff -r data ../orig &&
	git add -A && git commit -qm v1
'

test_expect_success 'readers killed inside a read transaction until all 510 slots are taken: cleared' '
	cd repo &&
	# a live process keeps the environment open, so dead slots pile up
	{ stale-reader .cairn/store/index hold & holder=$!; } &&
	test_when_finished "kill $holder" &&
	killed=0 full=0 &&
	for i in $(test_seq 1 700)
	do
		{ stale-reader .cairn/store/index >out 2>err; st=$?; } &&
		if test $st = 137
		then
			killed=$((killed + 1))
		elif test $st = 3
		then
			full=1 && break
		else
			cat err && return 1
		fi
	done &&
	test $full = 1 && test $killed -ge 500 &&
	cairn status >out && test_grep "matches its pointer" out &&
	echo more >data/more &&
	cairn add -q data && cairn fsck -q &&
	{ stale-reader .cairn/store/index; test $? = 137; } &&
	git add -A && git commit -qm v2 &&
	echo "lmdb readers: $killed killed holding a read transaction until every slot was taken; cleared, 0 failures" >>"$TRASH_DIRECTORY/figures"
'

test_expect_success 'a read-only file system (EROFS on every write): reads work, writes fail clearly' '
	cd repo &&
	root=$(pwd -P) &&
	for c in "status" "ls data.cairn" "diff HEAD~1 HEAD" "log data" "stats" "fsck"
	do
		FAULTFS_ROOT=$root FAULTFS_FAIL=open:all:EROFS LD_PRELOAD="$SHIM" cairn $c >out 2>err ||
		{ echo "$c failed:" && cat err && return 1; }
	done &&
	echo again >data/again &&
	{ FAULTFS_ROOT=$root FAULTFS_FAIL=open:all:EROFS LD_PRELOAD="$SHIM" cairn add -q data 2>err; st=$?; } &&
	test $st = 1 && test_grep "^error: .*Read-only file system" err &&
	rm data/again && cairn fsck -q
'

test_expect_success ROOT 'a real read-only bind mount of the repository: reads work' '
	mkdir ro &&
	mount --bind repo ro &&
	test_when_finished "umount \"$TRASH_DIRECTORY/ro\"" &&
	mount -o remount,ro,bind ro &&
	(cd ro && cairn status >../status.out) &&
	test_grep "matches its pointer" status.out &&
	(cd ro && cairn ls data.cairn >/dev/null && cairn fsck -q) &&
	(cd ro && test_must_fail cairn add -q data 2>../err) &&
	test_grep "Read-only file system" err
'

test_done
