#!/bin/sh

test_description='durability order, and a simulated power loss at every sync point

t/shim/faultfs.so (LD_PRELOAD) traces the writes, fsyncs, renames and links
cairn makes, and can stop a command just before its N-th durability call,
throwing away what the kernel was not yet asked to make durable: unsynced
data of new files, and renames, links and creations whose directory was not
fsynced. The trace shows the order write -> fsync(file) -> rename ->
fsync(dir) -> LMDB commit -> pointer rename -> fsync(dir). Then, for add,
checkout, fetch, push and gc, a power loss is simulated at every one of
their sync points in turn: after each, fsck is clean, the pointer names the
old or the new version and never anything else, every committed version
restores byte for byte, and re-running the command completes.'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"

SHIM="$CAIRN_BUILD_DIR/t/shim/faultfs.so"
# the shim sits before the sanitizer runtime in a sanitized build
ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0"
export ASAN_OPTIONS

# faulty ROOT CMD...: runs CMD under the shim, limited to paths below ROOT,
# with whatever FAULTFS_* variables the caller exported.
faulty () {
	root=$1 && shift &&
	FAULTFS_ROOT=$(cd "$root" && pwd -P) LD_PRELOAD="$SHIM" "$@"
}

# sync_points ROOT CMD...: how many durability calls CMD makes below ROOT
sync_points () {
	rm -f "$TRASH_DIRECTORY/count" &&
	FAULTFS_CRASH_AT=0 FAULTFS_COUNT="$TRASH_DIRECTORY/count" faulty "$@" >/dev/null 2>&1 &&
	cut -d" " -f1 "$TRASH_DIRECTORY/count"
}

# crash_at N ROOT CMD...: CMD, stopped by a simulated power loss just
# before its N-th durability call; fails unless it was stopped so.
crash_at () {
	n=$1 && shift &&
	{ FAULTFS_CRASH_AT=$n faulty "$@" >/dev/null 2>"$TRASH_DIRECTORY/crash.err"; st=$?; } &&
	test $st = 137 &&
	grep -q "simulated power loss at durability call $n\$" "$TRASH_DIRECTORY/crash.err"
}

test_expect_success 'setup: the shim, a repository with a committed version' '
	test_path_is_file "$SHIM" &&
	git init -q repo && cd repo &&
	cairn init --chunk-size 4K:16K:64K &&
	mkdir data &&
	make_random data/big 600000 1 &&
	for i in 1 2 3 4 5; do echo "small $i" >data/s$i; done &&
	cairn add -q data && git add -A && git commit -qm v1 &&
	cp -r data ../v1 && cp data.cairn ../v1.cairn &&
	make_random data/big 650000 2 && echo new >data/s6 && rm data/s1 &&
	cp -r data ../v2 &&
	cd .. && cp -a repo pristine
'

test_expect_success 'add: write -> fsync -> rename -> fsync(dir) -> LMDB commit -> pointer' '
	rm -rf repo && cp -a pristine repo && cd repo &&
	FAULTFS_TRACE=../trace faulty . cairn add -q data &&
	top=$(pwd -P) &&
	sed "s#$top/##g" ../trace >../order &&
	cat ../order &&
	python3 - ../order <<-\EOF
	import sys
	ev = [l.rstrip("\n").split(" ") for l in open(sys.argv[1])]
	def idx(pred, start=0):
	    for i in range(start, len(ev)):
	        if pred(ev[i]):
	            return i
	    return -1
	renames = [i for i, e in enumerate(ev) if e[0] == "rename" and e[2].startswith(".cairn/store/packs/")]
	assert renames, "no pack was renamed into place"
	for r in renames:
	    tmp = ev[r][1]
	    w = max(i for i, e in enumerate(ev[:r]) if e[0] == "write" and e[1] == tmp)
	    s = idx(lambda e: e[0] == "fsync" and e[1] == tmp, w)
	    assert 0 <= s < r, "%s renamed before its data was synced" % tmp
	    d = idx(lambda e: e[0] == "fsync" and e[1] == ".cairn/store/packs/", r)
	    assert d > r, "the packs directory not synced after %s" % ev[r][2]
	    c = idx(lambda e: e[0] in ("write+sync", "fsync") and e[1] == ".cairn/store/index/data.mdb", r)
	    assert c > d, "the index committed before the directory of %s was synced" % ev[r][2]
	p = idx(lambda e: e[0] == "rename" and e[2] == "data.cairn")
	assert p >= 0, "the pointer was not renamed into place"
	commits = [i for i, e in enumerate(ev) if e[0] == "write+sync" and e[1].endswith("data.mdb")]
	assert commits and max(r for r in renames) < max(commits) < p, "pointer before the last LMDB commit"
	tmp = ev[p][1]
	assert 0 <= idx(lambda e: e[0] == "fsync" and e[1] == tmp) < p, "pointer renamed before its data was synced"
	assert idx(lambda e: e[0] == "fsync" and e[1] == "", p) > p, "the pointer directory was not synced"
	print("# order ok: %d packs, %d LMDB commits, %d events" % (len(renames), len(commits), len(ev)))
	EOF
'

# check_repo: fsck clean; data.cairn is v1 or v2 and restores exactly;
# v1 restores from git; then re-running add gives v2
check_after_add_crash () {
	cairn fsck -q &&
	if cmp -s data.cairn ../v1.cairn
	then
		rm -rf data && cairn checkout -q -f && diff -r data ../v1 &&
		cp -r ../v2/. data/ && rm -f data/s1 &&
		old=$((old + 1))
	else
		rm -rf data && cairn checkout -q -f && diff -r data ../v2 &&
		new=$((new + 1))
	fi &&
	cairn add -q data && rm -rf data && cairn checkout -q -f && diff -r data ../v2 &&
	git stash -q && cairn checkout -q -f && diff -r data ../v1 && git stash pop -q &&
	cairn fsck -q &&
	ls .cairn/store/tmp >leftover && test_must_be_empty leftover
}

