#!/bin/sh

test_description='cairn gc: roots by content, ignored pointers, shallow clones

A pointer blob is a root wherever git holds it, whatever its name: a
copy committed as data.cairn.v1, notes/old-pointer or a-copy (which git
rev-list may list first, under that name, while data.cairn has moved
on) keeps its version through local gc, gc --rev and gc -r, in several
orders, for a file and for a directory, and checkout --rev of the
commit where data.cairn named it restores it byte for byte. A copy
staged in the index under another name is a root too, and push
--all-commits sends what a copy names. A small file that is no pointer
is skipped, whatever it says; a newer pointer version under any name
stops gc.
Ignored: a pointer file in the work tree that git ignores is a root;
cairn add and import refuse to write a pointer file that git would
ignore (status, push and gc would not see it).
Shallow: in a shallow clone, gc and gc -r refuse unless --allow-shallow
is given.'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"

if ! test_have_prereq PYTHON3
then
	skip_all='python3 (>= 3.9) not found'
	test_done
fi

# new_repo NAME: a git repository with cairn in it, small chunks
new_repo () {
	git init -q "$1" &&
	(cd "$1" && cairn init --chunk-size 256:1024:4096 >/dev/null)
}

# version FILE SEED: FILE gets 20,000 bytes of its own, saved as FILE.SEED
version () {
	make_random "$1" 20000 "$2" &&
	cp "$1" "../v.$2"
}

# gc_keeps COMMIT SEED: after gc (and the gc run twice), checking out
# data at COMMIT (from the store: the work tree copy is removed first)
# gives the bytes saved for SEED
gc_keeps () {
	cairn gc -q && cairn gc -q &&
	cairn fsck >fsck.out &&
	test_grep "no problems" fsck.out &&
	rm -f data &&
	cairn checkout -q -f --rev "$1" data &&
	cmp data "../v.$2"
}

test_expect_success 'a copy committed beside data.cairn, then data.cairn changes' '
	new_repo r1 && cd r1 &&
	version data 1 && cairn add -q data && cp data.cairn data.cairn.v1 &&
	git add -A && git commit -qm v1 && c1=$(git rev-parse HEAD) &&
	version data 2 && cairn add -q data && git add -A && git commit -qm v2 &&
	gc_keeps $c1 1 &&
	cairn checkout -q -f && cmp data ../v.2
'

test_expect_success 'a copy made in the commit that changes data.cairn' '
	new_repo r2 && cd r2 &&
	version data 3 && cairn add -q data && git add -A && git commit -qm v1 &&
	c1=$(git rev-parse HEAD) &&
	mkdir notes && cp data.cairn notes/old-pointer &&
	version data 4 && cairn add -q data && git add -A && git commit -qm v2 &&
	gc_keeps $c1 3
'

test_expect_success 'a copy whose name sorts first, then data.cairn removed' '
	new_repo r3 && cd r3 &&
	version data 5 && cairn add -q data && cp data.cairn a-copy &&
	git add -A && git commit -qm v1 && c1=$(git rev-parse HEAD) &&
	git rm -q data.cairn && git commit -qm "drop the pointer" &&
	gc_keeps $c1 5
'

test_expect_success 'the copy on a tag only, the branch moved on' '
	new_repo r4 && cd r4 &&
	version data 6 && cairn add -q data && git add -A && git commit -qm v1 &&
	c1=$(git rev-parse HEAD) &&
	cp data.cairn 0-kept && git add 0-kept && git commit -qm copy && git tag copy &&
	git rm -q 0-kept && version data 7 && cairn add -q data && git add -A &&
	git commit -qm v2 &&
	gc_keeps $c1 6
'

test_expect_success 'a directory pointer copied under another name' '
	new_repo r5 && cd r5 &&
	mkdir data && make_random data/a 9000 8 && make_random data/b 9000 9 &&
	cp -r data ../dir.1 &&
	cairn add -q data && cp data.cairn data.cairn.orig &&
	git add -A && git commit -qm v1 && c1=$(git rev-parse HEAD) &&
	make_random data/a 9000 10 && rm data/b && cairn add -q data &&
	git add -A && git commit -qm v2 &&
	cairn gc -q && cairn fsck >fsck.out && test_grep "no problems" fsck.out &&
	rm -rf data && cairn checkout -q -f --rev $c1 data &&
	diff -r data ../dir.1
'

