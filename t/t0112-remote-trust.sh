#!/bin/sh

test_description='what push, fetch, add and fsck -r take from a remote on trust

On a directory remote and on one reached over SSH (a real sshd):

A manifest planted on the remote under the id of a file someone is about
to push (a file of several chunks, and one of one chunk) (anyone who can write to the remote can: a manifest is stored
under its file'"'"'s id, and the id is in the committed pointer) must not
make push skip that file: push uploads its own, a fresh clone pulls the
file byte for byte, a clone that meets only the planted one refuses it
and keeps nothing of it, add replaces a planted manifest found in its
store, a clone that holds it already (as the walks of gc -r and fsck -r
may leave it) gets the right one at its next pull, and fsck -r
--read-data names it (t/helper/plant-manifest).

A remote that lost a pack below a tree it still has (the pack holding
one file'"'"'s chunks is deleted, the pack of the trees stays): fsck -r
names what the branches need and the remote lacks, push sends it again,
and a fresh clone then pulls byte for byte.'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"
. "$TEST_DIRECTORY/lib-sshd.sh"

if ! test_have_prereq PYTHON3
then
	skip_all='python3 (>= 3.9) not found'
	test_done
fi

start_sshd

# rdir KIND N: the directory that holds the files of remote N of KIND.
rdir () {
	case $1 in
	dir) echo "$TRASH_DIRECTORY/r-dir$2" ;;
	ssh) echo "$SSH_ROOT/r-ssh$2" ;;
	esac
}

# rurl KIND N: its URL.
rurl () {
	case $1 in
	dir) echo "$TRASH_DIRECTORY/r-dir$2" ;;
	ssh) echo "testhost:$SSH_ROOT/r-ssh$2" ;;
	esac
}

# new_repo DIR KIND N: a git repository with cairn, remote origin = N of KIND.
new_repo () {
	git init -q "$1" &&
	(
		cd "$1" &&
		cairn init --chunk-size 1K:4K:16K >/dev/null &&
		cairn remote add -d origin "$(rurl $2 $3)" >/dev/null
	)
}

# fresh_clone SRC DST: a git clone of SRC that pulls its data.
fresh_clone () {
	rm -rf "$2" &&
	git clone -q "$1" "$2" &&
	(cd "$2" && cairn pull -q)
}

