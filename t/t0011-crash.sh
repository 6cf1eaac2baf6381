#!/bin/sh

test_description='kill -9 during add and checkout loses nothing

A cairn process is killed at a random moment, many times. After each kill
everything added before is still restorable byte for byte, re-running the
command completes, and the temp files the killed process left are removed
by the next run. The figures (kills, iterations) are printed. A process
stopped just before it renames a pointer or a single checked-out file
into place, then killed, leaves nothing in the work tree that git sees.'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"

SHIM="$CAIRN_BUILD_DIR/t/shim/faultfs.so"

# stop_kill STRING CMD...: runs CMD under the shim, stopped before its
# first rename to a path containing STRING, and kills it there
stop_kill () {
	stop=$1 && shift &&
	{ FAULTFS_STOP_RENAME_TO=$stop LD_PRELOAD="$SHIM" \
		ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0" "$@" >/dev/null 2>&1 & } &&
	pid=$! &&
	wait_stopped $pid &&
	kill -9 $pid &&
	{ wait $pid; test $? = 137; }
}

ITER=${CAIRN_TEST_CRASH_ITER:-8}

# random_delay: a sleep argument between 0 and 0.06 seconds
random_delay () {
	awk -v s="$(od -An -N4 -tu4 /dev/urandom)" 'BEGIN { srand(s); printf "%.3f\n", rand() * 0.06 }'
}

test_expect_success 'setup: a committed version and data to add' '
	git init -q repo && cd repo &&
	cairn init --chunk-size 4K:16K:64K &&
	mkdir -p base big &&
	for i in 1 2 3; do head -c 200000 /dev/urandom >base/f$i; done &&
	cairn add -q base && git add -A && git commit -qm base &&
	cp -r base ../base.copy &&
	for i in $(test_seq 1 12); do head -c 3000000 /dev/urandom >big/f$i; done &&
	cp -r big ../big.copy
'

test_expect_success "kill -9 during add, $ITER times: nothing lost, re-run completes" '
	cd repo &&
	kills=0 &&
	for i in $(test_seq 1 $ITER)
	do
		rm -rf .cairn/store big.cairn &&
		cairn add -q base >/dev/null &&
		{ cairn add -q big >/dev/null 2>&1 & pid=$!; } &&
		sleep $(random_delay) &&
		{ kill -9 $pid 2>/dev/null && kills=$((kills + 1)) || :; } &&
		{ wait $pid || :; } &&
		rm -rf base && cairn checkout -q base &&
		diff -r base ../base.copy &&
		cairn add -q big &&
		ls .cairn/store/tmp >leftover && test_must_be_empty leftover &&
		rm -rf big && cairn checkout -q big &&
		diff -r big ../big.copy || return 1
	done &&
	echo "add: $ITER iterations, $kills killed mid-run, 0 losses" >>"$TRASH_DIRECTORY/figures"
'

test_expect_success "kill -9 during checkout, $ITER times: re-run restores exact bytes" '
	cd repo &&
	kills=0 &&
	for i in $(test_seq 1 $ITER)
	do
		rm -rf big &&
		{ cairn checkout -q big >/dev/null 2>&1 & pid=$!; } &&
		sleep $(random_delay) &&
		{ kill -9 $pid 2>/dev/null && kills=$((kills + 1)) || :; } &&
		{ wait $pid || :; } &&
		cairn checkout -q big &&
		diff -r big ../big.copy &&
		find big -name ".cairn-tmp-*" >stray && test_must_be_empty stray || return 1
	done &&
	echo "checkout: $ITER iterations, $kills killed mid-run, 0 losses" >>"$TRASH_DIRECTORY/figures"
'

test_expect_success 'killed just before a pointer is renamed: nothing new in the work tree' '
	git init -q ptr && cd ptr &&
	cairn init && git add .cairn && git commit -qm init &&
	mkdir -p sub && echo one >sub/model.bin && echo a >ds.csv &&
	cairn add -q sub/model.bin ds.csv && git add -A && git commit -qm one &&
	echo two >sub/model.bin &&
	stop_kill model.bin.cairn cairn add -q sub/model.bin &&
	git status --porcelain --untracked-files=all >../st &&
	test_must_be_empty ../st &&
	cairn add -q sub/model.bin && git status --porcelain >st &&
	test_grep "sub/model.bin.cairn" st &&
	test_path_is_missing .cairn/store/tmp/wt-$pid-* &&
	git commit -qam two
'

test_expect_success 'killed just before a single file is renamed into place: nothing new in the work tree' '
	cd ptr && rm -f st &&
	echo b >ds.csv && cairn add -q ds.csv &&
	git checkout -q -- ds.csv.cairn &&
	git status --porcelain --untracked-files=all >../before &&
	test_must_be_empty ../before &&
	stop_kill ds.csv cairn checkout -f ds.csv &&
	test "$(cat ds.csv)" = b &&
	git status --porcelain --untracked-files=all >../st &&
	test_must_be_empty ../st &&
	git checkout -q HEAD~1 -- sub/model.bin.cairn &&
	git status --porcelain --untracked-files=all >../before &&
	stop_kill sub/model.bin cairn checkout -f sub/model.bin &&
	test "$(cat sub/model.bin)" = two &&
	git status --porcelain --untracked-files=all >../st &&
	test_cmp ../before ../st &&
	ls .cairn/store/tmp >../tmp.list &&
	test_grep "^wt-$pid-" ../tmp.list &&
	cairn checkout -q -f &&
	test "$(cat sub/model.bin)" = one && test "$(cat ds.csv)" = a &&
	ls .cairn/store/tmp >../tmp.list &&
	test_grep ! "^wt-" ../tmp.list &&
	cairn fsck -q
'

test_expect_success 'a store on another file system (EXDEV): the temp file goes beside its target; another error is reported' '
	cd ptr &&
	echo three >sub/model.bin &&
	FAULTFS_ROOT="$PWD/sub" FAULTFS_FAIL=rename:1:EXDEV FAULTFS_TRACE="$PWD/../trace" \
		LD_PRELOAD="$SHIM" ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0" \
		cairn add -q sub/model.bin &&
	grep "^rename .*/sub/model.bin.cairn.tmp-[0-9a-f]* .*/sub/model.bin.cairn$" ../trace &&
	git add -A && git commit -qm three && rm sub/model.bin ../trace &&
	FAULTFS_ROOT="$PWD/sub" FAULTFS_FAIL=rename:1:EXDEV FAULTFS_TRACE="$PWD/../trace" \
		LD_PRELOAD="$SHIM" ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0" \
		cairn checkout -q sub/model.bin &&
	grep "^rename .*/sub/.cairn-tmp-[0-9]*-[0-9a-f]* .*/sub/model.bin$" ../trace &&
	test "$(cat sub/model.bin)" = three &&
	git status --porcelain --untracked-files=all >../st &&
	test_must_be_empty ../st &&
	echo four >sub/model.bin &&
	test_must_fail env FAULTFS_ROOT="$PWD/sub" FAULTFS_FAIL=rename:1:EIO \
		LD_PRELOAD="$SHIM" ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0" \
		cairn add -q sub/model.bin 2>../err &&
	test_grep "^error: cannot rename .*/store/tmp/wt-[0-9]*-[0-9a-f]*. to .*sub/model.bin.cairn.: Input/output error$" ../err &&
	git status --porcelain --untracked-files=all >../st &&
	test_must_be_empty ../st &&
	ls .cairn/store/tmp >../tmp.list &&
	test_grep ! "^wt-" ../tmp.list
'

# t0022's kill -9 during a first pull once left a store without tmp/:
# killed inside odb_create, after store/ but before its subdirectories.
test_expect_success 'a store whose creation was cut short gets its directories on the next write' '
	git init -q half && cd half &&
	cairn init &&
	rm -rf .cairn/store/tmp .cairn/store/packs &&
	mkdir d && echo x >d/f &&
	cairn add -q d &&
	test_path_is_dir .cairn/store/tmp && test_path_is_dir .cairn/store/packs &&
	rm -rf d && cairn checkout -q && test "$(cat d/f)" = x &&
	cairn fsck -q
'

test_done