test_expect_success 'a copy staged in the index under another name' '
	new_repo r6 && cd r6 &&
	version data 11 && cairn add -q data && git add -A && git commit -qm v0 &&
	version data 12 && cairn add -q data && cp data.cairn staged-copy &&
	git add staged-copy &&
	version data 13 && cairn add -q data &&
	cairn gc -q &&
	cp staged-copy data.cairn && cairn checkout -q -f data &&
	cmp data ../v.12
'

test_expect_success 'gc -r keeps on the remote a version held only by a copy' '
	new_repo r7 && cd r7 &&
	cairn remote add -d origin "$TRASH_DIRECTORY/remote7" &&
	version data 14 && cairn add -q data && cp data.cairn data.cairn.v1 &&
	git add -A && git commit -qm v1 && c1=$(git rev-parse HEAD) &&
	cairn push -q &&
	version data 15 && cairn add -q data && git add -A && git commit -qm v2 &&
	cairn push -q &&
	sleep 1 && cairn gc -r origin --git-remote . --grace 0 -q &&
	cairn gc -r origin --git-remote . --grace 0 -q &&
	cd .. && git clone -q r7 r7-clone && cd r7-clone &&
	cairn pull -q -f --rev $c1 data &&
	cmp data ../v.14
'

test_expect_success 'gc --rev keeps a version that REV holds under another name' '
	new_repo r11 && cd r11 &&
	version data 23 && cairn add -q data && git add -A && git commit -qm v1 &&
	c1=$(git rev-parse HEAD) &&
	cp data.cairn backup && version data 24 && cairn add -q data &&
	git add -A && git commit -qm v2 && c2=$(git rev-parse HEAD) &&
	version data 25 && cairn add -q data &&
	cairn gc -q --rev $c2 2>/dev/null &&
	rm data && cairn checkout -q -f --rev $c1 data && cmp data ../v.23 &&
	rm data && cairn checkout -q -f --rev $c2 data && cmp data ../v.24
'

test_expect_success 'push --all-commits sends a version held only by a copy' '
	new_repo r12 && cd r12 &&
	cairn remote add -d origin "$TRASH_DIRECTORY/remote12" &&
	version data 26 && cairn add -q data && cp data.cairn data.cairn.v1 &&
	git add -A && git commit -qm v1 && c1=$(git rev-parse HEAD) &&
	version data 27 && cairn add -q data && git add -A && git commit -qm v2 &&
	cairn push -q --all-commits 2>err &&
	test_must_be_empty err &&
	cd .. && git clone -q r12 r12-clone && cd r12-clone &&
	cairn pull -q -f --rev $c1 data &&
	cmp data ../v.26
'

test_expect_success 'gc deletes the refs a killed gc -r left (and what only they kept), not those of one still running' '
	new_repo r30 && cd r30 &&
	git add -A && git commit -qm init && git checkout -q -b side &&
	version data 40 && cairn add -q data && git add -A && git commit -qm v1 &&
	old=$(git rev-parse HEAD) &&
	git checkout -q - && git branch -q -D side &&
	version data 41 && cairn add -q data && git add -A && git commit -qm v2 &&
	git reflog expire --expire=now --all &&
	dead=$(sh -c "echo \$\$") &&
	git update-ref refs/cairn/gc/$dead/heads/main $old &&
	git update-ref refs/cairn/gc/$$/heads/main $old &&
	cairn gc -q --dry-run &&
	git for-each-ref refs/cairn/gc/ >refs && test_line_count = 2 refs &&
	gc_keeps $old 40 &&
	git for-each-ref --format="%(refname)" refs/cairn/gc/ >refs &&
	echo refs/cairn/gc/$$/heads/main >expect && test_cmp expect refs &&
	git update-ref -d refs/cairn/gc/$$/heads/main &&
	cairn gc -q &&
	rm -f data && test_must_fail cairn checkout -q -f --rev $old data 2>err &&
	test_grep "not all in the store\|not in the store" err
'

test_expect_success 'a small file that is no pointer is skipped, whatever it says' '
	new_repo r13 && cd r13 &&
	version data 28 && cairn add -q data &&
	printf "version: 2\nservices: {}\n" >compose.yml &&
	printf "# cairn pointer: notes\nsee data.cairn\n" >notes.txt &&
	git add -A && git commit -qm v1 &&
	cairn gc >out &&
	test_grep "^roots: 1 pointer versions" out &&
	test_grep ! "^skipped" out
'