for kind in dir ssh
do
	test_expect_success "$kind: a manifest planted under a file's id does not stop push from sending the file" '
		R=$(rdir $kind 1) &&
		new_repo victim-$kind $kind 1 &&
		new_repo evil-$kind $kind 1 &&
		make_random big 40000 1 &&
		make_random small 900 5 &&
		(
			cd victim-$kind &&
			cp ../big ../small . &&
			cairn add -q big small &&
			git add -A && git commit -qm big
		) &&
		id=$(ptr_val victim-$kind/big.cairn id) &&
		sid=$(ptr_val victim-$kind/small.cairn id) &&
		(
			cd evil-$kind &&
			make_random other 40000 2 &&
			cairn add -q other &&
			cairn push -q &&
			plant-manifest "$(ptr_val other.cairn id)" "$id" "$R/packs" >../planted-$kind &&
			plant-manifest "$(ptr_val other.cairn id)" "$sid" "$R/packs" >/dev/null
		) &&
		(cd victim-$kind && cairn push >../push.out) &&
		pushed=$(sed -n "s/^pushed \([0-9]*\) objects.*/\1/p" push.out) &&
		test "$pushed" -gt 0 &&
		fresh_clone victim-$kind fresh-$kind &&
		cmp big fresh-$kind/big &&
		cmp small fresh-$kind/small &&
		(cd fresh-$kind && cairn fsck -q)
	'

	test_expect_success "$kind: a clone whose store holds the planted manifest pulls the right one" '
		R=$(rdir $kind 1) &&
		rm -rf stale-$kind &&
		git clone -q victim-$kind stale-$kind &&
		(
			cd stale-$kind &&
			pk=$(cat ../planted-$kind) &&
			mkdir -p .cairn/store/packs &&
			cp "$R/packs/$pk.pack" "$R/packs/$pk.idx" .cairn/store/packs/ &&
			test_must_fail cairn fsck -q --rebuild-index >out 2>&1 &&
			cairn pull -q &&
			cmp ../big big &&
			cairn fsck -q
		)
	'

	test_expect_success "$kind: a push after it has nothing to send, with its remote cache or without" '
		(cd victim-$kind && cairn push >../push2.out) &&
		test_grep "^pushed 0 objects" push2.out &&
		(cd victim-$kind && rm -rf .cairn/state && cairn push >../push3.out) &&
		test_grep "^pushed 0 objects" push3.out
	'

	test_expect_success "$kind: fsck -r --read-data names the planted manifest" '
		(
			cd victim-$kind &&
			test_must_fail cairn fsck -r origin --read-data >../fsck.out
		) &&
		test_grep "^bad-manifest: .*$id.*$(cat planted-$kind)" fsck.out &&
		test_grep ! "missing-object" fsck.out
	'

	test_expect_success "$kind: a clone that meets only the planted manifest refuses it and keeps nothing" '
		R=$(rdir $kind 1) &&
		rm -rf only-$kind &&
		cp -R "$R" only-remote-$kind &&
		chmod -R u+w only-remote-$kind &&
		for p in only-remote-$kind/packs/*.idx
		do
			if idx_entries "$p" | grep -q "^$id 2 " &&
			   test "$(basename "$p" .idx)" != "$(cat planted-$kind)"
			then
				rm -f "$p" "${p%.idx}.pack" || return 1
			fi
		done &&
		git clone -q victim-$kind only-$kind &&
		(
			cd only-$kind &&
			cairn remote add -d only "$TRASH_DIRECTORY/only-remote-$kind" >/dev/null &&
			test_must_fail cairn pull -r only 2>err &&
			test_grep "^error: .*manifest of file $id.*rebuilds it" err &&
			test_path_is_missing big &&
			cairn fsck -q
		)
	'

	test_expect_success "$kind: add replaces a planted manifest found in its store" '
		R=$(rdir $kind 1) &&
		(
			cd only-$kind &&
			pk=$(cat ../planted-$kind) &&
			cp "$R/packs/$pk.pack" "$R/packs/$pk.idx" .cairn/store/packs/ &&
			test_must_fail cairn fsck -q --rebuild-index >out 2>&1 &&
			test_grep "^bad-file: file $id" out &&
			cp ../big big &&
			cairn add -q big &&
			cairn fsck -q &&
			rm big &&
			cairn checkout -q big &&
			cmp ../big big
		)
	'

	test_expect_success "$kind: a remote that lost a pack below a tree it has: fsck -r names it, push sends it again" '
		R=$(rdir $kind 2) &&
		new_repo lost-$kind $kind 2 &&
		(
			cd lost-$kind &&
			mkdir d &&
			make_random d/a 20000 3 &&
			cairn add -q d &&
			git add -A && git commit -qm d1 &&
			cairn push -q &&
			ls "$R/packs" >../packs.before &&
			make_random d/b 30000 4 &&
			cairn add -q d &&
			git add -A && git commit -qm d2 &&
			cairn push -q &&
			cairn fsck -q -r origin
		) &&
		ls "$R/packs" >packs.after &&
		comm -13 packs.before packs.after | sed -n "s/\.idx$//p" >new.packs &&
		test_line_count = 2 new.packs &&
		lost= &&
		for p in $(cat new.packs)
		do
			if ! idx_entries "$R/packs/$p.idx" | grep -qv " 1 [0-9]* [0-9]*\$"
			then
				lost=$p
			fi
		done &&
		test -n "$lost" &&
		chmod u+w "$R/packs" &&
		rm -f "$R/packs/$lost.idx" "$R/packs/$lost.pack" &&
		(
			cd lost-$kind &&
			test_must_fail cairn fsck -r origin >../fsck.out &&
			test_grep "^missing-object: .*lacks chunk" ../fsck.out &&
			cairn push >../push.out &&
			cairn fsck -q -r origin
		) &&
		pushed=$(sed -n "s/^pushed \([0-9]*\) objects.*/\1/p" push.out) &&
		test "$pushed" -gt 0 &&
		fresh_clone lost-$kind fresh2-$kind &&
		same_tree lost-$kind/d fresh2-$kind/d
	'
done

test_done
