#!/bin/sh

test_description='hostile remotes, end to end, on a directory and over ssh

Neither a remote nor a collaborator who can commit and push is trusted.
An attacker plants, on a directory remote and on one reached over SSH
(a real sshd), trees whose entries are named ".", "..", ".git" and its
disguises, "git~1", "C:", names with a backslash or a slash, and a
4,096-byte name (t/helper/plant-tree, as push would refuse to send
them); a symlink beside a name differing from it only in case; commits
pointer files whose names stand for "..", ".git" or ".cairn"; a pointer
below a symlink of a tree; a manifest carrying another file'"'"'s chunks
(t/helper/pack-swap); and malformed packs and pack indexes: truncated,
wrong magic and version, lengths and offsets past the end, an index
naming another pack (t/helper/pack-forge). A second clone pulls and
checks out: each is refused with an error: line and a non-zero exit,
nothing is written outside its work tree (a canary, the directory a
symlink points to, and the remotes are compared before and after), and
the malformed packs leave the local store fsck-clean.'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"
. "$TEST_DIRECTORY/lib-sshd.sh"

if ! test_have_prereq PYTHON3
then
	skip_all='python3 (>= 3.9) not found'
	test_done
fi

start_sshd

# jail/victim is the only place a pull may write; jail/canary,
# jail/outside (what the planted symlink names) and everything else in
# jail must stay as they are.
JAIL=$TRASH_DIRECTORY/jail
RDIR=$TRASH_DIRECTORY/rdir
RSSH=$SSH_ROOT/rssh
ZW=$(printf "\342\200\213")

# jail_state: every name, type, mode, size, mtime and link target in
# the jail but the victim's work tree, then the victim's .git, then
# both remotes (a pull never writes to a remote).
jail_state () {
	(cd "$JAIL" && find . -path ./victim -prune -o -printf "%y %M %s %T@ %p %l\n" | sort) &&
	if test -d "$JAIL/victim/.git"
	then
		(cd "$JAIL/victim/.git" && find . -printf "%y %M %s %T@ %p %l\n" | sort)
	fi &&
	(cd "$RDIR" && find . -printf "%y %M %s %T@ %p\n" | sort) &&
	(cd "$RSSH" && find . -printf "%y %M %s %T@ %p\n" | sort)
}

# victim BRANCH: a fresh clone of the attacker's BRANCH in jail/victim,
# with the remotes the attacker committed (origin: the directory, ssh).
victim () {
	rm -rf "$JAIL/victim" &&
	git clone -q -b "$1" evil "$JAIL/victim"
}

# plant BRANCH PATH NEW: on a new branch BRANCH of the attacker's repo
# (from base), rename the entry PATH of d/ to NEW, plant the new trees on
# both remotes, and commit the pointer that names them.
plant () {
	(
		cd evil &&
		git checkout -q -f -B "$1" base &&
		pack=$(plant-tree --rename d.cairn "$2" "$3" "$RDIR/packs") &&
		cp "$RDIR/packs/$pack.pack" "$RDIR/packs/$pack.idx" "$RSSH/packs/" &&
		git commit -qam "$1"
	)
}

