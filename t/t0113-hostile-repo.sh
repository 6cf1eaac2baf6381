#!/bin/sh

test_description='hostile repositories: what a clone brings into .cairn/ and the work tree

A collaborator who can commit and push is not trusted. Besides
.cairn/config and .cairn/.gitignore, git can be made to commit anything
under .cairn/ (git add -f): symlinks for .cairn itself, store, state,
audit and the files in them (the audit log of the clone id it also
commits, pointing at a shell start-up file; the store of another
project on the same disk), and regular files cairn keeps local (a clone
id, a forged audit chain, config.local, LMDB files). A victim clones it
and runs pull, gc, add, status and audit: each is refused with an
error: line and a non-zero exit, and nothing outside the work tree
changes (content and mtime of the canaries; the other project stays
fsck-clean). Symlinks planted at the names temp files used to have
(NAME.tmp-PID, many PIDs) do not make add or checkout write through
them.'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"

if ! test_have_prereq PYTHON3
then
	skip_all='python3 (>= 3.9) not found'
	test_done
fi

# jail/victim is the only place the victim's commands may write; the
# rest of jail (the canary "bashrc", the directory "outside", the other
# project's store) must stay as it is.
JAIL=$TRASH_DIRECTORY/jail
RDIR=$TRASH_DIRECTORY/rdir
CLONE_ID=0123456789abcdef0123456789abcdef

# jail_state: name, type, mode, size, mtime, link target and checksum of
# everything in the jail but the victim's work tree.
jail_state () {
	(cd "$JAIL" && find . -path ./victim -prune -o -printf "%y %M %s %T@ %p %l\n" | sort) &&
	(cd "$JAIL" && find . -path ./victim -prune -o -type f -exec md5sum {} + | sort)
}

# victim BRANCH: a fresh clone of the attacker's BRANCH in jail/victim.
victim () {
	rm -rf "$JAIL/victim" &&
	git clone -q -b "$1" forge "$JAIL/victim"
}

# plant BRANCH: a new branch of the forge (from base), with what the
# commands on stdin (run in the forge) put there committed, forced past
# .gitignore.
plant () {
	(
		cd forge &&
		git checkout -q -f -B "$1" base &&
		sh -e &&
		git add -f -A &&
		git commit -qm "$1"
	)
}

# test_dir_is_empty_but_o DIR: DIR holds the file o and nothing else.
test_dir_is_empty_but_o () {
	ls -A "$1" >ls.out &&
	echo o >ls.expect &&
	test_cmp ls.expect ls.out
}

# all_refused PATTERN: pull, gc, add, status, audit and fsck are refused.
all_refused () {
	for c in pull gc "add f.bin" status audit fsck
	do
		refused "$1" cairn $c || return 1
	done
}

test_expect_success 'setup: an attacker pushes a dataset; another project lives beside' '
	mkdir -p "$JAIL/outside" &&
	echo "echo hello from bashrc" >"$JAIL/bashrc" &&
	echo "outside the work tree" >"$JAIL/outside/o" &&
	git init -q evil && (
		cd evil &&
		cairn init >/dev/null &&
		mkdir d &&
		make_random d/a 5000 1 && make_random f.bin 6000 2 &&
		cairn add -q d f.bin &&
		cairn remote add -d origin "$RDIR" &&
		git add -A && git commit -qm base && git branch base &&
		cairn push -q
	) &&
	git clone -q evil forge && git -C forge branch -q base origin/base &&
	git init -q "$JAIL/other" && (
		cd "$JAIL/other" &&
		cairn init >/dev/null &&
		make_random big 300000 3 &&
		cairn add -q big && git add -A && git commit -qm other &&
		cairn fsck -q && cp big "$TRASH_DIRECTORY/other-big"
	) &&
	victim base &&
	(cd "$JAIL/victim" && cairn pull -q && cmp f.bin ../../evil/f.bin)
'

test_expect_success 'what cairn init commits: .cairn/config and .cairn/.gitignore only' '
	(cd evil && git ls-files .cairn) >actual &&
	printf ".cairn/.gitignore\n.cairn/config\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'a committed clone id and an audit log that is a symlink to a shell start-up file' '
	plant audit-log <<-EOF &&
	mkdir -p .cairn/audit
	echo $CLONE_ID >.cairn/audit/clone-id
	ln -s ../../../bashrc .cairn/audit/$CLONE_ID.log
	EOF
	victim audit-log &&
	all_refused "symlink" &&
	grep "hello from bashrc" "$JAIL/bashrc" &&
	test_line_count = 1 "$JAIL/bashrc"
'

for d in audit state
do
	test_expect_success "a committed .cairn/$d that is a symlink out of the work tree" '
		plant $d-dir <<-EOF &&
		ln -s ../../outside .cairn/$d
		EOF
		victim $d-dir &&
		all_refused "\.cairn/$d.* is a symlink" &&
		test_dir_is_empty_but_o "$JAIL/outside"
	'
done

test_expect_success 'a committed .cairn that is a symlink' '
	plant cairn-dir <<-EOF &&
	cp .cairn/config ../cfg
	git rm -q -r .cairn
	rm -rf .cairn
	ln -s ../outside .cairn
	EOF
	victim cairn-dir &&
	all_refused "\.cairn.* is a symlink"
'

