#!/bin/sh

test_description='kill -9 during add and checkout loses nothing

A cairn process is killed at a random moment, many times. After each kill
everything added before is still restorable byte for byte, re-running the
command completes, and the temp files the killed process left are removed
by the next run. The figures (kills, iterations) are printed.'

. "$(dirname "$0")/lib.sh"

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
