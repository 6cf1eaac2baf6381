#!/bin/sh

test_description='more packs than open files: a bounded cache of pack descriptors

A store of 600 packs is read with `ulimit -n 256`: fsck, checkout, diff,
gc and fsck --repair must work as with no limit (no pack kept open for the
life of the process), and a limit too low for any work is an error about
open files, never a report of corrupt data, and never a repair that copies
the store.'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"

# the faultfs shim is preloaded before the sanitizer runtime
ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0"
export ASAN_OPTIONS

# limited N CMD...: CMD with at most N open descriptors
limited () {
	limited_n_=$1
	shift
	(ulimit -n "$limited_n_" && "$@")
}

test_expect_success 'a store of 300 adds holds more than 600 packs' '
	git init -q repo && cd repo && cairn init >/dev/null &&
	mkdir d &&
	for i in $(test_seq 1 300)
	do
		echo "file $i" >d/f$i && cairn add -q d || return 1
	done &&
	make_random d/big 300000 7 && cairn add -q d &&
	git add -A && git commit -qm v1 &&
	npacks=$(ls .cairn/store/packs | grep -c "\\.pack$") &&
	test "$npacks" -gt 600 &&
	cp -r d ../orig &&
	cairn remote add -d origin "$TRASH_DIRECTORY/rem" &&
	cairn push -q
'

test_expect_success 'fsck under ulimit -n 256 finds no problem' '
	cd repo &&
	limited 256 cairn fsck >out 2>err &&
	test_grep "no problems" out &&
	! grep -i "open files" err
'

test_expect_success 'checkout, diff and status under ulimit -n 256' '
	cd repo &&
	rm -rf d &&
	limited 256 cairn checkout -q &&
	diff -r d ../orig &&
	limited 256 cairn status >out &&
	limited 256 cairn diff HEAD >out
'

test_expect_success 'fsck --repair under ulimit -n 256 stores nothing again' '
	cd repo &&
	du -sk .cairn/store/packs | cut -f1 >before &&
	before=$(ls .cairn/store/packs | wc -l) &&
	limited 256 cairn fsck --repair >out 2>&1 &&
	after=$(ls .cairn/store/packs | wc -l) &&
	test "$before" = "$after"
'

test_expect_success 'gc under ulimit -n 256' '
	cd repo &&
	limited 256 cairn gc >out 2>&1 &&
	rm -rf d && limited 256 cairn checkout -q && diff -r d ../orig &&
	cairn fsck >out && test_grep "no problems" out
'

test_expect_success 'no descriptor for any pack: an error about open files, not corrupt data' '
	cd repo &&
	SHIM="$CAIRN_BUILD_DIR/t/shim/faultfs.so" &&
	packs=$(cd .cairn/store/packs && pwd -P) &&
	ls .cairn/store/packs >before &&
	for args in fsck "fsck --repair"
	do
		test_must_fail env FAULTFS_ROOT="$packs" FAULTFS_FAIL=ropen:all:EMFILE \
			LD_PRELOAD="$SHIM" cairn $args >out 2>err &&
		test_grep "^error: .*Too many open files" err &&
		! grep -i "corrupt\|problem\|repair" out err || return 1
	done &&
	rm -rf d &&
	test_must_fail env FAULTFS_ROOT="$packs" FAULTFS_FAIL=ropen:all:EMFILE \
		LD_PRELOAD="$SHIM" cairn checkout >out 2>err &&
	test_grep "^error: .*Too many open files" err &&
	ls .cairn/store/packs >after &&
	test_cmp before after &&
	cairn checkout -q && diff -r d ../orig &&
	cairn fsck >out && test_grep "no problems" out
'

test_done