test_expect_success 'add: a power loss at every sync point loses nothing' '
	rm -rf repo && cp -a pristine repo &&
	n=$(cd repo && sync_points . cairn add -q data) &&
	test "$n" -ge 8 &&
	old=0 new=0 &&
	for k in $(test_seq 1 $n)
	do
		rm -rf repo && cp -a pristine repo && (
			cd repo &&
			crash_at $k . cairn add -q data
		) &&
		(cd repo && check_after_add_crash) || { echo "after a loss at sync point $k"; return 1; }
	done &&
	echo "add: $n sync points, $n simulated losses, 0 failures" >>"$TRASH_DIRECTORY/figures"
'

test_expect_success 'checkout: a power loss at every sync point, then checkout completes' '
	rm -rf repo && cp -a pristine repo && cd repo && rm -rf data && cd .. &&
	cp -a repo pristine-co &&
	n=$(cd repo && sync_points . cairn checkout -q) &&
	test "$n" -ge 1 &&
	for k in $(test_seq 1 $n)
	do
		rm -rf repo && cp -a pristine-co repo &&
		(cd repo && crash_at $k . cairn checkout -q) &&
		(
			cd repo && cairn fsck -q && cairn checkout -q -f && diff -r data ../v1 &&
			cairn status >st && test_grep "matches its pointer" st
		) || { echo "after a loss at sync point $k"; cat repo/st; return 1; }
	done &&
	echo "checkout: $n sync points, $n simulated losses, 0 failures" >>"$TRASH_DIRECTORY/figures"
'

test_expect_success 'push to a directory remote: a power loss at every sync point' '
	rm -rf repo remote && cp -a pristine repo && mkdir remote && (
		cd repo && cairn remote add -d origin ../remote &&
		cairn add -q data && git add -A && git commit -qm v2
	) &&
	cp -a repo pristine-push && cp -a remote pristine-remote &&
	n=$(cd repo && sync_points .. cairn push -q --all-commits) &&
	test "$n" -ge 4 &&
	for k in $(test_seq 1 $n)
	do
		rm -rf repo remote clone && cp -a pristine-push repo && cp -a pristine-remote remote &&
		(cd repo && crash_at $k .. cairn push -q --all-commits) &&
		(
			cd repo && cairn fsck -q &&
			{ cairn fsck -q -r origin >out 2>err || test_grep "holds no cairn data" err ||
			  ! grep -v "^missing-object: " out; } &&
			cairn push -q --all-commits && cairn fsck -q -r origin --read-data
		) &&
		git clone -q repo clone && (
			cd clone && cairn pull -q && diff -r data ../v2 &&
			cairn pull -q -f --rev HEAD~1 && diff -r data ../v1
		) || { echo "after a loss at sync point $k"; return 1; }
	done &&
	echo "push: $n sync points, $n simulated losses, 0 failures" >>"$TRASH_DIRECTORY/figures"
'

test_expect_success 'pull from a directory remote: a power loss at every sync point' '
	rm -rf repo remote clone && cp -a pristine-push repo && cp -a pristine-remote remote &&
	(cd repo && cairn push -q --all-commits) &&
	git clone -q repo clone && cp -a clone pristine-clone &&
	n=$(cd clone && sync_points . cairn pull -q) &&
	test "$n" -ge 4 &&
	for k in $(test_seq 1 $n)
	do
		rm -rf clone && cp -a pristine-clone clone &&
		(cd clone && crash_at $k . cairn pull -q) &&
		(
			cd clone && cairn fsck -q && cairn pull -q -f && diff -r data ../v2 &&
			cairn pull -q -f --rev HEAD~1 && diff -r data ../v1 && cairn fsck -q
		) || { echo "after a loss at sync point $k"; return 1; }
	done &&
	echo "pull: $n sync points, $n simulated losses, 0 failures" >>"$TRASH_DIRECTORY/figures"
'

test_expect_success 'gc (deleting and repacking): a power loss at every sync point keeps every version' '
	rm -rf repo && cp -a pristine-push repo && (
		cd repo &&
		git checkout -q -b side && make_random data/side 300000 9 && echo keep >data/s7 &&
		cairn add -q data && git add -A && git commit -qm side &&
		git checkout -q - && cairn checkout -q -f && echo keep >data/s7 &&
		cairn add -q data && git add -A && git commit -qm v3 && cp -r data ../v3 &&
		git branch -q -D side &&
		cairn gc -n >../gc-plan && test_grep "1 would be repacked" ../gc-plan
	) &&
	cp -a repo pristine-gc &&
	n=$(cd repo && sync_points . cairn gc -q) &&
	test "$n" -ge 2 &&
	for k in $(test_seq 1 $n)
	do
		rm -rf repo && cp -a pristine-gc repo &&
		(cd repo && crash_at $k . cairn gc -q) &&
		(
			cd repo && cairn fsck -q && cairn gc -q && cairn fsck -q &&
			rm -rf data && cairn checkout -q && diff -r data ../v3 &&
			cairn checkout -q -f --rev HEAD~1 && diff -r data ../v2 &&
			cairn checkout -q -f --rev HEAD~2 && diff -r data ../v1
		) || { echo "after a loss at sync point $k"; return 1; }
	done &&
	echo "gc: $n sync points, $n simulated losses, 0 failures" >>"$TRASH_DIRECTORY/figures"
'

test_done
