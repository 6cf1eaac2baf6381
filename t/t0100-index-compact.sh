#!/bin/sh

test_description='the index is compacted after a large write

Object ids are random, so an add of many objects touches leaves all
over the obj tree, and each commit frees the pages it copied: the file
keeps as many free pages as the tree has. The process that wrote
compacts the index as it closes the store (every database copied in key
order, the copy put in place of data.mdb), unless another process has
the index open. A compaction killed before the swap leaves the index as
it was; a process that opens the index during the swap waits for it.'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"

# files N TAG: N small files in d/, each holding its number and TAG
files () {
	python3 -c '
import sys
n, tag = int(sys.argv[1]), sys.argv[2]
for i in range(n):
    with open("d/f%05d" % i, "w") as f:
        f.write("%s %d\n" % (tag, i))
' "$1" "$2"
}

# free_pct: how much of the index is free pages, in percent
free_pct () {
	cairn stats --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
print(s["index_free_bytes"] * 100 // s["index_bytes"])
'
}

index_bytes () {
	cairn stats --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["index_bytes"])'
}

IDX=.cairn/store/index
SHIM="$CAIRN_BUILD_DIR/t/shim/faultfs.so"

test_expect_success 'setup: 20000 files, v1' '
	git init -q repo && cd repo &&
	cairn init && mkdir d &&
	files 20000 v1 &&
	cairn add -q d && git add -A && git commit -qm v1 &&
	cairn stats >out &&
	test_grep "^index bytes: *[0-9]* (.*, [0-9]*% of it free pages)" out &&
	test $(free_pct) -lt 25
'

test_expect_success 'every file changed: the add leaves the index compact' '
	cd repo &&
	files 20000 v2 &&
	cairn add -q d && git add -A && git commit -qm v2 &&
	test $(free_pct) -lt 10 &&
	test_path_is_missing $IDX/compact.mdb &&
	cairn fsck -q &&
	git checkout -q HEAD~1 -- d.cairn && cairn checkout -q -f d &&
	test "$(cat d/f12345)" = "v1 12345" &&
	git checkout -q HEAD -- d.cairn && cairn checkout -q -f d &&
	test "$(cat d/f12345)" = "v2 12345"
'

test_expect_success 'another process has the index open: no compaction, nothing lost' '
	cd repo &&
	{ FAULTFS_STOP=.cairn/state/lock.mdb LD_PRELOAD="$SHIM" \
		ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0" cairn status >status.out 2>&1 & } &&
	pid=$! &&
	wait_stopped $pid &&
	files 20000 v3 &&
	cairn add -q d && git add -A && git commit -qm v3 &&
	test $(free_pct) -ge 25 &&
	kill -CONT $pid &&
	wait $pid &&
	test_grep "matches its pointer" status.out &&
	cairn fsck -q
'

test_expect_success 'the next write compacts it' '
	cd repo &&
	echo new >d/new && cairn add -q d &&
	test $(free_pct) -lt 10 &&
	cairn fsck -q &&
	rm -rf d && cairn checkout -q d && test "$(cat d/f00007)" = "v3 7" &&
	git add -A && git commit -qm v3b
'

test_expect_success 'a process that opens the index during the swap waits and reads the new one' '
	cd repo &&
	files 20000 v4 &&
	{ FAULTFS_STOP_RENAME=compact.mdb LD_PRELOAD="$SHIM" \
		ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0" cairn add -q d 2>add.err & } &&
	pid=$! &&
	wait_stopped $pid &&
	test_path_is_file $IDX/compact.mdb &&
	{ cairn fsck -q >fsck.out 2>&1 & } &&
	fpid=$! &&
	sleep 1 &&
	kill -CONT $pid &&
	wait $pid &&
	wait $fpid &&
	test_path_is_missing $IDX/compact.mdb &&
	test_must_be_empty add.err &&
	test $(free_pct) -lt 10 &&
	cairn fsck -q && git add -A && git commit -qm v4
'

test_expect_success 'a compaction killed before the swap leaves the index as it was' '
	cd repo &&
	files 20000 v5 &&
	{ FAULTFS_STOP_RENAME=compact.mdb LD_PRELOAD="$SHIM" \
		ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0" cairn add -q d & } &&
	pid=$! &&
	wait_stopped $pid &&
	kill -9 $pid &&
	{ wait $pid || :; } &&
	test_path_is_file $IDX/compact.mdb &&
	test $(free_pct) -ge 25 &&
	cairn fsck -q &&
	git add -A && git commit -qm v5 &&
	rm -rf d && cairn checkout -q d && test "$(cat d/f00007)" = "v5 7"
'

test_expect_success 'the next compaction removes the copy left behind' '
	cd repo &&
	echo newer >d/new && cairn add -q d &&
	test_path_is_missing $IDX/compact.mdb &&
	test $(free_pct) -lt 10 &&
	cairn fsck -q
'

test_expect_success 'a compaction that fails warns, and the add and the index stand' '
	cd repo &&
	mkdir $IDX/compact.mdb &&
	files 20000 v6 &&
	cairn add -q d 2>err &&
	test_grep "^warning: the index was not compacted: cannot remove .*compact.mdb.: Is a directory" err &&
	test $(free_pct) -ge 25 &&
	cairn fsck -q &&
	rmdir $IDX/compact.mdb &&
	echo newest >d/new && cairn add -q d 2>err &&
	test_must_be_empty err &&
	test $(free_pct) -lt 10 &&
	git add -A && git commit -qm v6 &&
	rm -rf d && cairn checkout -q d && test "$(cat d/f00007)" = "v6 7"
'

test_expect_success 'gc that drops most objects compacts the index' '
	cd repo &&
	before=$(index_bytes) &&
	cairn gc -q --workspace &&
	after=$(index_bytes) &&
	test $((after * 3)) -lt $before &&
	test $(free_pct) -lt 10 &&
	rm -rf d && cairn checkout -q d && test "$(cat d/f00007)" = "v6 7"
'

test_done
