#!/bin/sh

test_description='cairn gc: the local store and a remote

A dataset changes over several commits on main; a branch holds data of
its own. After the branch is deleted, gc frees exactly its unique data:
every version on main still checks out byte for byte and fsck is clean.
--dry-run changes nothing; a pack that is mostly garbage is repacked;
--workspace and --rev keep less (with a warning); a concurrent add is
safe, and so is kill -9 at random moments. gc -r removes from a remote
the packs that only deleted history needed, once a run marked them and
the mark is older than the grace period, and a fresh clone still pulls
every remaining version (t0111 has the rest of gc -r).'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"

if ! test_have_prereq PYTHON3
then
	skip_all='python3 (>= 3.9) not found'
	test_done
fi

ITER=${CAIRN_TEST_CRASH_ITER:-6}
PACKS=.cairn/store/packs

# random_delay: a sleep argument between 0 and 0.04 seconds (a gc here
# takes about that long)
random_delay () {
	awk -v s="$(od -An -N4 -tu4 /dev/urandom)" 'BEGIN { srand(s); printf "%.3f\n", rand() * 0.04 }'
}

# stat_of KEY: a number from cairn stats --json
stat_of () {
	cairn stats --json >stats.json && json_get stats.json "$1"
}

# commit_version N: change the dataset a little, add, commit, save a copy
commit_version () {
	n=$1 &&
	make_random data/f$((n % 3)) $((30000 + n * 997)) $n &&
	echo "row $n" >>data/log.csv &&
	save_version $n
}

# main_versions_restore N: saved versions 1..N check out byte for byte
main_versions_restore () {
	for n in $(test_seq 1 $1)
	do
		cairn checkout -q -f --rev "$(cat ../saved/$n.commit)" data &&
		diff -r data ../saved/$n || return 1
	done &&
	cairn checkout -q -f
}

# side_branch NAME SEED: a branch with a unique 300 KB file, then back to main
side_branch () {
	git checkout -q -b "$1" &&
	make_random data/unique 300000 "$2" &&
	cairn add -q data && git add -A && git commit -qm "$1" &&
	git rev-parse HEAD >../$1.commit &&
	git checkout -q main && cairn checkout -q -f
}

test_expect_success 'setup: five versions on main, a branch with data of its own' '
	git init -q repo && cd repo &&
	cairn init --chunk-size 256:1024:4096 &&
	mkdir data && echo header >data/log.csv &&
	for n in 1 2 3 4 5; do commit_version $n || return 1; done &&
	side_branch side 1000 &&
	cairn checkout -q -f --rev side && test_path_is_file data/unique &&
	cairn checkout -q -f && test_path_is_missing data/unique
'

test_expect_success 'gc -h, and bad usage' '
	cairn gc -h >out &&
	test_grep "^usage: cairn gc" out &&
	(
		cd repo &&
		expect_code 129 cairn gc --frob 2>../err &&
		test_grep "^usage: cairn gc" ../err &&
		expect_code 129 cairn gc --workspace --rev HEAD 2>../err &&
		test_grep "give one of" ../err &&
		expect_code 129 cairn gc --grace 10 2>../err &&
		test_grep "grace" ../err &&
		expect_code 129 cairn gc -r origin --workspace 2>../err &&
		expect_code 129 cairn gc -r origin --grace soon 2>../err &&
		test_must_fail cairn gc --rev no-such-rev 2>../err &&
		test_grep "unknown revision" ../err &&
		test_must_fail cairn gc -r nosuch 2>../err &&
		test_grep "no remote named" ../err
	)
'

test_expect_success 'while the branch exists, gc keeps everything' '
	cd repo &&
	ls $PACKS >packs.before &&
	cairn gc >out &&
	test_grep "0 unreachable" out &&
	ls $PACKS >packs.after &&
	test_cmp packs.before packs.after &&
	cairn checkout -q -f --rev side && test_path_is_file data/unique &&
	cairn checkout -q -f
'