test_expect_success 'a newer pointer version under another name stops gc' '
	cd r13 &&
	sed "s/^version: 1/version: 9/" data.cairn >future-copy &&
	git add future-copy && git commit -qm future &&
	test_must_fail cairn gc 2>err &&
	test_grep "future-copy.*version 9" err &&
	test_grep "gc stops" err &&
	git reset -q --hard HEAD~1 &&
	cairn gc -q
'

test_expect_success 'add refuses a path whose pointer file git ignores' '
	new_repo r8 && cd r8 &&
	mkdir out && echo "out/" >.gitignore &&
	make_random out/model.bin 5000 16 &&
	test_must_fail cairn add out/model.bin 2>err &&
	test_grep "^error: .*out/model.bin.cairn.* ignored by git" err &&
	test_grep "\.gitignore:1" err &&
	test_grep "^hint: .*!\*\.cairn" err &&
	test_path_is_missing out/model.bin.cairn &&
	cairn stats --json >stats.json && test "$(json_get stats.json packs)" = 0
'

test_expect_success 'add works once the pointer files are un-ignored as the message says' '
	cd r8 &&
	printf "out/*\n!out/*.cairn\n" >.gitignore &&
	cairn add -q out/model.bin &&
	git ls-files --others --exclude-standard >listed &&
	test_grep "^out/model.bin.cairn$" listed
'

test_expect_success 'add of a path whose pointer file is tracked in an ignored directory' '
	cd r8 &&
	git add -A && git commit -qm model &&
	echo "out/" >.gitignore &&
	make_random out/model.bin 5000 17 &&
	cairn add -q out/model.bin
'

test_expect_success 'import refuses a path whose pointer file git ignores' '
	cd r8 &&
	mkdir -p ../tarsrc && make_random ../tarsrc/f 3000 19 &&
	tar cf ../a.tar -C ../tarsrc . &&
	mkdir -p ign && echo "ign/" >>.gitignore &&
	test_must_fail cairn import ../a.tar ign/ds 2>err &&
	test_grep "^error: .*ign/ds.cairn.* ignored by git" err &&
	test_path_is_missing ign/ds &&
	test_path_is_missing ign/ds.cairn
'

test_expect_success 'gc keeps what an ignored pointer file in the work tree names' '
	new_repo r9 && cd r9 &&
	mkdir -p scratch && version scratch/model 18 && cairn add -q scratch/model &&
	echo "scratch/" >.gitignore &&
	git ls-files --others --exclude-standard >listed &&
	test_grep ! "scratch/model.cairn" listed &&
	cairn gc -q && cairn gc -q &&
	rm scratch/model && cairn checkout -q scratch/model &&
	cmp scratch/model ../v.18
'

test_expect_success 'setup: a shallow clone' '
	new_repo r10 && cd r10 &&
	cairn remote add -d origin "$TRASH_DIRECTORY/remote10" &&
	for n in 20 21 22
	do
		version data $n && cairn add -q data && git add -A && git commit -qm v$n &&
		cairn push -q || return 1
	done &&
	cd .. && git clone -q --depth 1 "file://$TRASH_DIRECTORY/r10" r10-shallow &&
	(cd r10-shallow && cairn pull -q && cmp data ../v.22)
'

test_expect_success 'gc -r in a shallow clone refuses, unless --allow-shallow' '
	cd r10-shallow &&
	ls "$TRASH_DIRECTORY/remote10/packs" >../packs.before &&
	test_must_fail cairn gc -r origin --grace 0 2>err &&
	test_grep "^error: .*shallow" err &&
	test_grep "\-\-allow-shallow" err &&
	ls "$TRASH_DIRECTORY/remote10/packs" >../packs.after &&
	test_cmp ../packs.before ../packs.after &&
	cairn gc -r origin --grace 0 --allow-shallow --dry-run >out &&
	test_grep "would be deleted" out
'

test_expect_success 'local gc in a shallow clone refuses, unless --allow-shallow' '
	cd r10-shallow &&
	test_must_fail cairn gc 2>err &&
	test_grep "^error: .*shallow" err &&
	cairn gc --allow-shallow -q &&
	cairn gc --workspace -q 2>err &&
	test_grep ! shallow err &&
	cmp data ../v.22
'

test_expect_success 'the full history still restores every version' '
	cd r10 &&
	for n in 1 2 3
	do
		cairn checkout -q -f --rev HEAD~$((3 - n)) data &&
		cmp data ../v.$((19 + n)) || return 1
	done
'

test_done
