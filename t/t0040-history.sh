#!/bin/sh

test_description='versions in git: diff, checkout --rev, pull --rev, push --all-commits

A dataset changes over several commits on two branches with tags; every
revision is checked out without moving HEAD and compared byte for byte
with a copy saved when it was committed; diff lists exactly the files
that changed; a clone gets any revision from the remote after
push --all-commits; unknown revisions and absent pointers are errors.'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"

# commit_version N: change the dataset a little, add, commit, save a copy
commit_version () {
	n=$1 &&
	make_random data/f$((n % 4)) $((1000 + n * 37)) $n &&
	echo "row $n" >>data/log.csv &&
	if test $((n % 5)) = 0; then rm -f data/f3; fi &&
	if test $((n % 7)) = 0; then mkdir -p data/sub$n && echo $n >data/sub$n/x; fi &&
	save_version $n
}

test_expect_success 'setup: 30 commits on main and a branch, with tags' '
	git init -q repo && cd repo &&
	cairn init --chunk-size 256:1024:4096 &&
	mkdir data && echo header >data/log.csv &&
	for n in $(test_seq 1 20); do commit_version $n || return 1; done &&
	git tag v1.0 &&
	git checkout -q -b side &&
	for n in $(test_seq 21 25); do commit_version $n || return 1; done &&
	git tag v1.1-side &&
	git checkout -q main &&
	for n in $(test_seq 26 30); do commit_version $n || return 1; done &&
	git merge -q --no-edit -s ours side &&
	test "$(git rev-list --count HEAD)" -ge 31
'

test_expect_success 'checkout --rev of every revision reproduces its bytes; HEAD does not move' '
	cd repo &&
	head=$(git rev-parse HEAD) &&
	for n in $(test_seq 1 30); do
		cairn checkout -q -f --rev "$(cat ../saved/$n.commit)" data &&
		diff -r data ../saved/$n || return 1
	done &&
	test "$(git rev-parse HEAD)" = "$head" &&
	git diff --quiet -- data.cairn &&
	cairn checkout -q -f && diff -r data ../saved/30
'

test_expect_success 'checkout --rev with a tag and with HEAD~N' '
	cd repo &&
	cairn checkout -q -f --rev v1.0 && diff -r data ../saved/20 &&
	cairn checkout -q -f --rev v1.1-side data && diff -r data ../saved/25 &&
	cairn checkout -q -f --rev HEAD~1 && diff -r data ../saved/30 &&
	cairn checkout -q -f
'

test_expect_success 'checkout --rev refuses to drop unstored local changes' '
	cd repo &&
	echo mine >data/mine.txt &&
	test_must_fail cairn checkout --rev v1.0 2>err &&
	test_grep "local changes" err &&
	test_path_is_file data/mine.txt &&
	rm data/mine.txt
'

test_expect_success 'diff between two revisions lists exactly what changed' '
	cd repo &&
	c1=$(cat ../saved/5.commit) && c2=$(cat ../saved/6.commit) &&
	cairn diff "$c1" "$c2" >out &&
	test_grep "^M  data/log.csv" out &&
	test_grep "^M  data/f2" out &&
	(cd ../saved && diff -rq 5 6 | wc -l) >expect.n &&
	grep -c "^[AMD]  " out >actual.n &&
	test_cmp expect.n actual.n
'

test_expect_success 'diff --json and --stat agree with the text' '
	cd repo &&
	cairn diff --json v1.0 HEAD >out.json &&
	python3 -c "