test_expect_success 'gc --dry-run after the branch is deleted changes nothing' '
	cd repo &&
	git branch -D -q side &&
	ls -l $PACKS >packs.before &&
	cairn stats --json >stats.before &&
	cairn gc --dry-run >out &&
	test_grep "would free" out &&
	test_grep "would be deleted" out &&
	cairn gc -n --json >out.json &&
	python3 -c "
import json
d = json.load(open(\"out.json\"))
assert d[\"dry_run\"] and d[\"dead_objects\"] > 200 and d[\"packs_deleted\"] >= 1, d
assert d[\"bytes_freed\"] >= 300000, d
assert d[\"commits\"] == 5 and d[\"pointer_versions\"] == 5, d
" &&
	ls -l $PACKS >packs.after &&
	cairn stats --json >stats.after &&
	test_cmp packs.before packs.after &&
	test_cmp stats.before stats.after
'

test_expect_success 'gc after deleting the branch frees its unique chunks, keeps the rest' '
	cd repo &&
	chunks=$(stat_of chunks) && stored=$(stat_of stored_bytes) &&
	cairn gc --json >out.json &&
	python3 -c "
import json
d = json.load(open(\"out.json\"))
assert not d[\"dry_run\"] and d[\"dead_objects\"] > 200 and d[\"packs_deleted\"] >= 1, d
assert d[\"bytes_freed\"] >= 300000 and d[\"bytes_after\"] < d[\"bytes_before\"], d
" &&
	test $(stat_of chunks) -le $((chunks - 200)) &&
	test $(stat_of stored_bytes) -le $((stored - 300000)) &&
	test_must_fail cairn checkout -q -f --rev "$(cat ../side.commit)" data 2>err &&
	test_grep "not in the store" err &&
	cairn fsck &&
	main_versions_restore 5 &&
	diff -r data ../saved/5 &&
	cairn gc >out &&
	test_grep "0 unreachable" out &&
	test_grep "kept: .* objects reachable from 5 pointer versions (5 commits)" out
'

test_expect_success 'a pack that is mostly garbage is repacked; its live objects stay' '
	cd repo &&
	git checkout -q -b temp &&
	make_random data/big 200000 2000 && make_random data/keep 6000 2001 &&
	cairn add -q data && git add -A && git commit -qm temp &&
	git checkout -q main && cairn checkout -q -f &&
	make_random data/keep 6000 2001 && cp data/keep ../keep.copy &&
	cairn add -q data && git add -A && git commit -qm keep &&
	git branch -D -q temp &&
	cairn gc >out &&
	test_grep " [1-9] repacked into [1-9]" out &&
	cairn fsck &&
	main_versions_restore 5 &&
	cmp data/keep ../keep.copy
'

test_expect_success 'gc of a store whose pointer does not parse stops, removes nothing' '
	cd repo &&
	cp data.cairn ../data.cairn.good &&
	test_when_finished "cp \"$TRASH_DIRECTORY/data.cairn.good\" \"$TRASH_DIRECTORY/repo/data.cairn\"" &&
	echo "not a pointer" >data.cairn &&
	ls $PACKS >packs.before &&
	test_must_fail cairn gc 2>err &&
	test_grep "^error: gc stops" err &&
	ls $PACKS >packs.after &&
	test_cmp packs.before packs.after
'

test_lazy_prereq FLOCK 'command -v flock'

test_expect_success FLOCK 'gc waits for writers: a clear error, or --wait' '
	cd repo &&
	{ flock -s .cairn/store/gc.lock sleep 3 & pid=$!; } &&
	sleep 0.5 &&
	test_must_fail cairn gc 2>err &&
	test_grep "in use by another cairn process.*--wait" err &&
	cairn gc --wait -q &&
	wait $pid
'

test_expect_success FLOCK 'add waits while gc holds the store' '
	cd repo &&
	{ flock -x .cairn/store/gc.lock sleep 2 & pid=$!; } &&
	sleep 0.5 &&
	echo extra >data/extra.txt &&
	start=$(date +%s) &&
	cairn add -q data &&
	end=$(date +%s) &&
	wait $pid &&
	test $((end - start)) -ge 1 &&
	git add -A && git commit -qm extra &&
	cp -r data ../saved-extra &&
	cairn fsck
'

test_expect_success 'a concurrent add during gc: both finish, nothing is lost' '
	cd repo &&
	for i in 1 2 3
	do
		side_branch junk$i $((3000 + i)) &&
		git branch -D -q junk$i &&
		mkdir -p data/new$i &&
		make_random data/new$i/a 400000 $((4000 + i)) &&
		{ cairn gc -q >gc.out 2>gc.err & gcpid=$!; } &&
		{ cairn add -q data >add.out 2>add.err & addpid=$!; } &&
		{ wait $gcpid; gcst=$?; } &&
		{ wait $addpid; addst=$?; } &&
		test $addst = 0 &&
		if test $gcst != 0
		then
			test_grep "in use by another cairn process" gc.err || return 1
		fi &&
		git add -A && git commit -qm "concurrent $i" &&
		rm -rf ../saved-c$i && cp -r data ../saved-c$i &&
		cairn fsck -q &&
		rm -rf data && cairn checkout -q && diff -r data ../saved-c$i || return 1
	done &&
	cairn gc -q &&
	cairn fsck -q &&
	main_versions_restore 5 &&
	cairn checkout -q -f --rev HEAD~3 && diff -r data ../saved-extra &&
	cairn checkout -q -f && diff -r data ../saved-c3
'

test_expect_success "kill -9 during gc, $ITER times: fsck clean, everything restorable" '
	cd repo &&
	kills=0 &&
	for i in $(test_seq 1 $ITER)
	do
		side_branch kill$i $((5000 + i)) &&
		git checkout -q -b killtemp$i &&
		make_random data/big$i 1500000 $((6000 + i)) &&
		make_random data/small$i 1000000 $((7000 + i)) &&
		cairn add -q data && git add -A && git commit -qm killtemp &&
		git checkout -q main && cairn checkout -q -f &&
		make_random data/small$i 1000000 $((7000 + i)) &&
		cairn add -q data && git add -A && git commit -qm "small $i" &&
		rm -rf ../saved-k$i && cp -r data ../saved-k$i &&
		git branch -D -q kill$i killtemp$i &&
		{ cairn gc -q >/dev/null 2>&1 & pid=$!; } &&
		sleep $(random_delay) &&
		{ kill -9 $pid 2>/dev/null || :; } &&
		{ wait $pid; test $? != 137 || kills=$((kills + 1)); } &&
		cairn fsck -q &&
		rm -rf data && cairn checkout -q && diff -r data ../saved-k$i || return 1
	done &&
	main_versions_restore 5 &&
	cairn gc -q && cairn fsck -q &&
	echo "gc: $ITER iterations, $kills killed mid-run, 0 losses" >>"$TRASH_DIRECTORY/figures"
'

test_expect_success 'old pack files that no index names are removed, new ones kept' '
	cd repo &&
	pack=$(ls $PACKS/*.pack | head -n 1) &&
	cp "$pack" ../orphan.pack &&
	name=0123456789abcdef0123456789abcdef &&
	cp ../orphan.pack $PACKS/$name.pack &&
	cp ../orphan.pack $PACKS/fedcba9876543210fedcba9876543210.pack &&
	touch -d "1 hour ago" $PACKS/$name.pack &&
	cairn gc >out &&
	test_grep "orphan pack files: 1 (.*) removed" out &&
	test_path_is_missing $PACKS/$name.pack &&
	test_path_is_file $PACKS/fedcba9876543210fedcba9876543210.pack &&
	rm -f $PACKS/fedcba9876543210fedcba9876543210.pack
'

test_expect_success 'gc --rev keeps that commit and the work tree only' '
	cd repo &&
	cp -a .cairn/store ../store.before-rev &&
	cairn gc --rev "$(cat ../saved/3.commit)" >out &&
	test_grep "from 1 commits" out &&
	cairn checkout -q -f --rev "$(cat ../saved/3.commit)" data && diff -r data ../saved/3 &&
	test_must_fail cairn checkout -q -f --rev "$(cat ../saved/2.commit)" data &&
	cairn checkout -q -f && diff -r data ../saved-k$ITER &&
	cairn fsck -q &&
	rm -rf .cairn/store && cp -a ../store.before-rev .cairn/store
'

test_expect_success 'gc --workspace frees history-only data, with a warning' '
	cd repo &&
	cairn gc --workspace >out 2>err &&
	test_grep "^warning: --workspace" err &&
	test_must_fail cairn checkout -q -f --rev "$(cat ../saved/4.commit)" data &&
	cairn checkout -q -f && diff -r data ../saved-k$ITER &&
	cairn fsck >out &&
	test_grep "no problems" out &&
	test_grep "not in this store: " out
'

test_expect_success 'setup: a second repository with a remote' '
	git init -q r2 && cd r2 &&
	cairn init --chunk-size 256:1024:4096 &&
	mkdir data && echo header >data/log.csv &&
	rm -rf ../saved &&
	for n in 1 2 3; do commit_version $n || return 1; done &&
	cairn remote add -d origin "$TRASH_DIRECTORY/remote2" && git add -A && git commit -qm remote &&
	cairn push -q --all-commits &&
	side_branch rside 8000 &&
	git checkout -q rside && cairn push -q && git checkout -q main && cairn checkout -q -f &&
	git branch -D -q rside &&
	ls "$TRASH_DIRECTORY/remote2/packs" >../remote-packs.before
'

test_expect_success 'gc -r deletes nothing at its first run: it marks' '
	cd r2 &&
	sleep 1 &&
	cairn gc -r origin --git-remote . >out &&
	test_grep "0 deleted" out &&
	test_grep "^marks: [1-9][0-9]* packs marked for removal" out &&
	ls "$TRASH_DIRECTORY/remote2/packs" >../remote-packs.after &&
	test_cmp ../remote-packs.before ../remote-packs.after &&
	cairn gc -r origin --git-remote . >out &&
	test_grep "0 deleted" out &&
	test_grep "[1-9][0-9]* marked less than the grace period (86400 s) ago" out
'

test_expect_success 'gc -r --dry-run --grace 0 says what it would remove, removes nothing' '
	cd r2 &&
	cairn gc -r origin --git-remote . --grace 0 --dry-run --json >out.json &&
	python3 -c "
import json
d = json.load(open(\"out.json\"))
assert d[\"dry_run\"] and d[\"packs_deleted\"] >= 1 and d[\"bytes_freed\"] >= 300000, d
" &&
	ls "$TRASH_DIRECTORY/remote2/packs" >../remote-packs.after &&
	test_cmp ../remote-packs.before ../remote-packs.after
'

test_expect_success 'gc -r --grace 0 removes the packs only the deleted branch needed' '
	cd r2 &&
	cairn gc -r origin --git-remote . --grace 0 >out &&
	test_grep "[1-9][0-9]* deleted" out &&
	ls "$TRASH_DIRECTORY/remote2/packs" >../remote-packs.after &&
	! test_cmp ../remote-packs.before ../remote-packs.after >/dev/null &&
	sed -n "s/\.pack\$//p" ../remote-packs.after >packs &&
	sed -n "s/\.idx\$//p" ../remote-packs.after >idx &&
	test_cmp packs idx &&
	cairn fsck -r origin --read-data &&
	cairn gc -q &&
	test_must_fail cairn fetch -q --rev "$(cat ../rside.commit)" 2>err &&
	test_grep "does not have" err &&
	cd .. && git clone -q r2 r2-clone && cd r2-clone &&
	for n in 1 2 3
	do
		cairn pull -q -f --rev "$(cat ../saved/$n.commit)" &&
		diff -r data ../saved/$n || return 1
	done
'

test_done