test_expect_success 'a committed .cairn/store symlink to another project: gc refuses, the other store is untouched' '
	plant store-link <<-EOF &&
	ln -s ../../other/.cairn/store .cairn/store
	EOF
	victim store-link &&
	(cd "$JAIL/other/.cairn/store" && find . -type f | sort) >other.before &&
	refused "\.cairn/store.* is a symlink" cairn gc &&
	refused "\.cairn/store.* is a symlink" cairn gc --workspace &&
	refused "\.cairn/store.* is a symlink" cairn pull &&
	(cd "$JAIL/other/.cairn/store" && find . -type f | sort) >other.after &&
	test_cmp other.before other.after &&
	(cd "$JAIL/other" && cairn fsck -q && rm big && cairn checkout -q big && cmp big "$TRASH_DIRECTORY/other-big")
'

test_expect_success 'symlinks planted in the store, the state and the audit directory' '
	victim base &&
	(cd "$JAIL/victim" && cairn status >/dev/null && cairn audit >/dev/null) &&
	for p in store/gc.lock store/packs store/tmp store/index store/index/data.mdb \
		store/index/lock.mdb state/data.mdb state/.gitignore audit/clone-id config.local
	do
		(
			cd "$JAIL/victim/.cairn" &&
			rm -rf "$p.saved" &&
			if test -e "$p"; then mv "$p" "$p.saved"; fi &&
			mkdir -p "$(dirname "$p")" &&
			ln -s "$JAIL/bashrc" "$p"
		) &&
		refused ".cairn/$p.* is a symlink" cairn status &&
		refused ".cairn/$p.* is a symlink" cairn gc &&
		(
			cd "$JAIL/victim/.cairn" &&
			rm "$p" &&
			if test -e "$p.saved"; then mv "$p.saved" "$p"; fi
		) || return 1
	done &&
	(cd "$JAIL/victim" && cairn status >/dev/null && cairn fsck -q)
'

test_expect_success 'regular files cairn keeps local, committed: refused' '
	for p in audit/clone-id audit/$CLONE_ID.log config.local state/data.mdb store/index/data.mdb
	do
		plant "tracked-$(echo $p | tr / -)" <<-EOF &&
		mkdir -p "\$(dirname .cairn/$p)"
		echo forged >.cairn/$p
		EOF
		victim "tracked-$(echo $p | tr / -)" &&
		refused "\\.cairn/$p.* is tracked by git" cairn status &&
		refused "\\.cairn/$p.* is tracked by git" cairn pull || return 1
	done
'

test_expect_success 'a clone found clean is checked again when git checks out a planted branch' '
	victim base &&
	(cd "$JAIL/victim" && cairn pull -q && cairn status >/dev/null && test_path_is_file .cairn/state/tracked-ok) &&
	(cd "$JAIL/victim" && git fetch -q origin tracked-audit-clone-id && git checkout -q FETCH_HEAD) &&
	refused "\.cairn/audit/clone-id.* is tracked by git" cairn status &&
	refused "\.cairn/audit/clone-id.* is tracked by git" cairn status
'

# plant_pid_links FORMAT...: symlinks to the canary at FORMAT % PID
# (a printf format) for the next 3000 process ids: the names temp files
# used to have.
plant_pid_links () {
	python3 -c '
import os, sys
last = int(open("/proc/sys/kernel/ns_last_pid").read())
for fmt in sys.argv[2:]:
    for pid in range(last + 1, last + 3001):
        os.symlink(sys.argv[1], fmt % pid)
' "$JAIL/bashrc" "$@"
}

test_expect_success 'symlinks at the temp names of a pointer file: add writes no pointer through them' '
	victim base &&
	(cd "$JAIL/victim" && cairn pull -q && make_random f.bin 7000 9) &&
	jail_state >state.before &&
	(
		cd "$JAIL/victim" &&
		ln -s "$JAIL/bashrc" f.bin.cairn.tmp- &&
		plant_pid_links f.bin.cairn.tmp-%d &&
		cairn add f.bin &&
		test -f f.bin.cairn && ! test -h f.bin.cairn &&
		grep "^size: 7000" f.bin.cairn
	) &&
	jail_state >state.after &&
	test_cmp state.before state.after
'

test_expect_success 'symlinks at the temp names of checkout: files are written in the work tree only' '
	victim base &&
	jail_state >state.before &&
	(
		cd "$JAIL/victim" &&
		mkdir -p d &&
		plant_pid_links d/.cairn-tmp-%d-1 d/.cairn-tmp-%d-2 .cairn-tmp-%d-1 .cairn-tmp-%d-2 &&
		cairn pull -q &&
		cmp d/a ../../evil/d/a && cmp f.bin ../../evil/f.bin &&
		! test -h d/a && ! test -h f.bin
	) &&
	jail_state >state.after &&
	test_cmp state.before state.after
'

test_expect_success 'symlinks at the temp names of export output: the archive goes to -o only' '
	victim base &&
	(cd "$JAIL/victim" && cairn pull -q) &&
	jail_state >state.before &&
	(
		cd "$JAIL/victim" &&
		plant_pid_links .cairn-tmp-%d-export &&
		cairn export -q -o d.tar d &&
		! test -h d.tar && tar tf d.tar >list &&
		grep "a$" list
	) &&
	jail_state >state.after &&
	test_cmp state.before state.after
'

test_expect_success 'a symlink at the temp name of a new clone id is refused' '
	victim base &&
	(cd "$JAIL/victim" && mkdir -p .cairn/audit && plant_pid_links .cairn/audit/.clone-id-%d) &&
	refused "symlink" cairn pull &&
	test_line_count = 1 "$JAIL/bashrc"
'

test_done