import json,sys
d = json.load(open(\"out.json\"))
p = d[\"paths\"][0]
assert p[\"path\"] == \"data\"
assert len(p[\"changes\"]) == p[\"added\"] + p[\"deleted\"] + p[\"modified\"]
print(p[\"added\"], p[\"deleted\"], p[\"modified\"])
" >counts &&
	cairn diff --stat v1.0 HEAD >stat &&
	read a d m <counts &&
	test_grep "data: $a added, $d deleted, $m modified" stat
'

test_expect_success 'diff of the work tree against the pointer, and against a revision' '
	cd repo &&
	cairn diff >out && test_must_be_empty out &&
	echo extra >data/new.txt && make_random data/f1 999 77 &&
	cairn diff >out &&
	test_grep "^A  data/new.txt" out && test_grep "^M  data/f1" out &&
	cairn diff v1.0 >out2 && test_grep "^A  data/new.txt" out2 &&
	rm data/new.txt && cairn checkout -q -f
'

test_expect_success 'diff of two pointer files' '
	cd repo &&
	git show v1.0:data.cairn >../a.cairn && cp data.cairn ../b.cairn &&
	cairn diff ../a.cairn ../b.cairn >out &&
	cairn diff v1.0 HEAD >out2 &&
	grep -c "^[AMD]" out >n1 && grep -c "^[AMD]" out2 >n2 && test_cmp n1 n2
'

test_expect_success 'bad input: unknown revision, pointer absent at a revision' '
	cd repo &&
	test_must_fail cairn checkout --rev no-such-rev 2>err && test_grep "^error: unknown revision" err &&
	test_must_fail cairn checkout --rev v1.0 nothere 2>err && test_grep "^error: .nothere.cairn. does not exist at" err &&
	test_must_fail cairn diff v1.0 -- nothere 2>err && test_grep "^error: " err &&
	test_must_fail cairn diff --frob 2>err && test_grep "^usage: cairn diff" err
'

test_expect_success 'push --all-commits; a clone pulls any revision' '
	cd repo &&
	cairn remote add -d origin "$TRASH_DIRECTORY/remote" && git add -A && git commit -qm remote &&
	cairn push --all-commits >out && test_grep "^pushed" out &&
	cd .. && git clone -q repo clone && cd clone &&
	cairn pull -q --rev v1.0 && diff -r data ../saved/20 &&
	cairn pull -q -f --rev "$(cat ../saved/3.commit)" && diff -r data ../saved/3 &&
	cairn pull -q -f --rev v1.1-side && diff -r data ../saved/25 &&
	cairn pull -q -f && diff -r data ../saved/30
'

test_expect_success 'pull --rev of a revision whose data the remote lacks: a clear error' '
	cd repo &&
	make_random data/only-local 5000 99 && cairn add -q data && git add -A && git commit -qm local &&
	cd ../clone && git pull -q --no-rebase ../repo main &&
	test_must_fail cairn pull --rev HEAD 2>err &&
	test_grep "^error: remote .origin. does not have" err
'

test_expect_success 'log lists every commit of the dataset with its version' '
	cd repo &&
	git log --format=%H -- data.cairn >expect &&
	cairn log data >out &&
	sed -n "s/^commit //p" out >actual &&
	test_cmp expect actual &&
	cairn log --json data.cairn >out.json &&
	python3 -c "
import json
d = json.load(open(\"out.json\"))
assert d[\"path\"] == \"data\"
first = d[\"commits\"][-1]
assert first[\"added\"] >= 1 and first[\"deleted_files\"] == 0 and first[\"modified\"] == 0, first
for c in d[\"commits\"]:
    assert len(c[\"id\"]) == 32 and c[\"size\"] > 0
print(len(d[\"commits\"]))
" >n && test "$(cat n)" = "$(wc -l <expect)" &&
	cairn log -n 3 data | grep -c "^commit " >three && test "$(cat three)" = 3
'

test_expect_success 'log: the +/- counts match diff between consecutive versions' '
	cd repo &&
	c5=$(cat ../saved/5.commit) && c6=$(cat ../saved/6.commit) &&
	cairn diff --json "$c5" "$c6" >d.json &&
	cairn log --json data >l.json &&
	python3 -c "
import json
d = json.load(open(\"d.json\"))[\"paths\"][0]
for c in json.load(open(\"l.json\"))[\"commits\"]:
    if c[\"commit\"] == \"$c6\":
        assert (c[\"added\"], c[\"deleted_files\"], c[\"modified\"]) == (d[\"added\"], d[\"deleted\"], d[\"modified\"]), (c, d)
        break
else:
    raise SystemExit(\"commit not in log\")
"
'

test_expect_success 'log of an untracked path, and bad usage' '
	cd repo &&
	cairn log nothing >out && test_grep "no commit changed" out &&
	test_must_fail cairn log 2>err && test_grep "^usage: cairn log" err &&
	test_must_fail cairn log a b 2>err && test_grep "^usage: cairn log" err
'

test_expect_success 'a longer history: 50 commits, tags, a branch merged back with --no-ff' '
	cd repo &&
	git checkout -q -b long &&
	for n in $(test_seq 31 50)
	do
		commit_version $n &&
		if test $((n % 5)) = 0; then git tag long-$n; fi || return 1
	done &&
	git checkout -q main &&
	git merge -q --no-ff --no-edit long &&
	test "$(git rev-list --count HEAD)" -ge 52 &&
	cairn checkout -q -f && diff -r data ../saved/50 &&
	head=$(git rev-parse HEAD) &&
	for n in $(test_seq 1 50)
	do
		cairn checkout -q -f --rev "$(cat ../saved/$n.commit)" data &&
		diff -r data ../saved/$n || return 1
	done &&
	for t in 35 40 45 50
	do
		cairn checkout -q -f --rev long-$t && diff -r data ../saved/$t || return 1
	done &&
	test "$(git rev-parse HEAD)" = "$head" &&
	cairn checkout -q -f &&
	# the same commits as git log of the pointer (which, like git, leaves
	# out the side branch that the "-s ours" merge discarded)
	cairn log --json data >log.json &&
	git log --format=%H -- data.cairn >git-log &&
	test $(wc -l <git-log) -ge 45 &&
	python3 -c "
import json, sys
got = [c[\"commit\"] for c in json.load(open(\"log.json\"))[\"commits\"]]
want = open(\"git-log\").read().split()
assert got == want, (len(got), len(want))
"
'

test_done
