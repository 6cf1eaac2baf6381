#!/bin/sh

test_description='cairn gc -r on a directory remote

A branch known from git but never fetched, whose new file is one chunk,
keeps its data; gc -r decides from the git remote'"'"'s own refs, never
deletes a pack uploaded after its snapshot of them, deletes in two
phases (a push that needs a marked pack takes it back), refuses when the
git remote cannot be reached, and records what it deleted in an audit
entry that is on the remote when it ends.'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"
. "$TEST_DIRECTORY/lib-gc-remote.sh"

if ! test_have_prereq PYTHON3
then
	skip_all='python3 (>= 3.9) not found'
	test_done
fi

gcr_remote_url () {
	echo "$TRASH_DIRECTORY/remote$1"
}
gcr_remote_setup () {
	:
}
gcr_remote_ls () {
	ls "$TRASH_DIRECTORY/remote$1/$2" 2>/dev/null
}

test_expect_success 'setup' '
	gcr_setup 1
'

test_expect_success 'a branch known from git only: its one-chunk file survives gc -r' '
	gcr_exp_small 1 &&
	(
		cd a1 &&
		git fetch -q --prune &&
		cairn gc -r origin --grace 1 &&
		sleep 2 &&
		cairn gc -r origin --grace 1 &&
		sleep 2 &&
		cairn gc -r origin --grace 1
	) &&
	gcr_fresh_pull 1 exp
'

test_done