test_expect_success 'setup: the attacker pushes a dataset to a directory and over ssh' '
	mkdir -p "$JAIL/outside" &&
	echo "do not touch" >"$JAIL/canary" &&
	echo "outside the work tree" >"$JAIL/outside/o" &&
	git init -q evil && (
		cd evil &&
		cairn init --chunk-size 1K:4K:16K >/dev/null &&
		mkdir -p d/m &&
		echo a >d/a && echo b >d/b && echo x >d/m/x &&
		make_random d/big 40000 1 && make_random d/big2 40000 2 &&
		ln -s ../../outside d/L &&
		make_random f.bin 6000 3 &&
		cairn add -q d f.bin &&
		cairn remote add -d origin "$RDIR" &&
		cairn remote add ssh "testhost:$RSSH" &&
		git add -A && git commit -qm base && git branch base &&
		cairn push -q && cairn push -q -r ssh
	) &&
	cp -R evil/d orig &&
	(cd evil && cairn ls --json d) >ls.json &&
	for f in big big2
	do
		sed -n "s/.*\"path\":\"$f\",[^}]*\"id\":\"\([0-9a-f]*\)\".*/\1/p" ls.json >$f.id &&
		test_line_count = 1 $f.id || return 1
	done &&
	for i in "$RDIR"/packs/*.idx
	do
		if idx_entries "$i" | grep -q "^$(cat big.id) 2 "
		then
			basename "$i" .idx
		fi
	done >meta.pack &&
	test_line_count = 1 meta.pack &&
	test_path_is_file "$RSSH/packs/$(cat meta.pack).pack" &&
	test_path_is_file "$RDIR/cairn-remote" &&
	test_path_is_file "$RSSH/cairn-remote" &&
	victim base &&
	(cd "$JAIL/victim" && cairn pull -q && cairn pull -q -r ssh) &&
	same_tree orig "$JAIL/victim/d" &&
	test "$(readlink "$JAIL/victim/d/L")" = ../../outside
'

# The names a planted tree entry may have that cairn never writes:
# index, then the name (the 4,096-byte one is made here).
tree_names () {
	printf "%s\n" 1 . 2 .. 3 .git 4 .GIT 5 .git. 6 git~1 7 "$ZW.git" 8 ".git$ZW" \
		9 "a\\b" 10 "$JAIL/pwned" 11 ../../pwned 12 C: \
		13 "$(printf "%4096s" "" | tr " " n)"
}
tree_names >names &&
while read -r i && read -r name
do
	test_expect_success "a planted tree entry named $(printf "%.24s" "$name"): pull and checkout refuse it, on both remotes" '
		plant tree$i a "$name" &&
		for remote in origin ssh
		do
			victim tree$i &&
			refused "tree of .d.: tree has a forbidden entry name" cairn pull -r $remote &&
			test_grep "nothing was stored for it" err &&
			refused "not in the store" cairn checkout -f &&
			test_path_is_missing "$JAIL/pwned" &&
			test_path_is_missing "$JAIL/victim/d" &&
			# the planted tree was refused before it reached the store
			(cd "$JAIL/victim" && test_must_fail cairn ls d 2>../../ls.err) &&
			test_grep "not in the store" ls.err &&
			(cd "$JAIL/victim" && cairn fsck -q) || return 1
		done
	'
done <names

test_expect_success 'a planted entry deeper down (d/m/.git) is refused the same way' '
	plant deep m/x .git &&
	for remote in origin ssh
	do
		victim deep &&
		refused "tree of .d/m.: tree has a forbidden entry name \".git\"" cairn pull -r $remote &&
		refused "not in the store" cairn checkout -f &&
		test_path_is_missing "$JAIL/victim/d/m" &&
		(cd "$JAIL/victim" && cairn fsck -q) || return 1
	done
'

test_expect_success 'a symlink and a directory differing from it only in case are refused' '
	plant case m l &&
	for remote in origin ssh
	do
		victim case &&
		refused "\"L\" and \"l\" differ only in case, and one is a symlink" cairn pull -r $remote &&
		refused "not in the store" cairn checkout -f &&
		test_path_is_missing "$JAIL/victim/d" &&
		(cd "$JAIL/victim" && cairn fsck -q) || return 1
	done
'

# Pointer files whose names stand for a path cairn never writes: each
# committed beside the good d.cairn, with d's version in it.
pointer_names () {
	printf "%s\n" ..cairn ...cairn .git.cairn .GIT.cairn .git..cairn git~1.cairn \
		sub/.git.cairn sub/..cairn .cairn.cairn "$ZW.git$ZW.cairn" "a\\b.cairn" C:.cairn
}

test_expect_success 'pointers named for .., .git, .cairn and their disguises: pull -f refuses each, d still comes' '
	pointer_names >pointers &&
	(
		cd evil &&
		git checkout -q -f -B ptrs base &&
		mkdir -p sub &&
		while IFS= read -r p
		do
			cp d.cairn "$p" && git add -f "$p" || return 1
		done <../pointers &&
		git commit -qm pointers
	) &&
	for remote in origin ssh
	do
		victim ptrs &&
		git -C "$JAIL/victim" ls-files -z | tr "\0" "\n" | sort >tracked &&
		sort pointers | comm -23 - tracked >untracked &&
		test_must_be_empty untracked &&
		refused "refusing to write .*forbidden path component" cairn pull -f -r $remote &&
		grep "^error: refusing to write" err >refusals &&
		test_line_count = 12 refusals &&
		refused "refusing to write .*forbidden path component" cairn checkout -f &&
		same_tree orig "$JAIL/victim/d" &&
		git -C "$JAIL/victim" status --porcelain >status &&
		test_must_be_empty status &&
		(cd "$JAIL/victim" && cairn fsck -q) || return 1
	done
'

test_expect_success 'a pointer committed below the symlink a tree holds: nothing is written through it' '
	(
		cd evil &&
		git checkout -q -f -B below base &&
		echo "through the link" >pw && cairn add -q pw &&
		cairn push -q && cairn push -q -r ssh &&
		blob=$(git hash-object -w pw.cairn) && rm pw pw.cairn &&
		git update-index --add --cacheinfo 100644,$blob,d/L/o.cairn &&
		git commit -qm below
	) &&
	for remote in origin ssh
	do
		victim below &&
		refused "tracked paths cannot nest" cairn pull -f -r $remote &&
		test_path_is_dir "$JAIL/victim/d/L" &&
		test "$(cat "$JAIL/outside/o")" = "outside the work tree" || return 1
	done
'

test_expect_success 'pull --rev of that commit after the symlink is there: refused, nothing written through it' '
	for remote in origin ssh
	do
		victim base &&
		(cd "$JAIL/victim" && cairn pull -q -r $remote) &&
		test -h "$JAIL/victim/d/L" &&
		refused "d/L. is a symlink; cairn does not write through symlinks" \
			cairn pull -f -r $remote --rev origin/below &&
		refused "d/L. is a symlink" cairn checkout -f --rev origin/below &&
		test -h "$JAIL/victim/d/L" &&
		test_path_is_missing "$JAIL/outside/o.cairn" || return 1
	done
'

# bad_remote KIND: a fresh copy of the attacker's remote of KIND (dir or
# ssh) at $BAD, and a victim (on base) whose remote "bad" is that copy.
bad_remote () {
	case $1 in
	dir) BAD=$TRASH_DIRECTORY/bad-dir BAD_URL=$BAD SRC=$RDIR ;;
	ssh) BAD=$SSH_ROOT/bad BAD_URL="testhost:$SSH_ROOT/bad" SRC=$RSSH ;;
	esac &&
	rm -rf "$BAD" && cp -R "$SRC" "$BAD" && chmod -R u+w "$BAD" &&
	victim base &&
	(cd "$JAIL/victim" && cairn remote add --local bad "$BAD_URL")
}

test_expect_success 'a manifest carrying another file'"'"'s chunks: the file is refused, no wrong byte' '
	for kind in dir ssh
	do
		bad_remote $kind &&
		pack-swap "$BAD/packs" "$(cat meta.pack)" "$(cat big.id)" "$(cat big2.id)" >/dev/null &&
		refused "d/big" cairn pull -r bad &&
		test_path_is_missing "$JAIL/victim/d/big" &&
		no_wrong_bytes orig "$JAIL/victim/d" &&
		refused "d/big" cairn checkout -f &&
		no_wrong_bytes orig "$JAIL/victim/d" || return 1
	done
'

# forge KIND VARIANT: a copy of the remote with its chunk pack (the
# largest) made malformed; the pack's name after that in $hex.
forge () {
	bad_remote $1 &&
	pack=$(ls -S "$BAD"/packs/*.pack | head -n 1) &&
	hex=$(basename "$pack" .pack) &&
	case $2 in
	idx-empty) : >"$BAD/packs/$hex.idx" ;;
	idx-short) truncate -s 40 "$BAD/packs/$hex.idx" ;;
	idx-half) truncate -s $(( $(size_of "$BAD/packs/$hex.idx") / 2 )) "$BAD/packs/$hex.idx" ;;
	pack-empty) : >"$pack" ;;
	pack-short-header) truncate -s 10 "$pack" ;;
	pack-header-only) truncate -s 16 "$pack" ;;
	*) hex=$(pack-forge "$BAD/packs" "$hex" $2) ;;
	esac
}

# A malformed index fails the refresh, so every fetch; a malformed pack
# fails a fetch that adopts it whole, and a fetch of a part of it (one
# read of the pack, or ranges) either fails naming it or gets only
# objects that verify.
for variant in idx-magic idx-version idx-count idx-past-end idx-len-past-end idx-other-pack \
	idx-empty idx-short idx-half idx-size-lie pack-magic pack-entry-len pack-entry-type \
	pack-empty pack-short-header pack-header-only
do
	test_expect_success "a malformed pack on the remote ($variant): fetch refuses it, the store stays fsck-clean" '
		for kind in dir ssh
		do
			forge $kind $variant &&
			refused "$hex" cairn fetch -r bad &&
			refused "$hex" cairn pull -r bad &&
			(cd "$JAIL/victim" && cairn fsck -q) &&
			no_wrong_bytes orig "$JAIL/victim/d" &&
			case $variant in
			idx-size-lie|pack-*) parts="d f.bin" ;;
			*) parts= ;;
			esac &&
			for what in $parts
			do
				victim base &&
				(cd "$JAIL/victim" && cairn remote add --local bad "$BAD_URL") &&
				jail_state >state.before &&
				(cd "$JAIL/victim" && test_might_fail cairn pull -r bad $what >../../out 2>../../err) &&
				jail_state >state.after &&
				test_cmp state.before state.after &&
				{ test_must_be_empty err || test_grep "^error: .*$hex" err; } &&
				(cd "$JAIL/victim" && cairn fsck -q) &&
				no_wrong_bytes orig "$JAIL/victim/d" &&
				{ test_path_is_missing "$JAIL/victim/f.bin" || cmp evil/f.bin "$JAIL/victim/f.bin"; } ||
				return 1
			done
		done
	'
done

test_expect_success 'after all that, pulling from the good remotes completes' '
	for remote in origin ssh
	do
		victim base &&
		(cd "$JAIL/victim" && cairn pull -q -r $remote && cairn fsck -q) &&
		same_tree orig "$JAIL/victim/d" || return 1
	done
'

# sync_fetch() removes only a fetch-incomplete mark it set itself: what an
# earlier, failed fetch left half done is still reported by fsck as
# incomplete (not as missing objects, exit 1) after a fetch of other paths.
test_expect_success 'a fetch that completes does not hide from fsck what an earlier one left unfinished' '
	bad_remote dir &&
	pack=$(ls -S "$BAD"/packs/*.pack | head -n 1) &&
	rm -f "${pack%.pack}.idx" &&
	(
		cd "$JAIL/victim" &&
		test_must_fail cairn pull -r bad d 2>../../err &&
		cairn fsck -q &&
		cairn pull -q -r origin f.bin &&
		cairn fsck -q
	)
'

# A remote's index file is read whole but never past 1 GiB, and a small
# pack read in one request never past the size its index records (plus
# one byte, to see it is not bigger), so a remote cannot make cairn
# allocate what it likes: a sparse 2 TiB file gets a clean error.
# capped (lib-cairn.sh): at most 4 GB of address space, so that a system
# that overcommits without limit never tries to fill 2 TiB.

test_expect_success 'an index file of 2 TiB (sparse) on a remote: a clean error, not an abort' '
	bad_remote dir &&
	idx=$(ls "$BAD"/packs/*.idx | head -n 1) &&
	truncate -s 2T "$idx" &&
	refused "$(basename "$idx")" capped cairn fetch -r bad
'

test_expect_success 'a pack of 2 TiB (sparse) whose index says it is small: a clean error, not an abort' '
	bad_remote dir &&
	pack=$(ls -S "$BAD"/packs/*.pack | head -n 1) &&
	truncate -s 2T "$pack" &&
	refused "$(basename "$pack" .pack)" capped cairn pull -r bad d
'

test_done
